"""Does the build turn solutions/ into notebooks/ deterministically, as stock nbgrader does?"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.build import check
from grader.readme import START, lesson_table


def test_committed_notebooks_and_readme_are_up_to_date(root, course):
    assert check(root, course) == []


def copy_course(root: Path, target: Path) -> Path:
    for name in ("solutions", "notebooks"):
        shutil.copytree(root / name, target / name)
    for name in ("course.yml", "nbgrader_config.py", "README.md"):
        shutil.copy(root / name, target / name)
    return target


def test_a_hand_edit_of_a_student_notebook_is_caught(root, course, tmp_path):
    copy = copy_course(root, tmp_path)
    notebook = copy / "notebooks" / course.lessons[0].notebook
    notebook.write_text(notebook.read_text().replace("## ", "## Edited ", 1))
    (copy / "README.md").write_text((copy / "README.md").read_text().replace("| 1 |", "| one |"))
    problems = check(copy, course)
    assert any("differs from what solutions/ builds" in p for p in problems)
    assert any("README.md" in p for p in problems)


@pytest.mark.slow
def test_stock_nbgrader_reproduces_notebooks_byte_for_byte(root, course, tmp_path):
    copy = copy_course(root, tmp_path)
    shutil.rmtree(copy / "notebooks")
    nbgrader = Path(sys.executable).with_name("nbgrader")
    for lesson in course.lessons:
        subprocess.run(
            [str(nbgrader), "generate_assignment", lesson.id, "--no-db", "--force"],
            cwd=copy,
            check=True,
            capture_output=True,
        )
        built = (copy / "notebooks" / lesson.notebook).read_bytes()
        assert built == (root / "notebooks" / lesson.notebook).read_bytes(), lesson.id


def test_readme_table_links_every_lesson_to_its_notebook_and_colab(root, course):
    readme = (root / "README.md").read_text()
    assert START in readme and lesson_table(course) in readme
    for lesson in course.lessons:
        assert f"(notebooks/{lesson.notebook})" in readme
        assert (root / "notebooks" / lesson.notebook).is_file()
        assert course.colab_url(lesson) in readme


def test_student_notebooks_carry_badge_install_cell_and_next_link(root, course):
    for lesson in course.lessons:
        cells = json.loads((root / "notebooks" / lesson.notebook).read_text())["cells"]
        ids = [cell["id"] for cell in cells]
        assert ids[1:3] == ["colab-badge", "colab-install"] and ids[-1] == "next-lesson"
        assert course.colab_url(lesson) in "".join(cells[1]["source"])
        following = course.next_lesson(lesson.id)
        expected = f"../{following.id}/{following.id}.ipynb" if following else "README.md"
        assert expected in "".join(cells[-1]["source"])


def test_points_come_from_course_yml(root, course, tmp_path):
    from grader.build import BuildError, generate

    quiz = course.lesson("05_practice_quiz")
    weighted = course.model_copy(update={"lessons": [quiz.model_copy(update={"points": {"q6": 3.0}})]})
    generate(root, weighted, tmp_path)
    cells = json.loads((tmp_path / quiz.notebook).read_text())["cells"]
    graded = [c for c in cells if c["metadata"].get("nbgrader", {}).get("grade")]
    points = {c["id"]: c["metadata"]["nbgrader"]["points"] for c in graded}
    assert points == {"q1": 1.0, "q2": 1.0, "q3": 1.0, "q4": 1.0, "q5": 1.0, "q6": 3.0}
    unknown = course.model_copy(update={"lessons": [quiz.model_copy(update={"points": {"q9": 2.0}})]})
    with pytest.raises(BuildError, match="q9"):
        generate(root, unknown, tmp_path / "other")
