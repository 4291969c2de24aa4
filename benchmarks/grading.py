"""Grading throughput: stock ``nbgrader autograde`` against ``python -m grader grade``, side by side.

Both grade the same class of quiz submissions (random answers, seeded), from the same source
notebooks, on this machine, one after the other; the scores must be identical.

    python benchmarks/grading.py --students 20
"""

from __future__ import annotations

import argparse
import csv
import os
import random
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

LESSON = "05_practice_quiz"
BIN = Path(sys.executable).parent


def make_class(folder: Path, students: int, seed: int) -> None:
    """``students`` submissions in nbgrader's layout, each answering at random (some right)."""
    rng = random.Random(seed)
    right = reference_answers(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb")
    for number in range(students):
        answers = {
            slot: source if rng.random() < 0.6 else f'{slot.split("_")[0]} = "{rng.choice("ABCD")}"'
            for slot, source in right.items()
        }
        path = folder / f"student{number:03d}" / LESSON / f"{LESSON}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(fill(ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb", answers), path)


def run(command: list[str], cwd: Path) -> float:
    """Wall seconds of one command (which must succeed)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def stock(submissions: Path, work: Path) -> tuple[float, dict[str, float]]:
    """Stock nbgrader: generate_assignment with a gradebook, autograde, export; time and scores."""
    for name in ("solutions", "course.yml", "nbgrader_config.py"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, work / name)
    shutil.copytree(submissions, work / "submitted")
    nbgrader = str(BIN / "nbgrader")
    seconds = run([nbgrader, "generate_assignment", LESSON, "--force"], work)
    seconds += run([nbgrader, "autograde", LESSON, "--force"], work)
    seconds += run([nbgrader, "export", "--to", "grades.csv"], work)
    return seconds, scores(work / "grades.csv")


def ours(submissions: Path, out: Path, workers: int) -> tuple[float, dict[str, float]]:
    """``python -m grader grade`` on the same submissions; time and scores."""
    command = [sys.executable, "-m", "grader", "grade", str(submissions), "--out", str(out)]
    seconds = run([*command, "--workers", str(workers)], ROOT)
    return seconds, scores(out / "grades.csv")


def scores(grades: Path) -> dict[str, float]:
    """student -> score from a grades.csv (nbgrader's columns)."""
    with grades.open() as handle:
        return {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--workers", type=int, default=0, help="ours: parallel graders (0: one per core)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    workers = args.workers or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        tmp = Path(tmp)
        make_class(tmp / "class", args.students, args.seed)
        (tmp / "stock").mkdir()
        stock_s, stock_scores = stock(tmp / "class", tmp / "stock")
        ours_s, our_scores = ours(tmp / "class", tmp / "ours", workers)
    same = stock_scores == our_scores
    print(f"{args.students} submissions of {LESSON}, {os.cpu_count()} cores")
    rows = (("stock nbgrader autograde", stock_s), (f"grader grade, {workers} workers", ours_s))
    for name, seconds in rows:
        print(f"{name:30} {seconds:7.1f} s  {args.students / seconds:5.2f} notebooks/s")
    print(f"speed-up {stock_s / ours_s:.2f}x; identical scores: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
