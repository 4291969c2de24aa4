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


def died_output() -> NotebookNode:
    """The error output recorded in the cell that killed the kernel."""
    return NotebookNode(output_type="error", ename="DeadKernelError", evalue=DIED, traceback=[DIED])


class ResilientExecute(Execute):
    """Run every cell; when the kernel dies, mark that cell, restart, replay the cells before it."""

    max_restarts = Integer(3, help="kernel restarts allowed per notebook").tag(config=True)

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
            for index in range(start, len(self.nb.cells)):
                try:
                    self.preprocess_cell(self.nb.cells[index], resources, index)
                except DeadKernelError:
                    self.nb.cells[index].outputs = [died_output()]
                    dead.add(index)
                    return index + 1
        return len(self.nb.cells)
