"""Does `grade` give each bundled sample the score it deserves, with reports that help and leak nothing?

The samples (examples/make_submissions.py) cover every lesson. They are graded once, in a copy of
the course, as `make grade` grades them; the tests then read grades.csv, the gradebook (through
stock `nbgrader export`), the class report, the feedback pages and similarity.csv.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from examples.make_submissions import ALIKE, EXPECTED, LATE, QUIZ_EXPECTED, samples
from grader.report import NBGRADER_COLUMNS
from tests.conftest import ROOT
from tests.test_gradebook import course_copy, exported, from_grades_csv
from tests.test_notebooks import read, secret_lines

SAMPLES = ROOT / "examples" / "submissions"
CODE_LESSONS = (
    "01_augmentation_layers",
    "02_augmentation_pipeline",
    "03_metrics_evaluation",
    "04_augmentation_experiment",
)


def grader_cli(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
    )


def quiz_samples(folder: Path) -> Path:
    """A copy of the quiz samples alone (four notebooks, quick to grade), in nbgrader's layout."""
    for student, (lesson, _, _) in QUIZ_EXPECTED.items():
        shutil.copytree(SAMPLES / student / lesson, folder / student / lesson)
    return folder


def test_committed_samples_are_what_the_generator_makes():
    made = samples()
    for relative, text in made.items():
        assert (SAMPLES / relative).read_text(encoding="utf-8") == text, relative
    committed = {str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*") if p.is_file()}
    assert committed == set(made)


def test_the_samples_cover_every_lesson(course, tmp_path):
    assert {lesson for _, lesson in EXPECTED} == {lesson.id for lesson in course.lessons}
    quiz = quiz_samples(tmp_path)
    assert (
        {p.parts[-3] for p in quiz.rglob("*.ipynb")}
        == set(QUIZ_EXPECTED)
        == {"alice", "bob", "carol", "dave"}
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """The samples graded in a copy of the course (its own gradebook.db, submitted/, autograded/)."""
    course_dir = course_copy(tmp_path_factory.mktemp("course"))
    done = grader_cli("grade", str(SAMPLES), "--out", "reports", cwd=course_dir)
    assert done.returncode == 0, done.stderr[-2000:]
    return course_dir


def grades(course_dir: Path) -> list[dict[str, str]]:
    with (course_dir / "reports" / "grades.csv").open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_each_sample_gets_its_expected_score(graded):
    rows = grades(graded)
    assert list(rows[0])[: len(NBGRADER_COLUMNS)] == NBGRADER_COLUMNS
    got = {(row["student_id"], row["assignment"]): (float(row["raw_score"]), row["status"]) for row in rows}
    assert got == EXPECTED
    invalid = next(row for row in rows if row["status"] == "invalid")
    assert "not valid JSON" in invalid["reason"]


@pytest.mark.slow
def test_late_samples_lose_their_penalty_and_no_other_does(graded):
    penalties = {
        (r["student_id"], r["assignment"]): float(r["late_submission_penalty"]) for r in grades(graded)
    }
    assert {key: value for key, value in penalties.items() if value} == LATE


@pytest.mark.slow
def test_the_gradebook_and_nbgrader_export_show_what_grades_csv_shows(graded):
    ours = from_grades_csv(graded / "reports")
    theirs = exported(graded)
    assert {key: theirs[key] for key in ours} == ours
    assert all(value == (0.0, 0.0, 0.0) for key, value in theirs.items() if key not in ours)


@pytest.mark.slow
def test_the_planted_copy_is_flagged_and_nothing_else(graded):
    with (graded / "reports" / "similarity.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["lesson"], r["student"], r["other_student"]) for r in rows] == ALIKE
    report = (graded / "reports" / "index.html").read_text()
    assert "Unusually alike answers" in report


@pytest.mark.slow
def test_the_class_report_counts_the_mistakes_of_every_code_exercise(graded, course):
    report = (graded / "reports" / "index.html").read_text()
    from augcourse.checks import exercises

    for lesson in CODE_LESSONS:
        assert course.by_id[lesson].title in report
        for exercise in exercises(lesson).values():
            row = re.search(rf"<tr><td>{re.escape(exercise.title)}</td>(.*?)</tr>", report, re.S)
            assert row, (lesson, exercise.title)
            assert "× 1" in row.group(1), (lesson, exercise.title)  # bob's mistake, counted and named
    assert "Late submissions" in report and "Unusually alike answers" in report


@pytest.mark.slow
def test_feedback_helps_and_leaks_no_hidden_test(graded):
    pages = sorted((graded / "reports" / "feedback").rglob("*.html"))
    assert {(page.parent.name, page.stem) for page in pages} == set(EXPECTED)
    for page in pages:
        secrets = secret_lines(read("solutions", page.stem))
        text = page.read_text()
        assert not [line for line in secrets if line in text], page
        assert "BEGIN HIDDEN" not in text and "Traceback" not in text
    carol = (graded / "reports" / "feedback" / "carol" / "05_practice_quiz.html").read_text()
    assert "Hint:" in carol and "is right" in carol
    late = (graded / "reports" / "feedback" / "carol" / "01_augmentation_layers.html").read_text()
    assert "Late:" in late and "0.6 points taken" in late


@pytest.mark.slow
def test_a_second_run_reuses_finished_results_and_duplicates_nothing(graded):
    before = {p: p.stat().st_mtime_ns for p in (graded / "reports" / "results").rglob("*.json")}
    exported_before = exported(graded)
    done = grader_cli("grade", str(SAMPLES), "--out", "reports", cwd=graded)
    assert done.returncode == 0
    graded_again = [p for p, t in before.items() if p.stat().st_mtime_ns != t]
    assert graded_again == []
    assert exported(graded) == exported_before


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing", "does not exist"),
        (lambda tmp: tmp, "No notebooks"),
        (lambda tmp: (tmp / "notes.txt").write_text("hi") and tmp / "notes.txt", "not a zip"),
    ],
)
def test_bad_submission_folders_get_a_clear_error(tmp_path, make, message):
    done = grader_cli("grade", str(make(tmp_path)), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_cluster_that_cannot_be_reached_is_a_clear_error(tmp_path):
    samples = quiz_samples(tmp_path / "in")
    quick = {"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}  # Dask's own setting
    done = grader_cli(
        "grade", str(samples), "--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9", env=quick
    )
    assert done.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "out" / "grades.csv").exists()
