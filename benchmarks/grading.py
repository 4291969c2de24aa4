"""Grading throughput: stock ``nbgrader autograde`` against ``python -m grader grade``, side by side.

All grade the same class (seeded random answers) from the same source notebooks, on this machine,
one after the other: stock nbgrader, ours with kernels started afresh, ours with kernels forked
from a warm zygote, and ours on a local Dask cluster (one worker per core, each with its own zygote;
the tasks carry the notebooks, not paths). The scores must be identical.

    python benchmarks/grading.py --students 20                    # the practice quiz
    python benchmarks/grading.py --students 4 --workload course   # every lesson
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from grader.answers import fill, reference_answers  # noqa: E402
from grader.manifest import load_course  # noqa: E402

LESSON = "05_practice_quiz"
BIN = Path(sys.executable).parent
STUB = "raise NotImplementedError()"


def _answers(lesson: str, student: str, rng: random.Random) -> dict[str, str]:
    """A student's answers: each the reference or, at random, left as released or a random letter."""
    right = reference_answers(ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    answers = {}
    for slot, source in right.items():
        if "student_id" in source:
            answers[slot] = f'student_id = "{student}"'
        elif rng.random() < 0.6:
            answers[slot] = source
        elif letter := re.fullmatch(r'(\w+) = "[A-D]"', source.strip().splitlines()[-1]):
            answers[slot] = f'{letter[1]} = "{rng.choice("ABCD")}"'
    return answers


def make_class(folder: Path, students: int, seed: int, lessons: list[str]) -> None:
    """``students`` submissions per lesson in nbgrader's layout, each answering partly at random."""
    rng = random.Random(seed)
    for number in range(students):
        student = f"student{number:03d}"
        for lesson in lessons:
            path = folder / student / lesson / f"{lesson}.ipynb"
            path.parent.mkdir(parents=True)
            answers = _answers(lesson, student, rng)
            nbformat.write(fill(ROOT / "notebooks" / lesson / f"{lesson}.ipynb", answers), path)


def run(command: list[str], cwd: Path) -> float:
    """Wall seconds of one command (which must succeed)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def stock(submissions: Path, work: Path, lessons: list[str]) -> tuple[float, dict[tuple[str, str], float]]:
    """Stock nbgrader: generate_assignment with a gradebook, autograde, export; time and scores."""
    for name in ("solutions", "course.yml", "nbgrader_config.py"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, work / name)
    shutil.copytree(submissions, work / "submitted")
    nbgrader = str(BIN / "nbgrader")
    seconds = 0.0
    for lesson in lessons:
        seconds += run([nbgrader, "generate_assignment", lesson, "--force"], work)
        seconds += run([nbgrader, "autograde", lesson, "--force"], work)
    seconds += run([nbgrader, "export", "--to", "grades.csv"], work)
    return seconds, scores(work / "grades.csv")


def ours(submissions: Path, out: Path, *options: str) -> tuple[float, dict[tuple[str, str], float]]:
    """``python -m grader grade`` on the same submissions, with ``options``; time and scores."""
    command = [sys.executable, "-m", "grader", "grade", str(submissions), "--out", str(out), "--db", "none"]
    seconds = run([*command, *options], ROOT)
    return seconds, scores(out / "grades.csv")


def on_cluster(submissions: Path, out: Path, workers: int) -> tuple[float, dict[tuple[str, str], float]]:
    """``grade --scheduler`` on a local Dask cluster of ``workers`` one-thread workers (started untimed)."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        return ours(submissions, out, "--scheduler", cluster.scheduler_address)


def scores(grades: Path) -> dict[tuple[str, str], float]:
    """(student, lesson) -> score from a grades.csv (nbgrader's columns)."""
    with grades.open() as handle:
        return {(row["student_id"], row["assignment"]): float(row["score"]) for row in csv.DictReader(handle)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=0, help="ours: parallel graders (0: one per core)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workload", choices=("quiz", "course"), default="quiz")
    args = parser.parse_args()
    workers = args.workers or os.cpu_count() or 1
    lessons = [LESSON] if args.workload == "quiz" else [lesson.id for lesson in load_course(ROOT).lessons]
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        make_class(tmp / "class", args.students, args.seed, lessons)
        (tmp / "stock").mkdir()
        stock_s, stock_scores = stock(tmp / "class", tmp / "stock", lessons)
        fresh_s, fresh_scores = ours(tmp / "class", tmp / "fresh", "--workers", str(workers), "--no-zygote")
        warm_s, warm_scores = ours(tmp / "class", tmp / "warm", "--workers", str(workers))
        dask_s, dask_scores = on_cluster(tmp / "class", tmp / "dask", workers)
    same = stock_scores == fresh_scores == warm_scores == dask_scores
    notebooks = args.students * len(lessons)
    print(
        f"{notebooks} submissions ({args.students} students × {len(lessons)} lessons), {os.cpu_count()} cores"
    )
    rows = (
        ("stock nbgrader autograde", stock_s),
        (f"grader grade, {workers} workers, fresh kernels", fresh_s),
        (f"grader grade, {workers} workers, zygote", warm_s),
        (f"grader grade, local Dask cluster, {workers} workers", dask_s),
    )
    for name, seconds in rows:
        print(
            f"{name:45} {seconds:7.1f} s  {notebooks / seconds:5.2f} notebooks/s  {stock_s / seconds:5.2f}x"
        )
    print(f"identical scores: {same}")
    if not same:
        print(
            {
                k: (stock_scores.get(k), fresh_scores.get(k), warm_scores.get(k), dask_scores.get(k))
                for k in stock_scores
                if not stock_scores.get(k) == fresh_scores.get(k) == warm_scores.get(k) == dask_scores.get(k)
            }
        )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
