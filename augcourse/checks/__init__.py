"""The course's checks: one module per lesson, one :class:`Exercise` (probe + judge) per graded cell.

The visible check of a notebook calls an exercise (probe and judge in the kernel, for immediate
feedback); grading runs the probe alone in the kernel and the judge in the grader's own process.
:data:`MODULES` is the one place that says which module holds a lesson's exercises.
"""

from __future__ import annotations

import importlib

from augcourse.checks.exercise import Exercise, Verdict
from augcourse.checks.feedback import CheckFailed, expect, fail, passed

MODULES = {
    "01_augmentation_layers": "augcourse.checks.layers",
    "02_augmentation_pipeline": "augcourse.checks.pipeline",
    "03_metrics_evaluation": "augcourse.checks.metrics",
    "04_augmentation_experiment": "augcourse.checks.experiment",
    "05_practice_quiz": "augcourse.checks.quiz",
    "06_graded_test": "augcourse.checks.exam",
}


def exercises(lesson: str) -> dict[str, Exercise]:
    """A lesson's exercises by grade id (empty for a lesson with none)."""
    if lesson not in MODULES:
        return {}
    module = importlib.import_module(MODULES[lesson])
    return {exercise.grade_id: exercise for exercise in getattr(module, "EXERCISES", [])}


def item_title(lesson: str, item: str) -> str:
    """How a lesson names an item of its bank (a question drawn per student), for the class report."""
    module = importlib.import_module(MODULES[lesson]) if lesson in MODULES else None
    name = getattr(module, "item_title", None)
    return name(item) if callable(name) else item


__all__ = [
    "MODULES",
    "CheckFailed",
    "Exercise",
    "Verdict",
    "exercises",
    "expect",
    "fail",
    "item_title",
    "passed",
]
