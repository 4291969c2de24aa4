"""Execute one probed notebook in a sandbox: limits, no network, nothing secret in reach, no leftovers.

The executing process runs in a new session with caps on memory, file size and core dumps, its own
HOME, TMPDIR and working folder, and a minimal environment. Where Linux allows, it also enters new
mount, network and PID namespaces: as root directly, otherwise inside an unprivileged user namespace
(stock Debian and Ubuntu kernels allow them). There every file system is read-only; the course (all
but the package students install), the reports, every submission, every other job and the places
people keep files (every top folder but the system's: /tmp, /home, /root, ...) are covered by empty
file systems; HOME is a size-capped tmpfs; only loopback exists; no capability is left, so nothing
can be unmounted or remounted; and the executor is PID 1 of its namespace, so every process the
submission starts dies with it. Without namespaces, processes are found by a marker in their
environment and killed after the job, and ``grade`` says what is missing.

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
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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
# A kernel sees the system's top folders; every other one (/home, /root, /tmp, /work, ...) is covered,
# except what holds the course's package or Python itself.
SYSTEM = (
    "bin",
    "boot",
    "dev",
    "etc",
    "lib",
    "lib32",
    "lib64",
    "libx32",
    "proc",
    "run",
    "sbin",
    "sys",
    "usr",
    "var",
)
PERSONAL = ("/var/tmp", "/dev/shm", "/run/user")  # people's files inside the system's folders
CELL_TIMEOUT = 120  # seconds per cell when validating, grading or checking progress
MARKER = "COURSE_GRADING_JOB"
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 24, 38
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
    visible: tuple[Path, ...] = ()  # what the kernel needs inside hidden folders (the course package)
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
    _bind_flags(target, read_only)


def _loopback_up() -> None:
    """Bring up ``lo`` in the new network namespace (the kernel talks to its client over it)."""
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14s", b"lo", 0, b"")
        flags = struct.unpack("16sH14s", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH14s", b"lo", flags | iff_up, b""))


def concealed(secret: tuple[Path, ...], needed: tuple[Path, ...]) -> list[Path]:
    """What to cover: ``secret``, every top folder but the system's, and :data:`PERSONAL`.

    Where one of them holds a needed path (the course's package, Python), its other entries instead.
    """
    tops = [path for path in Path("/").iterdir() if path.name not in SYSTEM]
    covered = _cover((*secret, *tops, *map(Path, PERSONAL)), tuple(p.resolve() for p in needed))
    return [p for p in dict.fromkeys(covered) if not any(other in p.parents for other in covered)]


def _cover(paths: tuple[Path, ...], needed: tuple[Path, ...]) -> list[Path]:
    covered: list[Path] = []
    for path in paths:
        if path.is_symlink() or not path.exists() or path in needed:
            continue
        if any(path in n.parents for n in needed):
            covered += _cover(tuple(path.iterdir()), needed) if path.is_dir() else []
        else:
            covered.append(path)
    return covered


def python_paths() -> tuple[Path, ...]:
    """Python itself and its site-packages folders (not the working folder on ``sys.path``)."""
    packages = [p for p in sys.path if p.rstrip("/").endswith(("site-packages", "dist-packages"))]
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.executable, *packages}
    return tuple(Path(p).resolve() for p in paths)


def _mount_points() -> list[str]:
    """Every mount point of this mount namespace, parents first."""
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    points = [line.split()[4].replace("\\040", " ") for line in lines]
    return sorted(dict.fromkeys(points), key=lambda p: p.count("/"))


def _read_only_everywhere() -> None:
    """Remount every mount read-only (the kernel writes only in its job's folders)."""
    for point in _mount_points():
        if point == "/proc" or point.startswith("/proc/"):
            continue
        try:
            _bind_flags(point, read_only=True)
        except OSError:
            if not point.startswith(("/sys", "/dev")):
                raise


def _bind_flags(target: str, read_only: bool) -> None:
    locked = os.statvfs(target).f_flag
    flags = MS_REMOUNT | MS_BIND | sum(ms for st, ms in STATVFS_FLAGS.items() if locked & st)
    _mount(None, target, None, (flags | MS_RDONLY) if read_only else (flags & ~MS_RDONLY))


def _drop_privileges() -> None:
    """No capability now or after exec: nothing in the sandbox can mount, unmount or regain rights."""
    libc = _libc()
    for capability in range(64):
        libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    _check(libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")


def _enter_sandbox(run: Run, limits: Limits) -> None:
    """As PID 1 of the new namespaces: private /proc, everything read-only, secrets covered, no rights."""
    unit = os.open(run.notebook.parent, os.O_PATH)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _read_only_everywhere()
    covers = []
    for path in concealed(run.hidden, (*run.visible, *python_paths())):
        if path.is_dir():
            _mount("tmpfs", str(path), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
            covers.append(str(path))
        elif path.is_file():
            _bind("/dev/null", str(path), read_only=True)
    for folder in (run.notebook.parent, run.home):
        folder.mkdir(parents=True, exist_ok=True)
    for cover in covers:
        _bind_flags(cover, read_only=True)
    _bind(f"/proc/self/fd/{unit}", str(run.notebook.parent), read_only=False)
    os.close(unit)
    _mount("tmpfs", str(run.home), "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits.disk_bytes},mode=700")
    _loopback_up()
    _drop_privileges()


def bare_environment(home: Path, threads: int) -> dict[str, str]:
    """A kernel's whole environment: nothing of the grader's, only what a kernel needs.

    TensorFlow reads some of it when it is imported: a zygote starts with exactly this.
    """
    keep = ("LANG", "LC_ALL", "PYTHONPATH", "VIRTUAL_ENV")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + "/usr/local/bin:/usr/bin:/bin"
    env.update(HOME=str(home), TMPDIR=str(home / "tmp"))
    env.update(TF_CPP_MIN_LOG_LEVEL="3", TF_ENABLE_ONEDNN_OPTS="0", JUPYTER_PLATFORM_DIRS="1")
    env.update({name: str(threads) for name in THREAD_VARIABLES})
    return env


def _environment(run: Run) -> dict[str, str]:
    """The executor's environment: bare, with this job's HOME and marker."""
    return {**bare_environment(run.home, run.threads), MARKER: run.token}


def _execute(run: Run, forked: bool = False) -> None:
    """The executor: execute the probed notebook and write it out (atomically) beside it.

    ``forked``: this process is a fork of a warm zygote; its kernels are forked too.
    """
    import nbformat

    from grader.execute import execute

    if forked:
        from grader.zygote import start_kernel_factory

        start_kernel_factory(run.threads)

    (run.home / "tmp").mkdir(parents=True, exist_ok=True)
    notebook = execute(nbformat.read(run.notebook, as_version=4), run.home, run.cell_timeout)
    partial = run.executed.with_suffix(".partial")
    nbformat.write(notebook, partial)
    partial.replace(run.executed)


def job(run: Run, limits: Limits, mode: str, forked: bool = False) -> None:
    """The job's process: limits, namespaces; then PID 1 executes the notebook with a bare environment.

    ``/proc/<pid>/environ`` shows the environment a process was started with: a job forked from the
    grader execs a fresh executor; one forked from a zygote (started bare) executes directly.
    """
    if os.getpid() != os.getsid(0):
        os.setsid()
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
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
    if forked:
        import tempfile

        os.environ.clear()
        os.environ.update(_environment(run))
        tempfile.tempdir = None  # cached by the zygote: this job's TMPDIR instead
        _execute(run, forked=True)
        os._exit(0)
    payload = json.dumps(asdict(run), default=str)
    os.execve(
        sys.executable, [sys.executable, "-m", "grader.sandbox", "--execute", payload], _environment(run)
    )


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
        _read_only_everywhere()
        _mount("tmpfs", "/mnt", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
        _loopback_up()
        _drop_privileges()
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
    """Kill every process whose environment carries this job's marker, and wait until they are gone."""
    needle = f"{MARKER}={token}".encode()
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(entry)
    left = killed
    for _ in range(200):  # a killed process leaves /proc (or becomes a zombie, with no command line)
        left = [entry for entry in left if _running(entry)]
        if not left:
            break
        time.sleep(0.01)
    return len(killed)


def _running(entry: Path) -> bool:
    try:
        return bool((entry / "cmdline").read_bytes())
    except OSError:
        return False


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def execute_isolated(run: Run, limits: Limits, mode: str | None = None, zygote: Any = None) -> str:
    """Execute ``run`` in its sandbox and wait; "" when it finished, else why it did not.

    ``mode`` is "root", "user" or "" (no namespaces); by default the best this machine allows.
    With a :class:`~grader.zygote.Zygote` (only where namespaces work), the job is forked from it.
    """
    run = Run(**{**asdict(run), "token": run.token or secrets.token_hex(8)})
    mode = isolation() if mode is None else mode
    try:
        if zygote is not None and mode:
            return _execute_forked(run, limits, mode, zygote)
        if multiprocessing.current_process().daemon:  # a Dask worker cannot fork its own children
            return _execute_in_interpreter(run, limits, mode)
        process = _FORKS.Process(target=job, args=(run, limits, mode))
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


def _execute_forked(run: Run, limits: Limits, mode: str, zygote: Any) -> str:
    pid = zygote.spawn(run, limits, mode)
    try:
        handle = os.pidfd_open(pid)
    except ProcessLookupError:  # it has already ended
        return "" if run.executed.is_file() else _failure(run, None)
    try:
        finished = select.select([handle], [], [], limits.notebook_timeout)[0]
    finally:
        os.close(handle)
    if not finished:
        _kill_group(pid)
        return f"grading took longer than {limits.notebook_timeout} s and was stopped"
    return "" if run.executed.is_file() else _failure(run, None)


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


def run_from(raw: dict) -> Run:
    """A :class:`Run` from its JSON form."""
    paths = {key: Path(raw[key]) for key in ("notebook", "home")}
    folders = {key: tuple(Path(p) for p in raw[key]) for key in ("visible", "hidden")}
    return Run(
        **paths, **folders, cell_timeout=raw["cell_timeout"], threads=raw["threads"], token=raw["token"]
    )


def main() -> None:
    """``python -m grader.sandbox``: ``--probe MODE``, ``--execute RUN`` (the executor), or a job on stdin."""
    if sys.argv[1:2] == ["--probe"]:
        _probe_mode(sys.argv[2])
    if sys.argv[1:2] == ["--execute"]:
        _execute(run_from(json.loads(sys.argv[2])))
        return
    data = json.loads(sys.stdin.read())
    job(run_from(data["run"]), Limits(**data["limits"]), data["mode"])


if __name__ == "__main__":
    main()
