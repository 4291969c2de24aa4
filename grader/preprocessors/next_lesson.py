"""Close a student notebook with a link to the next lesson of the course."""

from __future__ import annotations

from nbformat import NotebookNode
from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Dict, Unicode


class NextLessonLink(NbGraderPreprocessor):
    """Append a markdown cell that points at the next lesson, or back to the course."""

    lessons = Dict(help="lesson id -> [next id, next title, next Colab URL], or [] for the last")
    lessons.tag(config=True)
    readme = Unicode("../../README.md", help="link to the course overview").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        following = self.lessons.get(resources["nbgrader"]["assignment"]) or []
        if following:
            next_id, title, colab = following
            text = (
                f"## Next\n\n**{title}**: [open it in JupyterLab](../{next_id}/{next_id}.ipynb)"
                f" or [in Colab]({colab})."
            )
        else:
            text = f"## Next\n\nThis was the last lesson. Back to the [course overview]({self.readme})."
        nb.cells.append(new_markdown_cell(text, id="next-lesson"))
        return nb, resources
