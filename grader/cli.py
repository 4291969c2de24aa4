"""The command line: one verb per sub-command, each a thin layer over its module."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.errors import CourseError
from grader.manifest import find_root, load_course
from grader.sandbox import CELL_TIMEOUT


def _build(args: argparse.Namespace) -> int:
    from grader.build import build, check

    root = find_root()
    course = load_course(root)
    if args.check:
        problems = check(root, course)
        for problem in problems:
            print(f"out of date: {problem}")
        if problems:
            print("Run `python -m grader build` and commit the result.")
            return 1
        print(f"notebooks/ and README.md match solutions/ and course.yml ({len(course.lessons)} lessons).")
        return 0
    for path in build(root, course):
        print(f"wrote {path.relative_to(root)}")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from grader.validate import validate_course

    root = find_root()
    course = load_course(root)
    for lesson_id in args.lessons:
        course.lesson(lesson_id)
    problems = validate_course(root, course, args.lessons or None)
    for problem in problems:
        print(problem)
    if not problems:
        print("Every solution passes all its tests; every student version passes none.")
    return 1 if problems else 0


def _grade(args: argparse.Namespace) -> int:
    from grader.grade import Options, grade
    from grader.sandbox import Limits

    root = find_root()
    limits = Limits(notebook_timeout=args.notebook_timeout, memory_bytes=int(args.memory * 2**30))
    options = Options(
        args.workers, args.timeout, limits, args.scheduler, args.keep_scratch, args.db, not args.no_zygote
    )
    results = grade(root, load_course(root), Path(args.submissions), Path(args.out), options)
    for r in results:
        note = f"  ({r.reason})" if r.reason else ""
        print(f"{r.lesson:28} {r.student:20} {r.score:5g} / {r.max_score:g}  {r.status}{note}")
    out = Path(args.out)
    print(f"\nGrades: {out / 'grades.csv'}; class report: {out / 'index.html'}")
    print(f"Feedback per student: {out / 'feedback'}/; alike answers: {out / 'similarity.csv'}")
    if (args.db or "").lower() != "none":
        print(f"Gradebook: {args.db or 'gradebook.db'} (formgrader, nbgrader export)")
    return 0


def _export(args: argparse.Namespace) -> int:
    from grader.export import export

    root = find_root()
    out = Path(args.out or f"grades-{args.to}.csv")
    roster = Path(args.roster) if args.roster else None
    done = export(load_course(root), Path(args.grades), args.to, out, roster, args.by)
    print(f"wrote {out}: {done.rows} students, for {args.to}")
    if done.missing:
        print(f"on the roster, no submission ({len(done.missing)}): {', '.join(done.missing)}")
    if done.unknown:
        left = " (left out of the file)" if args.to != "csv" else ""
        print(f"submissions with no roster entry{left} ({len(done.unknown)}): {', '.join(done.unknown)}")
    return 0


def _doctor(args: argparse.Namespace) -> int:
    import nbformat

    from grader.collect import identify, lesson_signatures
    from grader.doctor import diagnose

    root = find_root()
    course = load_course(root)
    path = Path(args.notebook)
    if not path.is_file():
        print(f"error: {path} is not a file", file=sys.stderr)
        return 2
    found = identify(path, Path(path.name), lesson_signatures(root, course))
    if found.problem or not found.lesson:
        print(f"✗ {path}: {found.problem or 'no cell matches any lesson of this course'}")
        return 1
    lesson = course.lesson(found.lesson)
    diagnosis = diagnose(path, root / "notebooks" / lesson.notebook)
    print(f"{path}: lesson {lesson.id} ({lesson.title})")
    for note in diagnosis.repairs or ["nothing to repair: it will be graded as it is"]:
        print(f"  - {note}")
    if args.write and diagnosis.notebook is not None:
        target = path.with_name(f"{lesson.id}.repaired.ipynb")
        nbformat.write(diagnosis.notebook, target)
        print(f"wrote {target}: the notebook as it will be graded")
    return 0


def _progress(args: argparse.Namespace) -> int:
    from grader.standing import progress

    progress(Path(args.path), timeout=args.timeout)
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m grader``."""
    main = argparse.ArgumentParser(
        prog="python -m grader",
        description="Build, validate and grade the course's notebooks.",
    )
    verbs = main.add_subparsers(dest="verb", required=True, metavar="VERB")
    build = verbs.add_parser("build", help="generate notebooks/ and the README table from solutions/")
    build.add_argument("--check", action="store_true", help="fail if the committed files differ")
    build.set_defaults(run=_build)
    validate = verbs.add_parser("validate", help="solutions pass all tests; student versions none")
    validate.add_argument("lessons", nargs="*", metavar="LESSON", help="lesson ids (default: all)")
    validate.set_defaults(run=_validate)
    grade = verbs.add_parser("grade", help="autograde submissions; write grades and feedback")
    grade.add_argument("submissions", metavar="SUBMISSIONS", help="a folder or zip of notebooks")
    grade.add_argument("--out", default="reports", help="report folder (default: reports/)")
    add = grade.add_argument
    add("--workers", type=int, default=os.cpu_count() or 1, help="parallel graders (default: cores)")
    add("--timeout", type=int, default=CELL_TIMEOUT, help=f"seconds per cell (default: {CELL_TIMEOUT})")
    add("--notebook-timeout", type=int, default=900, help="seconds per notebook (default: 900)")
    add("--memory", type=float, default=6, help="GiB of memory per submission (default: 6)")
    add("--scheduler", default=None, help="a Dask scheduler address (tcp://host:port): grade on it")
    add("--keep-scratch", action="store_true", help="keep the grading scratch folder (for debugging)")
    add("--no-zygote", action="store_true", help="start every kernel afresh instead of forking a warm one")
    add("--db", default=None, help="nbgrader gradebook URL (default: the course's gradebook.db; none: skip)")
    grade.set_defaults(run=_grade)
    export = verbs.add_parser("export", help="write grades.csv as the file Canvas or Moodle imports")
    export.add_argument("--to", choices=["canvas", "moodle", "csv"], required=True, help="the LMS or csv")
    export.add_argument("--roster", help="students: an LMS gradebook export, or student_id,name,email")
    export.add_argument("--out", help="file to write (default: grades-<to>.csv)")
    export.add_argument("--grades", default="reports/grades.csv", help="grades (default: reports/grades.csv)")
    export.add_argument("--by", choices=["email", "idnumber"], help="Moodle: match users by (default: email)")
    export.set_defaults(run=_export)
    doctor = verbs.add_parser("doctor", help="check a notebook before handing it in; show repairs")
    doctor.add_argument("notebook", metavar="NOTEBOOK", help="the .ipynb file to check")
    doctor.add_argument("--write", action="store_true", help="also write the repaired notebook beside it")
    doctor.set_defaults(run=_doctor)
    progress = verbs.add_parser("progress", help="run your lesson notebooks as a grader would; show points")
    progress.add_argument("path", nargs="?", default="notebooks", help="lessons folder or notebook")
    progress.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    progress.set_defaults(run=_progress)
    return main


def main(argv: list[str] | None = None) -> int:
    """Run one verb; a problem with the input is one clear message and a non-zero exit."""
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except CourseError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
