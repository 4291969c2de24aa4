"""``export``: the grades of grades.csv as the file an LMS imports (Canvas, Moodle) or a plain CSV.

Everything happens offline: the scores come from a grading report's grades.csv (what ``grade``
also wrote into the nbgrader gradebook, late penalties and scores set by hand included), and who
is who comes from a roster file, such as the gradebook a Canvas or Moodle course exports.

- **Canvas** (Grades → Import): the identity columns ``Student, ID, SIS User ID, SIS Login ID,
  Section`` of Canvas's own gradebook export, one column per lesson, and a ``Points Possible`` row
  under the header. Canvas matches students by ID, SIS User ID or SIS Login ID, and a column whose
  name is not an assignment yet becomes a new assignment.
- **Moodle** (Grades → Import → CSV file): ``First name, Last name, ID number, Email address`` and
  one column per lesson; at import, "Identify user by" maps the ``Email address`` column to the
  email field (or ``ID number`` to the idnumber field). Moodle stops at a row whose user it cannot
  find, so only students on the roster are written.
- **csv**: student id, name, email, one column per lesson, total.

Students on the roster without a submission get an empty cell (an LMS leaves such a grade as it
is); submissions with no roster entry are listed, and left out of the LMS files.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import CourseError
from grader.manifest import Course

FORMATS = ("canvas", "moodle", "csv")
CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS = "Points Possible"
MOODLE_IDENTITY = ["First name", "Last name", "ID number", "Email address"]
# Roster columns (any case) whose values may be the id that grading knows a student by.
ID_COLUMNS = (
    "student_id",
    "student id",
    "id",
    "sis user id",
    "sis login id",
    "id number",
    "username",
    "login",
)
EMAIL_COLUMNS = ("email", "email address", "e-mail")


class ExportError(CourseError):
    """The grades or the roster cannot be read; the message says which and why."""


@dataclass
class Person:
    """One student on the roster, with what each LMS needs to recognise them."""

    row: dict[str, str]
    keys: set[str] = field(default_factory=set)

    def get(self, *names: str) -> str:
        """The first non-empty value among the columns ``names`` (any case)."""
        lowered = {k.strip().lower(): v for k, v in self.row.items() if k}
        for name in names:
            value = (lowered.get(name.lower()) or "").strip()
            if value:
                return value
        return ""

    @property
    def email(self) -> str:
        return self.get(*EMAIL_COLUMNS)

    @property
    def first_last(self) -> tuple[str, str]:
        first, last = self.get("first name", "first_name", "firstname"), self.get("last name", "last_name")
        if first or last:
            return first, last
        name = self.get("student", "name", "full name")
        if "," in name:  # Canvas writes "Last, First"
            last, first = (part.strip() for part in name.split(",", 1))
            return first, last
        parts = name.rsplit(" ", 1)
        return (parts[0], parts[1]) if len(parts) == 2 else (name, "")

    @property
    def name(self) -> str:
        first, last = self.first_last
        return self.get("student", "name") or " ".join(part for part in (first, last) if part)


@dataclass
class Export:
    """What was written, and the two lists an instructor must look at."""

    rows: int
    missing: list[str]  # on the roster, no submission (roster name or id)
    unknown: list[str]  # a submission whose student is not on the roster


def read_grades(path: Path) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """grades.csv -> ({student: {lesson: score}}, {lesson: max score})."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ExportError(f"Cannot read the grades at {path}: {error.strerror}. Run `grade` first.") from None
    rows = list(csv.DictReader(io.StringIO(text)))
    needed = {"assignment", "student_id", "score", "max_score"}
    if not rows or not needed <= set(rows[0]):
        raise ExportError(
            f"{path} is not a grades.csv written by `grade` (columns {', '.join(sorted(needed))})."
        )
    scores: dict[str, dict[str, float]] = {}
    points: dict[str, float] = {}
    for row in rows:
        try:
            score, top = float(row["score"]), float(row["max_score"])
        except ValueError:
            raise ExportError(f"{path}: a score that is not a number in {row}.") from None
        scores.setdefault(row["student_id"], {})[row["assignment"]] = score
        points[row["assignment"]] = max(points.get(row["assignment"], 0.0), top)
    return scores, points


