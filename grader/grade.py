"""``grade``: collect submissions, autograde each in parallel, write grades and feedback."""

from __future__ import annotations

import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook
from tqdm import tqdm

from augcourse.runtime import CELL_TIMEOUT
from grader.autograde import Job, failed
from grader.build import generate
from grader.collect import Submission, collect, lesson_signatures
from grader.manifest import Course
from grader.report import write_reports
from grader.results import Result, file_digest, load_result
from grader.sandbox import Limits, namespaces_work, run_isolated


def prepare_gradebook(root: Path, course: Course, work: Path) -> tuple[Path, dict[str, float]]:
    """A gradebook holding the given lessons (nbgrader's generate_assignment), and their max scores."""
    release = work / "release"
    generate(root, course, release, database=True)
    gradebook = release / "gradebook.db"
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        max_scores = {lesson.id: float(gb.find_assignment(lesson.id).max_score) for lesson in course.lessons}
    return gradebook, max_scores


def _lessons_of(course: Course, subs: list[Submission]) -> Course:
    """The course narrowed to the lessons these submissions are for (all, if none is known)."""
    wanted = {sub.lesson for sub in subs}
    lessons = [lesson for lesson in course.lessons if lesson.id in wanted]
    return course.model_copy(update={"lessons": lessons or course.lessons})


def _pending(subs: list[Submission], out: Path) -> tuple[list[Submission], list[Result]]:
    todo, done = [], []
    for sub in subs:
        stored = sub.lesson and load_result(out, sub.student, sub.lesson, file_digest(sub.path))
        if stored:
            done.append(stored)
        else:
            todo.append(sub)
    return todo, done


@dataclass(frozen=True)
class Options:
    """How to grade: parallelism, limits, and where to run."""

    workers: int = os.cpu_count() or 1
    cell_timeout: int = CELL_TIMEOUT
    limits: Limits = field(default_factory=Limits)
    scheduler: str | None = None


def _futures(jobs: list[Job], options: Options, read_only: tuple[Path, ...]):
    """Submit every job; yield (job, result) as each finishes, locally or on a Dask cluster."""
    if options.scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(options.scheduler) as client:
            futures = {
                client.submit(run_isolated, job, options.limits, read_only, pure=False): job for job in jobs
            }
            for future in dask_completed(futures):
                yield futures[future], future
        return
    with ThreadPoolExecutor(max_workers=options.workers) as pool:
        threads = max(1, (os.cpu_count() or 1) // options.workers)
        futures = {pool.submit(run_isolated, job, options.limits, read_only, threads): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future


def _run(jobs: list[Job], options: Options, out: Path, read_only: tuple[Path, ...]) -> list[Result]:
    if jobs and not options.scheduler and not namespaces_work():
        print(
            "note: this machine cannot create network and mount namespaces (Linux, as root): "
            "submissions run without network isolation, and the course is not mounted read-only.",
            file=sys.stderr,
        )
    results = []
    with tqdm(total=len(jobs), desc="Grading", unit="notebook", disable=not jobs) as bar:
        for job, future in _futures(jobs, options, read_only):
            try:
                result = future.result()
            except Exception as error:
                result = failed(job, f"grading crashed: {type(error).__name__}: {error}")
            result.save(out)
            results.append(result)
            bar.update()
    return results


def grade(
    root: Path, course: Course, source: Path, out: Path, options: Options | None = None
) -> list[Result]:
    """Grade every submission under ``source``; results, grades.csv and feedback go to ``out``."""
    options = options or Options()
    source, out = source.resolve(), out.resolve()
    signatures = lesson_signatures(root, course)
    with tempfile.TemporaryDirectory(prefix="grading-") as tmp:
        work = Path(tmp)
        subs = collect(source, signatures, scratch=work)
        todo, results = _pending(subs, out)
        gradebook, max_scores = prepare_gradebook(root, _lessons_of(course, subs), work)
        jobs = []
        for sub in todo:
            max_score = max_scores.get(sub.lesson or "", 0.0)
            job = Job(sub, root, gradebook, work / "units", max_score, options.cell_timeout)
            if sub.problem or not sub.lesson:
                reason = sub.problem or "not a notebook of this course: no cell matches any lesson"
                result = failed(job, reason, status="invalid")
                result.save(out)
                results.append(result)
            else:
                jobs.append(job)
        read_only = (root, out, source, gradebook.parent)
        results += _run(jobs, options, out, read_only)
    write_reports(course, results, out)
    return sorted(results, key=lambda r: (r.lesson, r.student))
