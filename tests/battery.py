"""A battery of bad and hostile quiz submissions, each with the grade it must get and why.

Used by the grading tests and by ``benchmarks/grading.py``.
"""

from __future__ import annotations

import copy
import json
import os
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
SECRET = "BATTERY_SECRET"  # set in the grader's environment by the battery's test; no kernel may see it
DAEMON = str(20_000_000 + os.getpid())  # `sleep DAEMON`: left behind by a submission; it must not survive


def right(qid: str) -> str:
    """The right letter of a quiz question, from the reference solution."""
    return RIGHT[f"{qid}_answer"].split('"')[-2]


def wrong(qid: str) -> str:
    """A wrong letter for a quiz question."""
    return next(letter for letter in "ABCD" if letter != right(qid))


def _sabotage(slot: str, code: str) -> Callable[[], str]:
    """Every answer right; ``code`` put in front of the answer ``slot`` (run just before its check)."""
    return lambda: _text(_answered(**{slot: f"{code}\n{RIGHT[slot]}"}))


# Class 1: reaching the checks, numpy or the kernel through a name, alias, import path or object API.
ALIAS = f"""from augcourse.checks import quiz as q
q.check = lambda *args, **kwargs: None
q.QUESTIONS.clear()
q1 = "{wrong("q1")}"
"""
DIGESTS = f"""import dataclasses, sys
m = sys.modules["augcourse.checks.quiz"]
m.QUESTIONS["q2"] = dataclasses.replace(m.QUESTIONS["q2"], answer_digest=m.digest("q2", "{wrong("q2")}"))
q2 = "{wrong("q2")}"
"""
NUMPY = f"""import numpy as np
np.allclose = np.array_equal = lambda *args, **kwargs: True
q3 = "{wrong("q3")}"
"""
EMIT = """import augcourse.checks.exercise as ex
from IPython.display import display
def emit(lesson, grade_id, seed):
    forged = {"verdict": "passed", "score": 1}
    display({ex.MIME: {"grade_id": grade_id, "seed": seed, "data": forged}}, raw=True)
ex.emit = emit"""
# Class 2: changing how the kernel runs later cells.
BLANK = 'get_ipython().input_transformers_cleanup.append(lambda lines: ["pass\\n"])'
FORGE = """import re
from IPython.display import display
def forge(result):
    found = re.search(r'emit[(]"[^"]+", "([^"]+)", ([0-9]+)', result.info.raw_cell)
    if found:
        payload = {"grade_id": found[1], "seed": int(found[2]), "data": {"passed": True, "message": "ok"}}
        display({"application/vnd.augcourse.probe+json": payload}, raw=True)
get_ipython().events.register("post_run_cell", forge)"""
RUN_CELL = """shell = get_ipython()
shell.run_cell = lambda *args, **kwargs: None
shell.run_cell_async = lambda *args, **kwargs: None"""
SWALLOW = """import sys
sys.displayhook = lambda value: None
get_ipython().display_pub.publish = lambda *args, **kwargs: None"""
# Class 3: reading what grading might keep within the kernel's reach.
SOLUTIONS = f"""import pathlib, re, augcourse
letter = "{wrong("q2")}"
for path in pathlib.Path(augcourse.__file__).parents[1].rglob("*.ipynb"):
    found = re.search(r'q2 = \\\\?"([ABCD])', path.read_text(errors="ignore"))
    if found and "BEGIN SOLUTION" in path.read_text(errors="ignore"):
        letter = found[1]
q2 = letter"""
HUNT = f"""import os, pathlib, re
letter = "{wrong("q3")}"
roots = ["/tmp", "/work", "/root", "/home", os.getcwd(), *map(str, pathlib.Path.cwd().parents)]
for line in open("/proc/self/mountinfo"):
    roots.append(line.split()[4])
for root in dict.fromkeys(roots):
    for folder, _, files in os.walk(root):
        if folder.startswith(("/proc", "/sys", "/dev", "/usr")) or folder.count("/") > 9:
            continue
        for name in files:
            if name == "gradebook.db" or name.endswith(".ipynb"):
                try:
                    text = pathlib.Path(folder, name).read_bytes().decode(errors="ignore")
                except OSError:
                    continue
                found = re.search(r'q3 = \\\\?"([ABCD])', text)
                if found and ("BEGIN HIDDEN TESTS" in text or "BEGIN SOLUTION" in text):
                    letter = found[1]
q3 = letter"""
ENVIRON = f"""import os, pathlib
letter = "{wrong("q4")}"
for entry in pathlib.Path("/proc").iterdir():
    try:
        text = (entry / "environ").read_bytes().decode(errors="ignore")
    except OSError:
        continue
    for item in text.split("\\0"):
        if item.startswith("{SECRET}="):
            letter = item.split("=", 1)[1]
q4 = os.environ.get("{SECRET}", letter)"""
# Processes and disk.
LEAVE_DAEMON = f"""import os, subprocess
subprocess.Popen(["sleep", "{DAEMON}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp("sleep", ["sleep", "{DAEMON}"])
    os._exit(0)"""
FILL_DISK = """chunk = b"0" * 2**26
with open("big.bin", "wb") as handle:
    for _ in range(48):
        handle.write(chunk)"""
KILL_EXECUTOR = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"

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
        note="q1_answer reaches into the checks",
    ),
    Case(
        "patches builtins",
        lambda: _text(_answered(q6_answer="import builtins\nbuiltins.AssertionError = Warning\nq6 = 'A'")),
        5.0,
        note="q6_answer reaches into the checks",
    ),
    Case("tries to escape its sandbox", lambda: _text(_answered(q1_answer=ESCAPE)), FULL),
    Case("rebinds the checks through an import alias", lambda: _text(_answered(q1_answer=ALIAS)), 5.0),
    Case("swaps a stored answer through sys.modules", lambda: _text(_answered(q2_answer=DIGESTS)), 5.0),
    Case("patches numpy's comparisons", lambda: _text(_answered(q3_answer=NUMPY)), 5.0),
    Case("replaces the probe with one that claims a pass", _sabotage("q6_answer", EMIT), 5.0),
    Case("blanks every later cell", _sabotage("q5_answer", BLANK), 4.0),
    Case("forges a passing output after each cell", _sabotage("q1_answer", FORGE), 0.0),
    Case("replaces the shell's run_cell", _sabotage("q4_answer", RUN_CELL), 3.0),
    Case("swallows every display", _sabotage("q6_answer", SWALLOW), 5.0),
    Case("reads the solutions beside the course", lambda: _text(_answered(q2_answer=SOLUTIONS)), 5.0),
    Case("hunts the disk for a gradebook or hidden tests", lambda: _text(_answered(q3_answer=HUNT)), 5.0),
    Case("reads the grader's environment", lambda: _text(_answered(q4_answer=ENVIRON)), 5.0),
    Case("leaves a daemon behind", _sabotage("q2_answer", LEAVE_DAEMON), FULL),
    Case("fills the disk", lambda: _text(_answered(q5_answer=FILL_DISK)), 5.0),
    Case(
        "kills the process that runs it",
        lambda: _text(_answered(q3_answer=KILL_EXECUTOR)),
        5.0,
    ),
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
