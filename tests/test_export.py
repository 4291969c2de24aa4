"""Does `export` write the file each LMS imports, with the columns and rows its importer expects?

Sources for the formats:
- Canvas: Instructure's guide "How do I import grades in the Gradebook?" and the gradebook export
  Canvas itself writes (header ``Student, ID, SIS User ID, SIS Login ID, Section`` and one column
  per assignment, then a ``Points Possible`` row); Canvas matches students by ID, SIS User ID or
  SIS Login ID and makes an assignment of a column it does not know.
- Moodle: MoodleDocs "Import grades" (CSV file: a header row, "Identify user by" mapping a column to
  ``userid``, ``username``, ``useridnumber`` or ``useremail``) and grade/import/csv/classes/load_data.php,
  which aborts the import with "user mapping error" on a user it cannot find, and skips blank grades.
  Moodle's own grade export names its columns ``First name, Last name, ID number, ..., Email address``.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from grader.export import CANVAS_IDENTITY, CANVAS_POINTS, MOODLE_IDENTITY, ExportError, export
from grader.report import write_grades
from tests.test_gradebook import QUIZ, quiz_result

L1 = "01_augmentation_layers"
QUIZ_TITLE = "Practice quiz: augmentation layers and evaluation (05_practice_quiz)"
L1_TITLE = "Augmentation layers in Keras 3 (01_augmentation_layers)"

CANVAS_ROSTER = """Student,ID,SIS User ID,SIS Login ID,Section,Quiz 1 (1234),Current Score
    Points Possible,,,,,10,(read only)
