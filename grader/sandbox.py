"""Run one grading job in a process of its own: time and memory limits, no network, read-only course.

Each job runs in a new process and session (a timeout kills its kernel too), with its own HOME
and TMPDIR and an address-space cap that the kernel inherits. Where the machine allows (Linux,
as root) the process also enters new network and mount namespaces: loopback only, and the course,
the reports, the submissions and every other student's work mounted read-only. Processes are
forked from a server that has already imported the grading code, so a job starts in milliseconds;
inside a daemonic worker (Dask), a fresh interpreter is started instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import multiprocessing
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from grader.autograde import Job, failed, grade_job
from grader.collect import Submission
from grader.results import Result

CLONE_NEWNS, CLONE_NEWNET = 0x00020000, 0x40000000
# Parallel jobs share the cores: each kernel's TensorFlow and BLAS keep to their share of threads.
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["grader.sandbox"])


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    notebook_timeout: int = 900
    memory_bytes: int = 6 * 2**30


@dataclass(frozen=True)
class Cell:
    """Where one job runs: its unit folder, its HOME, where it writes its result."""

    unit: Path
    home: Path
    result: Path
    read_only: tuple[Path, ...]
    isolate: bool
    threads: int = 1


@functools.cache
def namespaces_work() -> bool:
    """Whether new network and mount namespaces can be made here (Linux, as root)."""
    if not (shutil.which("unshare") and shutil.which("ip") and shutil.which("mount")):
        return False
    probe = ["unshare", "-n", "-m", "sh", "-c", "mount --make-rprivate / && ip link set lo up"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def _sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


def _enter_namespaces(cell: Cell) -> None:
    """New mount and network namespaces: only this job's folders writable, loopback only."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS | CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare failed")
    _sh("mount", "--make-rprivate", "/")
    for folder in (str(p) for p in cell.read_only if p.exists()):
        _sh("mount", "--bind", folder, folder)
        _sh("mount", "-o", "remount,bind,ro", folder)
    for folder in (str(cell.unit), str(cell.home)):
        _sh("mount", "--bind", folder, folder)
        _sh("mount", "-o", "remount,bind,rw", folder)
    _sh("ip", "link", "set", "lo", "up")


def _environment(cell: Cell) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env.update(HOME=str(cell.home), TMPDIR=str(cell.home / "tmp"), MPLBACKEND="Agg")
    env.update(TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0")
    env.update({name: str(cell.threads) for name in THREAD_VARIABLES})
    return env


def _child(job: Job, cell: Cell, memory: int) -> None:
    """The job's own process: enter the sandbox, grade, write the result."""
    if os.getpid() != os.getsid(0):
        os.setsid()
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    os.environ.clear()
    os.environ.update(_environment(cell))
    os.chdir(cell.home)
    log = os.open(cell.home / "grading.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(log, 1)
    os.dup2(log, 2)
    if cell.isolate:
        _enter_namespaces(cell)
    cell.result.write_text(grade_job(job).model_dump_json(), encoding="utf-8")


def _prepare(job: Job, read_only: tuple[Path, ...]) -> Cell:
    sub = job.submission
    unit = job.work / sub.student / sub.lesson
    home = job.work.parent / "homes" / sub.student / sub.lesson
    for folder in (unit, home / "tmp"):
        folder.mkdir(parents=True, exist_ok=True)
    scratch = job.work.parent  # every job's folders, unpacked submissions, the gradebook template
    return Cell(unit, home, home / "result.json", (*read_only, scratch), namespaces_work())


def run_isolated(job: Job, limits: Limits, read_only: tuple[Path, ...] = (), threads: int = 1) -> Result:
    """Grade one job in its own process under ``limits``; never raises for the job's sake."""
    cell = replace(_prepare(job, read_only), threads=threads)
    if multiprocessing.current_process().daemon:
        return _run_interpreter(job, cell, limits)
    process = _FORKS.Process(target=_child, args=(job, cell, limits.memory_bytes))
    process.start()
    process.join(limits.notebook_timeout)
    if process.is_alive():
        _kill(process.pid)
        process.join()
        return failed(job, f"grading took longer than {limits.notebook_timeout} s and was stopped")
    return _collect(job, cell, process.exitcode)


def _run_interpreter(job: Job, cell: Cell, limits: Limits) -> Result:
    data = {"job": asdict(job), "cell": asdict(cell), "memory": limits.memory_bytes}
    payload = json.dumps(data, default=str)
    process = subprocess.Popen(
        [sys.executable, "-m", "grader.sandbox"], stdin=subprocess.PIPE, start_new_session=True, text=True
    )
    try:
        process.communicate(payload, timeout=limits.notebook_timeout)
    except subprocess.TimeoutExpired:
        _kill(process.pid)
        process.communicate()
        return failed(job, f"grading took longer than {limits.notebook_timeout} s and was stopped")
    return _collect(job, cell, process.returncode)


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _collect(job: Job, cell: Cell, exitcode: int | None) -> Result:
    if cell.result.is_file():
        return Result.model_validate_json(cell.result.read_text(encoding="utf-8"))
    log_file = cell.home / "grading.log"
    log = log_file.read_text(errors="replace") if log_file.exists() else ""
    last = [line for line in log.strip().splitlines() if line.strip()][-1:] or ["no output"]
    return failed(job, f"the grading process failed (exit {exitcode}): {last[0][:300]}")


def main() -> None:
    """``python -m grader.sandbox``: run one job given as JSON on stdin (for daemonic workers)."""
    data = json.loads(sys.stdin.read())
    raw, sub = data["job"], data["job"]["submission"]
    submission = Submission(sub["student"], sub["lesson"], Path(sub["path"]), sub["problem"])
    job = Job(
        submission,
        Path(raw["root"]),
        Path(raw["gradebook"]),
        Path(raw["work"]),
        float(raw["max_score"]),
        int(raw["cell_timeout"]),
    )
    cell = data["cell"]
    paths = {key: Path(cell[key]) for key in ("unit", "home", "result")}
    read_only = tuple(Path(p) for p in cell["read_only"])
    _child(
        job,
        Cell(**paths, read_only=read_only, isolate=cell["isolate"], threads=cell["threads"]),
        int(data["memory"]),
    )


if __name__ == "__main__":
    main()
