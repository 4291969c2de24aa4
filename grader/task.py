"""One submission's execution, self-contained: the probed notebook's bytes in, the executed notebook's out.

``grade`` repairs a submission and puts probes in it (:func:`grader.core.prepare`), then hands a
:class:`Task` to a place that executes it: this machine (:class:`Place`) or a Dask worker, which
needs nothing of the instructor's folders, only the course package installed. What comes back is
data; the verdicts are computed by the grader (:func:`grader.core.conclude`).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.sandbox import CELL_TIMEOUT, Limits, Run, bare_environment, execute_isolated, isolation

MAX_EXECUTED_BYTES = 256 * 2**20  # the largest executed notebook read back


@dataclass(frozen=True)
class Task:
    """What executing one submission needs: its lesson, its probed notebook (bytes) and its limits."""

    lesson: str
    notebook: bytes
    cell_timeout: int = CELL_TIMEOUT
    limits: Limits = field(default_factory=Limits)


@dataclass(frozen=True)
class Executed:
    """What a task gives back: the executed notebook's bytes (untrusted) or None, and why not."""

    notebook: bytes | None
    problem: str = ""

    def parsed(self) -> Any:
        """The executed notebook, parsed as data only (a NotebookNode), or None if there is none."""
        import nbformat

        if self.notebook is None:
            return None
        try:
            return nbformat.reads(self.notebook.decode("utf-8", errors="replace"), as_version=4)
        except Exception:
            return None


@dataclass(frozen=True)
class Place:
    """Where tasks execute on this machine: a scratch folder, threads per task, what to hide, a zygote."""

    scratch: Path
    threads: int = 1
    hidden: tuple[Path, ...] = ()
    zygote: Any = None
    keep: bool = False


def package() -> tuple[Path, ...]:
    """What of the course a sandbox may read: the package students install, and the executor's code."""
    import augcourse

    return (Path(augcourse.__file__).parent, Path(__file__).parent)


def perform(task: Task, place: Place | None = None, warm: bool = True) -> Executed:
    """Execute ``task`` in a sandbox at ``place``; by default this process's own, as on a Dask worker.

    At its own place, a process forks kernels from a zygote of its own where ``warm`` (and possible).
    """
    zygote = place.zygote if place else (_own_zygote() if warm else None)
    place = place or _own_place()
    lesson = re.sub(r"[^\w.-]", "_", task.lesson)[:64]
    unit = Path(tempfile.mkdtemp(prefix=f"{lesson}-", dir=place.scratch))
    try:
        notebook = unit / "in" / "notebook.ipynb"
        notebook.parent.mkdir()
        notebook.write_bytes(task.notebook)
        hidden = (*place.hidden, place.scratch)
        run = Run(notebook, unit / "home", task.cell_timeout, package(), hidden, place.threads)
        problem = execute_isolated(run, task.limits, zygote=zygote)
        return Executed(_read_back(run.executed), problem)
    finally:
        if not place.keep:
            shutil.rmtree(unit, ignore_errors=True)


def _read_back(path: Path) -> bytes | None:
    """The executed notebook's bytes, unless missing or over :data:`MAX_EXECUTED_BYTES`."""
    if not path.is_file() or path.stat().st_size > MAX_EXECUTED_BYTES:
        return None
    return path.read_bytes()


def start_zygote(scratch: Path, threads: int) -> Any:
    """A warm zygote for tasks at this place, where namespaces work (else None, with a note)."""
    if not isolation():
        return None
    from grader.zygote import Zygote

    home = scratch / "zygote"
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    try:
        return Zygote(bare_environment(home, threads))
    except (OSError, RuntimeError) as error:
        print(f"note: kernels start afresh (the zygote did not start: {error})", file=sys.stderr)
        return None


_own: dict[str, Any] = {}
_own_lock = threading.Lock()


def _own_place() -> Place:
    """This process's place, made once: a scratch folder of its own, its share of the machine's cores."""
    with _own_lock:
        if "place" not in _own:
            scratch = Path(tempfile.mkdtemp(prefix="grading-worker-"))
            _own["place"] = Place(scratch, max(1, (os.cpu_count() or 1) // _slots()))
            atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        return _own["place"]


def _own_zygote() -> Any:
    """This process's zygote, started at its first warm task (None where namespaces do not work)."""
    place = _own_place()
    with _own_lock:
        if "zygote" not in _own:
            _own["zygote"] = start_zygote(place.scratch, place.threads)
            if _own["zygote"] is not None:
                atexit.register(_own["zygote"].close)
        return _own["zygote"]


def _slots() -> int:
    """How many tasks run at once on this machine: the threads of its Dask workers (outside Dask, one)."""
    with contextlib.suppress(ImportError, ValueError):
        from distributed import get_client, get_worker

        worker = get_worker()
        workers = get_client().scheduler_info(n_workers=-1)["workers"].values()
        return max(worker.state.nthreads, sum(w["nthreads"] for w in workers if w["host"] == worker.host))
    return 1
