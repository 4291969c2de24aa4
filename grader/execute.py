"""Run a notebook the way grading does: every cell, a dying kernel costing only its cell, outputs capped."""

from __future__ import annotations

from pathlib import Path

from nbformat import NotebookNode
from nbgrader.preprocessors import LimitOutput

from grader.preprocessors import ResilientExecute
from grader.sandbox import CELL_TIMEOUT


def execute(notebook: NotebookNode, folder: Path, timeout: int = CELL_TIMEOUT) -> NotebookNode:
    """Execute ``notebook`` in place in a fresh kernel whose working folder is ``folder``."""
    resources = {"metadata": {"path": str(folder)}}
    runner = ResilientExecute(timeout=timeout, shutdown_kernel="immediate")
    notebook, resources = runner.preprocess(notebook, resources)
    notebook, _ = LimitOutput().preprocess(notebook, resources)
    return notebook
