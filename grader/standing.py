"""Where a student stands: run each lesson notebook as nbgrader would and add up the points.

Each notebook is read from disk (save it first), its outputs cleared, and every cell executed in a
fresh kernel by nbgrader's own ``Execute`` preprocessor; each graded cell is then scored by
``nbgrader.utils.determine_grade``, exactly as autograding scores it. A graded test cell whose
source no longer matches its checksum earns nothing here: a grader would put the original back.

``grader.progress("notebooks/")`` in a notebook and ``python -m grader progress notebooks/`` on the
command line both print a table and the former returns a :class:`CourseProgress`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from augcourse.runtime import CELL_TIMEOUT
from grader.errors import CourseError

MESSAGE_WIDTH = 90
CHECKPOINTS = ".ipynb_checkpoints"
CHECK_ERRORS = ("CheckFailed", "AssertionError")  # their message is written for the student


class ProgressError(CourseError):
    """A path that holds no lesson notebook, or a runtime that cannot execute one."""


@dataclass(frozen=True)
class Exercise:
    """One graded test cell: the points it earned and, when it did not pass, why."""

    grade_id: str
    points: float
    max_points: float
    message: str = ""

    @property
    def passed(self) -> bool:
        """Whether the cell earned all its points."""
        return self.points >= self.max_points


@dataclass(frozen=True, repr=False)
class LessonProgress:
    """The graded cells of one lesson notebook, in notebook order."""

    lesson: str
    path: Path
    exercises: list[Exercise] = field(default_factory=list)

    @property
    def points(self) -> float:
        """Points earned so far."""
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> float:
        """Points the lesson is worth."""
        return sum(e.max_points for e in self.exercises)

    @property
    def passed(self) -> int:
        """How many graded cells pass."""
        return sum(e.passed for e in self.exercises)

    def __repr__(self) -> str:
        return f"LessonProgress({self.lesson}: {summary(self)})"


@dataclass(frozen=True, repr=False)
class CourseProgress:
    """Every lesson notebook found, in course order."""

    lessons: list[LessonProgress]

    @property
    def exercises(self) -> list[Exercise]:
        """All graded cells of all lessons."""
        return [e for lesson in self.lessons for e in lesson.exercises]

    @property
    def points(self) -> float:
        """Points earned so far."""
        return sum(lesson.points for lesson in self.lessons)

    @property
    def max_points(self) -> float:
        """Points the lessons found are worth."""
        return sum(lesson.max_points for lesson in self.lessons)

    @property
    def passed(self) -> int:
        """How many graded cells pass."""
        return sum(lesson.passed for lesson in self.lessons)

    def __repr__(self) -> str:
        return f"CourseProgress({summary(self)}, {len(self.lessons)} lesson(s))"


def summary(progress: LessonProgress | CourseProgress) -> str:
    """``"3 / 6 points, 3 of 6 exercises pass"``."""
    return (
        f"{progress.points:g} / {progress.max_points:g} points, "
        f"{progress.passed} of {len(progress.exercises)} exercises pass"
    )


def graded_cells(notebook: NotebookNode) -> list[NotebookNode]:
    """The code cells nbgrader scores (``grade: true``), in order."""
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    ]


def find_notebooks(path: Path) -> list[Path]:
    """Lesson notebooks at ``path``: that notebook, or those in a folder and its lesson folders.

    A lesson notebook is one with graded cells; others (scratch work) are left out.
    """
    if path.is_file():
        if path.suffix != ".ipynb":
            raise ProgressError(f"{path} is not a notebook (.ipynb).")
        return [path]
    if not path.is_dir():
        raise ProgressError(f"No notebook or folder at {path}.")
    candidates = sorted({*path.glob("*.ipynb"), *path.glob("*/*.ipynb")})
    found = [p for p in candidates if CHECKPOINTS not in p.parts and graded_cells(_read(p))]
    if not found:
        raise ProgressError(f"No lesson notebook (one with graded cells) in {path} or its folders.")
    return found


def _read(path: Path) -> NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError) as error:
        raise ProgressError(f"Cannot read {path} as a notebook: {error}") from None


def execute(notebook: NotebookNode, folder: Path, timeout: int = CELL_TIMEOUT) -> NotebookNode:
    """Clear the outputs and run every cell in a fresh kernel, in ``folder``, as nbgrader does."""
    try:
        from nbgrader.preprocessors import ClearOutput, Execute
    except ImportError:
        raise ProgressError(
            "Progress runs notebooks the way nbgrader grades them; install nbgrader "
            '(pip install "tf-augmentation-course[instructor]").'
        ) from None
    resources = {"metadata": {"path": str(folder)}}
    notebook, resources = ClearOutput().preprocess(notebook, resources)
    notebook, _ = Execute(timeout=timeout).preprocess(notebook, resources)
    return notebook


def failure(cell: NotebookNode) -> str:
    """Why a graded cell lost its points: its error, or its first line on stderr."""
    for output in cell.outputs:
        if output.output_type == "error":
            if output.ename in CHECK_ERRORS and output.evalue.strip():
                return output.evalue.strip().removeprefix("❌").strip()
            return f"{output.ename}: {output.evalue}".strip()
        if output.output_type == "stream" and output.name == "stderr":
            lines = output.text.strip().splitlines()
            return "wrote to stderr (a grader gives no points): " + (lines[0] if lines else "")
    return "earned part of its points"


def score(cell: NotebookNode) -> Exercise:
    """One executed graded cell, scored by nbgrader's ``determine_grade``."""
    from nbgrader.utils import compute_checksum, determine_grade

    meta = cell.metadata.nbgrader
    max_points = float(meta.get("points", 0))
    if meta.get("checksum") and compute_checksum(cell) != meta["checksum"]:
        return Exercise(meta["grade_id"], 0.0, max_points, "this test cell was edited: restore it")
    points, max_points = determine_grade(cell)
    if points is None:
        return Exercise(meta["grade_id"], 0.0, max_points, "graded by hand")
    message = "" if points >= max_points else failure(cell)
    return Exercise(meta["grade_id"], float(points), max_points, message)


