"""Prove the notebooks: every solution passes all its tests, every student version none."""

from __future__ import annotations

from pathlib import Path

from nbgrader.validator import Validator
from traitlets.config import Config

from augcourse.runtime import CELL_TIMEOUT
from grader.manifest import Course


def run_validator(notebook: Path, *, invert: bool = False) -> dict:
    """nbgrader's Validator on one notebook: ``{}`` when it passes (with ``invert``: passes none)."""
    config = Config()
    config.Execute.timeout = CELL_TIMEOUT
    config.Validator.invert = invert
    return Validator(config=config).validate(str(notebook))


def solution_problems(root: Path, lesson_id: str) -> list[str]:
    """What fails in a lesson's solution notebook (nothing should)."""
    result = run_validator(root / "solutions" / lesson_id / f"{lesson_id}.ipynb")
    failed = result.get("failed", []) + result.get("changed", [])
    return [f"{lesson_id} (solution): {item['source'].splitlines()[0]}" for item in failed]


def release_problems(root: Path, lesson_id: str) -> list[str]:
    """Which graded tests the untouched student notebook passes (none should)."""
    result = run_validator(root / "notebooks" / lesson_id / f"{lesson_id}.ipynb", invert=True)
    passed = result.get("passed", []) + result.get("changed", [])
    return [f"{lesson_id} (student version passes): {item['source'].splitlines()[0]}" for item in passed]


def validate_course(root: Path, course: Course, lesson_ids: list[str] | None = None) -> list[str]:
    """Problems across lessons: failing solutions and student versions that earn points."""
    problems = []
    for lesson in course.lessons:
        if lesson_ids and lesson.id not in lesson_ids:
            continue
        problems += solution_problems(root, lesson.id) + release_problems(root, lesson.id)
    return problems
