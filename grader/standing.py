"""Where a student stands: grade each lesson notebook exactly as ``grade`` would and add up the points.

Each notebook is read from disk (save it first) and goes through the same grading core as ``grade``
(:func:`grader.grade.grade_submission`): repaired on the released notebook when the course folder is
at hand, its checks' probes executed in the same sandbox, and the data judged outside the kernel.
So the points shown here are the points grading gives.

``grader.progress("notebooks/")`` in a notebook and ``python -m grader progress notebooks/`` on the
command line both print a table and the former returns a :class:`CourseProgress`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.errors import CourseError
from grader.sandbox import CELL_TIMEOUT

MESSAGE_WIDTH = 90
CHECKPOINTS = ".ipynb_checkpoints"


class ProgressError(CourseError):
    """A path that holds no lesson notebook, or a runtime that cannot execute one."""


@dataclass(frozen=True)
class Exercise:
    """One graded test cell: the points it earned and, when it did not pass, why."""

    grade_id: str
    points: float
    max_points: float
    message: str = ""

    @property
    def passed(self) -> bool:
        """Whether the cell earned all its points."""
        return self.points >= self.max_points


@dataclass(frozen=True, repr=False)
class LessonProgress:
    """The graded cells of one lesson notebook, in notebook order."""

    lesson: str
    path: Path
    exercises: list[Exercise] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what grading repaired before it ran the notebook

    @property
    def points(self) -> float:
        """Points earned so far."""
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> float:
        """Points the lesson is worth."""
        return sum(e.max_points for e in self.exercises)

    @property
    def passed(self) -> int:
        """How many graded cells pass."""
        return sum(e.passed for e in self.exercises)

    def __repr__(self) -> str:
        return f"LessonProgress({self.lesson}: {summary(self)})"


@dataclass(frozen=True, repr=False)
class CourseProgress:
    """Every lesson notebook found, in course order."""

    lessons: list[LessonProgress]

    @property
    def exercises(self) -> list[Exercise]:
        """All graded cells of all lessons."""
        return [e for lesson in self.lessons for e in lesson.exercises]

    @property
    def points(self) -> float:
        """Points earned so far."""
        return sum(lesson.points for lesson in self.lessons)

    @property
    def max_points(self) -> float:
        """Points the lessons found are worth."""
        return sum(lesson.max_points for lesson in self.lessons)

    @property
    def passed(self) -> int:
        """How many graded cells pass."""
        return sum(lesson.passed for lesson in self.lessons)

    def __repr__(self) -> str:
        return f"CourseProgress({summary(self)}, {len(self.lessons)} lesson(s))"


def summary(progress: LessonProgress | CourseProgress) -> str:
    """``"3 / 6 points, 3 of 6 exercises pass"``."""
    return (
        f"{progress.points:g} / {progress.max_points:g} points, "
        f"{progress.passed} of {len(progress.exercises)} exercises pass"
    )


def find_notebooks(path: Path) -> list[Path]:
    """Lesson notebooks at ``path``: that notebook, or those in a folder and its lesson folders.

    A lesson notebook is one with graded cells; others (scratch work) are left out.
    """
    if path.is_file():
        if path.suffix != ".ipynb":
            raise ProgressError(f"{path} is not a notebook (.ipynb).")
        return [path]
    if not path.is_dir():
        raise ProgressError(f"No notebook or folder at {path}.")
    candidates = sorted({*path.glob("*.ipynb"), *path.glob("*/*.ipynb")})
    found = [p for p in candidates if CHECKPOINTS not in p.parts and _graded(_read(p))]
    if not found:
        raise ProgressError(f"No lesson notebook (one with graded cells) in {path} or its folders.")
    return found


def _graded(notebook: NotebookNode) -> bool:
    from grader.probes import graded_cells

    return bool(graded_cells(notebook))


def _read(path: Path) -> NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError) as error:
        raise ProgressError(f"Cannot read {path} as a notebook: {error}") from None


def _course_root(path: Path) -> Path | None:
    """The course folder: around the notebook, around the working folder, or the package's own."""
    import augcourse
    from grader.manifest import ManifestError, find_root

    for start in (path.parent, Path.cwd(), Path(augcourse.__file__).parents[1]):
        try:
            return find_root(start)
        except ManifestError:
            continue
    return None


def _lesson_of(path: Path) -> tuple[str, Path, Path | None]:
    """(lesson id, released notebook, course root): from the course folder, else the file's name."""
    from augcourse.checks import MODULES
    from grader.collect import identify, lesson_signatures
    from grader.manifest import load_course

    root = _course_root(path)
    if root is None:
        if path.stem not in MODULES:
            raise ProgressError(f"{path.name}: not a lesson of this course.") from None
        return path.stem, path, None
    course = load_course(root)
    lesson = identify(path, Path(path.name), lesson_signatures(root, course)).lesson
    if lesson is None:
        raise ProgressError(f"{path.name}: no cell matches any lesson of this course.")
    return lesson, root / "notebooks" / course.lesson(lesson).notebook, root


def lesson_progress(path: Path, timeout: int = CELL_TIMEOUT) -> LessonProgress:
    """Grade one lesson notebook as ``grade`` does; its graded cells with points and messages."""
    from grader.grade import grade_file

    lesson, release, root = _lesson_of(path)
    result = grade_file(path, lesson, release, root, timeout)
    if result.status != "graded":
        raise ProgressError(f"{path.name} could not be graded: {result.reason}")
    exercises = [
        Exercise(q.grade_id, q.score, q.max_score, "" if q.passed else q.feedback) for q in result.questions
    ]
    return LessonProgress(lesson, path, exercises, result.notes)


def _shorten(text: str, width: int = MESSAGE_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def table(progress: CourseProgress) -> str:
    """The progress as plain text: one block per lesson, one line per graded cell, a total."""
    lines = []
    for lesson in progress.lessons:
        lines.append(f"{lesson.lesson}  ({summary(lesson)})")
        width = max((len(e.grade_id) for e in lesson.exercises), default=0)
        for e in lesson.exercises:
            mark = "✅" if e.passed else "❌"
            note = f"   {_shorten(e.message)}" if e.message else ""
            lines.append(f"  {mark} {e.grade_id:<{width}}  {e.points:g} / {e.max_points:g}{note}")
        lines += [f"  note: {_shorten(note)}" for note in lesson.notes]
        lines.append("")
    lines.append(f"Total: {summary(progress)} in {len(progress.lessons)} lesson(s).")
    return "\n".join(lines)


def progress(
    path: str | Path = "notebooks", *, timeout: int = CELL_TIMEOUT, show: bool = True
) -> CourseProgress:
    """Run every lesson notebook at ``path`` as a grader would; print and return where you stand.

    ``path`` is a folder of lesson folders (``notebooks/``), one lesson folder, or one notebook.
    Notebooks are read from disk, so save yours first.
    """
    notebooks = find_notebooks(Path(path))
    result = CourseProgress([lesson_progress(notebook, timeout) for notebook in notebooks])
    if show:
        print(table(result))
    return result
