"""Put probes where the tests were, and read back the data they published.

When grading, every graded test cell of the notebook is replaced by a probe cell: it runs the
exercise's probe in the kernel on a seed drawn for this grading run and publishes the data as one
output of type :data:`~augcourse.checks.exercise.MIME`. Nothing else of a test cell (visible or
hidden test) reaches the kernel. Reading the data back trusts nothing: a cell's payload must name its
cell and this run's seed, and it is decoded without running code.
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass
from typing import Any

from nbformat import NotebookNode
from nbgrader.utils import is_grade

from augcourse.checks import wire
from augcourse.checks.exercise import MIME

MAX_SEED = 2**31 - 1


def draw_seed() -> int:
    """A seed for one grading run, unknown to the kernel until its probe cells run."""
    return secrets.randbelow(MAX_SEED) + 1


def graded_cells(notebook: NotebookNode) -> list[NotebookNode]:
    """The code cells nbgrader scores (``grade: true``), in notebook order."""
    return [cell for cell in notebook.cells if cell.cell_type == "code" and is_grade(cell)]


def probe_source(lesson: str, grade_id: str, seed: int) -> str:
    """The code that stands in for one graded test cell when grading."""
    call = f"emit({json.dumps(lesson)}, {json.dumps(grade_id)}, {int(seed)})"
    return f"from augcourse.checks.exercise import emit\n{call}"


def instrument(notebook: NotebookNode, lesson: str, seed: int) -> NotebookNode:
    """A copy of ``notebook`` whose graded cells run probes instead of tests, outputs cleared."""
    probed = copy.deepcopy(notebook)
    for cell in probed.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            if is_grade(cell):
                cell.source = probe_source(lesson, cell.metadata.nbgrader["grade_id"], seed)
    return probed


@dataclass(frozen=True)
class Probed:
    """What one probe cell left: its decoded data (None if none) and why the cell failed, if it did."""

    data: Any = None
    error: str = ""


def _payload(output: NotebookNode) -> Any:
    bundle = output.get("data", {}) if output.get("output_type") == "display_data" else {}
    return bundle.get(MIME)


def _cell_error(cell: NotebookNode) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            if output.get("ename") == "DeadKernelError":
                return str(output.get("evalue", ""))
            if output.get("ename") == "CellTimeoutError":
                return "the check did not finish in the time allowed (an endless loop, or far too slow)."
            return f"the check was stopped by {output.get('ename', 'an error')}."
    return ""


def read_probe(cell: NotebookNode, seed: int) -> Probed:
    """The data the probe of ``cell`` published for this run's ``seed``; the last one counts."""
    grade_id = cell.metadata.nbgrader["grade_id"]
    found = None
    for output in cell.get("outputs", []):
        payload = _payload(output)
        if isinstance(payload, dict) and payload.get("grade_id") == grade_id and payload.get("seed") == seed:
            found = payload
    if found is None:
        return Probed(error=_cell_error(cell))
    try:
        return Probed(wire.decode(found.get("data")))
    except wire.WireError as error:
        return Probed(error=f"the check's data could not be read ({error}).")


def read_probes(executed: NotebookNode, seed: int) -> dict[str, Probed]:
    """Each graded cell's probe data by grade id."""
    return {cell.metadata.nbgrader["grade_id"]: read_probe(cell, seed) for cell in graded_cells(executed)}
