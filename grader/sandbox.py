"""Execute one probed notebook in a sandbox: limits, no network, nothing secret in reach, no leftovers.

The executing process runs in a new session with caps on memory, file size and core dumps, its own
HOME, TMPDIR and working folder, and a minimal environment. Where Linux allows, it also enters new
mount, network and PID namespaces: as root directly, otherwise inside an unprivileged user namespace
(stock Debian and Ubuntu kernels allow them). There the course is mounted read-only; the solutions,
the course's git history, the reports, every submission and every other job are hidden under empty
file systems; HOME is a size-capped tmpfs; only loopback exists; and the executor is PID 1 of its
namespace, so every process the submission starts dies with it. Without namespaces, processes are
found by a marker in their environment and killed after the job, and ``grade`` says what is missing.

Only execution happens here: the verdicts are computed by the caller, outside the sandbox.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import json
import multiprocessing
import os
import resource
import secrets
import signal
import socket
import struct
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x1, 0x2, 0x4, 0x8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 0x20, 0x1000, 0x4000, 0x40000
MS_NOATIME, MS_NODIRATIME, MS_RELATIME = 0x400, 0x800, 0x200000
STATVFS_FLAGS = {  # statvfs f_flag bit -> mount flag (a user namespace must keep locked flags)
    os.ST_RDONLY: MS_RDONLY,
    os.ST_NOSUID: MS_NOSUID,
    os.ST_NODEV: MS_NODEV,
    os.ST_NOEXEC: MS_NOEXEC,
    os.ST_NOATIME: MS_NOATIME,
    os.ST_NODIRATIME: MS_NODIRATIME,
    os.ST_RELATIME: MS_RELATIME,
}
CELL_TIMEOUT = 120  # seconds per cell when validating, grading or checking progress
MARKER = "COURSE_GRADING_JOB"
THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
_FORKS = multiprocessing.get_context("forkserver")
_FORKS.set_forkserver_preload(["grader.sandbox", "grader.execute"])


@dataclass(frozen=True)
class Limits:
    """What one submission may use."""

    notebook_timeout: int = 900
    memory_bytes: int = 6 * 2**30
    file_bytes: int = 2**30  # the largest file it may write
    disk_bytes: int = 2 * 2**30  # its HOME (a tmpfs where namespaces work)


@dataclass(frozen=True)
class Run:
    """One execution: the probed notebook (alone in its folder), its HOME, and what it must not see."""

    notebook: Path
    home: Path
    cell_timeout: int
    read_only: tuple[Path, ...] = ()
    hidden: tuple[Path, ...] = ()
    threads: int = 1
    token: str = ""

    @property
    def executed(self) -> Path:
        """Where the executed notebook is written."""
        return self.notebook.with_name("executed.ipynb")

    @property
    def log(self) -> Path:
        """Where the executor's own output goes."""
        return self.notebook.with_name("executor.log")


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(
        _libc().mount(encode(source), encode(target), encode(kind), flags, encode(data)), f"mount {target}"
    )


def _unshare(mode: str) -> None:
    """Enter new mount, network and PID namespaces; as a user, inside a new user namespace."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | (CLONE_NEWUSER if mode == "user" else 0)
    _check(_libc().unshare(flags), "unshare")
    if mode == "user":
        Path("/proc/self/setgroups").write_text("deny")
        Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
        Path("/proc/self/gid_map").write_text(f"0 {gid} 1")


def _bind(source: str, target: str, read_only: bool) -> None:
    _mount(source, target, None, MS_BIND | MS_REC)
    locked = os.statvfs(target).f_flag
    flags = MS_REMOUNT | MS_BIND | sum(ms for st, ms in STATVFS_FLAGS.items() if locked & st)
    _mount(None, target, None, (flags | MS_RDONLY) if read_only else (flags & ~MS_RDONLY))


def _loopback_up() -> None:
    """Bring up ``lo`` in the new network namespace (the kernel talks to its client over it)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b""))