def lesson_progress(path: Path, timeout: int = CELL_TIMEOUT) -> LessonProgress:
    """Execute one lesson notebook and score its graded cells."""
    executed = execute(_read(path), path.parent, timeout)
    return LessonProgress(path.stem, path, [score(cell) for cell in graded_cells(executed)])


def _shorten(text: str, width: int = MESSAGE_WIDTH) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def table(progress: CourseProgress) -> str:
    """The progress as plain text: one block per lesson, one line per graded cell, a total."""
    lines = []
    for lesson in progress.lessons:
        lines.append(f"{lesson.lesson}  ({summary(lesson)})")
        width = max((len(e.grade_id) for e in lesson.exercises), default=0)
        for e in lesson.exercises:
            mark = "✅" if e.passed else "❌"
            note = f"   {_shorten(e.message)}" if e.message else ""
            lines.append(f"  {mark} {e.grade_id:<{width}}  {e.points:g} / {e.max_points:g}{note}")
        lines.append("")
    lines.append(f"Total: {summary(progress)} in {len(progress.lessons)} lesson(s).")
    return "\n".join(lines)


def progress(
    path: str | Path = "notebooks", *, timeout: int = CELL_TIMEOUT, show: bool = True
) -> CourseProgress:
    """Run every lesson notebook at ``path`` as a grader would; print and return where you stand.

    ``path`` is a folder of lesson folders (``notebooks/``), one lesson folder, or one notebook.
    Notebooks are read from disk, so save yours first.
    """
    notebooks = find_notebooks(Path(path))
    result = CourseProgress([lesson_progress(notebook, timeout) for notebook in notebooks])
    if show:
        print(table(result))
    return result
