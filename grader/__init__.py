"""Tools of the course "Data augmentation in a TensorFlow pipeline — model metrics & evaluation"."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """``grader.progress`` on first use, so that ``import grader`` stays light."""
    if name == "progress":
        from grader.standing import progress

        return progress
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
