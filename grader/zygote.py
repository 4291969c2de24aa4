"""Kernels forked from a warm process: TensorFlow is imported once per grading run, not once per kernel.

A *zygote* is started once per ``grade`` run with the bare environment of a kernel (nothing of the
grader's: ``/proc/<pid>/environ`` shows a process's environment as it started), imports TensorFlow,
Keras, NumPy, ipykernel and the executor, and forks one job process per submission. The job enters
its sandbox (:mod:`grader.sandbox`), and its executor, before anything else, forks a small *kernel
factory*; the :class:`ForkProvisioner` (jupyter_client's provisioner interface, under the kernel
name ``python3``) asks that factory for each kernel, so kernels are forks too, inside the sandbox.

Each forked kernel gets its own seeds, thread pools, temporary folder and environment; it closes
every inherited descriptor. Where the zygote cannot start, jobs start fresh interpreters instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from jupyter_client.provisioning.local_provisioner import LocalProvisioner

PROVISIONER = "course-fork-provisioner"  # its entry point (jupyter_client.kernel_provisioners)
# Not matplotlib_inline: importing it with a kernel running is what sets up inline figures.
PRELOAD = (
    "tensorflow",
    "keras",
    "numpy",
    "sklearn",
    "skimage",
    "matplotlib",
    "threadpoolctl",
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "IPython.core.interactiveshell",
    "matplotlib_inline.backend_inline",
    "grader.execute",
    "nbformat",
    "nbclient",
    "jupyter_client.provisioning.factory",
    "augcourse.checks.exercise",
    "augcourse.runtime",
)
_factory: socket.socket | None = None  # the executor's line to its kernel factory


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b"\n")


def _receive(sock: socket.socket) -> dict[str, Any] | None:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    return json.loads(data)


def _reap(*_: Any) -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass


class ForkedProcess:
    """A kernel forked by the factory (not our child): enough of ``Popen`` for the provisioner."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self.stdin = self.stdout = self.stderr = None
        self._fd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        """None while the kernel runs; its end (as -SIGKILL when unknown) once it has exited."""
        if self.returncode is None and select.select([self._fd], [], [], 0)[0]:
            self.returncode = -signal.SIGKILL
            os.close(self._fd)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Block until the kernel has exited."""
        if self.returncode is None:
            select.select([self._fd], [], [], timeout)
        return self.poll() if self.poll() is not None else 0

    def send_signal(self, signum: int) -> None:
        """Signal the kernel."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signum)

    def kill(self) -> None:
        """Kill the kernel."""
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        """Ask the kernel to stop."""
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """Launch each kernel as a fork of the job's warm kernel factory, not as a new interpreter."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        """Ask the factory to fork a kernel running ``cmd``'s ipykernel arguments."""
        if _factory is None:
            return await super().launch_kernel(cmd, **kwargs)
        arguments = cmd[cmd.index("ipykernel_launcher") + 1 :] if "ipykernel_launcher" in cmd else cmd[3:]
        env = dict(kwargs.get("env") or os.environ)
        _send(_factory, {"argv": arguments, "env": env, "cwd": str(kwargs.get("cwd") or os.getcwd())})
        reply = _receive(_factory)
        if not reply or "pid" not in reply:
            raise RuntimeError("the kernel factory did not start a kernel")
        self.process = ForkedProcess(reply["pid"])
        self.pid = reply["pid"]
        self.pgid = reply["pid"]
        self.cwd = kwargs.get("cwd", Path.cwd())
        return self.connection_info