"Liddell, Alice",101,S001,alice,Sec A,,
"Builder, Bob",102,S002,bob,Sec A,,
"Nobody, Nora",103,S003,nora,Sec B,,
"""
MOODLE_ROSTER = """First name;Last name;ID number;Institution;Department;Email address
Alice;Liddell;S001;Uni;CS;alice@example.edu
Bob;Builder;S002;Uni;CS;bob@example.edu
Nora;Nobody;S003;Uni;CS;nora@example.edu
"""


@pytest.fixture
def grades(tmp_path, course) -> Path:
    """grades.csv for alice (both lessons), bob (quiz, late), and zed (no roster entry)."""
    results = [
        quiz_result("alice", 6, "2025-10-27 10:00:00 UTC"),
        quiz_result("alice", 3, lesson=L1),
        quiz_result("bob", 5, "2025-10-29 08:00:00 UTC"),  # two days late: 5 - 1.2
        quiz_result("zed", 2),
    ]
    path = tmp_path / "grades.csv"
    write_grades(results, path, course)
    return path


def rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def roster(tmp_path: Path, text: str, name: str = "roster.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_canvas_gets_its_identity_columns_a_points_row_and_the_final_scores(course, grades, tmp_path):
    out = tmp_path / "canvas.csv"
    done = export(course, grades, "canvas", out, roster(tmp_path, CANVAS_ROSTER))
    table = rows(out)
    assert table[0] == [*CANVAS_IDENTITY, L1_TITLE, QUIZ_TITLE]
    assert table[1] == [CANVAS_POINTS, "", "", "", "", "3", "6"]
    assert table[2:] == [
        ["Liddell, Alice", "101", "S001", "alice", "Sec A", "3", "6"],
        ["Builder, Bob", "102", "S002", "bob", "Sec A", "", "3.8"],  # the late penalty applied
        ["Nobody, Nora", "103", "S003", "nora", "Sec B", "", ""],  # blank: Canvas keeps what it has
    ]
    assert (done.rows, done.missing, done.unknown) == (3, ["Nobody, Nora"], ["zed"])
    assert all(len(row) == len(table[0]) for row in table)
    assert out.read_bytes().count(b"\r\n") == len(table)  # CSV as spreadsheets write it


def test_canvas_without_a_roster_matches_by_sis_login_id(course, grades, tmp_path):
    out = tmp_path / "canvas.csv"
    export(course, grades, "canvas", out)
    assert rows(out)[2:] == [
        ["alice", "", "", "alice", "", "3", "6"],
        ["bob", "", "", "bob", "", "", "3.8"],
        ["zed", "", "", "zed", "", "", "2"],
    ]


def test_moodle_gets_named_columns_and_only_users_it_knows(course, grades, tmp_path):
    out = tmp_path / "moodle.csv"
    done = export(course, grades, "moodle", out, roster(tmp_path, MOODLE_ROSTER))
    assert rows(out) == [
        [*MOODLE_IDENTITY, L1_TITLE, QUIZ_TITLE],
        ["Alice", "Liddell", "S001", "alice@example.edu", "3", "6"],
        ["Bob", "Builder", "S002", "bob@example.edu", "", "3.8"],
    ]
    assert done.missing == ["Nora Nobody"] and done.unknown == ["zed"]


def test_moodle_by_idnumber_needs_no_email(course, grades, tmp_path):
    out = tmp_path / "moodle.csv"
    export(course, grades, "moodle", out, roster(tmp_path, CANVAS_ROSTER), by="idnumber")
    assert [row[2] for row in rows(out)[1:]] == ["alice", "bob"]  # no ID number column: the graded id
    export(course, grades, "moodle", out)
    assert [row[2] for row in rows(out)[1:]] == ["alice", "bob", "zed"]


def test_moodle_by_email_leaves_out_students_without_one(course, grades, tmp_path):
    done = export(course, grades, "moodle", tmp_path / "m.csv", roster(tmp_path, CANVAS_ROSTER), by="email")
    assert rows(tmp_path / "m.csv")[1:] == []
    assert done.unknown == ["zed", "alice (no email on the roster)", "bob (no email on the roster)"]


def test_plain_csv_lists_every_student_with_totals(course, grades, tmp_path):
    out = tmp_path / "plain.csv"
    export(course, grades, "csv", out, roster(tmp_path, MOODLE_ROSTER))
    assert rows(out) == [
        ["student_id", "name", "email", L1, QUIZ, "total", "max_total"],
        ["alice", "Alice Liddell", "alice@example.edu", "3", "6", "9", "9"],
        ["bob", "Bob Builder", "bob@example.edu", "", "3.8", "3.8", "9"],
        ["zed", "", "", "", "2", "2", "9"],
        ["S003", "Nora Nobody", "nora@example.edu", "", "", "", ""],
    ]


def test_a_roster_matches_by_email_or_its_local_part(course, grades, tmp_path):
    text = "name,email\nAlice L,ALICE@example.edu\nBob B,bob@example.edu\n"
    done = export(course, grades, "csv", tmp_path / "p.csv", roster(tmp_path, text))
    assert done.unknown == ["zed"] and done.missing == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp, grades: (tmp / "nope.csv", None), "Cannot read the grades"),
        (lambda tmp, grades: (roster(tmp, "a,b\n1,2\n", "g.csv"), None), "not a grades.csv"),
        (lambda tmp, grades: (grades, roster(tmp, "colour,size\nred,2\n")), "no column that names a student"),
        (lambda tmp, grades: (grades, tmp / "missing-roster.csv"), "Cannot read the roster"),
    ],
)
def test_bad_input_is_one_clear_error(course, grades, tmp_path, make, message):
    source, people = make(tmp_path, grades)
    with pytest.raises(ExportError, match=message):
        export(course, source, "canvas", tmp_path / "o.csv", people)


def test_the_cli_writes_the_file_and_names_who_is_missing(root, grades, tmp_path):
    out = tmp_path / "canvas.csv"
    command = [sys.executable, "-m", "grader", "export", "--to", "canvas", "--grades", str(grades)]
    command += ["--roster", str(roster(tmp_path, CANVAS_ROSTER)), "--out", str(out)]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout and "no submission (1): Nobody, Nora" in done.stdout
    assert "no roster entry (left out of the file) (1): zed" in done.stdout
    assert rows(out)[1][0] == CANVAS_POINTS
    bad = subprocess.run(
        [*command[:6], "--grades", str(tmp_path / "x.csv")], cwd=root, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Run `grade` first" in bad.stderr and "Traceback" not in bad.stderr
