"""Are submissions found in every layout an instructor gets, and matched to student and lesson?"""

from __future__ import annotations

import shutil
import zipfile

import pytest

from grader.collect import CollectError, collect, lesson_signatures
from tests.test_grade import SAMPLES, quiz_samples

QUIZ = "05_practice_quiz"


@pytest.fixture(scope="module")
def signatures(root, course):
    return lesson_signatures(root, course)


def found(folder, signatures) -> set[tuple[str, str | None, bool]]:
    return {(s.student, s.lesson, bool(s.problem)) for s in collect(folder, signatures)}


EXPECTED = {("alice", QUIZ, False), ("bob", QUIZ, False), ("carol", QUIZ, False), ("dave", QUIZ, True)}


def test_nbgrader_layout(tmp_path, signatures):
    assert found(quiz_samples(tmp_path / "quiz"), signatures) == EXPECTED


def test_nbgrader_layout_under_submitted(tmp_path, signatures):
    quiz_samples(tmp_path / "submitted")
    assert found(tmp_path, signatures) == EXPECTED


def test_flat_folder_named_by_student(tmp_path, signatures):
    for student in ("alice", "bob", "carol"):
        shutil.copy(SAMPLES / student / QUIZ / f"{QUIZ}.ipynb", tmp_path / f"{student}.ipynb")
    assert found(tmp_path, signatures) == {e for e in EXPECTED if e[0] != "dave"}


def test_student_folders_with_renamed_downloads(tmp_path, signatures):
    for student in ("alice", "bob"):
        (tmp_path / student).mkdir()
        shutil.copy(SAMPLES / student / QUIZ / f"{QUIZ}.ipynb", tmp_path / student / f"{QUIZ} (1).ipynb")
    shutil.copy(SAMPLES / "carol" / QUIZ / f"{QUIZ}.ipynb", tmp_path / "x.ipynb")
    assert {(s, lesson) for s, lesson, _ in found(tmp_path, signatures)} == {
        ("alice", QUIZ),
        ("bob", QUIZ),
        ("x", QUIZ),
    }


def test_zip_from_an_lms(tmp_path, signatures):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for student in ("alice", "carol"):
            zf.write(SAMPLES / student / QUIZ / f"{QUIZ}.ipynb", f"{student}/{QUIZ}.ipynb")
        zf.writestr("../evil/escape.ipynb", "{}")
        zf.writestr("__MACOSX/._alice.ipynb", "junk")
    assert found(archive, signatures) == {("alice", QUIZ, False), ("carol", QUIZ, False)}
    assert not (tmp_path.parent / "evil").exists()


def test_renamed_notebook_is_matched_by_its_cells(tmp_path, signatures):
    shutil.copy(SAMPLES / "alice" / QUIZ / f"{QUIZ}.ipynb", tmp_path / "homework.ipynb")
    [submission] = collect(tmp_path, signatures)
    assert (submission.student, submission.lesson) == ("homework", QUIZ)


def test_a_notebook_of_another_course_has_no_lesson(tmp_path, signatures):
    (tmp_path / "eve.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    [submission] = collect(tmp_path, signatures)
    assert submission.lesson is None


@pytest.mark.parametrize("make", [lambda p: p / "nope", lambda p: p, lambda p: p / "a.txt"])
def test_nothing_to_grade_is_an_error(tmp_path, signatures, make):
    (tmp_path / "a.txt").write_text("not a zip")
    with pytest.raises(CollectError):
        collect(make(tmp_path), signatures)
