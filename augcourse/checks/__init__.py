"""Checks that a student's notebook calls: one module per lesson, one function per exercise.

Each check prints a short success message, or raises :class:`CheckFailed` whose message says what
is wrong and how to get it right. The same functions are called by the visible tests of the
notebooks, by nbgrader's grading of them, and by pytest against the reference solutions.
"""

from augcourse.checks.feedback import CheckFailed, expect, passed

__all__ = ["CheckFailed", "expect", "passed"]
