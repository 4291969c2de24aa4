"""``grade``: collect submissions, autograde each in parallel, write grades and feedback."""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from nbgrader.api import Gradebook
from tqdm import tqdm

from grader.autograde import Job, failed, grade_job
from grader.build import generate
from grader.collect import Submission, collect, lesson_signatures
from grader.manifest import Course
from grader.report import write_reports
from grader.results import Result, file_digest, load_result


def prepare_gradebook(root: Path, course: Course, work: Path) -> tuple[Path, dict[str, float]]:
    """A gradebook holding every lesson (nbgrader's generate_assignment), and each lesson's max score."""
    release = work / "release"
    generate(root, course, release, database=True)
    gradebook = release / "gradebook.db"
    with Gradebook(f"sqlite:///{gradebook}") as gb:
        max_scores = {lesson.id: float(gb.find_assignment(lesson.id).max_score) for lesson in course.lessons}
    return gradebook, max_scores


def _pending(subs: list[Submission], out: Path) -> tuple[list[Submission], list[Result]]:
    todo, done = [], []
    for sub in subs:
        stored = sub.lesson and load_result(out, sub.student, sub.lesson, file_digest(sub.path))
        if stored:
            done.append(stored)
        else:
            todo.append(sub)
    return todo, done


def _run(jobs: list[Job], workers: int, out: Path) -> list[Result]:
    results = []
    bar = tqdm(total=len(jobs), desc="Grading", unit="notebook", disable=not jobs)
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = {pool.submit(grade_job, job): job for job in jobs}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as error:
                result = failed(futures[future], f"grading crashed: {type(error).__name__}: {error}")
            result.save(out)
            results.append(result)
            bar.update()
    bar.close()
    return results


def grade(root: Path, course: Course, source: Path, out: Path, workers: int | None = None) -> list[Result]:
    """Grade every submission under ``source``; results, grades.csv and feedback go to ``out``."""
    signatures = lesson_signatures(root, course)
    subs = collect(source, signatures)
    todo, results = _pending(subs, out)
    with tempfile.TemporaryDirectory(prefix="grading-") as tmp:
        work = Path(tmp)
        gradebook, max_scores = prepare_gradebook(root, course, work)
        jobs = []
        for sub in todo:
            job = Job(sub, root, gradebook, work / "units", max_scores.get(sub.lesson or "", 0.0))
            if sub.problem or not sub.lesson:
                reason = sub.problem or "not a notebook of this course: no cell matches any lesson"
                result = failed(job, reason, status="invalid")
                result.save(out)
                results.append(result)
            else:
                jobs.append(job)
        results += _run(jobs, workers or os.cpu_count() or 1, out)
    write_reports(course, results, out)
    return sorted(results, key=lambda r: (r.lesson, r.student))
