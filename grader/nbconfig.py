"""nbgrader settings derived from course.yml, shared by ``nbgrader_config.py`` and our verbs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from grader.manifest import Course, find_root, load_course
from grader.preprocessors import ApplyPoints, ColabCells, KernelMetadata, NextLessonLink
from grader.preprocessors.kernel_metadata import REFERENCE_PYTHON


def course_config(root: Path | None = None, course: Course | None = None) -> Config:
    """The nbgrader Config of this course: folders, our preprocessors, their settings."""
    root = root or find_root()
    course = course or load_course(root)
    c = Config()
    c.CourseDirectory.root = str(root)
    c.CourseDirectory.source_directory = "solutions"
    c.CourseDirectory.release_directory = "notebooks"
    ignored = CourseDirectory.class_traits()["ignore"].default()
    c.CourseDirectory.ignore = [*ignored, *(lesson.key for lesson in course.lessons if lesson.key)]
    c.GenerateAssignment.preprocessors = [
        ApplyPoints,
        *GenerateAssignment.class_traits()["preprocessors"].default(),
        ColabCells,
        NextLessonLink,
        KernelMetadata,
    ]
    c.ApplyPoints.points = {lesson.id: lesson.points for lesson in course.lessons}
    c.ColabCells.urls = {lesson.id: course.colab_url(lesson) for lesson in course.lessons}
    c.ColabCells.install_spec = course.install_spec()
    c.NextLessonLink.lessons = {lesson.id: _following(course, lesson.id) for lesson in course.lessons}
    c.KernelMetadata.python = kernel_python(course.runtime.python)
    return c


def kernel_python(python: str) -> str:
    """The Python version student notebooks name in ``language_info``, as the kernel reports it.

    course.yml's ``runtime.python`` when it gives a patch release ("3.11.7"); for a minor release
    ("3.11"), the patch release of the reference runtime, if it is one of that minor release.
    """
    if python.count(".") < 2 and REFERENCE_PYTHON.startswith(f"{python}."):
        return REFERENCE_PYTHON
    return python


def _following(course: Course, lesson_id: str) -> list[str]:
    nxt = course.next_lesson(lesson_id)
    return [nxt.id, nxt.title, course.colab_url(nxt)] if nxt else []


def venv_on_path() -> None:
    """Put this interpreter's bin folder on PATH: nbgrader's gradebook shells out to ``alembic``."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
