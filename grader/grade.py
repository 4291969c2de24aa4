"""``grade``: collect submissions, grade each in its sandbox, in parallel; write grades and feedback.

Each submission goes through the grading core (:mod:`grader.core`): repaired on its released
notebook, its tests replaced by probes, executed as a self-contained task (:mod:`grader.task`) in a
sandbox (:mod:`grader.sandbox`) that can read no solution, gradebook or other submission, on this
machine or a Dask worker, and judged here, in a process that ran no student code.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import yaml
from tqdm import tqdm

from grader.collect import Submission, collect, lesson_signatures
from grader.core import Prepared, Unreadable, conclude, prepare
from grader.errors import CourseError
from grader.gradebook import record
from grader.manifest import Course
from grader.results import Result, file_digest, load_result
from grader.sandbox import CELL_TIMEOUT, Limits, isolation
from grader.task import Executed, Place, Task, perform, start_zygote

WAITING = 64  # submissions prepared and sent to a cluster at once (each waits in a thread of its own)


@dataclass(frozen=True)
class Options:
    """How to grade: parallelism, limits, where to run, and whether to keep the scratch folder."""

    workers: int = os.cpu_count() or 1
    cell_timeout: int = CELL_TIMEOUT
    limits: Limits = field(default_factory=Limits)
    scheduler: str | None = None
    keep_scratch: bool = False
    db: str | None = None  # the gradebook's URL (None: the course's gradebook.db; "none": no gradebook)
    zygote: bool = True  # fork kernels from a warm process that has imported TensorFlow


@dataclass(frozen=True)
class Job:
    """One submission to grade: its released notebook, its worth, its limits and what its judges need."""

    submission: Submission
    release: Path
    max_score: float
    cell_timeout: int = CELL_TIMEOUT
    limits: Limits = field(default_factory=Limits)
    context: dict[str, Any] = field(default_factory=dict)


Executor = Callable[[Task], Executed]  # runs a task here or elsewhere; returns what it gave back


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


def _answers(prepared: Prepared) -> dict[str, str]:
    """The source of each answer cell, keyed by grade id (for the class report)."""
    from nbgrader.utils import is_solution

    return {
        cell.metadata.nbgrader["grade_id"]: cell.source
        for cell in prepared.notebook.cells
        if cell.cell_type == "code" and is_solution(cell)
    }


def grade_submission(job: Job, execute: Executor) -> Result:
    """Grade one submission end to end; any failure becomes a Result with a reason, never an exception.

    The submission is prepared and judged here; ``execute`` runs its task, here or on a cluster.
    """
    sub = job.submission
    try:
        prepared = prepare(sub.path, job.release, sub.lesson or "")
    except Unreadable as problem:
        return failed(job, str(problem), status="invalid")
    task = Task(prepared.lesson, nbformat.writes(prepared.notebook).encode(), job.cell_timeout, job.limits)
    outcome = execute(task)
    executed = outcome.parsed()
    if executed is None:
        return failed(job, outcome.problem or "the executed notebook could not be read back")
    questions = conclude(prepared, executed, {"student": sub.student, **job.context})
    stamp = sub.path.parent / "timestamp.txt"
    return Result(
        student=sub.student,
        lesson=prepared.lesson,
        source=str(sub.path),
        digest=file_digest(sub.path),
        status="graded",
        score=sum(q.score for q in questions),
        max_score=job.max_score,
        timestamp=stamp.read_text(encoding="utf-8").strip()[:64] if stamp.is_file() else "",
        notes=prepared.repairs,
        answers=_answers(prepared),
        questions=questions,
    )


def grade_file(
    path: Path,
    lesson: str,
    release: Path,
    root: Path | None,
    timeout: int = CELL_TIMEOUT,
    student: str = "you",
    context: dict[str, Any] | None = None,
) -> Result:
    """Grade one notebook file here, as ``grade`` would (progress, validate): same core, same sandbox.

    ``context`` is what only the grader may know (an answer key); ``progress`` never passes one.
    """
    with tempfile.TemporaryDirectory(prefix="grading-one-") as tmp:
        place = Place(Path(tmp), hidden=(root,) if root else ())
        job = Job(
            Submission(student, lesson, path), release, max_score(release), timeout, Limits(), context or {}
        )
        return grade_submission(job, functools.partial(perform, place=place))


def max_score(release: Path) -> float:
    """The points a lesson is worth: the sum over its graded cells, from the released notebook."""
    from grader.probes import graded_cells

    cells = graded_cells(nbformat.read(release, as_version=4))
    return sum(float(cell.metadata.nbgrader.get("points", 0)) for cell in cells)


def _pending(subs: list[Submission], out: Path) -> tuple[list[Submission], list[Result]]:
    todo, done = [], []
    for sub in subs:
        stored = sub.lesson and load_result(out, sub.student, sub.lesson, file_digest(sub.path))
        if stored and stored.status != "failed":  # a failure may be the machine's: try it again
            done.append(stored)
        else:
            todo.append(sub)
    return todo, done


def _futures(jobs: list[Job], options: Options, scratch: Path, hidden: tuple[Path, ...]):
    """Grade every job; yield (job, future) as each finishes. Tasks execute here or on a Dask cluster."""
    if not jobs:
        return
    if options.scheduler:
        with _connect(options.scheduler) as client:

            def remote(task: Task) -> Executed:
                return client.submit(perform, task, None, options.zygote, pure=False).result()

            yield from _pooled(jobs, remote, min(len(jobs), WAITING))  # the cluster queues the rest
        return
    threads = max(1, (os.cpu_count() or 1) // options.workers)
    zygote = start_zygote(scratch, threads) if options.zygote else None
    place = Place(scratch, threads, hidden, zygote, options.keep_scratch)
    try:
        yield from _pooled(jobs, functools.partial(perform, place=place), options.workers)
    finally:
        if zygote is not None:
            zygote.close()


def _connect(address: str) -> Any:
    """A client of the Dask cluster at ``address``, once it has a worker; else a clear error.

    It tries to connect for Dask's ``distributed.comm.timeouts.connect`` (30 s unless configured).
    """
    from distributed import Client

    try:
        client = Client(address)
    except (OSError, TimeoutError) as error:
        raise CourseError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    try:
        client.wait_for_workers(1, timeout=60)
    except TimeoutError:
        client.close()
        raise CourseError(
            f"the Dask cluster at {address} has no worker: start one with `dask worker {address}` "
            "on a machine where the course package is installed"
        ) from None
    return client


def _pooled(jobs: list[Job], execute: Executor, workers: int):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(grade_submission, job, execute): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future


def _run(
    jobs: list[Job], options: Options, out: Path, scratch: Path, hidden: tuple[Path, ...]
) -> list[Result]:
    if jobs and not options.scheduler and not isolation():
        print(
            "note: this machine cannot create Linux namespaces (neither as root nor in a user "
            "namespace): submissions run without network isolation, and the course is not hidden "
            "from them. Time, memory and file-size limits still apply.",
            file=sys.stderr,
        )
    results = []
    with tqdm(total=len(jobs), desc="Grading", unit="notebook", disable=not jobs) as bar:
        for job, future in _futures(jobs, options, scratch, hidden):
            try:
                result = future.result()
            except Exception as error:
                result = failed(job, f"grading crashed: {type(error).__name__}: {error}")
            result.save(out)
            results.append(result)
            bar.update()
    return results


def lesson_context(root: Path, course: Course, lesson_id: str) -> dict[str, Any]:
    """What a lesson's judges need beyond the data: its answer key, where the manifest names one."""
    key = getattr(course.lesson(lesson_id), "key", None)
    if not key:
        return {}
    return {"key": yaml.safe_load((root / "solutions" / lesson_id / key).read_text(encoding="utf-8"))}


