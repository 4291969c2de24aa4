"""A battery of bad and hostile quiz submissions, each with the grade it must get and why.

Used by the grading tests and by ``benchmarks/grading.py``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from grader.answers import fill, reference_answers

ROOT = Path(__file__).resolve().parents[1]
LESSON = "05_practice_quiz"
RELEASE = ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb"
RIGHT = reference_answers(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb")
FULL = 6.0


@dataclass(frozen=True)
class Case:
    """One kind of submission: how to make it, where it goes, what grading must say."""

    name: str
    make: Callable[[], str]
    score: float
    status: str = "graded"
    note: str = ""
    path: str = ""

    def file(self, student: str) -> str:
        """Its path under a submissions folder, for ``student``."""
        return (self.path or "{s}/" + f"{LESSON}/{LESSON}.ipynb").format(s=student)


def _text(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def _answered(**changes: str) -> nbformat.NotebookNode:
    return fill(RELEASE, {**RIGHT, **changes})


def _edit(change: Callable[[nbformat.NotebookNode], None], **answers: str) -> Callable[[], str]:
    def make() -> str:
        nb = _answered(**answers)
        change(nb)
        return _text(nb)

    return make


def _cell(nb: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    return next(c for c in nb.cells if c.get("id") == cell_id)


def _strip_metadata(nb: nbformat.NotebookNode, ids: bool = False) -> None:
    for cell in nb.cells:
        cell.metadata = {}
        if ids:
            cell.pop("id", None)
    if ids:
        nb.nbformat_minor = 4


def _duplicate_answer(nb: nbformat.NotebookNode) -> None:
    first = copy.deepcopy(_cell(nb, "q5_answer"))
    first.source, first.id = 'q5 = "A"', "scratch-q5"
    nb.cells.insert(nb.cells.index(_cell(nb, "q5_answer")), first)


def _old_format() -> str:
    return nbformat.writes(nbformat.convert(_answered(), 3)) + "\n"


# Writes into the course and opens a connection: both must fail when grading, so q1 stays right.
ESCAPE = """import pathlib, socket
escaped = []
for folder in pathlib.Path(quiz.__file__).parents[2], pathlib.Path.cwd().parents[3]:
    try:
        folder.joinpath("ESCAPED").write_text("written by a submission")
        escaped.append(str(folder))
    except OSError:
        pass
try:
    socket.create_connection(("1.1.1.1", 53), timeout=3).close()
    escaped.append("network")
except OSError:
    pass
q1 = "C" if not escaped else "A"
"""

HOG = "hog = bytearray(8 * 2**30)\nq4 = 'D'"

CASES = [
    Case("perfect", lambda: _text(_answered()), FULL),
    Case("untouched", lambda: RELEASE.read_text(encoding="utf-8"), 0.0),
    Case("some wrong", lambda: _text(_answered(q2_answer='q2 = "c"', q4_answer='q4 = "b"')), 4.0),
    Case(
        "test cell made to pass",
        _edit(lambda nb: setattr(_cell(nb, "q3"), "source", "pass"), q3_answer='q3 = "D"'),
        5.0,
        note="test cell q3 was edited",
    ),
    Case(
        "points edited",
        _edit(lambda nb: _cell(nb, "q1").metadata.nbgrader.update(points=100)),
        FULL,
        note="points of q1 were edited",
    ),
    Case(
        "test cell deleted",
        _edit(lambda nb: nb.cells.remove(_cell(nb, "q3")), q3_answer='q3 = "B"'),
        5.0,
        note="test cell q3 was missing",
    ),
    Case("metadata stripped", _edit(_strip_metadata), FULL, note="lost its nbgrader metadata"),
    Case(
        "metadata and ids stripped",
        _edit(lambda nb: _strip_metadata(nb, ids=True)),
        FULL,
        note="lost its nbgrader metadata",
    ),
    Case("endless loop", lambda: _text(_answered(q2_answer="while True:\n    pass\nq2 = 'A'")), 5.0),
    Case(
        "floods the output",
        lambda: _text(_answered(q1_answer="print('\\n'.join(map(str, range(2_000_000))))\nq1 = 'C'")),
        FULL,
    ),
    Case("kernel dies", lambda: _text(_answered(q3_answer="import os\nos._exit(1)")), 5.0),
    # 8 GiB fits this machine but not the 6 GiB cap: the answer fails, the others are graded.
    Case("asks for too much memory", lambda: _text(_answered(q4_answer=HOG)), 5.0),
    Case("exception in an answer", lambda: _text(_answered(q4_answer="q4 = 1 / 0")), 5.0),
    Case("syntax error in an answer", lambda: _text(_answered(q5_answer="q5 = 'B")), 5.0),
    Case(
        "always-equal object",
        lambda: _text(
            _answered(q1_answer="class Yes:\n    def __eq__(self, other):\n        return True\nq1 = Yes()")
        ),
        5.0,
    ),
    Case(
        "str subclass",
        lambda: _text(
            _answered(
                q1_answer="class Sly(str):\n    def __eq__(self, other):\n        return True\nq1 = Sly('B')"
            )
        ),
        5.0,
    ),
    Case(
        "patches the checks",
        lambda: _text(
            _answered(
                q1_answer="quiz.check = lambda *args: None\nquiz.normalize = lambda q, a: 'C'\nq1 = 'B'"
            )
        ),
        5.0,
        note="q1_answer was not run",
    ),
    Case(
        "patches builtins",
        lambda: _text(_answered(q6_answer="import builtins\nbuiltins.AssertionError = Warning\nq6 = 'A'")),
        5.0,
        note="q6_answer was not run",
    ),
    Case("tries to escape its sandbox", lambda: _text(_answered(q1_answer=ESCAPE)), FULL),
    Case("duplicated answer cell", _edit(_duplicate_answer), FULL),
    Case("renamed file", lambda: _text(_answered()), FULL, path="{s}/" + f"{LESSON} (1).ipynb"),
    Case("old nbformat", _old_format, FULL, note="converted from nbformat 3"),
    Case("not valid JSON", lambda: _text(_answered())[:5000], 0.0, status="invalid", note="not valid JSON"),
    Case(
        "JSON but not a notebook",
        lambda: json.dumps({"answers": {"q1": "C"}}),
        0.0,
        status="invalid",
        note="not a Jupyter notebook",
    ),
]


def write(folder: Path, cases: list[Case] | None = None, copies: int = 1) -> dict[str, Case]:
    """Write each case as a student's submission under ``folder``; return student -> case."""
    students = {}
    for number in range(copies):
        for index, case in enumerate(cases or CASES):
            student = f"s{number:02d}{index:02d}-" + case.name.replace(" ", "-")
            path = folder / case.file(student)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(case.make(), encoding="utf-8")
            students[student] = case
    return students
