"""Does every kind of bad or hostile submission get exactly the grade it deserves, with a reason?"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path

import pytest

from tests.battery import CASES, DAEMON, FULL, LESSON, ROOT, SECRET, right, write
from tests.test_grade import grader_cli
from tests.test_notebooks import read, secret_lines

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def battery(tmp_path_factory) -> tuple[dict, Path]:
    folder = tmp_path_factory.mktemp("battery")
    students = write(folder / "submissions")
    out = folder / "reports"
    secret = {SECRET: right("q4")}  # in the grader's environment: a kernel that finds it earns q4
    done = grader_cli(
        "grade", str(folder / "submissions"), "--out", str(out), "--timeout", "30", "--db", "none", env=secret
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return students, out


def test_the_battery_has_at_least_thirty_kinds():
    assert len({case.name for case in CASES}) >= 30


def test_each_kind_gets_its_expected_score_and_status(battery):
    students, out = battery
    with (out / "grades.csv").open() as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(rows) == set(students)
    wrong = {
        student: (rows[student]["score"], rows[student]["status"])
        for student, case in students.items()
        if (float(rows[student]["score"]), rows[student]["status"]) != (case.score, case.status)
    }
    assert wrong == {}
    assert all(float(row["max_score"]) == FULL for row in rows.values())


def test_each_kind_is_explained(battery):
    students, out = battery
    for student, case in students.items():
        if not case.note:
            continue
        result = json.loads((out / "results" / student / f"{LESSON}.json").read_text())
        said = " ".join([result["reason"], *result["notes"]])
        assert case.note in said, (case.name, said)


def test_no_feedback_shows_a_hidden_test(battery):
    _, out = battery
    secrets = secret_lines(read("solutions", LESSON))
    for page in (out / "feedback").rglob("*.html"):
        text = page.read_text()
        leaked = [line for line in secrets if line in text]
        assert leaked == [], page
        assert "Traceback" not in text


def test_the_class_report_names_the_common_mistakes(battery):
    _, out = battery
    report = (out / "index.html").read_text()
    assert "Picks a valid layer that flips the wrong axis" in report  # q2 answered "C"
    assert "Thinks &#39;horizontal&#39; is not a valid RandomFlip mode" in report  # q4 answered "B"
    assert "data:image/png;base64," in report
    assert "q1_answer reaches into the checks" in report


def test_no_submission_wrote_into_the_course(battery):
    assert not list(ROOT.rglob("ESCAPED"))


def test_a_notebook_over_its_time_limit_is_stopped(tmp_path):
    from grader.grade import Options, grade
    from grader.manifest import load_course
    from grader.sandbox import Limits

    write(tmp_path / "in", [c for c in CASES if c.name == "endless loop"])
    options = Options(workers=1, cell_timeout=60, limits=Limits(notebook_timeout=8), db="none")
    [result] = grade(ROOT, load_course(ROOT), tmp_path / "in", tmp_path / "out", options)
    assert (result.status, result.score) == ("failed", 0.0)
    assert "longer than 8 s" in result.reason


def test_no_process_a_submission_started_survives_grading(battery):
    survivors = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if entry.name.isdigit() and command[:2] == [b"sleep", DAEMON.encode()]:
            survivors.append(int(entry.name))
    assert survivors == []


def test_nothing_is_left_in_the_scratch(battery):
    _, out = battery
    assert not list(Path(out).rglob("big.bin"))
    assert not list(Path(tempfile.gettempdir()).glob("grading-*/**/big.bin"))


AGREE = [  # progress runs fresh kernels, grade forked ones: the kinds whose grading takes seconds
    "perfect",
    "some wrong",
    "always-equal object",
    "forges a passing output after each cell",
    "blanks every later cell",
    "rebinds the checks through an import alias",
    "reads the solutions beside the course",
    "kills the process that runs it",
    "test cell made to pass",
    "kernel dies",
    "tries to escape its sandbox",
    "reads the grader's environment",
    "leaves a daemon behind",
    "swallows every display",
    "patches numpy's comparisons",
]


@pytest.mark.parametrize("name", AGREE)
def test_progress_agrees_with_grade(battery, name):
    from grader.standing import ProgressError, lesson_progress

    students, out = battery
    student = next(s for s, case in students.items() if case.name == name)
    result = json.loads((out / "results" / student / f"{LESSON}.json").read_text())
    path = next((battery[1].parent / "submissions" / student).rglob("*.ipynb"))
    try:
        mine = lesson_progress(path, timeout=30)
    except ProgressError as error:
        assert result["status"] != "graded", error
        return
    assert {e.grade_id: e.points for e in mine.exercises} == {
        q["grade_id"]: q["score"] for q in result["questions"]
    }
