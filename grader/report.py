"""Write what grading found: grades.csv (nbgrader's columns) and one feedback page per submission."""

from __future__ import annotations

import csv
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from grader.manifest import Course
from grader.results import Result

# The columns of nbgrader's CsvExportPlugin, then why a submission was not graded normally.
NBGRADER_COLUMNS = [
    "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
    "raw_score", "late_submission_penalty", "score", "max_score",
]
COLUMNS = [*NBGRADER_COLUMNS, "status", "reason"]

_templates = Environment(loader=PackageLoader("grader"), autoescape=select_autoescape(["j2"]))


def _row(result: Result) -> dict[str, str]:
    return {
        "assignment": result.lesson, "duedate": "", "timestamp": result.timestamp,
        "student_id": result.student, "last_name": "", "first_name": "", "email": "",
        "raw_score": f"{result.score:g}", "late_submission_penalty": "0",
        "score": f"{result.score:g}", "max_score": f"{result.max_score:g}",
        "status": result.status, "reason": result.reason,
    }


def write_grades(results: list[Result], path: Path) -> None:
    """grades.csv: one row per student and lesson, sorted."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for result in sorted(results, key=lambda r: (r.lesson, r.student)):
            writer.writerow(_row(result))


def write_feedback(course: Course, result: Result, out: Path) -> Path:
    """One HTML page for a student's lesson: score, reason, and per-question messages."""
    title = course.by_id[result.lesson].title if result.lesson in course.by_id else result.lesson
    page = _templates.get_template("feedback.html.j2").render(result=result, title=title)
    path = out / "feedback" / result.student / f"{result.lesson}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def write_reports(course: Course, results: list[Result], out: Path) -> None:
    """grades.csv and feedback pages for every result."""
    out.mkdir(parents=True, exist_ok=True)
    write_grades(results, out / "grades.csv")
    for result in results:
        write_feedback(course, result, out)
