"""nbgrader preprocessors of the course, one per module (registered in ``nbgrader_config.py``)."""

from grader.preprocessors.apply_points import ApplyPoints
from grader.preprocessors.colab_cells import ColabCells
from grader.preprocessors.kernel_metadata import KernelMetadata
from grader.preprocessors.next_lesson import NextLessonLink
from grader.preprocessors.resilient_execute import ResilientExecute

__all__ = ["ApplyPoints", "ColabCells", "KernelMetadata", "NextLessonLink", "ResilientExecute"]
