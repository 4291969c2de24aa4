"""Add the "Open in Colab" badge and a Colab-only install cell after the title."""

from __future__ import annotations

from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict, Unicode

BADGE = "https://colab.research.google.com/assets/colab-badge.svg"

INSTALL = """\
# In Colab only: install the course package (it brings the checks). Elsewhere this does nothing.
import sys

if "google.colab" in sys.modules:
    %pip install --quiet "{spec}"\
"""


class ColabCells(NbGraderPreprocessor):
    """Insert the badge and the guarded install cell below the notebook's first cell."""

    urls = Dict(help="lesson id -> its Colab address").tag(config=True)
    install_spec = Unicode(help="what pip installs in Colab: the course package").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        url = self.urls[resources["nbgrader"]["assignment"]]
        badge = new_markdown_cell(f"[![Open In Colab]({BADGE})]({url})", id="colab-badge")
        install = new_code_cell(INSTALL.format(spec=self.install_spec), id="colab-install")
        nb.cells[1:1] = [badge, install]
        return nb, resources
