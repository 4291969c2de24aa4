"""Do due dates and the late policy of course.yml turn a submission time into nbgrader's late penalty?"""

from __future__ import annotations

import struct
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from grader.late import assess, fill_zip_times, parse_time, penalty, zip_entry_time, zip_times
from grader.manifest import LatePolicy, ManifestError, load_course
from grader.report import write_reports
from tests.test_gradebook import QUIZ, quiz_result, read_csv

POLICY = LatePolicy(grace_minutes=15, per_day=0.1, max_share=0.5)
HOUR = 3600


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-10-06 21:14:03.123456 UTC", datetime(2025, 10, 6, 21, 14, 3, 123456, UTC)),  # nbgrader's
        ("2025-10-06 23:14:03 +0200", datetime(2025, 10, 6, 21, 14, 3, tzinfo=UTC)),
        ("2025-10-06T23:14:03+02:00", datetime(2025, 10, 6, 21, 14, 3, tzinfo=UTC)),
        ("2025-10-06 21:14:03", datetime(2025, 10, 6, 21, 14, 3, tzinfo=UTC)),  # no zone: UTC, as nbgrader
        ("", None),
        ("yesterday-ish", None),
        (None, None),
    ],
)
def test_submission_times_are_read_as_nbgrader_writes_them(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("seconds", "raw", "days", "taken"),
    [
        (-5 * HOUR, 6, 0, 0.0),  # early
        (10 * 60, 6, 0, 0.0),  # within the grace period
        (16 * 60, 6, 1, 0.6),  # past it: one day begun
        (24 * HOUR, 6, 1, 0.6),
        (24 * HOUR + 1, 6, 2, 1.2),
        (10 * 24 * HOUR, 6, 10, 3.0),  # capped at half the points
        (3 * 24 * HOUR, 0.5, 3, 0.5),  # never more than the raw score
    ],
)
def test_the_penalty_is_a_share_of_the_points_per_late_day_begun(seconds, raw, days, taken):
    assert penalty(POLICY, seconds, raw, 6.0) == (days, pytest.approx(taken))


def test_without_a_policy_lateness_is_shown_but_costs_nothing():
    assert penalty(None, 30 * HOUR, 6, 6) == (2, 0.0)


def _manifest(root: Path, tmp: Path, change) -> Path:
    data = yaml.safe_load((root / "course.yml").read_text())
    change(data)
    (tmp / "course.yml").write_text(yaml.safe_dump(data))
    return tmp


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda m: m["lessons"][0].update(due="2025-10-06 23:59"), "UTC offset"),
        (lambda m: m["lessons"][0].update(due="next monday"), "lessons.0.due"),
        (lambda m: m["late_policy"].update(per_day=1.5), "late_policy.per_day"),
        (lambda m: m["late_policy"].update(per_day=0), "late_policy.per_day"),
        (lambda m: m["late_policy"].update(max_share=-1), "late_policy.max_share"),
        (lambda m: m["late_policy"].update(grace_minutes=-5), "late_policy.grace_minutes"),
        (lambda m: m["late_policy"].update(per_week=0.3), "late_policy.per_week"),
        (lambda m: m["late_policy"].pop("per_day"), "late_policy.per_day"),
    ],
)
def test_the_manifest_checks_due_dates_and_the_policy(root, tmp_path, change, named):
    with pytest.raises(ManifestError) as error:
        load_course(_manifest(root, tmp_path, change))
    assert named in str(error.value)


def test_both_are_optional(root, tmp_path):
    def strip(m):
        m.pop("late_policy")
        for lesson in m["lessons"]:
            lesson.pop("due", None)

    course = load_course(_manifest(root, tmp_path, strip))
    late = assess(course, quiz_result("frank", 5, "2030-01-01 00:00:00 UTC"))
    assert (late.late, late.penalty, late.due) == (False, 0.0, None)


def test_the_course_gives_every_lesson_a_due_date_and_a_policy(course):
    assert all(lesson.due is not None for lesson in course.lessons)
    assert course.late_policy is not None