def _enter_sandbox(run: Run, limits: Limits) -> None:
    """As PID 1 of the new namespaces: a private /proc, read-only course, hidden secrets, tmpfs HOME."""
    unit = os.open(run.notebook.parent, os.O_PATH)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for folder in (p for p in run.read_only if p.exists()):
        _bind(str(folder), str(folder), read_only=True)
    for folder in (p for p in run.hidden if p.exists()):
        _mount("tmpfs", str(folder), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    for folder in (run.notebook.parent, run.home):
        folder.mkdir(parents=True, exist_ok=True)
    _bind(f"/proc/self/fd/{unit}", str(run.notebook.parent), read_only=False)
    os.close(unit)
    _mount("tmpfs", str(run.home), "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits.disk_bytes},mode=700")
    _loopback_up()


def _environment(run: Run) -> dict[str, str]:
    """The executor's whole environment: nothing of the grader's, only what a kernel needs."""
    keep = ("LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + "/usr/local/bin:/usr/bin:/bin"
    env.update(HOME=str(run.home), TMPDIR=str(run.home / "tmp"), MPLBACKEND="Agg")
    env.update(TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0", JUPYTER_PLATFORM_DIRS="1")
    env.update({name: str(run.threads) for name in THREAD_VARIABLES})
    env[MARKER] = run.token
    return env


def _execute(run: Run) -> None:
    """Execute the probed notebook and write it out (atomically) beside it."""
    import nbformat

    from grader.execute import execute

    (run.home / "tmp").mkdir(parents=True, exist_ok=True)
    notebook = execute(nbformat.read(run.notebook, as_version=4), run.home, run.cell_timeout)
    partial = run.executed.with_suffix(".partial")
    nbformat.write(notebook, partial)
    partial.replace(run.executed)


def _child(run: Run, limits: Limits, mode: str) -> None:
    """The job's process: limits, environment, namespaces (PID 1 runs the notebook), execute."""
    if os.getpid() != os.getsid(0):
        os.setsid()
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.environ.clear()
    os.environ.update(_environment(run))
    log = os.open(run.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    if mode:
        _unshare(mode)
        pid = os.fork()
        if pid:  # the namespace lives as long as its PID 1, the child below
            _, status = os.waitpid(pid, 0)
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
        _enter_sandbox(run, limits)
    run.home.mkdir(parents=True, exist_ok=True)
    os.chdir(run.home)
    _execute(run)
    sys.stdout.flush()
    os._exit(0)


def _probe_mode(mode: str) -> None:
    """Try ``mode``'s namespaces in a throwaway process: exit 0 if a sandbox can be built."""
    _unshare(mode)
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _mount("tmpfs", "/mnt", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
        _bind(sys.prefix, sys.prefix, read_only=True)
        _loopback_up()
    except OSError:
        os._exit(1)
    os._exit(0)


@functools.cache
def isolation() -> str:
    """How submissions are isolated here: "root" or "user" namespaces, or "" where neither works."""
    if not sys.platform.startswith("linux"):
        return ""
    for mode in ("root", "user") if os.geteuid() == 0 else ("user",):
        probe = [sys.executable, "-m", "grader.sandbox", "--probe", mode]
        if subprocess.run(probe, capture_output=True, check=False, timeout=60).returncode == 0:
            return mode
    return ""


def kill_marked(token: str) -> int:
    """Kill every process whose environment carries this job's marker; return how many."""
    needle = f"{MARKER}={token}".encode()
    killed = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
    return killed


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def execute_isolated(run: Run, limits: Limits) -> str:
    """Execute ``run`` in its sandbox and wait; "" when it finished, else why it did not."""
    run = Run(**{**asdict(run), "token": run.token or secrets.token_hex(8)})
    mode = isolation()
    try:
        if multiprocessing.current_process().daemon:  # a Dask worker cannot fork its own children
            return _execute_in_interpreter(run, limits, mode)
        process = _FORKS.Process(target=_child, args=(run, limits, mode))
        process.start()
        process.join(limits.notebook_timeout)
        if process.is_alive():
            _kill_group(process.pid)
            process.join()
            return f"grading took longer than {limits.notebook_timeout} s and was stopped"
        return "" if run.executed.is_file() else _failure(run, process.exitcode)
    finally:
        if sys.platform.startswith("linux"):
            kill_marked(run.token)


def _execute_in_interpreter(run: Run, limits: Limits, mode: str) -> str:
    payload = json.dumps({"run": asdict(run), "limits": asdict(limits), "mode": mode}, default=str)
    command = [sys.executable, "-m", "grader.sandbox"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, start_new_session=True, text=True)
    try:
        process.communicate(payload, timeout=limits.notebook_timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)
        process.communicate()
        return f"grading took longer than {limits.notebook_timeout} s and was stopped"
    return "" if run.executed.is_file() else _failure(run, process.returncode)


def _failure(run: Run, exitcode: int | None) -> str:
    log = run.log.read_text(errors="replace") if run.log.exists() else ""
    last = [line for line in log.strip().splitlines() if line.strip()][-1:] or ["no output"]
    return f"the grading process failed (exit {exitcode}): {last[0][:300]}"


def main() -> None:
    """``python -m grader.sandbox``: ``--probe MODE``, or execute one run given as JSON on stdin."""
    if sys.argv[1:2] == ["--probe"]:
        _probe_mode(sys.argv[2])
    data = json.loads(sys.stdin.read())
    raw = data["run"]
    paths = {key: Path(raw[key]) for key in ("notebook", "home")}
    folders = {key: tuple(Path(p) for p in raw[key]) for key in ("read_only", "hidden")}
    run = Run(
        **paths, **folders, cell_timeout=raw["cell_timeout"], threads=raw["threads"], token=raw["token"]
    )
    _child(run, Limits(**data["limits"]), data["mode"])


if __name__ == "__main__":
    main()
