"""Run one grading job in a process of its own: time and memory limits, no network, read-only course.

The job runs as ``python -m grader.autograde`` in a new session (so a timeout kills the kernel
too), with its own HOME and TMPDIR, an address-space cap inherited by the kernel, and, where the
machine allows (Linux, root), in new network and mount namespaces: only loopback, and the course,
the report folder, the submissions and every other student's work mounted read-only.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.autograde import Job, failed
from grader.results import Result

ISOLATE = r"""
set -e
mount --make-rprivate /
for dir in "$@"; do
  [ "$dir" = "--" ] && break
  mount --bind "$dir" "$dir" && mount -o remount,bind,ro "$dir"
done
mount --bind "$GRADER_UNIT" "$GRADER_UNIT" && mount -o remount,bind,rw "$GRADER_UNIT"
ip link set lo up
while [ "$1" != "--" ]; do shift; done
shift
exec "$@"
"""


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    notebook_timeout: int = 900
    memory_bytes: int = 6 * 2**30


@functools.cache
def namespaces_work() -> bool:
    """Whether new network and mount namespaces can be made here (Linux, as root)."""
    if not (shutil.which("unshare") and shutil.which("ip")):
        return False
    probe = ["unshare", "-n", "-m", "sh", "-c", "mount --make-rprivate / && ip link set lo up"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


def _command(job: Job, read_only: list[Path]) -> list[str]:
    grade = [sys.executable, "-m", "grader.autograde"]
    if not namespaces_work():
        return grade
    dirs = [str(p) for p in read_only if p.exists()]
    return ["unshare", "-n", "-m", "sh", "-c", ISOLATE, "isolate", *dirs, "--", *grade]


def _environment(home: Path, unit: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "tmp").mkdir(exist_ok=True)
    keep = ("PATH", "LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "/usr/bin:/bin")
    env.update(HOME=str(home), TMPDIR=str(home / "tmp"), MPLBACKEND="Agg", GRADER_UNIT=str(unit))
    return env


def run_isolated(job: Job, limits: Limits, read_only: tuple[Path, ...] = ()) -> Result:
    """Grade one job in its own process under ``limits``; never raises for the job's sake."""
    unit = job.work / job.submission.student / job.submission.lesson
    unit.mkdir(parents=True, exist_ok=True)
    home = job.work.parent / "homes" / job.submission.student / job.submission.lesson
    out = home.parent / f"{job.submission.lesson}.result.json"
    payload = json.dumps({**asdict(job), "result": str(out)}, default=str)
    cap = limits.memory_bytes

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    process = subprocess.Popen(
        _command(job, [*read_only, job.work]),
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=_environment(home, unit), cwd=home, start_new_session=True, preexec_fn=limit, text=True,
    )
    try:
        _, err = process.communicate(payload, timeout=limits.notebook_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return failed(job, f"grading took longer than {limits.notebook_timeout} s and was stopped")
    if out.is_file():
        return Result.model_validate_json(out.read_text(encoding="utf-8"))
    last = (err or "").strip().splitlines()[-1:] or ["no output"]
    return failed(job, f"the grading process failed (exit {process.returncode}): {last[0]}")
