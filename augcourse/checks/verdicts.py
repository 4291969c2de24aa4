"""A table of items, each to be given one verdict from a fixed list (a diagnosis exercise).

The right verdicts are stored as digests; a wrong one gets the hint of its item. The answer is
checked either as the student's own dict (:meth:`VerdictTable.check`, in the kernel) or as a probe's
description of it (:meth:`VerdictTable.judge`, in a judge, from :func:`~augcourse.checks.exercise.plain`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from augcourse.checks.exercise import Exercise, plain
from augcourse.checks.feedback import expect, fail

MAX_SHOWN = 40  # characters of a student's string quoted back in a message


def _canonical(value: str) -> str:
    """A verdict spelled the one way: lower case, single spaces, ``-`` and ``_`` as spaces."""
    return " ".join(value.replace("_", " ").replace("-", " ").lower().split())


def _described_type(description: object) -> str:
    kind = description.get("type") if isinstance(description, dict) else None
    return kind if isinstance(kind, str) else "an unknown value"


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

    @property
    def choices(self) -> str:
        """The verdicts, quoted, for a message."""
        return ", ".join(f'"{v}"' for v in self.verdicts)

    def normalize(self, value: object, item: str) -> str:
        """A verdict as one of :attr:`verdicts`; case, spaces, ``-`` and ``_`` do not count."""
        __tracebackhide__ = True
        if type(value) is not str:
            fail(
                f'{self.name}["{item}"] must be one of the verdicts in quotes (a str){self.example}; '
                f"got {value!r} of type {type(value).__name__}.",
                "not a str",
            )
        verdict = _canonical(value)
        if verdict not in self.verdicts:
            fail(
                f'{self.name}["{item}"] = {value[:MAX_SHOWN]!r} is not one of the verdicts: {self.choices}.',
                "unknown verdict",
            )
        return verdict

    def wrong(self, answer: object, items: tuple[str, ...]) -> list[str]:
        """The items whose verdict is not right, after checking the answer's form."""
        __tracebackhide__ = True
        first = items[0]
        expect(
            type(answer) is dict,
            f"{self.name} must be a dict such as {{'{first}': '{self.verdicts[0]}', ...}}; "
            f"got {type(answer).__name__}.",
            "not a dict",
        )
        keys = sorted(k for k in answer if type(k) is str)  # type: ignore[union-attr]
        expect(
            len(keys) == len(answer) and keys == sorted(items),  # type: ignore[arg-type]
            f"{self.name} needs exactly one verdict for each of {', '.join(items)}; "
            f"it has the keys {sorted(map(repr, answer))}.",  # type: ignore[arg-type]
            "wrong keys",
        )
        given = {item: self.normalize(answer[item], item) for item in items}  # type: ignore[index]
        return [item for item in items if self.digest(item, given[item]) != self.answers[item]]

    def check(self, answer: object, items: tuple[str, ...]) -> None:
        """Fail with a hint per wrong item; return quietly when every verdict is right."""
        __tracebackhide__ = True
        wrong = self.wrong(answer, items)
        if wrong:
            self._fail_wrong(wrong, items, {i: _canonical(answer[i]) for i in wrong})  # type: ignore[index]

    # --- The same checks on a probe's description of the answer (see ``plain``) ------------------

    def read(self, data: Any, items: tuple[str, ...]) -> dict[str, str]:
        """The verdicts of a :func:`plain` description of the answer dict, each normalised.

        Fails, with a message and a mistake kind, on anything that is not a dict holding exactly
        one verdict string for each item; ``None`` values count as not answered yet.
        """
        __tracebackhide__ = True
        example = f'{{"{items[0]}": "{self.verdicts[0]}", ...}}'
        if (
            not isinstance(data, dict)
            or data.get("type") != "dict"
            or not isinstance(data.get("entries"), list)
        ):
            fail(
                f"{self.name} must be a dict such as {example}; it is {_described_type(data)}.", "not a dict"
            )
        answer: dict[str, Any] = {}
        for entry in data["entries"]:
            key = entry[0] if isinstance(entry, list) and len(entry) == 2 else None
            if not (isinstance(key, dict) and key.get("type") == "str" and isinstance(key.get("value"), str)):
                fail(f"{self.name} needs the keys {', '.join(items)}, as strings.", "wrong keys")
            answer[key["value"]] = entry[1]
        if sorted(answer) != sorted(items):
            keys = ", ".join(repr(k[:MAX_SHOWN]) for k in sorted(answer)[:10])
            fail(
                f"{self.name} needs exactly one verdict for each of {', '.join(items)}; "
                f"it has the keys {keys or 'none'}.",
                "wrong keys",
            )
        unanswered = [i for i in items if _described_type(answer[i]) in ("NoneType", "ellipsis")]
        if unanswered:
            names = ", ".join(self.label.format(item=i) for i in unanswered)
            fail(
                f"{names} {'has' if len(unanswered) == 1 else 'have'} no verdict yet: set each to one "
                f"of {self.choices}.",
                "not answered",
            )
        given = {}
        for item in items:
            description = answer[item]
            value = description.get("value") if isinstance(description, dict) else None
            if _described_type(description) != "str" or not isinstance(value, str):
                fail(
                    f'{self.name}["{item}"] must be one of the verdicts in quotes (a str){self.example}; '
                    f"it is {_described_type(description)}.",
                    "not a str",
                )
            verdict = _canonical(value)
            if verdict not in self.verdicts:
                fail(
                    f'{self.name}["{item}"] = {value[:MAX_SHOWN]!r} is not one of the verdicts: '
                    f"{self.choices}.",
                    "unknown verdict",
                )
            given[item] = verdict
        return given

    def judge(self, data: Any, items: tuple[str, ...]) -> None:
        """Fail with a hint per wrong item of a described answer; return quietly when all are right."""
        __tracebackhide__ = True
        given = self.read(data, items)
        wrong = [item for item in items if self.digest(item, given[item]) != self.answers.get(item)]
        if wrong:
            self._fail_wrong(wrong, items, given)

    def exercise(self, grade_id: str, title: str, items: tuple[str, ...]) -> Exercise:
        """The graded exercise of this table: the probe describes the answer, the judge reads it."""

        def judge(data: Any, seed: int) -> str:
            __tracebackhide__ = True
            self.judge(data, items)
            return f"all {len(items)} verdicts are right."

        return Exercise(grade_id, title, (self.name,), lambda seed, answer: plain(answer), judge)

    def _fail_wrong(self, wrong: list[str], items: tuple[str, ...], given: dict[str, str]) -> None:
        """One failure for all wrong items: a hint each; the kind names the first ("C judged ready")."""
        __tracebackhide__ = True
        hints = "".join(f"\n  - {self.label.format(item=i)}: {self.hints[i]}" for i in wrong)
        fail(
            f"{len(wrong)} of {len(items)} verdicts are not right yet. Hints:{hints}",
            f"{wrong[0]} judged {given[wrong[0]]}",
        )
