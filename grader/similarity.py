"""Pairs of submissions whose answers are unusually alike, found by winnowing (copydetect).

For each lesson, a student's answer cells are read as one Python document. copydetect tokenizes
it (names, strings and comments set aside, so renamed variables and rewritten comments change
nothing), removes the released starter code as boilerplate, and fingerprints the rest with k-grams (the
method of MOSS). Two documents that share many fingerprints share long runs of code even when
independent lines were put in another order. Answers are short, so every k-gram is kept (a winnowing
window of 1): a wider window would pick fingerprints by Python's per-process string hash, and the
same two answers would score differently from one run to the next. A pair's score is the mean of the
shares of each document found in the other; pairs at or above :data:`THRESHOLD` are reported.
Multiple-choice answers are not compared (see :func:`is_code`).
"""

from __future__ import annotations

import ast
import csv
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np
from nbgrader.utils import is_solution

from grader.results import Result

NOISE = 15  # k: a run of fewer filtered characters is never a match (copydetect's noise threshold)
GUARANTEE = NOISE  # window 1: every k-gram is a fingerprint (answers are short; see the module doc)
MIN_TOKENS = 30  # documents with fewer fingerprinted characters than this are not compared
THRESHOLD = 0.6  # pairs this alike or more are reported
COLUMNS = ["lesson", "student", "other_student", "score"]


@dataclass(frozen=True)
class Cell:
    """One answer cell of a flagged pair, for the side-by-side view."""

    grade_id: str
    left: str
    right: str


@dataclass(frozen=True)
class Pair:
    """Two submissions of a lesson whose answers are alike."""

    lesson: str
    student: str
    other: str
    score: float
    cells: list[Cell] = field(default_factory=list)


def starter_cells(release: Path) -> dict[str, str]:
    """The released starter code of each answer cell, keyed by grade id, in notebook order."""
    notebook = nbformat.read(release, as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: cell.source
        for cell in notebook.cells
        if cell.cell_type == "code" and is_solution(cell)
    }


def is_code(source: str) -> bool:
    """Whether an answer is code to compare: it defines or calls something, or loops.

    Multiple-choice answers (``q1 = "B"``, a dict of verdicts) are left out: with names and strings
    set aside, every student's choice reads the same.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return True
    kinds = (ast.Call, ast.FunctionDef, ast.Lambda, ast.For, ast.While, ast.comprehension)
    return any(isinstance(node, kinds) for node in ast.walk(tree))


def _answered(answers: dict[str, str], starter: dict[str, str]) -> dict[str, str]:
    """The code answers a student changed from the starter code, in the starter's order."""
    order = list(starter) + sorted(set(answers) - set(starter))
    return {
        gid: answers[gid]
        for gid in order
        if gid in answers and answers[gid].strip() != starter.get(gid, "").strip() and is_code(answers[gid])
    }


def _fingerprint(text: str, window: int, boilerplate=None):
    from copydetect import CodeFingerprint

    return CodeFingerprint(
        "answers.py", NOISE, window, boilerplate=boilerplate, language="python", fp=io.StringIO(text)
    )


def lesson_pairs(
    lesson: str, answers: dict[str, dict[str, str]], starter: dict[str, str], threshold: float = THRESHOLD
) -> list[Pair]:
    """Alike pairs among ``answers`` (student -> grade id -> source) of one lesson, most alike first."""
    from copydetect import compare_files

    boilerplate = np.unique(np.array(list(_fingerprint("\n\n".join(starter.values()), 1).hashes)))
    changed = {student: _answered(cells, starter) for student, cells in answers.items()}
    prints = {}
    for student, cells in sorted(changed.items()):
        if not cells:
            continue
        fingerprint = _fingerprint("\n\n".join(cells.values()), GUARANTEE - NOISE + 1, boilerplate)
        if fingerprint.token_coverage >= MIN_TOKENS:
            prints[student] = fingerprint
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        _, (share_a, share_b), _ = compare_files(prints[a], prints[b])
        score = round(float(share_a + share_b) / 2, 4)
        if score >= threshold:
            both = dict.fromkeys([*changed[a], *changed[b]])
            left, right = ({**starter, **changed[s]} for s in (a, b))
            cells = [Cell(gid, left.get(gid, ""), right.get(gid, "")) for gid in both]
            pairs.append(Pair(lesson, a, b, score, cells))
    return sorted(pairs, key=lambda p: (-p.score, p.student, p.other))


def similar_pairs(results: list[Result], starters: dict[str, dict[str, str]]) -> list[Pair]:
    """Alike pairs in every lesson of ``starters`` (lesson -> starter cells), most alike first."""
    pairs: list[Pair] = []
    for lesson, starter in starters.items():
        answers = {r.student: r.answers for r in results if r.lesson == lesson and r.status == "graded"}
        if len(answers) > 1:
            pairs += lesson_pairs(lesson, answers, starter)
    return sorted(pairs, key=lambda p: (-p.score, p.lesson, p.student, p.other))


def write_similarity(pairs: list[Pair], path: Path) -> None:
    """similarity.csv: lesson, student, other student, score; most alike first."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for pair in sorted(pairs, key=lambda p: (-p.score, p.lesson, p.student, p.other)):
            writer.writerow([pair.lesson, pair.student, pair.other, f"{pair.score:.3f}"])
