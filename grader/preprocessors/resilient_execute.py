"""nbgrader's Execute, except that a dying kernel costs the cell that killed it, not the notebook."""

from __future__ import annotations

import copy

from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Integer

DIED = (
    "The kernel died while running this cell (os._exit, a crash, or too much memory). "
    "Grading restarted it, re-ran the cells before this one, and went on."
)


STUCK = (
    "Not run: the kernel stopped answering (two cells in a row ran out of time), so the cells "
    "after them were not run."
)


def died_output(message: str = DIED) -> NotebookNode:
    """The error output recorded in a cell the kernel could not run."""
    return NotebookNode(output_type="error", ename="DeadKernelError", evalue=message, traceback=[message])


def timed_out(cell: NotebookNode) -> bool:
    """Whether a cell's execution ran out of time."""
    return any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))


class ResilientExecute(Execute):
    """Run every cell; when the kernel dies, mark that cell, restart, replay the cells before it."""

    max_restarts = Integer(3, help="kernel restarts allowed per notebook").tag(config=True)
    max_timeouts = Integer(2, help="cells in a row that may time out before the rest is not run")
    max_timeouts.tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict | None = None, km=None):
        """Execute ``nb`` in place, as nbconvert does, surviving kernel deaths."""
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        dead: set[int] = set()
        start = 0
        for _ in range(self.max_restarts + 1):
            start = self._run_from(start, dead, resources)
            if start >= len(nb.cells):
                break
        for index in range(start, len(nb.cells)):
            if nb.cells[index].cell_type == "code":
                nb.cells[index].outputs = [died_output()]
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _run_from(self, start: int, dead: set[int], resources: dict | None) -> int:
        """Replay cells before ``start`` silently, run the rest; return where a death stopped it."""
        with self.setup_kernel():
            info = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info["content"]["language_info"]
            for index in range(start):
                if index not in dead and self.nb.cells[index].cell_type == "code":
                    try:
                        self.execute_cell(copy.deepcopy(self.nb.cells[index]), index)
                    except DeadKernelError:
                        dead.add(index)
                        return start
            in_a_row = 0
            for index in range(start, len(self.nb.cells)):
                cell = self.nb.cells[index]
                if in_a_row >= self.max_timeouts:
                    if cell.cell_type == "code":
                        cell.outputs = [died_output(STUCK)]
                    continue
                try:
                    self.preprocess_cell(cell, resources, index)
                except DeadKernelError:
                    cell.outputs = [died_output()]
                    dead.add(index)
                    return index + 1
                if cell.cell_type == "code":
                    in_a_row = in_a_row + 1 if timed_out(cell) else 0
        return len(self.nb.cells)
