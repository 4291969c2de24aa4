"""The course's nbgrader gradebook: ``grade`` writes its results there, where formgrader shows them.

:func:`record` runs at the end of ``grade``. It writes every result into the gradebook through
nbgrader's own API: the lessons' notebook structure (nbgrader's GenerateAssignment, as
``nbgrader generate_assignment`` records it), students, submissions, a grade per graded cell with
the judges' score, and a comment per answer cell with their feedback. It mirrors the submissions
into the course's ``submitted/`` and ``autograded/`` folders as ``nbgrader collect`` and
``autograde`` leave them, so formgrader lists and opens them and stock ``nbgrader autograde``
works on the same course. Grading again updates the same records. A score an instructor set by
hand in formgrader (nbgrader's ``manual_score`` or extra credit) is never overwritten: it replaces
the autograder's in the reports, which mark it. Then the reports are written again with late
penalties from zip entry times, the scores set by hand and the similarity report.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import nbformat
from nbgrader.utils import is_grade, is_solution

from grader.errors import CourseError
from grader.late import assess, fill_zip_times, format_time, parse_time
from grader.manifest import Course
from grader.results import Result

NO_DATABASE = "none"  # ``--db none``: leave the gradebook alone


class GradebookError(CourseError):
    """The gradebook could not be written; the message says why."""


def default_url(root: Path) -> str:
    """The gradebook stock nbgrader uses for this course (``CourseDirectory.db_url``)."""
    from nbgrader.coursedir import CourseDirectory

    from grader.nbconfig import course_config

    return CourseDirectory(config=course_config(root)).db_url


@contextmanager
def opened(url: str) -> Iterator:
    """nbgrader's Gradebook at ``url``, created (through alembic) if it does not exist yet."""
    from nbgrader.api import Gradebook

    from grader.nbconfig import venv_on_path

    venv_on_path()
    with Gradebook(url) as gb:
        yield gb


def record_assignments(root: Path, course: Course, url: str, lesson_ids: list[str]) -> None:
    """Record each lesson's notebook structure and due date, as ``nbgrader generate_assignment``."""
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from grader.nbconfig import course_config, venv_on_path

    venv_on_path()
    with tempfile.TemporaryDirectory(prefix="gradebook-release-") as tmp:
        config = course_config(root, course)
        config.CourseDirectory.db_url = url
        config.CourseDirectory.release_directory = tmp
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        for lesson_id in lesson_ids:
            done = api.generate_assignment(lesson_id, force=True, create=True)
            if not done["success"]:
                lines = [line for line in done.get("log", "").splitlines() if "rror" in line]
                raise GradebookError(f"{lesson_id}: nbgrader could not record it: {' '.join(lines[-2:])}")
    with opened(url) as gb:
        for lesson_id in lesson_ids:
            due = course.by_id[lesson_id].due
            gb.update_or_create_assignment(lesson_id, duedate=_naive_utc(due) if due else None)


