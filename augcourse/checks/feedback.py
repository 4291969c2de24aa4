"""How a check speaks to the student: a tick on success, a :class:`CheckFailed` otherwise."""

from __future__ import annotations

from typing import Any, NoReturn


class CheckFailed(AssertionError):
    """An answer that is not right yet; the message is written for the student.

    ``mistake`` names the kind of mistake in a few stable words ("rotation in degrees"), for the
    class report's item analysis; it is never shown as a hint.
    """

    def __init__(self, message: str, mistake: str = "") -> None:
        super().__init__(message)
        self.mistake = mistake


def passed(message: str) -> None:
    """Tell the student a check passed."""
    print(f"✅ {message}")


def fail(message: str, mistake: str = "") -> NoReturn:
    """Stop the check with a message for the student (and the kind of mistake, for the report)."""
    __tracebackhide__ = True
    raise CheckFailed(f"❌ {message}", mistake)


def expect(condition: bool, message: str, mistake: str = "") -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        fail(message, mistake)


def _show_message_only(
    shell: Any, etype: type, value: BaseException, tb: object, tb_offset: int | None = None
) -> None:
    """Show a failed check as its message alone: the student needs no traceback into the checks."""
    shell._showtraceback(etype, value, [f"\x1b[0;31m{value}\x1b[0m"])


def _install_display() -> None:
    """In IPython, let a :class:`CheckFailed` show as its message (still an error, for nbgrader)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and hasattr(shell, "_showtraceback"):
        shell.set_custom_exc((CheckFailed,), _show_message_only)


_install_display()
