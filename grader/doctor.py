"""Repair a submission before grading: rebuild it on the student version, keeping the answers.

What students and their editors do to a notebook (test cells deleted or edited, points changed,
nbgrader metadata stripped by another editor or Colab, cells duplicated or moved, an old nbformat)
is undone here: the notebook that is graded is the released one, with each answer cell taken from
the submission, matched by cell id, by nbgrader grade id, or by the names the cell defines.
Extra code cells the student added stay, just before the answer that followed them.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager
from nbformat import NotebookNode

from grader.tamper import findings, provided_names


@dataclass
class Diagnosis:
    """The notebook to grade (None if there is none) and what was found and repaired."""

    notebook: NotebookNode | None
    repairs: list[str] = field(default_factory=list)
    problem: str = ""


def defined_names(source: str) -> set[str]:
    """Names a cell assigns, defines or imports at top level (IPython syntax allowed)."""
    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def read_submission(path: Path) -> tuple[NotebookNode | None, list[str], str]:
    """Parse a file as a v4 notebook: (notebook, repairs, problem)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None, [], "not a text file, so not a notebook"
    except json.JSONDecodeError as error:
        return None, [], f"not valid JSON, so not a notebook ({error})"
    if not isinstance(data, dict) or not isinstance(data.get("cells", data.get("worksheets")), list):
        return None, [], "valid JSON but not a Jupyter notebook (no cells)"
    repairs = []
    try:
        version = int(data.get("nbformat", 4))
        notebook = nbformat.reads(json.dumps(data), as_version=4)
    except Exception as error:
        return None, [], f"a notebook nbformat cannot read ({type(error).__name__}: {error})"
    if version < 4:
        repairs.append(f"converted from nbformat {version} to 4")
    return notebook, repairs, ""


def _nbgrader(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _answer_slots(release: NotebookNode) -> dict[str, tuple[str, set[str]]]:
    """Each answer cell of the release: grade id -> (cell id, names it should define)."""
    return {
        _nbgrader(c)["grade_id"]: (c.get("id", ""), defined_names(c.source))
        for c in release.cells
        if c.cell_type == "code" and _nbgrader(c).get("solution")
    }


def _slot_of(cell: NotebookNode, slots: dict, fixed: dict[str, str]) -> str | None:
    """The answer slot a student cell fills, or None for a given or extra cell."""
    grade_id = _nbgrader(cell).get("grade_id")
    if grade_id in slots:
        return grade_id
    for name, (cell_id, _) in slots.items():
        if cell.get("id") and cell.get("id") == cell_id:
            return name
    if cell.get("id") in fixed or cell.source.strip() in fixed.values():
        return None
    names = defined_names(cell.source)
    matches = [name for name, (_, wanted) in slots.items() if wanted and wanted <= names]
    return matches[-1] if matches else None


def _given(release: NotebookNode) -> dict[str, str]:
    """The cells students are not meant to change: id -> stripped source."""
    return {c.get("id", ""): c.source.strip() for c in release.cells if not _nbgrader(c).get("solution")}


def rebuild(submission: NotebookNode, release: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """The release notebook with the submission's answers (and extra code cells) put in."""
    slots, fixed = _answer_slots(release), _given(release)
    answers: dict[str, NotebookNode] = {}
    extras: dict[str | None, list[NotebookNode]] = {}
    pending: list[NotebookNode] = []
    repairs = []
    for cell in (c for c in submission.cells if c.cell_type == "code"):
        slot = _slot_of(cell, slots, fixed)
        if slot is None:
            if cell.get("id") not in fixed and cell.source.strip() not in fixed.values():
                pending.append(cell)
            continue
        if slot in answers:
            repairs.append(f"answer cell {slot} appears more than once; the last copy was graded")
        answers[slot] = cell
        extras.setdefault(slot, []).extend(pending)
        pending = []
    extras.setdefault(None, []).extend(pending)
    missing = [slot for slot in slots if slot not in answers]
    if missing:
        repairs.append(f"no answer found for {', '.join(missing)}")
    cells = []
    for cell in release.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id in slots:
            cells += [_plain(extra) for extra in extras.get(grade_id, [])]
            if grade_id in answers:
                cell = nbformat.from_dict({**cell, "source": answers[grade_id].source})
        cells.append(cell)
    cells[-1:-1] = [_plain(extra) for extra in extras[None]]
    rebuilt = nbformat.from_dict({**release, "cells": cells})
    given_ids = {c.get("id") for c in release.cells if not _nbgrader(c).get("solution")}
    return rebuilt, repairs + _changes(submission, release) + _reaching_notes(rebuilt, given_ids)


def _plain(cell: NotebookNode) -> NotebookNode:
    """A student's extra code cell, without nbgrader metadata or outputs."""
    return nbformat.v4.new_code_cell(cell.source)


def _changes(submission: NotebookNode, release: NotebookNode) -> list[str]:
    """What the student changed in cells that grading restores, said plainly."""
    by_id = {c.get("id"): c for c in submission.cells if c.get("id")}
    by_grade = {_nbgrader(c).get("grade_id"): c for c in submission.cells if _nbgrader(c).get("grade_id")}
    by_source = {c.source.strip(): c for c in submission.cells}
    notes = []
    if not any(_nbgrader(c) for c in submission.cells):
        notes.append("the notebook had lost its nbgrader metadata; answers were matched by content")
    for cell in release.cells:
        info = _nbgrader(cell)
        if not info.get("grade"):
            continue
        grade_id = info["grade_id"]
        mine = by_id.get(cell.get("id")) or by_grade.get(grade_id) or by_source.get(cell.source.strip())
        if mine is None:
            notes.append(f"test cell {info['grade_id']} was missing; the original was restored")
        elif mine.source.strip() != cell.source.strip():
            notes.append(f"test cell {info['grade_id']} was edited; the original was restored")
        elif _nbgrader(mine).get("points", info.get("points")) != info.get("points"):
            notes.append(f"points of {info['grade_id']} were edited; the original was restored")
    return notes


def _reaching_notes(notebook: NotebookNode, given_ids: set[str]) -> list[str]:
    """A note for each of the student's cells that reaches into the course's code (scores ignore it)."""
    mine = [c for c in notebook.cells if c.cell_type == "code" and c.get("id") not in given_ids]
    given = [c.source for c in notebook.cells if c.cell_type == "code" and c.get("id") in given_ids]
    protected = provided_names(given)
    notes = []
    for cell in mine:
        reasons = findings(cell.source, protected)
        if reasons:
            name = _nbgrader(cell).get("grade_id", "an extra cell")
            notes.append(
                f"{name} reaches into the checks ({'; '.join(reasons)}); its data was judged as usual"
            )
    return notes


def diagnose(path: Path, release_path: Path) -> Diagnosis:
    """Read, check and rebuild one submission against its lesson's student version."""
    notebook, repairs, problem = read_submission(path)
    if notebook is None:
        return Diagnosis(None, repairs, problem)
    release = nbformat.read(release_path, as_version=4)
    rebuilt, found = rebuild(notebook, release)
    return Diagnosis(rebuilt, repairs + found)
