"""Does `grade` keep its grades in the course's nbgrader gradebook, where formgrader and export see them?

The results are made here (as the grading core returns them) and recorded into a copy of the
course, so that these tests need no notebook to run; tests/test_grade.py does the same end to end
on the bundled samples.
"""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.answers import fill, reference_answers
from grader.gradebook import comment_cells, opened, record
from grader.manifest import load_course
from grader.probes import graded_cells
from grader.results import QuestionResult, Result
from tests.conftest import ROOT

QUIZ = "05_practice_quiz"
COURSE_FILES = ("course.yml", "nbgrader_config.py", "notebooks", "solutions")


def course_copy(folder: Path) -> Path:
    """A copy of the course (manifest, nbgrader config, student and solution notebooks) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in COURSE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        else:
            shutil.copy(source, folder / name)
    return folder


def quiz_result(student: str, right: int, timestamp: str = "", lesson: str = QUIZ) -> Result:
    """A graded quiz with its first ``right`` questions right, as the grading core returns it."""
    release = nbformat.read(ROOT / "notebooks" / lesson / f"{lesson}.ipynb", as_version=4)
    questions = []
    for number, cell in enumerate(graded_cells(release)):
        gid, passed = cell.metadata.nbgrader["grade_id"], number < right
        questions.append(
            QuestionResult(
                grade_id=gid,
                title=f"Question {gid}",
                score=1.0 if passed else 0.0,
                max_score=1.0,
                feedback=f"{gid} is right." if passed else f"{gid}: look again at the *units*.",
                mistake="" if passed else "wrong option",
            )
        )
    answers = reference_answers(ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    return Result(
        student=student,
        lesson=lesson,
        source=f"/nowhere/{student}/{lesson}.ipynb",
        digest="0" * 64,
        status="graded",
        score=float(right),
        max_score=float(len(questions)),
        timestamp=timestamp,
        answers=answers,
        questions=questions,
    )


def invalid_result(student: str) -> Result:
    return Result(
        student=student,
        lesson=QUIZ,
        source=f"/nowhere/{student}.ipynb",
        digest="1" * 64,
        status="invalid",
        reason="not valid JSON, so not a notebook",
        max_score=6.0,
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def nbgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Stock nbgrader's command line, run in the course folder ``cwd`` (it reads nbgrader_config.py there)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "nbgrader", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)


def exported(course_dir: Path) -> dict[tuple[str, str], tuple[float, float, float]]:
    """What `nbgrader export` writes: (student, assignment) -> (raw score, late penalty, score)."""
    target = course_dir / "nbgrader-export.csv"
    done = nbgrader("export", f"--to={target}", cwd=course_dir)
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        (row["student_id"], row["assignment"]): (
            float(row["raw_score"]),
            float(row["late_submission_penalty"]),
            float(row["score"]),
        )
        for row in read_csv(target)
    }


def from_grades_csv(out: Path) -> dict[tuple[str, str], tuple[float, float, float]]:
    return {
        (row["student_id"], row["assignment"]): (
            float(row["raw_score"]),
            float(row["late_submission_penalty"]),
            float(row["score"]),
        )
        for row in read_csv(out / "grades.csv")
    }


def counts(course_dir: Path) -> dict[str, int]:
    tables = ("student", "submitted_assignment", "submitted_notebook", "grade", "comment", "assignment")
    with sqlite3.connect(course_dir / "gradebook.db") as db:
        return {table: db.execute(f"select count(*) from {table}").fetchone()[0] for table in tables}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> tuple[Path, Path, list[Result]]:
    """A course copy whose gradebook holds four quiz results: right, half, late, and invalid."""
    course_dir = course_copy(tmp_path_factory.mktemp("course"))
    results = [
        quiz_result("alice", 6, "2025-10-27 12:00:00.000000 UTC"),
        quiz_result("carol", 3),
        quiz_result("frank", 5, "2025-10-29 08:00:00.000000 UTC"),  # 1.3 days late: 2 late days
        invalid_result("dave"),
    ]
    out = course_dir / "reports"
    record(course_dir, load_course(course_dir), course_dir / "missing-source", out, results)
    return course_dir, out, results


def test_formgrader_and_nbgrader_export_show_what_grades_csv_shows(recorded):
    course_dir, out, _ = recorded
    ours = from_grades_csv(out)
    assert ours[("frank", QUIZ)] == (5.0, 1.2, 3.8)  # 2 late days x 10% of 6 points
    assert exported(course_dir) == ours


def test_the_gradebook_holds_students_submissions_grades_and_comments(recorded):
    course_dir, _, _ = recorded
    with opened(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        assert sorted(s.id for s in gb.students) == ["alice", "carol", "dave", "frank"]
        carol = gb.find_submission_notebook(QUIZ, QUIZ, "carol")
        scores = {g.cell.name: g.auto_score for g in carol.grades}
        assert scores == {"q1": 1, "q2": 1, "q3": 1, "q4": 0, "q5": 0, "q6": 0}
        assert not any(g.needs_manual_grade for g in carol.grades)
        comments = {c.cell.name: c.auto_comment for c in carol.comments}
        assert "q4: look again at the *units*." in comments["q4_answer"]
        assert "q1 is right." in comments["q1_answer"]
        dave = gb.find_submission_notebook(QUIZ, QUIZ, "dave")
        assert "not valid JSON" in dave.comments[0].auto_comment
        frank = gb.find_submission(QUIZ, "frank")
        assert frank.timestamp.isoformat() == "2025-10-29T08:00:00"
        assert frank.assignment.duedate.isoformat() == "2025-10-27T23:59:00"


def test_each_feedback_goes_to_the_answer_cell_before_its_test():
    release = nbformat.read(ROOT / "notebooks" / QUIZ / f"{QUIZ}.ipynb", as_version=4)
    assert comment_cells(release) == {f"q{i}": f"q{i}_answer" for i in range(1, 7)}
    lesson = "03_metrics_evaluation"
    release = nbformat.read(ROOT / "notebooks" / lesson / f"{lesson}.ipynb", as_version=4)
    assert comment_cells(release) == {f"ex{i}_check": f"ex{i}_answer" for i in range(1, 4)}


def test_formgrader_lists_every_submission_as_autograded_with_its_score(recorded):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from grader.nbconfig import course_config

    course_dir, out, _ = recorded
    config = course_config(course_dir)
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    listed = {s["student"]: s for s in api.get_submissions(QUIZ)}
    ours = from_grades_csv(out)
    assert set(listed) == {student for student, _ in ours}
    for student, submission in listed.items():
        assert submission["autograded"], student
        assert submission["score"] == ours[(student, QUIZ)][0]
    per_student = {s["name"]: s for s in api.get_student_submissions("carol")}
    assert per_student[QUIZ]["autograded"] and per_student[QUIZ]["score"] == 3.0
    notebooks = api.get_notebook_submissions(QUIZ, QUIZ)
    assert {n["student"] for n in notebooks} == set(listed)  # formgrader can open each one
    assert (course_dir / "submitted" / "frank" / QUIZ / "timestamp.txt").is_file()
    assert (course_dir / "autograded" / "frank" / QUIZ / f"{QUIZ}.ipynb").is_file()


def test_grading_again_updates_the_records_and_duplicates_none(tmp_path):
    course_dir = course_copy(tmp_path / "course")
    course, out = load_course(course_dir), course_dir / "reports"
    record(course_dir, course, tmp_path, out, [quiz_result("alice", 2), quiz_result("bob", 0)])
    before = counts(course_dir)
    record(course_dir, course, tmp_path, out, [quiz_result("alice", 5), quiz_result("bob", 0)])
    assert counts(course_dir) == before
    assert before["submitted_assignment"] == 2 and before["grade"] == 12
    assert exported(course_dir)[("alice", QUIZ)] == (5.0, 0.0, 5.0)


def test_a_score_set_by_hand_in_formgrader_is_kept_and_marked(tmp_path):
    course_dir = course_copy(tmp_path / "course")
    course, out = load_course(course_dir), course_dir / "reports"
    record(course_dir, course, tmp_path, out, [quiz_result("carol", 3)])
    with opened(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:  # what formgrader's score box does
        grade = gb.find_grade("q5", QUIZ, QUIZ, "carol")
        grade.manual_score = 1.0
        grade.needs_manual_grade = False
        gb.db.commit()
    results = [quiz_result("carol", 3)]
    record(course_dir, course, tmp_path, out, results)
    with opened(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        grade = gb.find_grade("q5", QUIZ, QUIZ, "carol")
        assert (grade.manual_score, grade.auto_score) == (1.0, 0.0)
    row = read_csv(out / "grades.csv")[0]
    assert (row["raw_score"], row["score"], row["set_by_hand"]) == ("4", "4", "q5=1")
    assert results[0].score == 4.0
    assert exported(course_dir)[("carol", QUIZ)] == (4.0, 0.0, 4.0)
    feedback = (out / "feedback" / "carol" / f"{QUIZ}.html").read_text()
    assert "set by your instructor (the automatic check gave 0)" in feedback
    report = (out / "index.html").read_text()
    assert "Scores set by hand" in report and "✎ 1" in report


def test_the_db_option_chooses_the_gradebook_or_none(tmp_path):
    course_dir = course_copy(tmp_path / "course")
    course, out = load_course(course_dir), course_dir / "reports"
    elsewhere = tmp_path / "elsewhere.db"
    record(course_dir, course, tmp_path, out, [quiz_result("alice", 6)], db=f"sqlite:///{elsewhere}")
    assert elsewhere.is_file() and not (course_dir / "gradebook.db").exists()
    record(course_dir, course, tmp_path, out, [quiz_result("alice", 6)], db="none")
    assert not (course_dir / "gradebook.db").exists()


def test_a_gradebook_that_cannot_be_written_leaves_the_reports(tmp_path, capsys):
    course_dir = course_copy(tmp_path / "course")
    out = course_dir / "reports"
    bad = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'gradebook.db'}"
    record(course_dir, load_course(course_dir), tmp_path, out, [quiz_result("alice", 6)], db=bad)
    assert "was not written" in capsys.readouterr().err
    assert read_csv(out / "grades.csv")[0]["score"] == "6"


@pytest.mark.slow
def test_stock_nbgrader_autograde_still_works_on_the_course(recorded, tmp_path):
    """After `grade` wrote the gradebook, stock `nbgrader autograde` grades a submission of the course."""
    course_dir = course_copy(tmp_path / "course")
    course, out = load_course(course_dir), course_dir / "reports"
    record(course_dir, course, tmp_path, out, [quiz_result("alice", 6)])
    notebook = fill(
        course_dir / "notebooks" / QUIZ / f"{QUIZ}.ipynb",
        reference_answers(course_dir / "solutions" / QUIZ / f"{QUIZ}.ipynb"),
    )
    nbformat.write(notebook, course_dir / "submitted" / "alice" / QUIZ / f"{QUIZ}.ipynb")
    done = nbgrader("autograde", QUIZ, "--force", cwd=course_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    assert exported(course_dir)[("alice", QUIZ)] == (6.0, 0.0, 6.0)
    assert counts(course_dir)["submitted_assignment"] == 1
