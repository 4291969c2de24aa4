"""Item analysis for the class report: how each question went, and which wrong options were chosen."""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field

from augcourse.checks.quiz import LETTERS, QUESTIONS
from grader.results import Result


@dataclass
class Item:
    """One graded question across the class."""

    lesson: str
    grade_id: str
    attempts: int = 0
    full_marks: int = 0
    wrong_options: Counter = field(default_factory=Counter)

    @property
    def share_correct(self) -> float:
        """Share of graded submissions with full marks on this question."""
        return self.full_marks / self.attempts if self.attempts else 0.0

    def mistakes(self) -> list[tuple[str, int, str]]:
        """(option, how many chose it, the common mistake it reveals), most chosen first."""
        known = QUESTIONS[self.grade_id].mistakes if self.grade_id in QUESTIONS else {}
        return [(opt, n, known.get(opt, "")) for opt, n in self.wrong_options.most_common()]


def chosen_option(source: str, name: str) -> str | None:
    """The letter a quiz answer cell assigns to ``name`` (last plain string literal), if any."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    letter = None
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            letter = node.value.value.strip().upper()
    return letter if letter in LETTERS else None


def items(results: list[Result]) -> list[Item]:
    """Per-question statistics over the graded submissions, in lesson and notebook order."""
    table: dict[tuple[str, str], Item] = {}
    for result in (r for r in results if r.status == "graded"):
        for question in result.questions:
            key = (result.lesson, question.grade_id)
            item = table.setdefault(key, Item(*key))
            item.attempts += 1
            item.full_marks += question.passed
            if not question.passed and question.grade_id in QUESTIONS:
                answer = result.answers.get(f"{question.grade_id}_answer", "")
                item.wrong_options[chosen_option(answer, question.grade_id) or "no valid letter"] += 1
    return list(table.values())
