"""Does a grading run killed half-way lose nothing, duplicate nothing, and redo nothing finished?"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.battery import CASES, write
from tests.conftest import ROOT

pytestmark = [pytest.mark.slow]


def start(submissions: Path, out: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "grader",
        "grade",
        str(submissions),
        "--out",
        str(out),
        "--workers",
        "1",
        "--db",
        "none",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def finished(out: Path) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (out / "results").rglob("*.json")}


def test_kill_and_resume(tmp_path):
    perfect = [case for case in CASES if case.name == "perfect"]
    students = write(tmp_path / "in", perfect, copies=5)
    out = tmp_path / "out"
    first = start(tmp_path / "in", out)
    deadline = time.monotonic() + 300
    while not finished(out) and time.monotonic() < deadline and first.poll() is None:
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    before = finished(out)
    assert 0 < len(before) < len(students), "killed after some, not all, submissions"

    second = start(tmp_path / "in", out)
    assert second.wait(timeout=600) == 0
    after = finished(out)
    assert len(after) == len(students)
    assert all(after[path] == mtime for path, mtime in before.items()), "finished work was not redone"
    with (out / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["student_id"] for row in rows) == sorted(students)
    assert {row["score"] for row in rows} == {"6"}
    assert not list(out.rglob("*.partial"))
