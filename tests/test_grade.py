"""Does `grade` give each bundled sample the score it deserves, with feedback that leaks nothing?"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from examples.make_submissions import EXPECTED, samples
from grader.report import NBGRADER_COLUMNS
from tests.conftest import ROOT
from tests.test_notebooks import read, secret_lines

SAMPLES = ROOT / "examples" / "submissions"


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


def test_committed_samples_are_what_the_generator_makes():
    for relative, text in samples().items():
        assert (SAMPLES / relative).read_text(encoding="utf-8") == text, relative


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    done = grader_cli("grade", str(SAMPLES), "--out", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    return out


@pytest.mark.slow
def test_each_sample_gets_its_expected_score(graded):
    with (graded / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[: len(NBGRADER_COLUMNS)] == NBGRADER_COLUMNS
    got = {row["student_id"]: (row["assignment"], float(row["score"]), row["status"]) for row in rows}
    assert got == EXPECTED
    invalid = next(row for row in rows if row["status"] == "invalid")
    assert "not valid JSON" in invalid["reason"]


@pytest.mark.slow
def test_feedback_helps_and_leaks_no_hidden_test(graded):
    pages = sorted((graded / "feedback").rglob("*.html"))
    assert {page.parent.name for page in pages} == set(EXPECTED)
    secrets = set()
    for lesson in {lesson for lesson, _, _ in EXPECTED.values()}:
        secrets |= secret_lines(read("solutions", lesson))
    for page in pages:
        text = page.read_text()
        assert not [line for line in secrets if line in text], page
        assert "BEGIN HIDDEN" not in text and "Traceback" not in text
    carol = (graded / "feedback" / "carol" / "05_practice_quiz.html").read_text()
    assert "Hint:" in carol and "is right" in carol


@pytest.mark.slow
def test_a_second_run_reuses_finished_results(graded):
    before = {p: p.stat().st_mtime_ns for p in (graded / "results").rglob("*.json")}
    done = grader_cli("grade", str(SAMPLES), "--out", str(graded))
    assert done.returncode == 0
    graded_again = [p for p, t in before.items() if p.stat().st_mtime_ns != t]
    assert graded_again == []


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
