"""Find the submissions in a folder or zip, and match each notebook to its student and lesson.

Accepted layouts: nbgrader's ``[submitted/]<student>/<lesson>/<file>.ipynb``, a folder per student
``<student>/<any name>.ipynb``, a flat folder of ``<student>.ipynb``, and a zip of any of these.
A notebook is matched to its lesson by its cells (their ids and nbgrader grade ids), so a renamed
file such as ``05_practice_quiz (1).ipynb`` is still graded.
"""

from __future__ import annotations

import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader.doctor import read_submission
from grader.errors import CourseError
from grader.manifest import Course


class CollectError(CourseError):
    """No submissions could be found where the user pointed."""


@dataclass(frozen=True)
class Submission:
    """One notebook handed in: who, for which lesson (None if unknown), and where it is."""

    student: str
    lesson: str | None
    path: Path
    problem: str = ""


def cell_keys(notebook: dict) -> set[str]:
    """What identifies a notebook's cells: their ids and nbgrader grade ids."""
    keys = set()
    for cell in notebook.get("cells", []) if isinstance(notebook, dict) else []:
        if not isinstance(cell, dict):
            continue
        keys.add(f"id:{cell.get('id')}")
        grade_id = (cell.get("metadata") or {}).get("nbgrader", {}).get("grade_id")
        if grade_id:
            keys.add(f"grade:{grade_id}")
    return keys


def lesson_signatures(root: Path, course: Course) -> dict[str, set[str]]:
    """Each lesson's cell keys, from its student notebook."""
    return {
        lesson.id: cell_keys(json.loads((root / "notebooks" / lesson.notebook).read_text("utf-8")))
        for lesson in course.lessons
    }


def _match(keys: set[str], signatures: dict[str, set[str]]) -> str | None:
    scores = {lesson: len(keys & signature) for lesson, signature in signatures.items()}
    best = max(scores, key=scores.get, default=None)
    return best if best and scores[best] > 0 else None


def _named_lesson(path: Path, lesson_ids: list[str]) -> str | None:
    for part in reversed(path.parts):
        for lesson_id in lesson_ids:
            if part == lesson_id or part.startswith(lesson_id):
                return lesson_id
    return None


def _student_of(relative: Path, lesson_ids: list[str]) -> str:
    parts = [p for p in relative.parts[:-1] if p != "submitted" and p not in lesson_ids]
    if parts:
        return parts[0]
    return re.sub(r"\s*\(\d+\)$", "", relative.stem)


def identify(path: Path, relative: Path, signatures: dict[str, set[str]]) -> Submission:
    """Who handed in ``path`` and for which lesson, judged by its place and its content."""
    lesson_ids = list(signatures)
    student = _student_of(relative, lesson_ids)
    named = _named_lesson(relative, lesson_ids)
    notebook, _, problem = read_submission(path)
    if notebook is None:
        return Submission(student, named, path, problem)
    return Submission(student, _match(cell_keys(notebook), signatures) or named, path)


def _unzip(archive: Path, scratch: Path | None) -> Path:
    target = Path(tempfile.mkdtemp(prefix="submissions-", dir=scratch))
    with zipfile.ZipFile(archive) as zf:
        for member in zf.infolist():
            name = Path(member.filename)
            if member.is_dir() or name.is_absolute() or ".." in name.parts:
                continue
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(zf.read(member))
    return target


def collect(source: Path, signatures: dict[str, set[str]], scratch: Path | None = None) -> list[Submission]:
    """Every notebook under ``source`` (a folder or a zip, unpacked in ``scratch``); newest wins per pair."""
    if not source.exists():
        raise CollectError(f"{source} does not exist: give a folder or a zip of submissions.")
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise CollectError(f"{source} is a file but not a zip archive of submissions.")
        source = _unzip(source, scratch)
    paths = sorted(
        p
        for p in source.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and not p.name.startswith(".")
    )
    chosen: dict[tuple[str, str | None], Submission] = {}
    for path in paths:
        found = identify(path, path.relative_to(source), signatures)
        key = (found.student, found.lesson or str(path))
        if key not in chosen or path.stat().st_mtime >= chosen[key].path.stat().st_mtime:
            chosen[key] = found
    if not chosen:
        raise CollectError(f"No notebooks (*.ipynb) found under {source}.")
    return sorted(chosen.values(), key=lambda s: (s.student, s.lesson or ""))
