"""Is every lesson notebook sound: solutions pass, student versions earn nothing, nothing leaks?"""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from grader.manifest import load_course
from grader.task import start_zygote
from grader.validate import core_problems, stock_problems
from tests.conftest import ROOT

LESSONS = [lesson.id for lesson in load_course(ROOT).lessons]
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)


def read(kind: str, lesson_id: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / kind / lesson_id / f"{lesson_id}.ipynb", as_version=4)


def grade_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


def secret_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Lines of hidden tests and of solutions that mean something on their own.

    A line the lesson also shows openly (say, in a demonstration) is no secret.
    """
    lines, public = set(), []
    for cell in nb.cells:
        for block in HIDDEN.findall(cell.source) + SOLUTION.findall(cell.source):
            lines |= {line.strip() for line in block.splitlines() if len(line.strip()) >= 12}
        public.append(SOLUTION.sub("", HIDDEN.sub("", cell.source)))
    shown = "\n".join(public)
    return {line for line in lines if line not in shown}


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_solution_passes_every_test_of_stock_nbgrader(lesson_id):
    assert stock_problems(ROOT, lesson_id) == []


@pytest.fixture(scope="module")
def zygote(tmp_path_factory):
    """A warm zygote, where namespaces allow one (else None: fresh kernels only)."""
    warm = start_zygote(tmp_path_factory.mktemp("zygote"), threads=1)
    yield warm
    if warm is not None:
        warm.close()


@pytest.mark.slow
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_reference_answers_earn_every_point_the_same_in_forked_kernels_and_the_student_version_none(
    lesson_id, zygote
):
    assert core_problems(ROOT, load_course(ROOT), lesson_id, zygote) == []


@pytest.mark.parametrize("lesson_id", LESSONS)
def test_no_hidden_test_or_solution_text_reaches_students(lesson_id):
    released = nbformat.writes(read("notebooks", lesson_id))
    secrets = secret_lines(read("solutions", lesson_id))
    assert secrets, "a lesson with exercises has hidden tests and solutions"
    leaked = sorted(line for line in secrets if line in released)
    assert leaked == []
    assert "BEGIN HIDDEN TESTS" not in released and "BEGIN SOLUTION" not in released


@pytest.mark.parametrize("lesson_id", LESSONS)
def test_every_graded_test_explains_itself_and_hides_tests(lesson_id):
    cells = grade_cells(read("solutions", lesson_id))
    assert cells
    for cell in cells:
        first = ast.parse(cell.source).body[0]
        assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant), cell.id
        assert first.value.value.rstrip().endswith("?"), f"{cell.id}: docstring is a question"
        assert "### BEGIN HIDDEN TESTS" in cell.source, f"{cell.id} has hidden tests"
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        assert len(ast.parse(visible).body) >= 2, f"{cell.id} has a visible check"


@pytest.mark.parametrize("kind", ["solutions", "notebooks"])
@pytest.mark.parametrize("lesson_id", LESSONS)
def test_committed_notebooks_have_no_outputs_and_one_seed(kind, lesson_id):
    nb = read(kind, lesson_id)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    setup = next(c for c in code if "seed_everything" in c.source)
    seeds = re.findall(r"seed_everything\((\d+)\)", setup.source)
    assert seeds == [str(load_course(ROOT).seed)]
