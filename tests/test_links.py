"""Does every link a student can click lead somewhere: Colab badges, the README's table, "Next"?"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_markdown_cell, new_notebook

from grader.manifest import Course
from grader.readme import END, START
from tests.conftest import ROOT

COLAB = re.compile(r"https://colab\.research\.google\.com/github/[^\s)\"'>]+")
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|(?:href|src)=[\"']([^\"']+)[\"']")
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)


def student_notebooks() -> list[Path]:
    """Every notebook under notebooks/, checkpoints left out."""
    return sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def markdown(path: Path) -> str:
    """The markdown cells of a notebook, joined."""
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def links(text: str) -> list[str]:
    """Targets of markdown links and images, and of HTML href/src attributes."""
    return [a or b for a, b in LINK.findall(text)]


def broken_relative_links(text: str, folder: Path) -> list[str]:
    """Relative link targets in ``text`` that name no existing file or folder from ``folder``."""
    broken = []
    for target in links(text):
        if EXTERNAL.match(target):
            continue
        path = target.split("#")[0].split("?")[0]
        if path and not (folder / path).exists():
            broken.append(target)
    return broken


def colab_problems(text: str, course: Course, root: Path) -> list[str]:
    """Colab links that course.yml does not generate, or whose file does not exist in the tree."""
    generated = {course.colab_url(lesson) for lesson in course.lessons}
    prefix = f"https://colab.research.google.com/github/{course.repository}/blob/{course.branch}/"
    problems = []
    for url in COLAB.findall(text):
        if url not in generated:
            problems.append(f"{url} is not generated from course.yml")
        if not url.startswith(prefix) or not (root / url.removeprefix(prefix)).is_file():
            problems.append(f"{url} names no file of the repository")
    return problems


def readme_table() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme[readme.index(START) : readme.index(END)]


@pytest.mark.parametrize("path", student_notebooks(), ids=lambda p: p.stem)
def test_notebook_colab_links_are_generated_and_name_existing_files(path, course):
    text = markdown(path)
    assert course.colab_url(course.lesson(path.stem)) in text, "the badge opens this very lesson"
    assert colab_problems(text, course, ROOT) == []


@pytest.mark.parametrize("path", student_notebooks(), ids=lambda p: p.stem)
def test_notebook_relative_links_resolve(path):
    text = markdown(path)
    assert links(text), "a lesson links at least its badge and what comes next"
    assert broken_relative_links(text, path.parent) == []


def test_readme_table_links_every_lesson_in_order_to_existing_files(course):
    table = readme_table()
    colab = COLAB.findall(table)
    assert colab == [course.colab_url(lesson) for lesson in course.lessons]
    assert colab_problems(table, course, ROOT) == []
    local = [t for t in links(table) if not EXTERNAL.match(t)]
    assert local == [f"notebooks/{lesson.notebook}" for lesson in course.lessons]
    assert broken_relative_links(table, ROOT) == []


def test_readme_relative_links_resolve():
    assert broken_relative_links((ROOT / "README.md").read_text(encoding="utf-8"), ROOT) == []


def test_the_checks_catch_a_broken_link_and_a_foreign_colab_link(course, tmp_path):
    bad = course.colab_url(course.lessons[0]).replace(course.repository, "someone/else")
    missing = course.colab_url(course.lessons[0]).replace(".ipynb", "_gone.ipynb")
    cell = new_markdown_cell(f"[next](../99_gone/99_gone.ipynb) ![x](img.png) [c]({bad}) [d]({missing})")
    path = tmp_path / "lesson" / "lesson.ipynb"
    path.parent.mkdir()
    nbformat.write(new_notebook(cells=[cell]), path)
    text = markdown(path)
    assert broken_relative_links(text, path.parent) == ["../99_gone/99_gone.ipynb", "img.png"]
    assert len(colab_problems(text, course, ROOT)) == 4
