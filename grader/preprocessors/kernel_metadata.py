"""Give a student notebook the kernel metadata its kernel reports, so that opening it changes nothing.

When JupyterLab connects a notebook to its kernel it writes the kernel's ``kernelspec`` and the
``language_info`` from its ``kernel_info`` reply into the notebook's metadata, and marks the notebook
modified unless each value equals, key for key, what the file already holds. A file that carries
only ``{"name": "python", "version": "3.11"}`` therefore opens as a modified tab for every student.
This writes ipykernel's full ``language_info`` (the version of the course's runtime Python) and its
``kernelspec`` instead.
"""

from __future__ import annotations

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

# What ipykernel (6 and 7) reports, apart from the version: ``IPythonKernel.language_info``.
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
# The Python of the runtime the course is built and tested on, to the patch release: course.yml
# pins "3.11", but the kernel reports the patch too, and JupyterLab compares the whole string.
REFERENCE_PYTHON = "3.11.7"
# What JupyterLab writes for ipykernel's "python3" kernel: its name, display name and language.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class KernelMetadata(NbGraderPreprocessor):
    """Set ``kernelspec`` and ``language_info`` to what the course's kernel reports."""

    python = Unicode(REFERENCE_PYTHON, help="the Python version the kernel reports").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        nb.metadata["kernelspec"] = NotebookNode(KERNELSPEC)
        info = {**LANGUAGE_INFO, "version": self.python}
        nb.metadata["language_info"] = NotebookNode(
            {k: NotebookNode(v) if isinstance(v, dict) else v for k, v in info.items()}
        )
        return nb, resources