def _naive_utc(moment: datetime | None) -> datetime | None:
    """A time as nbgrader stores it: UTC, without a zone."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None


def comment_cells(release: nbformat.NotebookNode) -> dict[str, str]:
    """For each graded cell, the answer cell whose comment carries its feedback (the one before it)."""
    owner, last = {}, None
    for cell in release.cells:
        if cell.cell_type == "code" and is_solution(cell):
            last = cell.metadata.nbgrader["grade_id"]
        elif cell.cell_type == "code" and is_grade(cell) and last:
            owner[cell.metadata.nbgrader["grade_id"]] = last
    return owner


def _comments(result: Result, owner: dict[str, str]) -> dict[str, str]:
    texts: dict[str, list[str]] = {}
    for q in result.questions:
        cell = owner.get(q.grade_id)
        if cell:
            title = q.title or q.grade_id
            texts.setdefault(cell, []).append(f"{title} ({q.score:g}/{q.max_score:g}): {q.feedback}")
    return {cell: "\n\n".join(lines) for cell, lines in texts.items()}


def _by_hand(grade) -> float | None:
    """The score an instructor set for this grade (manual score plus extra credit), or None."""
    if grade.manual_score is None and not grade.extra_credit:
        return None
    base = grade.manual_score if grade.manual_score is not None else grade.auto_score or 0.0
    return float(base) + float(grade.extra_credit or 0.0)


def sync(
    gb, course: Course, result: Result, release: nbformat.NotebookNode
) -> dict[str, tuple[float, float]]:
    """Write one result into the open gradebook ``gb``; return its scores set by hand."""
    from nbgrader.api import MissingEntry

    lesson, student = result.lesson, result.student
    gb.update_or_create_student(student)
    stamp = _naive_utc(parse_time(result.timestamp))
    try:
        submission = gb.find_submission(lesson, student)
        submission.timestamp = stamp
    except MissingEntry:
        with warnings.catch_warnings():  # nbgrader's add_submission autoflushes under SQLAlchemy 2
            warnings.simplefilter("ignore")
            submission = gb.add_submission(lesson, student)
        submission.timestamp = stamp
    notebook = gb.find_submission_notebook(lesson, lesson, student)
    questions = {q.grade_id: q for q in result.questions}
    hand: dict[str, tuple[float, float]] = {}
    for grade in notebook.grades:
        question = questions.get(grade.cell.name)
        auto = float(question.score) if question else 0.0
        if grade.auto_score is not None and grade.auto_score != auto and grade.manual_score is not None:
            grade.needs_manual_grade = True  # stock nbgrader's rule: the autograder changed its mind
        elif grade.manual_score is None:
            grade.needs_manual_grade = False
        grade.auto_score = auto
        set_by_hand = _by_hand(grade)
        if set_by_hand is not None:
            hand[grade.cell.name] = (set_by_hand, auto)
    comments = _comments(result, comment_cells(release))
    reason = result.reason or "; ".join(result.notes)
    for comment in notebook.comments:
        text = comments.get(comment.cell.name, "")
        comment.auto_comment = "\n\n".join(part for part in (text, reason) if part) or None
    apply_by_hand(result, hand)
    notebook.late_submission_penalty = assess(course, result).penalty or None
    gb.db.commit()
    return hand


def apply_by_hand(result: Result, hand: dict[str, tuple[float, float]]) -> None:
    """Put the scores set by hand in place of the autograder's (in memory: the stored result keeps them)."""
    if not hand:
        return
    known = set()
    for q in result.questions:
        if q.grade_id in hand:
            q.score = hand[q.grade_id][0]
        known.add(q.grade_id)
    extra = sum(score for gid, (score, _) in hand.items() if gid not in known)
    result.score = sum(q.score for q in result.questions) + extra


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def mirror(root: Path, result: Result, release_path: Path) -> None:
    """Leave the submission in ``submitted/`` and ``autograded/`` as nbgrader would, with its timestamp."""
    from grader.answers import fill

    name = f"{result.lesson}.ipynb"
    submitted = root / "submitted" / result.student / result.lesson
    autograded = root / "autograded" / result.student / result.lesson
    source = Path(result.source)
    moment = parse_time(result.timestamp)
    stamp = format_time(moment) if moment else None
    try:
        graded = fill(release_path, result.answers)
    except KeyError:
        graded = nbformat.read(release_path, as_version=4)
    graded_text = nbformat.writes(graded) + "\n"
    if not source.resolve().is_relative_to(submitted.resolve()):
        if submitted.exists():
            shutil.rmtree(submitted)
        submitted.mkdir(parents=True)
        if source.is_file():
            shutil.copyfile(source, submitted / name)
        else:
            _write(submitted / name, graded_text)
        if stamp:
            _write(submitted / "timestamp.txt", stamp)
    if autograded.exists():
        shutil.rmtree(autograded)
    _write(autograded / name, graded_text)
    if stamp:
        _write(autograded / "timestamp.txt", stamp)


def write_gradebook(
    root: Path, course: Course, results: list[Result], url: str
) -> dict[tuple[str, str], dict[str, tuple[float, float]]]:
    """Every result of a lesson of the course into the gradebook at ``url``; the scores set by hand."""
    lessons = [lesson.id for lesson in course.lessons if any(r.lesson == lesson.id for r in results)]
    if not lessons:
        return {}
    record_assignments(root, course, url, lessons)
    releases = {lid: root / "notebooks" / course.by_id[lid].notebook for lid in lessons}
    notebooks = {lid: nbformat.read(path, as_version=4) for lid, path in releases.items()}
    manual = {}
    with opened(url) as gb:
        for result in sorted(results, key=lambda r: (r.lesson, r.student)):
            if result.lesson not in notebooks:
                continue
            hand = sync(gb, course, result, notebooks[result.lesson])
            if hand:
                manual[(result.student, result.lesson)] = hand
    for result in results:
        if result.lesson in releases:
            mirror(root, result, releases[result.lesson])
    return manual


def starters(root: Path, course: Course, results: list[Result]) -> dict[str, dict[str, str]]:
    """The released starter code of each lesson that has results (for the similarity report)."""
    from grader.similarity import starter_cells

    wanted = {r.lesson for r in results}
    return {
        lesson.id: starter_cells(root / "notebooks" / lesson.notebook)
        for lesson in course.lessons
        if lesson.id in wanted and (root / "notebooks" / lesson.notebook).is_file()
    }


def record(
    root: Path, course: Course, source: Path, out: Path, results: list[Result], db: str | None = None
) -> None:
    """After grading: zip times, the gradebook, scores set by hand, similarity; the reports again.

    ``db`` is a database URL, None for the course's own ``gradebook.db``, or ``"none"`` to leave
    the gradebook alone.
    """
    from grader.report import write_reports
    from grader.similarity import similar_pairs

    for result in fill_zip_times(source, results):
        result.save(out)
    manual = {}
    if (db or "").lower() != NO_DATABASE:
        url = db or default_url(root)
        try:
            manual = write_gradebook(root, course, results, url)
        except Exception as error:  # the reports stand without it; say why
            print(f"warning: the gradebook at {url} was not written: {error}", file=sys.stderr)
    write_reports(course, results, out, manual, similar_pairs(results, starters(root, course, results)))
