"""Write what grading found: grades.csv (nbgrader's columns), a class report, feedback pages.

Late penalties (course.yml's due dates and late policy) fill nbgrader's ``late_submission_penalty``;
scores an instructor set by hand in the gradebook (formgrader) replace the autograder's and are
marked; pairs of unusually alike answers go to ``similarity.csv`` and the class report.
"""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

import mistune
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from grader.analysis import items
from grader.late import Lateness, assess
from grader.manifest import Course
from grader.results import Result
from grader.similarity import Pair, write_similarity

# Scores set by hand: (student, lesson) -> {grade id: (score set by hand, the autograder's score)}.
Manual = dict[tuple[str, str], dict[str, tuple[float, float]]]

# The columns of nbgrader's CsvExportPlugin, then why a submission was not graded normally.
NBGRADER_COLUMNS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
]
COLUMNS = [*NBGRADER_COLUMNS, "status", "reason", "set_by_hand"]

_templates = Environment(loader=PackageLoader("grader"), autoescape=select_autoescape(["j2"]))
_markdown = mistune.create_markdown(escape=True)
_templates.filters["markdown"] = lambda text: Markup(_markdown(text or ""))


def _row(result: Result, late: Lateness, hand: dict[str, tuple[float, float]]) -> dict[str, str]:
    return {
        "assignment": result.lesson,
        "duedate": late.due.isoformat() if late.due else "",
        "timestamp": result.timestamp,
        "student_id": result.student,
        "last_name": "",
        "first_name": "",
        "email": "",
        "raw_score": f"{result.score:g}",
        "late_submission_penalty": f"{late.penalty:g}",
        "score": f"{max(0.0, result.score - late.penalty):g}",
        "max_score": f"{result.max_score:g}",
        "status": result.status,
        "reason": result.reason,
        "set_by_hand": " ".join(f"{gid}={score:g}" for gid, (score, _) in sorted(hand.items())),
    }


def write_grades(
    results: list[Result], path: Path, course: Course | None = None, manual: Manual | None = None
) -> None:
    """grades.csv: one row per student and lesson, sorted; penalties where ``course`` gives due dates."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for result in sorted(results, key=lambda r: (r.lesson, r.student)):
            late = assess(course, result) if course else Lateness()
            writer.writerow(_row(result, late, (manual or {}).get((result.student, result.lesson), {})))


def write_feedback(
    course: Course, result: Result, out: Path, hand: dict[str, tuple[float, float]] | None = None
) -> Path:
    """One HTML page for a student's lesson: score, lateness, reason, and per-question messages."""
    title = course.by_id[result.lesson].title if result.lesson in course.by_id else result.lesson
    late = assess(course, result)
    page = _templates.get_template("feedback.html.j2").render(
        result=result, title=title, late=late, final=max(0.0, result.score - late.penalty), hand=hand or {}
    )
    path = out / "feedback" / result.student / f"{result.lesson}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def score_plot(results: list[Result], max_score: float) -> str:
    """A histogram of scores, as base64 PNG for the class report."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(figsize=(6, 2.6))
    axes.hist(
        [r.score for r in results],
        bins=int(max_score) + 1,
        range=(-0.5, max_score + 0.5),
        color="#3b7dd8",
        edgecolor="white",
    )
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("score")
    axes.set_ylabel("students")
    axes.set_title(f"Scores (out of {max_score:g})")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def write_class_report(
    course: Course,
    results: list[Result],
    out: Path,
    manual: Manual | None = None,
    similar: list[Pair] | None = None,
) -> Path:
    """index.html: scores, item analysis, late work, scores set by hand, alike answers, problems."""
    lessons = [lesson.id for lesson in course.lessons if any(r.lesson == lesson.id for r in results)]
    by_lesson = {lid: [r for r in results if r.lesson == lid] for lid in lessons}
    all_items = items(results)
    ordered = sorted(results, key=lambda r: (r.lesson, r.student))
    lateness = [(r, assess(course, r)) for r in ordered]
    page = _templates.get_template("class_report.html.j2").render(
        course=course,
        results=results,
        graded=sum(r.status == "graded" for r in results),
        problems=[r for r in results if r.status != "graded" or r.notes],
        titles={lesson.id: lesson.title for lesson in course.lessons},
        plots={lid: score_plot(rs, max(r.max_score for r in rs)) for lid, rs in by_lesson.items()},
        lesson_items={lid: [i for i in all_items if i.lesson == lid] for lid in lessons},
        late=[(r, late) for r, late in lateness if late.late],
        manual=sorted((manual or {}).items()),
        similar={lid: [p for p in similar or [] if p.lesson == lid] for lid in lessons},
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


def write_reports(
    course: Course,
    results: list[Result],
    out: Path,
    manual: Manual | None = None,
    similar: list[Pair] | None = None,
) -> None:
    """grades.csv, the class report, feedback pages, and similarity.csv when ``similar`` is given."""
    out.mkdir(parents=True, exist_ok=True)
    write_grades(results, out / "grades.csv", course, manual)
    if similar is not None:
        write_similarity(similar, out / "similarity.csv")
    write_class_report(course, results, out, manual, similar)
    for result in results:
        write_feedback(course, result, out, (manual or {}).get((result.student, result.lesson)))
