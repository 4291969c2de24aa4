"""Shared fixtures: the course root and manifest, with TensorFlow kept quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from augcourse import runtime
from grader.manifest import Course, load_course

runtime.quiet()

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture(scope="session")
def course() -> Course:
    """The course manifest."""
    return load_course(ROOT)
