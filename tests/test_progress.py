"""Does progress count what a grader would, from Python, the command line and a notebook?"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from augcourse.checks.quiz import LETTERS, is_right
from grader.answers import fill
from grader.manifest import load_course
from grader.standing import ProgressError, find_notebooks, progress
from tests.conftest import ROOT

QUIZ = "05_practice_quiz"


def letter(qid: str, right: bool) -> str:
    """A right, or a wrong, option of a quiz question."""
    return next(x for x in LETTERS if is_right(qid, x) == right)


def write_attempt(folder: Path) -> Path:
    """The quiz as a student left it: q1 right, q2 wrong, q3 right and its test cell edited."""
    assert QUIZ in load_course(ROOT).by_id, f"{QUIZ} is a lesson of course.yml"
    answers = {
        "q1_answer": f'q1 = "{letter("q1", True)}"',
        "q2_answer": f'q2 = "{letter("q2", False)}"',
        "q3_answer": f'q3 = "{letter("q3", True)}"',
    }
    notebook = fill(ROOT / "notebooks" / QUIZ / f"{QUIZ}.ipynb", answers)
    test_q3 = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "q3")
    test_q3.source = "pass"
    path = folder / QUIZ / f"{QUIZ}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    return path


@pytest.fixture(scope="module")
def attempt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of lesson folders holding one attempted quiz."""
    folder = tmp_path_factory.mktemp("work")
    write_attempt(folder)
    return folder


def test_a_lessons_folder_yields_every_lesson_of_the_course_in_order(course):
    expected = [ROOT / "notebooks" / lesson.notebook for lesson in course.lessons]
    assert find_notebooks(ROOT / "notebooks") == expected


def test_one_notebook_or_one_lesson_folder_is_accepted_and_anything_else_refused(tmp_path):
    quiz = ROOT / "notebooks" / QUIZ / f"{QUIZ}.ipynb"
    assert find_notebooks(quiz) == [quiz]
    assert find_notebooks(quiz.parent) == [quiz]
    nbformat.write(new_notebook(cells=[new_code_cell("1 + 1")]), tmp_path / "scratch.ipynb")
    (tmp_path / "notes.txt").write_text("not a notebook")
    for path, reason in [
        (tmp_path, "No lesson notebook"),
        (tmp_path / "notes.txt", "not a notebook"),
        (tmp_path / "missing", "No notebook or folder"),
    ]:
        with pytest.raises(ProgressError, match=reason):
            find_notebooks(path)


def test_import_grader_stays_light_and_progress_is_callable_either_way():
    code = (
        "import sys, grader\n"
        "heavy = [m for m in ('nbclient', 'nbgrader', 'tensorflow', 'grader.standing') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(grader.progress)\n"
        "import grader.standing\n"
        "assert callable(grader.progress) and grader.progress.__module__ == 'grader.standing'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr


@pytest.mark.slow
def test_progress_scores_each_graded_cell_as_grading_does(attempt):
    result = progress(attempt, show=False)
    assert [lesson.lesson for lesson in result.lessons] == [QUIZ]
    exercises = {e.grade_id: e for e in result.exercises}
    assert list(exercises) == ["q1", "q2", "q3", "q4", "q5", "q6"]
    assert exercises["q1"].passed and exercises["q1"].points == 1 and not exercises["q1"].message
    assert not exercises["q2"].passed and "is not right yet" in exercises["q2"].message
    assert exercises["q3"].points == 1, "grading restores an edited test cell, and so does progress"
    assert any("test cell q3 was edited" in note for note in result.lessons[0].notes)
    for qid in ("q4", "q5", "q6"):
        assert exercises[qid].points == 0 and "not answered yet" in exercises[qid].message
    assert (result.points, result.max_points, result.passed) == (2, 6, 2)


@pytest.mark.slow
def test_command_line_prints_a_table_with_points_so_far(attempt, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "grader", "progress", str(attempt)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"{QUIZ}  (2 / 6 points, 2 of 6 exercises pass)"
    assert any(line.split()[:2] == ["✅", "q1"] for line in lines)
    assert any(line.split()[:2] == ["❌", "q2"] and "Hint:" in line for line in lines)
    assert any("note: test cell q3 was edited" in line for line in lines)
    assert lines[-1] == "Total: 2 / 6 points, 2 of 6 exercises pass in 1 lesson(s)."


@pytest.mark.slow
def test_progress_works_inside_a_notebook(attempt, tmp_path):
    code = f"import grader\nresult = grader.progress({str(attempt)!r})\nprint('points', result.points)"
    notebook = new_notebook(cells=[new_code_cell(code)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(o.get("text", "") for o in notebook.cells[0].outputs)
    assert "Total: 2 / 6 points" in printed and printed.rstrip().endswith("points 2.0")
