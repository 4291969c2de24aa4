"""The grading core that ``grade``, ``progress`` and ``validate`` share: repair, execute, probe, judge.

:func:`prepare` rebuilds a submission on its released notebook (the doctor) and puts probes where
the tests were; the caller executes the result wherever it likes (a sandbox, or locally);
:func:`conclude` reads the probes' data back and judges it here, in a process that ran no student
code. Scores and messages come from the judges alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from augcourse.checks import exercises, item_title
from augcourse.checks.exercise import Verdict
from grader.doctor import diagnose
from grader.probes import Probed, draw_seed, graded_cells, instrument, read_probes
from grader.results import QuestionResult


@dataclass(frozen=True)
class Prepared:
    """A submission ready to execute: the notebook with probes, and what grading it needs after."""

    lesson: str
    release: NotebookNode
    notebook: NotebookNode
    seed: int
    repairs: list[str] = field(default_factory=list)


class Unreadable(ValueError):
    """A file that cannot be graded at all (not a notebook); its message says why."""


def prepare(path: Path, release_path: Path, lesson: str, seed: int | None = None) -> Prepared:
    """Repair ``path`` on its released notebook and instrument it with probes for ``seed``."""
    diagnosis = diagnose(path, release_path)
    if diagnosis.notebook is None:
        raise Unreadable(diagnosis.problem)
    seed = draw_seed() if seed is None else seed
    release = nbformat.read(release_path, as_version=4)
    return Prepared(lesson, release, instrument(diagnosis.notebook, lesson, seed), seed, diagnosis.repairs)


def _verdict(exercise: Any, probed: Probed, seed: int, context: dict[str, Any]) -> Verdict:
    if exercise is None:
        return Verdict(False, "this question has no automatic check: it is graded by hand.", "no check")
    if probed.data is None and probed.error:
        return Verdict(False, probed.error, "did not run")
    return exercise.decide(probed.data, seed, context)


def _title(lesson: str, exercise: Any, verdict: Verdict) -> str:
    return item_title(lesson, verdict.item) if verdict.item else exercise.title


def conclude(
    prepared: Prepared, executed: NotebookNode | None, context: dict[str, Any] | None = None
) -> list[QuestionResult]:
    """Judge the probes' data in ``executed`` (None: nothing ran); points come from the release."""
    found = read_probes(executed, prepared.seed) if executed is not None else {}
    checks = exercises(prepared.lesson)
    questions = []
    for cell in graded_cells(prepared.release):
        grade_id = cell.metadata.nbgrader["grade_id"]
        points = float(cell.metadata.nbgrader.get("points", 0))
        exercise = checks.get(grade_id)
        verdict = _verdict(exercise, found.get(grade_id, Probed()), prepared.seed, context or {})
        questions.append(
            QuestionResult(
                grade_id=grade_id,
                title=_title(prepared.lesson, exercise, verdict) if exercise else grade_id,
                score=points if verdict.passed else 0.0,
                max_score=points,
                feedback=verdict.message,
                mistake="" if verdict.passed else verdict.mistake,
                item=verdict.item,
            )
        )
    return questions


def grade_locally(
    path: Path,
    release_path: Path,
    lesson: str,
    run: Callable[[NotebookNode], NotebookNode],
    context: dict[str, Any] | None = None,
) -> tuple[list[QuestionResult], list[str]]:
    """The whole core in one call, with ``run`` executing the probed notebook: (questions, repairs)."""
    prepared = prepare(path, release_path, lesson)
    return conclude(prepared, run(prepared.notebook), context), prepared.repairs
