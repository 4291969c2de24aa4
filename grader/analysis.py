"""Item analysis for the class report: how each question went, and the mistakes behind wrong answers.

Every judge names the kind of mistake it found; counting them per question shows an instructor
what to re-teach, for code exercises and multiple-choice questions alike. Where the question
differs per student (the graded test), items are the bank's questions rather than the cells.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from grader.results import Result


@dataclass
class Item:
    """One question across the class."""

    lesson: str
    key: str
    title: str
    attempts: int = 0
    full_marks: int = 0
    mistakes: Counter = field(default_factory=Counter)

    @property
    def share_correct(self) -> float:
        """Share of graded submissions with full marks on this question."""
        return self.full_marks / self.attempts if self.attempts else 0.0

    def common_mistakes(self) -> list[tuple[str, int]]:
        """(kind of mistake, how many made it), most frequent first."""
        return self.mistakes.most_common()


def items(results: list[Result]) -> list[Item]:
    """Per-question statistics over the graded submissions, in lesson and notebook order."""
    table: dict[tuple[str, str], Item] = {}
    for result in (r for r in results if r.status == "graded"):
        for question in result.questions:
            key = (result.lesson, question.item or question.grade_id)
            item = table.setdefault(
                key, Item(*key, title=question.item or question.title or question.grade_id)
            )
            item.attempts += 1
            item.full_marks += question.passed
            if not question.passed:
                item.mistakes[question.mistake or "wrong"] += 1
    return list(table.values())