def test_the_penalty_fills_nbgrader_columns_and_shows_in_the_reports(course, tmp_path):
    results = [
        quiz_result("alice", 6, "2025-10-27 23:59:00.000000 UTC"),  # on the minute
        quiz_result("frank", 5, "2025-10-29 08:00:00.000000 UTC"),  # 32 hours late: two days begun
        quiz_result("gina", 4),  # no time known: never late
    ]
    write_reports(course, results, tmp_path)
    rows = {row["student_id"]: row for row in read_csv(tmp_path / "grades.csv")}
    frank = rows["frank"]
    assert frank["duedate"] == "2025-10-27T23:59:00+00:00"
    assert (frank["raw_score"], frank["late_submission_penalty"], frank["score"]) == ("5", "1.2", "3.8")
    assert [rows[s]["late_submission_penalty"] for s in ("alice", "gina")] == ["0", "0"]
    page = (tmp_path / "feedback" / "frank" / f"{QUIZ}.html").read_text()
    assert "Late:" in page and "1.2 points taken" in page and "Score: 3.8 / 6" in page
    assert "Late:" not in (tmp_path / "feedback" / "alice" / f"{QUIZ}.html").read_text()
    report = (tmp_path / "index.html").read_text()
    assert "Late submissions" in report and "<td>frank</td>" in report and "<td>alice</td>" not in report


def _extended(moment: datetime) -> bytes:
    """An Info-ZIP extended-timestamp extra field holding ``moment``'s modification time."""
    return struct.pack("<HHBI", 0x5455, 5, 1, int(moment.timestamp()))


def _lms_zip(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        dos = zipfile.ZipInfo("frank_1234_5678_quiz.ipynb", date_time=(2025, 10, 29, 8, 0, 0))
        zf.writestr(dos, "{}")
        utc = zipfile.ZipInfo("gina/05_practice_quiz.ipynb", date_time=(1999, 1, 1, 0, 0, 0))
        utc.extra = _extended(datetime(2025, 10, 27, 22, 30, tzinfo=UTC))
        zf.writestr(utc, "{}")
        zf.writestr(zipfile.ZipInfo("notes/"), "")
    return path


def test_an_lms_zip_gives_each_entry_its_time(tmp_path):
    times = zip_times(_lms_zip(tmp_path / "submissions.zip"))
    assert times == {
        "frank_1234_5678_quiz.ipynb": datetime(2025, 10, 29, 8, 0, tzinfo=UTC),  # DOS time, read as UTC
        "gina/05_practice_quiz.ipynb": datetime(2025, 10, 27, 22, 30, tzinfo=UTC),  # the extended UTC time
    }
    unpacked = tmp_path / "scratch" / "submissions-x1" / "gina" / "05_practice_quiz.ipynb"
    assert zip_entry_time(times, unpacked) == datetime(2025, 10, 27, 22, 30, tzinfo=UTC)
    assert zip_entry_time(times, tmp_path / "elsewhere.ipynb") is None


def test_results_from_a_zip_take_its_entry_times_unless_timestamp_txt_gave_one(course, tmp_path):
    archive = _lms_zip(tmp_path / "submissions.zip")
    frank = quiz_result("frank", 5)
    frank.source = str(tmp_path / "scratch" / "submissions-x1" / "frank_1234_5678_quiz.ipynb")
    gina = quiz_result("gina", 6, "2025-10-20 10:00:00.000000 UTC")
    gina.source = str(tmp_path / "scratch" / "submissions-x1" / "gina" / "05_practice_quiz.ipynb")
    assert fill_zip_times(archive, [frank, gina]) == [frank]
    assert frank.timestamp == "2025-10-29 08:00:00.000000 UTC"
    assert gina.timestamp == "2025-10-20 10:00:00.000000 UTC"
    assert assess(course, frank).penalty == pytest.approx(1.2)
    assert fill_zip_times(tmp_path, [quiz_result("h", 1)]) == []  # a folder: nothing to read


def test_zip_times_survive_the_local_time_zone(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "America/Los_Angeles")
    time.tzset()
    try:
        times = zip_times(_lms_zip(tmp_path / "submissions.zip"))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert times["gina/05_practice_quiz.ipynb"] == datetime(2025, 10, 27, 22, 30, tzinfo=UTC)
