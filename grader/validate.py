"""Prove the notebooks: every reference solution earns every point, every student version none.

Both are graded by the course's own grading core (the same as ``grade`` and ``progress``). The
solution notebooks are also run through stock nbgrader's Validator, hidden tests included, so that
stock ``nbgrader autograde`` keeps working on the course.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from nbgrader.validator import Validator
from traitlets.config import Config

from grader.answers import fill, reference_answers
from grader.grade import grade_file, lesson_context
from grader.manifest import Course
from grader.sandbox import CELL_TIMEOUT

REFERENCE = "reference"  # the student id of the reference answers (the graded test's draw depends on it)


def run_validator(notebook: Path, *, invert: bool = False) -> dict:
    """nbgrader's Validator on one notebook: ``{}`` when it passes (with ``invert``: passes none)."""
    config = Config()
    config.Execute.timeout = CELL_TIMEOUT
    config.Validator.invert = invert
    return Validator(config=config).validate(str(notebook))


def stock_problems(root: Path, lesson_id: str) -> list[str]:
    """What fails in a lesson's solution notebook under stock nbgrader (nothing should)."""
    result = run_validator(root / "solutions" / lesson_id / f"{lesson_id}.ipynb")
    failed = result.get("failed", []) + result.get("changed", [])
    return [f"{lesson_id} (solution, stock nbgrader): {item['source'].splitlines()[0]}" for item in failed]


def core_problems(root: Path, course: Course, lesson_id: str) -> list[str]:
    """Graded by the course's core: the reference answers must earn all, the untouched release none.

    A lesson with an answer key is graded with it, as the student the solution notebook names.
    """
    context = lesson_context(root, course, lesson_id)
    release = root / "notebooks" / lesson_id / f"{lesson_id}.ipynb"
    answers = reference_answers(root / "solutions" / lesson_id / f"{lesson_id}.ipynb")
    problems = []
    with tempfile.TemporaryDirectory(prefix="validate-") as tmp:
        reference = Path(tmp) / f"{lesson_id}.ipynb"
        nbformat.write(fill(release, answers), reference)
        for path, full in ((reference, True), (release, False)):
            result = grade_file(path, lesson_id, release, root, student=REFERENCE, context=context)
            if result.status != "graded":
                problems.append(f"{lesson_id}: {path.name} could not be graded: {result.reason}")
                continue
            for q in result.questions:
                if full and not q.passed:
                    problems.append(f"{lesson_id} (reference answers): {q.grade_id} fails: {q.feedback}")
                if not full and q.score > 0:
                    problems.append(f"{lesson_id} (student version): {q.grade_id} earns {q.score:g} points")
    return problems


def validate_course(root: Path, course: Course, lesson_ids: list[str] | None = None) -> list[str]:
    """Problems across lessons: solutions that lose points, student versions that earn some."""
    problems = []
    for lesson in course.lessons:
        if lesson_ids and lesson.id not in lesson_ids:
            continue
        problems += core_problems(root, course, lesson.id) + stock_problems(root, lesson.id)
    return problems
