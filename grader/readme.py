"""The README's lesson table, generated from course.yml between two marker comments."""

from __future__ import annotations

import re

from grader.manifest import Course

START, END = "<!-- lessons:start -->", "<!-- lessons:end -->"
BADGE = "https://colab.research.google.com/assets/colab-badge.svg"


def lesson_table(course: Course) -> str:
    """A markdown table: number, lesson (linked to its notebook), objectives, Colab badge."""
    rows = ["| # | Lesson | You will | Colab |", "|---|---|---|---|"]
    for number, lesson in enumerate(course.lessons, start=1):
        link = f"[{lesson.title}](notebooks/{lesson.notebook})"
        goals = "<br>".join(lesson.objectives)
        colab = f"[![Open In Colab]({BADGE})]({course.colab_url(lesson)})"
        rows.append(f"| {number} | {link} | {goals} | {colab} |")
    return "\n".join(rows)


def render_readme(text: str, course: Course) -> str:
    """``text`` with the block between the markers replaced by the current lesson table."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"README.md has no {START} … {END} block for the lesson table")
    block = f"{START}\n<!-- generated from course.yml by `python -m grader build`; do not edit -->\n"
    return pattern.sub(lambda _: f"{block}{lesson_table(course)}\n{END}", text, count=1)
