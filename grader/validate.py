"""Prove the notebooks: every reference solution earns every point, every student version none.

Both are graded by the course's own grading core (the same as ``grade`` and ``progress``); the
reference answers both in fresh kernels and in kernels forked from a zygote, which must show and score
the same. The solution notebooks are also run through stock nbgrader's Validator, hidden tests
included, so that stock ``nbgrader autograde`` keeps working on the course.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader.validator import Validator
from traitlets.config import Config

from grader.answers import fill, reference_answers
from grader.core import conclude, prepare
from grader.grade import lesson_context
from grader.manifest import Course
from grader.results import QuestionResult
from grader.sandbox import CELL_TIMEOUT
from grader.task import Place, Task, perform, start_zygote

REFERENCE = "reference"  # the student id of the reference answers (the graded test's draw depends on it)
SEED = 1234  # the probes' seed: fresh and forked runs judge the same inputs
MEASURED = "measured"  # the tag of a cell whose printed numbers are measurements (timings, a training run)
NUMBER = re.compile(r" *\d[\d,.]*")  # with the spaces that align a column


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


def shown(cell: NotebookNode) -> tuple[str, list[tuple[str, list[str]]]]:
    """What a cell shows: its printed text (numbers masked where it is tagged measured), its other outputs.

    Text is joined however the kernel split it into messages; other outputs are kept as their kinds.
    """
    outputs = cell.get("outputs", [])
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    if MEASURED in cell.get("metadata", {}).get("tags", []):
        text = NUMBER.sub("#", text)
    return text, [(o.output_type, sorted(o.get("data", {}))) for o in outputs if o.output_type != "stream"]


def unlike(first: NotebookNode, second: NotebookNode) -> list[str]:
    """The ids of the cells that show something different in two executions of one notebook."""
    pairs = zip(first.cells, second.cells, strict=True)
    return [a.get("id", "?") for a, b in pairs if shown(a) != shown(b)]


def _graded(
    path: Path, release: Path, lesson_id: str, context: dict[str, Any], place: Place
) -> tuple[NotebookNode | None, list[QuestionResult], str]:
    """Grade ``path`` as the reference student at ``place``: (executed notebook, questions, problem)."""
    prepared = prepare(path, release, lesson_id, seed=SEED)
    task = Task(lesson_id, nbformat.writes(prepared.notebook).encode())
    done = perform(task, place)
    executed = done.parsed()
    if executed is None:
        return None, [], done.problem or "the executed notebook could not be read back"
    return executed, conclude(prepared, executed, {"student": REFERENCE, **context}), ""


def core_problems(root: Path, course: Course, lesson_id: str, zygote: Any = None) -> list[str]:
    """Graded by the course's core: the reference answers must earn all, the untouched release none.

    A lesson with an answer key is graded with it, as the student the solution notebook names. With
    a zygote, the reference answers are also graded in forked kernels, and must show and score the
    same there as in fresh ones.
    """
    context = lesson_context(root, course, lesson_id)
    release = root / "notebooks" / lesson_id / f"{lesson_id}.ipynb"
    answers = reference_answers(root / "solutions" / lesson_id / f"{lesson_id}.ipynb")
    problems = []
    with tempfile.TemporaryDirectory(prefix="validate-") as tmp:
        places = {name: Path(tmp) / name for name in ("fresh", "forked")}
        for folder in places.values():
            folder.mkdir()
        fresh, forked = (
            Place(places["fresh"], hidden=(root,)),
            Place(places["forked"], hidden=(root,), zygote=zygote),
        )
        reference = Path(tmp) / f"{lesson_id}.ipynb"
        nbformat.write(fill(release, answers), reference)
        runs = [("reference answers", reference, fresh)]
        runs += [("reference answers, forked kernels", reference, forked)] if zygote else []
        runs += [("student version", release, forked)]
        seen = {}
        for name, path, place in runs:
            executed, questions, problem = _graded(path, release, lesson_id, context, place)
            if executed is None:
                problems.append(f"{lesson_id}: the {name} could not be graded: {problem}")
                continue
            seen[name] = executed, questions
            for q in questions:
                if path == reference and not q.passed:
                    problems.append(f"{lesson_id} ({name}): {q.grade_id} fails: {q.feedback}")
                if path == release and q.score > 0:
                    problems.append(f"{lesson_id} ({name}): {q.grade_id} earns {q.score:g} points")
        problems += _forked_problems(lesson_id, seen)
    return problems


def _forked_problems(lesson_id: str, seen: dict[str, tuple[NotebookNode, list[QuestionResult]]]) -> list[str]:
    """Where forked kernels showed or scored the reference answers otherwise than fresh ones."""
    if {"reference answers", "reference answers, forked kernels"} - set(seen):
        return []
    (fresh, fresh_scores), (forked, forked_scores) = (
        seen["reference answers"],
        seen["reference answers, forked kernels"],
    )
    problems = [
        f"{lesson_id}: cell {cell} shows something else in a forked kernel than in a fresh one "
        f"(if it prints measurements, tag it {MEASURED!r})"
        for cell in unlike(fresh, forked)
    ]
    if fresh_scores != forked_scores:
        problems.append(f"{lesson_id}: the reference answers score otherwise in forked kernels")
    return problems


def validate_course(root: Path, course: Course, lesson_ids: list[str] | None = None) -> list[str]:
    """Problems across lessons: solutions that lose points, student versions that earn some."""
    problems = []
    with tempfile.TemporaryDirectory(prefix="validate-zygote-") as tmp:
        zygote = start_zygote(Path(tmp), threads=1)
        try:
            for lesson in course.lessons:
                if lesson_ids and lesson.id not in lesson_ids:
                    continue
                problems += core_problems(root, course, lesson.id, zygote) + stock_problems(root, lesson.id)
        finally:
            if zygote is not None:
                zygote.close()
    return problems
