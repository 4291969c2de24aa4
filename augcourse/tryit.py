"""Run code options (the practice quiz's, the graded test's) in the real runtime; say what each does."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass, field
from typing import Any

from augcourse.checks.layers import TRIALS, flips_seen
from augcourse.checks.quiz import QUESTIONS


@dataclass(frozen=True)
class Outcome:
    """What running one code option did: the error it raised, or its value and printed text."""

    error: str | None = None
    message: str = ""
    value: Any = None
    printed: str = ""
    names: dict[str, Any] = field(default_factory=dict)  # the namespace after the run


def run(code: str, names: dict[str, Any] | None = None, result: str = "aug") -> Outcome:
    """Execute ``code`` with ``tf``, ``keras`` and ``np`` imported, plus ``names``.

    The value is the expression's, for one expression; for statements, the ``result`` it binds.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    namespace: dict[str, Any] = {"tf": tf, "keras": keras, "np": np, **(names or {})}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            try:
                value = eval(compile(code, "<option>", "eval"), namespace)
            except SyntaxError:
                exec(compile(code, "<option>", "exec"), namespace)
                value = namespace.get(result)
    except Exception as error:
        return Outcome(
            error=type(error).__name__, message=str(error), printed=out.getvalue(), names=namespace
        )
    return Outcome(value=value, printed=out.getvalue(), names=namespace)


def describe_layer(layer: Any) -> str:
    """One layer's configuration in plain words (rotation in degrees, zoom direction)."""
    name = type(layer).__name__
    if name == "RandomFlip":
        return f"RandomFlip(mode={layer.mode!r})"
    if name == "RandomRotation":
        low, high = (360 * f for f in layer.factor)
        return f"RandomRotation: turns by {low:+.1f}° to {high:+.1f}°"
    if name == "RandomZoom":
        factor = layer.height_factor
        low, high = factor if isinstance(factor, tuple | list) else (-factor, factor)
        return f"RandomZoom: size change {low:+.0%} to {high:+.0%} (positive zooms out)"
    return name


def describe(outcome: Outcome) -> str:
    """A one-line account of an outcome for the student."""
    if outcome.error:
        return f"raises {outcome.error}: {outcome.message}"
    if outcome.printed:
        return f"prints {outcome.printed.strip()}"
    layers = getattr(outcome.value, "layers", [])
    parts = [describe_layer(layer) for layer in layers]
    if layers and all(type(layer).__name__ == "RandomFlip" for layer in layers):
        seen = flips_seen(outcome.value) - {"none"}
        parts.append(f"flips seen in {TRIALS} calls: {', '.join(sorted(seen)) or 'none'}")
    return "; ".join(parts) or f"returns {outcome.value!r}"


def try_options(qid: str) -> dict[str, Outcome]:
    """Run every code option of a question, print what each does, and return the outcomes."""
    outcomes = {}
    for label, code in QUESTIONS[qid].code.items():
        outcomes[label] = outcome = run(code)
        print(f"{label}: {code}\n   → {describe(outcome)}\n")
    return outcomes