def _become_kernel(request: dict[str, Any], threads: int) -> None:
    """In a fresh fork: a kernel of its own (session, folder, environment, seeds, pools), then run it."""
    os.setsid()
    os.closerange(3, 4096)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    import tempfile

    import numpy as np
    from threadpoolctl import threadpool_limits

    tempfile.tempdir = None
    backend = os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel
    if "matplotlib" in sys.modules:  # imported by the zygote, before the kernel's environment existed
        sys.modules["matplotlib"].rcParams["backend"] = backend
    random.seed()
    np.random.seed()
    threadpool_limits(threads)
    from ipykernel import kernelapp

    sys.argv = ["ipykernel_launcher", *request["argv"]]
    app = kernelapp.IPKernelApp.instance()
    app.initialize(request["argv"])
    _inline_figures(app.shell, backend)
    app.start()
    os._exit(0)


def _inline_figures(shell: Any, backend: str) -> None:
    """What importing matplotlib's inline backend does in a fresh kernel (the zygote imported it)."""
    if "matplotlib.pyplot" in sys.modules and backend.endswith("backend_inline"):
        from IPython.core.pylabtools import activate_matplotlib
        from matplotlib_inline.backend_inline import configure_inline_support

        activate_matplotlib(backend)
        configure_inline_support(shell, backend)


def _serve_kernels(sock: socket.socket, threads: int) -> None:
    """The kernel factory: fork a kernel per request until the executor goes away."""
    signal.signal(signal.SIGCHLD, _reap)
    while (request := _receive(sock)) is not None:
        pid = os.fork()
        if pid == 0:
            sock.close()
            _become_kernel(request, threads)
        _send(sock, {"pid": pid})
    os._exit(0)


def start_kernel_factory(threads: int) -> None:
    """In the executor, before any event loop or socket: fork the factory, use it for every kernel."""
    global _factory
    mine, theirs = socket.socketpair()
    if os.fork() == 0:
        mine.close()
        _serve_kernels(theirs, threads)
    theirs.close()
    _factory = mine
    from importlib.metadata import EntryPoint

    from jupyter_client.provisioning.factory import KernelProvisionerFactory

    factory = KernelProvisionerFactory.instance()
    group = "jupyter_client.kernel_provisioners"  # as pyproject.toml registers it
    factory.provisioners.setdefault(
        PROVISIONER, EntryPoint(PROVISIONER, f"{__name__}:ForkProvisioner", group)
    )
    factory.default_provisioner_name = PROVISIONER


class Zygote:
    """A warm process, outside every sandbox, that forks one job process per request."""

    def __init__(self, environment: dict[str, str]) -> None:
        mine, theirs = socket.socketpair()
        command = [sys.executable, "-m", "grader.zygote", str(theirs.fileno())]
        self.process = subprocess.Popen(command, env=environment, pass_fds=[theirs.fileno()], close_fds=True)
        theirs.close()
        self._sock = mine
        self._lock = threading.Lock()
        ready = _receive(mine)
        if not ready or not ready.get("ready"):
            raise RuntimeError("the zygote did not start")

    def spawn(self, run: Any, limits: Any, mode: str) -> int:
        """Fork a job process for ``run``; its pid (the job is the zygote's child, reaped there)."""
        with self._lock:
            request = {"run": asdict(run), "limits": asdict(limits), "mode": mode}
            self._sock.sendall(json.dumps(request, default=str).encode() + b"\n")
            reply = _receive(self._sock)
        if not reply or "pid" not in reply:
            raise RuntimeError("the zygote did not fork a job")
        return reply["pid"]

    def close(self) -> None:
        """Stop the zygote."""
        self._sock.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        if self.process.poll() is None:
            self.process.kill()


def _serve_jobs(sock: socket.socket) -> None:
    """The zygote: import everything once, then fork a job per request."""
    import importlib

    from grader import sandbox

    for module in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    signal.signal(signal.SIGCHLD, _reap)
    _send(sock, {"ready": True})
    while (request := _receive(sock)) is not None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            sock.close()
            run = sandbox.run_from(request["run"])
            sandbox.job(run, sandbox.Limits(**request["limits"]), request["mode"], forked=True)
        _send(sock, {"pid": pid})


if __name__ == "__main__":
    _serve_jobs(socket.socket(fileno=int(sys.argv[1])))
