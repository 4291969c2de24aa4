"""Build the student notebooks (nbgrader's GenerateAssignment) and the README's lesson table."""

from __future__ import annotations

import filecmp
import tempfile
from pathlib import Path

from nbgrader.apps.api import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from grader.errors import CourseError
from grader.manifest import Course
from grader.nbconfig import course_config, venv_on_path
from grader.readme import render_readme


class BuildError(CourseError):
    """A lesson that nbgrader could not turn into a student notebook."""


def generate(root: Path, course: Course, release: Path, *, database: bool = False) -> None:
    """Write every lesson's student notebook under ``release`` (``notebooks/`` by default)."""
    config = course_config(root, course)
    config.CourseDirectory.release_directory = str(release)
    config.GenerateAssignment.no_database = not database
    config.SaveCells.enabled = database
    if database:
        venv_on_path()
        release.mkdir(parents=True, exist_ok=True)
        config.CourseDirectory.db_url = f"sqlite:///{release / 'gradebook.db'}"
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for lesson in course.lessons:
        if not (root / "solutions" / lesson.notebook).is_file():
            raise BuildError(f"{lesson.id}: no solution notebook at solutions/{lesson.notebook}.")
        result = api.generate_assignment(lesson.id, force=True, create=database)
        if not result["success"]:
            errors = [line for line in result.get("log", "").splitlines() if "Error" in line]
            raise BuildError(f"{lesson.id}: nbgrader could not generate it: {' '.join(errors[-2:])}")


def build(root: Path, course: Course) -> list[Path]:
    """Regenerate ``notebooks/`` and the README; return the files written."""
    generate(root, course, root / "notebooks")
    readme = root / "README.md"
    readme.write_text(render_readme(readme.read_text(encoding="utf-8"), course), encoding="utf-8")
    return [root / "notebooks" / lesson.notebook for lesson in course.lessons] + [readme]


def check(root: Path, course: Course) -> list[str]:
    """Rebuild into a temporary folder; return what differs from the committed files."""
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "notebooks"
        generate(root, course, fresh)
        for lesson in course.lessons:
            committed = root / "notebooks" / lesson.notebook
            if not committed.is_file():
                problems.append(f"notebooks/{lesson.notebook} is missing")
            elif not filecmp.cmp(committed, fresh / lesson.notebook, shallow=False):
                problems.append(f"notebooks/{lesson.notebook} differs from what solutions/ builds")
    known = {lesson.id for lesson in course.lessons}
    stray = sorted(p.name for p in (root / "notebooks").glob("*") if p.is_dir() and p.name not in known)
    problems += [f"notebooks/{name} is not a lesson of course.yml" for name in stray]
    readme = (root / "README.md").read_text(encoding="utf-8")
    if render_readme(readme, course) != readme:
        problems.append("README.md's lesson table differs from course.yml")
    return problems
