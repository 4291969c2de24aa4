"""A table of items, each to be given one verdict from a fixed list (a diagnosis exercise).

The right verdicts are stored as digests; a wrong one gets the hint of its item.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from augcourse.checks.feedback import expect, fail


@dataclass(frozen=True)
class VerdictTable:
    """One exercise: which items, which verdicts, the stored answers and the hints."""

    name: str  # the student's variable, e.g. "diagnosis"
    salt: str
    verdicts: tuple[str, ...]
    answers: dict[str, str]  # item -> digest of its right verdict
    hints: dict[str, str]
    label: str = "{item}"  # how an item is named in a hint, e.g. "model {item}"
    example: str = ""

    def digest(self, item: str, verdict: str) -> str:
        """The stored form of a right verdict."""
        return hashlib.sha256(f"{self.salt}:{item}:{verdict}".encode()).hexdigest()

    def normalize(self, value: object, item: str) -> str:
        """A verdict as one of :attr:`verdicts`; case, spaces, ``-`` and ``_`` do not count."""
        __tracebackhide__ = True
        if type(value) is not str:
            fail(
                f'{self.name}["{item}"] must be one of the verdicts in quotes (a str){self.example}; '
                f"got {value!r} of type {type(value).__name__}."
            )
        verdict = " ".join(str.replace(str.replace(value, "_", " "), "-", " ").lower().split())
        if verdict not in self.verdicts:
            choices = ", ".join(f'"{v}"' for v in self.verdicts)
            fail(f'{self.name}["{item}"] = {value!r} is not one of the verdicts: {choices}.')
        return verdict

    def wrong(self, answer: object, items: tuple[str, ...]) -> list[str]:
        """The items whose verdict is not right, after checking the answer's form."""
        __tracebackhide__ = True
        first = items[0]
        expect(
            type(answer) is dict,
            f"{self.name} must be a dict such as {{'{first}': '{self.verdicts[0]}', ...}}; "
            f"got {type(answer).__name__}.",
        )
        keys = sorted(k for k in answer if type(k) is str)  # type: ignore[union-attr]
        expect(
            len(keys) == len(answer) and keys == sorted(items),  # type: ignore[arg-type]
            f"{self.name} needs exactly one verdict for each of {', '.join(items)}; "
            f"it has the keys {sorted(map(repr, answer))}.",  # type: ignore[arg-type]
        )
        given = {item: self.normalize(answer[item], item) for item in items}  # type: ignore[index]
        return [item for item in items if self.digest(item, given[item]) != self.answers[item]]

    def check(self, answer: object, items: tuple[str, ...]) -> None:
        """Fail with a hint per wrong item; return quietly when every verdict is right."""
        __tracebackhide__ = True
        wrong = self.wrong(answer, items)
        if wrong:
            hints = "".join(f"\n  - {self.label.format(item=i)}: {self.hints[i]}" for i in wrong)
            fail(f"{len(wrong)} of {len(items)} verdicts are not right yet. Hints:{hints}")