def read_roster(path: Path) -> list[Person]:
    """A roster CSV: any LMS's gradebook or user export, or columns such as student_id, name, email."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ExportError(f"Cannot read the roster {path}: {error.strerror}.") from None
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = {name.strip().lower() for name in reader.fieldnames or []}
    if not header & {*ID_COLUMNS, *EMAIL_COLUMNS}:
        raise ExportError(
            f"{path} has no column that names a student: give one of student_id, ID, SIS User ID, "
            "SIS Login ID, ID number, Username or Email address."
        )
    people = []
    for row in reader:
        person = Person({k: v for k, v in row.items() if k is not None})
        if "points possible" in person.get("student", "name").lower():
            continue  # the second line of a Canvas export
        ids = {person.get(column) for column in ID_COLUMNS} | {person.email}
        if person.email:
            ids.add(person.email.split("@")[0])
        person.keys = {value.lower() for value in ids if value}
        if person.keys:
            people.append(person)
    return people


def _match(people: list[Person], students: list[str]) -> tuple[dict[str, Person], list[str]]:
    """{student id: roster entry} for the students found on the roster, and those not found."""
    found, unknown = {}, []
    for student in students:
        match = next((p for p in people if student.lower() in p.keys), None)
        if match is None:
            unknown.append(student)
        else:
            found[student] = match
    return found, unknown


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def export(
    course: Course, grades: Path, target: str, out: Path, roster: Path | None = None, by: str | None = None
) -> Export:
    """Write ``out`` in the ``target`` format; return what was written and who is missing or unknown."""
    if target not in FORMATS:
        raise ExportError(f"unknown format {target!r}: choose one of {', '.join(FORMATS)}.")
    scores, points = read_grades(grades)
    lessons = [lesson for lesson in course.lessons if lesson.id in points]
    lessons += [_Unknown(lid) for lid in sorted(points) if lid not in course.by_id]
    students = sorted(scores)
    people = read_roster(roster) if roster else None
    found, unknown = _match(people, students) if people is not None else ({}, [])
    by_person = {id(person): student for student, person in found.items()}
    missing = [p.name or p.get(*ID_COLUMNS) or p.email for p in people or [] if id(p) not in by_person]
    titles = [_title(lesson) for lesson in lessons]
    table: list[list[str]] = []
    if target == "canvas":
        table.append([*CANVAS_IDENTITY, *titles])
        table.append([CANVAS_POINTS, "", "", "", "", *(_cell(points[lesson.id]) for lesson in lessons)])
        entries = _entries(people, students, by_person)
        for person, student in entries:
            table.append(
                [
                    *_canvas_identity(person, student),
                    *(_score(scores, student, lesson.id) for lesson in lessons),
                ]
            )
    elif target == "moodle":
        by = by or ("email" if people and any(p.email for p in people) else "idnumber")
        if by not in ("email", "idnumber"):
            raise ExportError("Moodle identifies users by email or idnumber here: --by email|idnumber.")
        table.append([*MOODLE_IDENTITY, *titles])
        for person, student in _entries(people, students, by_person):
            if student is None:
                continue  # on the roster, no submission: listed in ``missing``; Moodle keeps their grade
            first, last = person.first_last if person else ("", "")
            email = person.email if person else ""
            idnumber = (person.get("id number", "idnumber") if person else "") or student
            if by == "email" and not email:
                unknown.append(f"{student} (no email on the roster)")
                continue
            cells = [_score(scores, student, lesson.id) for lesson in lessons]
            table.append([first, last, idnumber, email, *cells])
    else:
        table.append(
            ["student_id", "name", "email", *(lesson.id for lesson in lessons), "total", "max_total"]
        )
        for student in students:
            person = found.get(student)
            total = sum(scores[student].get(lesson.id, 0.0) for lesson in lessons)
            row = [student, person.name if person else "", person.email if person else ""]
            row += [_score(scores, student, lesson.id) for lesson in lessons]
            table.append([*row, f"{total:g}", f"{sum(points[lesson.id] for lesson in lessons):g}"])
        for person in people or []:
            if id(person) not in by_person:
                table.append(
                    [
                        person.get(*ID_COLUMNS) or person.email,
                        person.name,
                        person.email,
                        *([""] * len(lessons)),
                        "",
                        "",
                    ]
                )
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows(table)
    header_rows = 2 if target == "canvas" else 1
    return Export(len(table) - header_rows, missing, unknown)


@dataclass(frozen=True)
class _Unknown:
    id: str

    @property
    def title(self) -> str:
        return self.id


def _canvas_identity(person: Person | None, student: str | None) -> list[str]:
    """Student, ID, SIS User ID, SIS Login ID, Section: from the roster, else the id grading knows."""
    if person is None:
        return [student or "", "", "", student or "", ""]
    login = person.get("sis login id") or ("" if person.get("id", "sis user id") else student or "")
    return [person.name, person.get("id"), person.get("sis user id"), login, person.get("section")]


def _title(lesson) -> str:
    return f"{lesson.title} ({lesson.id})" if lesson.title != lesson.id else lesson.id


def _score(scores: dict[str, dict[str, float]], student: str | None, lesson: str) -> str:
    return _cell(scores.get(student or "", {}).get(lesson))


def _entries(
    people: list[Person] | None, students: list[str], by_person: dict[int, str]
) -> list[tuple[Person | None, str | None]]:
    """Rows of an LMS file: every roster entry (with its student, if any), or every student without one."""
    if people is None:
        return [(None, student) for student in students]
    return [(person, by_person.get(id(person))) for person in people]
