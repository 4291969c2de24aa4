"""How a check speaks to the student: a tick on success, a :class:`CheckFailed` otherwise."""

from __future__ import annotations

from typing import NoReturn


class CheckFailed(AssertionError):
    """An answer that is not right yet; the message is written for the student."""


def passed(message: str) -> None:
    """Tell the student a check passed."""
    print(f"✅ {message}")


def fail(message: str) -> NoReturn:
    """Stop the check with a message for the student."""
    __tracebackhide__ = True
    raise CheckFailed(f"❌ {message}")


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        fail(message)
