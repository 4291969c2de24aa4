"""Grade one submission with nbgrader, in a course folder and gradebook of its own."""

from __future__ import annotations

import re
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps.api import NbGraderAPI
from nbgrader.converters import Autograde
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import Execute

from augcourse.runtime import CELL_TIMEOUT
from grader.collect import Submission
from grader.doctor import diagnose
from grader.manifest import load_course
from grader.nbconfig import course_config, venv_on_path
from grader.preprocessors import ResilientExecute
from grader.results import QuestionResult, Result, file_digest

MAX_FEEDBACK = 2000


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to grade one submission."""

    submission: Submission
    root: Path
    gradebook: Path
    work: Path
    max_score: float
    cell_timeout: int = CELL_TIMEOUT


def _feedback(cell: nbformat.NotebookNode) -> str:
    """What a student may read about one graded cell: never its source, never a traceback."""
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            name, value = output.ename, output.evalue.strip()
            if name in ("CheckFailed", "AssertionError"):
                return value or "A hidden test of this question did not pass."
            if name == "CellTimeoutError":
                return "The cell did not finish in the time allowed (an endless loop?)."
            if name == "DeadKernelError":
                return value
            return f"The test raised {name}: {value}"[:MAX_FEEDBACK]
        if output.output_type == "stream" and output.name == "stderr":
            first = output.text.strip().splitlines()[0] if output.text.strip() else ""
            return f"The cell wrote to stderr, which counts as a failure: {first}"[:MAX_FEEDBACK]
    texts = [o.text for o in cell.get("outputs", []) if o.output_type == "stream"]
    return "".join(texts).strip()[:MAX_FEEDBACK]


def _answers(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The source of each solution cell, keyed by grade id (for the class report)."""
    return {
        cell.metadata.nbgrader["grade_id"]: cell.source
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def _read_grades(db_url: str, job: Job, autograded: Path) -> Result:
    sub = job.submission
    notebook = nbformat.read(autograded, as_version=4)
    cells = {
        cell.metadata.nbgrader["grade_id"]: cell
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code"
    }
    with Gradebook(db_url) as gb:
        submission = gb.find_submission_notebook(sub.lesson, sub.lesson, sub.student)
        grades = {g.name: g for g in submission.grades}
        timestamp = str(gb.find_submission(sub.lesson, sub.student).timestamp or "")
        questions = [
            QuestionResult(
                grade_id=name,
                score=float(grades[name].score or 0.0),
                max_score=float(grades[name].max_score),
                feedback=_feedback(cell),
            )
            for name, cell in cells.items()
            if name in grades
        ]
    return Result(
        student=sub.student,
        lesson=sub.lesson,
        source=str(sub.path),
        digest=file_digest(sub.path),
        status="graded",
        score=sum(q.score for q in questions),
        max_score=job.max_score,
        timestamp=timestamp,
        answers=_answers(notebook),
        questions=questions,
    )


def grade_job(job: Job) -> Result:
    """Autograde one submission; any failure becomes a Result with a reason, never an exception."""
    sub = job.submission
    unit = job.work / sub.student / sub.lesson
    shutil.rmtree(unit, ignore_errors=True)
    target = unit / "submitted" / sub.student / sub.lesson / f"{sub.lesson}.ipynb"
    target.parent.mkdir(parents=True)
    diagnosis = diagnose(sub.path, job.gradebook.parent / sub.lesson / f"{sub.lesson}.ipynb")
    if diagnosis.notebook is None:
        return failed(job, diagnosis.problem, status="invalid")
    nbformat.write(diagnosis.notebook, target)
    stamp = sub.path.parent / "timestamp.txt"
    if stamp.is_file():
        shutil.copyfile(stamp, target.parent / "timestamp.txt")
    shutil.copyfile(job.gradebook, unit / "gradebook.db")
    db_url = f"sqlite:///{unit / 'gradebook.db'}"

    config = course_config(job.root, load_course(job.root))
    config.CourseDirectory.root = str(unit)
    config.CourseDirectory.source_directory = str(job.root / "solutions")
    config.CourseDirectory.db_url = db_url
    config.Execute.timeout = job.cell_timeout
    config.Execute.shutdown_kernel = "immediate"  # the outputs are in: no need to wait for a clean exit
    config.Autograde.autograde_preprocessors = [
        ResilientExecute if pp is Execute else pp
        for pp in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
    venv_on_path()
    warnings.filterwarnings("ignore", module="nbgrader|sqlalchemy")
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    outcome = api.autograde(sub.lesson, sub.student, force=True, create=True)
    autograded = unit / "autograded" / sub.student / sub.lesson / f"{sub.lesson}.ipynb"
    if outcome["success"] and autograded.is_file():
        try:
            return _read_grades(db_url, job, autograded).model_copy(update={"notes": diagnosis.repairs})
        except MissingEntry:
            pass
    return failed(job, _reason(outcome.get("log", "")))


def _reason(log: str) -> str:
    """The exception line of nbgrader's log (``SomeError: message``), not its boilerplate."""
    found = re.findall(r"^\s*(\w+(?:Error|Exception)\b.*)$", log, flags=re.MULTILINE)
    return ("nbgrader could not grade it: " + (found[-1] if found else "no reason logged"))[:MAX_FEEDBACK]


def failed(job: Job, reason: str, status: str = "failed") -> Result:
    """A zero with a reason, for a submission that could not be graded."""
    sub = job.submission
    return Result(
        student=sub.student,
        lesson=sub.lesson or "unknown",
        source=str(sub.path),
        digest=file_digest(sub.path),
        status=status,
        reason=reason,
        max_score=job.max_score,
    )
