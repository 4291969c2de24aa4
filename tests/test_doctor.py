"""Does the doctor rebuild damaged submissions safely and point out code that reaches into the checks?"""

from __future__ import annotations

import nbformat
import pytest

from grader.answers import reference_answers
from grader.doctor import defined_names, diagnose, rebuild
from grader.manifest import load_course
from grader.tamper import findings, provided_names
from tests.battery import CASES, RELEASE
from tests.conftest import ROOT

BY_NAME = {case.name: case for case in CASES}


def doctored(name: str, tmp_path):
    path = tmp_path / "submission.ipynb"
    path.write_text(BY_NAME[name].make())
    return diagnose(path, RELEASE)


def answers(nb) -> dict[str, str]:
    return {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


@pytest.mark.parametrize("name", ["metadata stripped", "metadata and ids stripped", "old nbformat"])
def test_answers_are_found_without_metadata_or_ids(name, tmp_path):
    found = answers(doctored(name, tmp_path).notebook)
    assert found["q1_answer"].strip().endswith('q1 = "C"')
    assert found["q6_answer"].strip().endswith('q6 = "B"')


def test_the_released_tests_and_points_are_what_get_graded(tmp_path):
    release = nbformat.read(RELEASE, as_version=4)
    for name in ("test cell made to pass", "test cell deleted", "points edited"):
        rebuilt = doctored(name, tmp_path).notebook
        tests = [c for c in rebuilt.cells if c.metadata.get("nbgrader", {}).get("grade")]
        originals = [c for c in release.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert [(c.source, c.metadata.nbgrader["points"]) for c in tests] == [
            (c.source, c.metadata.nbgrader["points"]) for c in originals
        ]


def test_the_last_copy_of_a_duplicated_answer_counts(tmp_path):
    diagnosis = doctored("duplicated answer cell", tmp_path)
    assert answers(diagnosis.notebook)["q5_answer"].strip().endswith('q5 = "B"')
    assert any("more than once" in note for note in diagnosis.repairs)


def test_an_extra_helper_cell_stays_before_its_answer():
    release = nbformat.read(RELEASE, as_version=4)
    student = nbformat.read(RELEASE, as_version=4)
    helper = nbformat.v4.new_code_cell("LETTER = 'C'")
    position = next(i for i, c in enumerate(student.cells) if c.get("id") == "q1_answer")
    student.cells.insert(position, helper)
    next(c for c in student.cells if c.get("id") == "q1_answer").source = "q1 = LETTER"
    rebuilt, _ = rebuild(student, release)
    sources = [c.source for c in rebuilt.cells]
    assert sources.index("LETTER = 'C'") == sources.index("q1 = LETTER") - 1


def test_cells_that_reach_into_the_checks_are_run_as_written_and_named(tmp_path):
    diagnosis = doctored("patches the checks", tmp_path)
    q1 = answers(diagnosis.notebook)["q1_answer"]
    assert "quiz.check" in q1 and not q1.startswith("raise")
    assert any(note.startswith("q1_answer reaches into the checks") for note in diagnosis.repairs)


@pytest.mark.parametrize(
    "source",
    [
        "quiz.check = print",
        "import builtins",
        "setattr(quiz, 'check', 1)",
        "quiz = None",
        "exec('q1 = 1')",
        "sys.modules['grader'] = None",
        "q1.__class__ = str",
        "del quiz.normalize",
    ],
)
def test_known_tricks_are_found(source):
    assert findings(source, {"quiz"})


def test_no_reference_solution_is_mistaken_for_tampering():
    for lesson in load_course(ROOT).lessons:
        solution = ROOT / "solutions" / lesson.notebook
        nb = nbformat.read(solution, as_version=4)
        locked = [c.source for c in nb.cells if c.metadata.get("nbgrader", {}).get("locked")]
        protected = provided_names(locked)
        for grade_id, source in reference_answers(solution).items():
            assert findings(source, protected) == [], (lesson.id, grade_id)


def test_defined_names_reads_ipython_syntax():
    assert defined_names("%matplotlib inline\nq1 = 'A'\ndef f():\n    pass") == {"q1", "f"}
