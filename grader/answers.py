"""Fill a student notebook's answer cells: from the reference solutions, or with given code."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

DELIMITERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def reference_answers(solution: Path) -> dict[str, str]:
    """Each solution cell's code, keyed by grade id, with nbgrader's delimiters removed."""
    notebook = nbformat.read(solution, as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: DELIMITERS.sub("", cell.source)
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    }


def fill(student: Path, answers: dict[str, str]) -> nbformat.NotebookNode:
    """The student notebook with the named answer cells replaced; others left as released."""
    notebook = nbformat.read(student, as_version=4)
    unknown = set(answers) - {c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells}
    if unknown:
        raise KeyError(f"no answer cells {sorted(unknown)} in {student.name}")
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook
