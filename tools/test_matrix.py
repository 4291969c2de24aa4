"""Run the claim tests and the solution notebooks on every tested TensorFlow/Keras release.

`make test-matrix` (not part of `make test`). For each release of ``augcourse.runtime.TESTED_RELEASES``
it creates a virtual environment under build/matrix/ with the tensorflow-cpu and keras wheels of
that release and the course's dependencies (its instructor and test extras), then runs there, on
the course's files (PYTHONPATH points at them, for pytest and for every kernel), the lessons'
claim tests and every solution notebook through nbgrader's Validator, and prints a table.

    python tools/test_matrix.py                  # every release, on this checkout
    python tools/test_matrix.py --release 2.18   # the releases whose TensorFlow starts with 2.18
    python tools/test_matrix.py --at HEAD        # on a commit (git archive), not the checkout
    python tools/test_matrix.py --reuse          # keep environments that are already installed

It exits 1 when a test fails anywhere. Each environment downloads about 300 MB on its first run and
takes 10-20 minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from augcourse.runtime import TESTED_RELEASES, Release  # noqa: E402

MATRIX = ROOT / "build" / "matrix"
CLAIM_TESTS = [
    "tests/test_layers.py",
    "tests/test_pipeline.py",
    "tests/test_metrics.py",
    "tests/test_experiment.py",
    "tests/test_quiz.py",
]
SUITES = ("claim tests", "solution notebooks")
# Runs one solution notebook with nbgrader's Validator; prints the first line of each failing cell.
VALIDATE = """\
import json, sys
from nbgrader.validator import Validator
from traitlets.config import Config

config = Config()
config.Execute.timeout = 600
result = Validator(config=config).validate(sys.argv[1])
failed = result.get("failed", []) + result.get("changed", [])
print(json.dumps([item["source"].strip().splitlines()[0] for item in failed]))
"""


@dataclass
class Outcome:
    """What one suite did in one environment."""

    passed: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: int = 0
    problem: str = ""  # the suite could not run at all

    def summary(self) -> str:
        if self.problem:
            return self.problem
        words = [f"{self.passed} passed"]
        if self.failed:
            words.append(f"{len(self.failed)} failed")
        if self.skipped:
            words.append(f"{self.skipped} skipped")
        return ", ".join(words)


def label(release: Release) -> str:
    return f"TF {release.tensorflow} / Keras {release.keras}"


def folder(release: Release) -> Path:
    return MATRIX / f"tf-{release.tensorflow}-keras-{release.keras}"


def environment(venv: Path, tree: Path = ROOT) -> dict[str, str]:
    """This process's environment pointed at ``venv`` and the course files in ``tree``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHONPATH"] = str(tree)
    for name in ("DATA", "CONFIG", "RUNTIME"):
        env[f"JUPYTER_{name}_DIR"] = str(venv / "jupyter" / name.lower())
    return env


def log_run(command: list[str], log: Path, env: dict[str, str], timeout: float, cwd: Path = ROOT) -> int:
    """Run ``command`` in ``cwd``, appending its output to ``log``; return its exit status."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        try:
            done = subprocess.run(
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            out.write(f"\n(timed out after {timeout:.0f} s)\n")
            return 124
    return done.returncode


def install(release: Release, *, reuse: bool) -> str:
    """Create the release's environment; return a problem, or "" once it is ready."""
    venv = folder(release)
    stamp = venv / ".installed"
    if reuse and stamp.is_file():
        return ""
    venv.mkdir(parents=True, exist_ok=True)
    log = venv / "install.log"
    log.write_text("")
    env = environment(venv)
    python = str(venv / "bin" / "python")
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            f"tensorflow-cpu=={release.tensorflow}",
            f"keras=={release.keras}",
            f"{ROOT}[instructor,test]",
        ],
    ]
    for step in steps:
        if log_run(step, log, env, timeout=3600):
            return f"install failed (see {log.relative_to(ROOT)})"
    stamp.write_text("")
    return ""


def versions(release: Release) -> str:
    """The TensorFlow and Keras versions the environment really imports."""
    code = "import tensorflow as t, keras as k; print(t.__version__, k.__version__)"
    venv = folder(release)
    env = {**environment(venv), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], env=env, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else "(import failed)"


def read_junit(path: Path) -> Outcome:
    """Passed, failed and skipped tests from pytest's JUnit XML."""
    outcome = Outcome()
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname', '')}::{case.get('name', '')}"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome.failed.append(name)
        elif case.find("skipped") is not None:
            outcome.skipped += 1
        else:
            outcome.passed += 1
    return outcome


def claim_tests(release: Release, workers: int, tree: Path) -> Outcome:
    """The lessons' claim tests, with pytest in the release's environment, on the files in ``tree``."""
    venv = folder(release)
    report = venv / "claim-tests.xml"
    report.unlink(missing_ok=True)
    command = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if workers > 1:
        command += ["-n", str(workers), "--dist", "loadfile"]
    command += [f"--junitxml={report}", *CLAIM_TESTS]
    status = log_run(command, venv / "tests.log", environment(venv, tree), timeout=3 * 3600, cwd=tree)
    if not report.is_file():
        return Outcome(problem=f"pytest exited {status} without a report")
    return read_junit(report)


def solution_notebooks(release: Release, tree: Path) -> Outcome:
    """Every solution notebook through nbgrader's Validator, in the release's environment."""
    venv = folder(release)
    log = venv / "notebooks.log"
    outcome = Outcome()
    for notebook in sorted((tree / "solutions").glob("*/*.ipynb")):
        command = [str(venv / "bin" / "python"), "-c", VALIDATE, str(notebook)]
        with log.open("a") as out:
            out.write(f"\n$ validate {notebook.relative_to(tree)}\n")
            done = subprocess.run(
                command, cwd=tree, env=environment(venv, tree), capture_output=True, text=True, timeout=3600
            )
            out.write(done.stdout + done.stderr)
        try:
            failed = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            failed = [f"the validator exited {done.returncode} (see {log.relative_to(ROOT)})"]
        if failed:
            outcome.failed += [f"{notebook.parent.name}: {cell}" for cell in failed]
        else:
            outcome.passed += 1
    return outcome


def snapshot(rev: str) -> Path:
    """The files of commit ``rev``, unpacked under build/matrix/ (nothing in the checkout changes)."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tree = MATRIX / f"tree-{commit}"
    if not tree.is_dir():
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    print(f"testing commit {commit}, unpacked in {tree.relative_to(ROOT)}", flush=True)
    return tree


def table(rows: list[list[str]]) -> str:
    """A Markdown table; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) + " |" for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", action="append", help="TensorFlow version prefix (repeatable)")
    parser.add_argument("--reuse", action="store_true", help="keep environments already installed")
    parser.add_argument("--at", metavar="REV", help="test this commit (git archive) instead of the checkout")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="pytest -n")
    args = parser.parse_args(argv)
    releases = [
        r
        for r in TESTED_RELEASES
        if not args.release or any(r.tensorflow.startswith(p) for p in args.release)
    ]
    if not releases:
        parser.error(f"no tested release matches {args.release}")
    tree = snapshot(args.at) if args.at else ROOT
    rows = [["release", "imports", *SUITES, "minutes"]]
    failures: list[str] = []
    for release in releases:
        start = time.monotonic()
        print(f"{label(release)}: installing into {folder(release).relative_to(ROOT)}", flush=True)
        problem = install(release, reuse=args.reuse)
        outcomes = {}
        for log in ("tests.log", "notebooks.log"):
            (folder(release) / log).unlink(missing_ok=True)
        for name in SUITES:
            if problem:
                outcomes[name] = Outcome(problem=problem)
                continue
            print(f"{label(release)}: {name}", flush=True)
            if name == "claim tests":
                outcomes[name] = claim_tests(release, args.workers, tree)
            else:
                outcomes[name] = solution_notebooks(release, tree)
            failures += [f"{label(release)}: {test}" for test in outcomes[name].failed]
            if outcomes[name].problem:
                failures.append(f"{label(release)}: {name}: {outcomes[name].problem}")
        if problem:
            failures.append(f"{label(release)}: {problem}")
        minutes = f"{(time.monotonic() - start) / 60:.1f}"
        imported = "" if problem else versions(release)
        rows.append([label(release), imported, *(o.summary() for o in outcomes.values()), minutes])
        print(table(rows), flush=True)
    report = table(rows) + ("\n\nFailed:\n" + "\n".join(f"- {f}" for f in failures) if failures else "")
    MATRIX.mkdir(parents=True, exist_ok=True)
    (MATRIX / "report.md").write_text(report + "\n")
    print(f"\n{report}\n\n(logs and this table under {MATRIX.relative_to(ROOT)}/)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
