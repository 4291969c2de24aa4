"""What grading one submission produced, stored as JSON so that a run can resume."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel


class QuestionResult(BaseModel):
    """One graded test cell."""

    grade_id: str
    score: float
    max_score: float
    feedback: str = ""
    title: str = ""
    mistake: str = ""  # the kind of mistake the judge found ("" when right)
    item: str = ""  # the bank item judged, where it differs per student

    @property
    def passed(self) -> bool:
        """Full marks on this question."""
        return self.score >= self.max_score


class Result(BaseModel):
    """One student's submission of one lesson."""

    student: str
    lesson: str
    source: str
    digest: str
    status: Literal["graded", "invalid", "failed"]
    reason: str = ""
    score: float = 0.0
    max_score: float = 0.0
    timestamp: str = ""
    notes: list[str] = []
    answers: dict[str, str] = {}
    questions: list[QuestionResult] = []

    def path(self, out: Path) -> Path:
        """Where this result is stored under a report folder."""
        return result_path(out, self.student, self.lesson)

    def save(self, out: Path) -> None:
        """Write the result atomically (a killed run never leaves half a file)."""
        target = self.path(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        partial.replace(target)


def result_path(out: Path, student: str, lesson: str) -> Path:
    """The JSON file of one student's lesson under a report folder."""
    return out / "results" / student / f"{lesson}.json"


def file_digest(path: Path) -> str:
    """SHA-256 of a submitted file, to tell a finished result from a stale one."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_result(out: Path, student: str, lesson: str, digest: str) -> Result | None:
    """A stored result for exactly this file, or None."""
    path = result_path(out, student, lesson)
    try:
        result = Result.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return result if result.digest == digest else None