def grade(
    root: Path, course: Course, source: Path, out: Path, options: Options | None = None
) -> list[Result]:
    """Grade every submission under ``source``; results, grades.csv and feedback go to ``out``."""
    options = options or Options()
    source, out = source.resolve(), out.resolve()
    scratch = Path(tempfile.mkdtemp(prefix="grading-"))
    try:
        (scratch / "units").mkdir()
        subs = collect(source, lesson_signatures(root, course), scratch=scratch)
        todo, results = _pending(subs, out)
        hidden = (root, out, source, scratch)
        releases = {lesson.id: root / "notebooks" / lesson.notebook for lesson in course.lessons}
        jobs = []
        for sub in todo:
            release = releases.get(sub.lesson or "")
            job = Job(
                sub,
                release or root,
                max_score(release) if release else 0.0,
                options.cell_timeout,
                options.limits,
                context=lesson_context(root, course, sub.lesson) if release else {},
            )
            if sub.problem or release is None:
                reason = sub.problem or "not a notebook of this course: no cell matches any lesson"
                result = failed(job, reason, status="invalid")
                result.save(out)
                results.append(result)
            else:
                jobs.append(job)
        results += _run(jobs, options, out, scratch / "units", hidden)
    finally:
        if options.keep_scratch:
            print(f"scratch kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    record(root, course, source, out, results, options.db)  # the gradebook, then every report
    return sorted(results, key=lambda r: (r.lesson, r.student))
