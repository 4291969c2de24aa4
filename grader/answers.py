"""Fill a student notebook's answer cells: from the reference solutions, or with given code."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbgrader.utils import is_solution

DELIMITERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def reference_answers(solution: Path) -> dict[str, str]:
    """Each solution cell's code, keyed by grade id, with nbgrader's delimiters removed."""
    notebook = nbformat.read(solution, as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: DELIMITERS.sub("", cell.source)
        for cell in notebook.cells
        if cell.cell_type == "code" and is_solution(cell)
    }


def fill(student: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The student notebook with the named answer cells replaced; others left as released."""
    notebook = nbformat.read(student, as_version=4)
    slots = {
        c.metadata.nbgrader["grade_id"]: c for c in notebook.cells if c.cell_type == "code" and is_solution(c)
    }
    unknown = set(answers) - set(slots)
    if unknown:
        raise KeyError(f"no answer cells {sorted(unknown)} in {student.name}")
    for grade_id, source in answers.items():
        slots[grade_id].source = source
    return notebook
