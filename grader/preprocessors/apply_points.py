"""Set each grade cell's points from course.yml (1 point where the manifest is silent)."""

from __future__ import annotations

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade
from traitlets import Dict, Float


class ApplyPoints(NbGraderPreprocessor):
    """Give grade cells the points the manifest names for them."""

    points = Dict(help="lesson id -> {grade_id: points}").tag(config=True)
    default = Float(1.0, help="points of a grade cell the manifest does not name").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        lesson = resources["nbgrader"]["assignment"]
        wanted = dict(self.points.get(lesson, {}))
        for cell in nb.cells:
            if is_grade(cell) and cell.cell_type == "code":
                grade_id = cell.metadata.nbgrader["grade_id"]
                cell.metadata.nbgrader["points"] = wanted.pop(grade_id, self.default)
        if wanted:
            unknown = ", ".join(sorted(wanted))
            raise ValueError(f"course.yml gives points to {unknown}, not a test cell of {lesson}")
        return nb, resources
