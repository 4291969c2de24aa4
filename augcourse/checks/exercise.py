"""One graded exercise in two halves: a probe that turns the answer into data, a judge that scores it.

The *probe* runs in the student's kernel, after the student's cells: it reads the answer (names
the exercise lists), calls the student's functions on inputs derived from a seed, and returns plain
data (numbers, strings, arrays, layer configurations). The *judge* is a pure function of that data
and the seed: it needs neither the kernel nor TensorFlow, and it is where every criterion lives.

In the notebook, calling an :class:`Exercise` runs both halves in the kernel, on the practice seed,
for immediate feedback. When grading, :func:`emit` runs the probe alone on a seed drawn at grading
time and publishes its data as one output of type :data:`MIME`; the grader judges it in its own
process, which never runs student code. Forged data is only a claimed answer: it scores only if it
is what a right answer produces on inputs the kernel did not know in advance.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from augcourse.checks import wire
from augcourse.checks.feedback import CheckFailed, fail, passed

MIME = "application/vnd.augcourse.probe+json"
PRACTICE_SEED = 0
MISSING = object()
MAX_MESSAGE = 300

Probe = Callable[..., Any]  # probe(seed, *values) -> plain data
Judge = Callable[..., str]  # judge(data, seed[, context]) -> success message; raises CheckFailed


@dataclass(frozen=True)
class Verdict:
    """What the judge decided: full marks or none, a message for the student, the kind of mistake."""

    passed: bool
    message: str
    mistake: str = ""
    item: str = ""  # the bank item judged, where the question differs per student (the graded test)


def _first_line(error: BaseException) -> str:
    text = next((line for line in str(error).splitlines() if line.strip()), "")
    return text.strip()[:MAX_MESSAGE]


def attempt(function: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """Call a student's function: ``{"value": result}`` or ``{"raised": name, "message": line}``."""
    try:
        return {"value": function(*args, **kwargs)}
    except Exception as error:  # the student's error is data for the judge
        return {"raised": type(error).__name__, "message": _first_line(error)}


def plain(value: Any) -> dict[str, Any]:
    """A value described without trusting it: its exact type and, for plain data, the value itself.

    Only exact built-in types, NumPy scalars and arrays, and scalar tensors keep their value, and a
    namedtuple its items (read as a tuple's, each described in turn); any other object (a ``str`` or
    ``float`` subclass, an object that claims to equal everything) is described by its type name alone.
    """
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}" if kind.__module__ != "builtins" else kind.__name__
    if value is None or kind in (bool, int, float, str):
        return {"type": name, "value": value}
    if kind in (tuple, list):
        return {"type": name, "items": [plain(item) for item in value[:1000]]}
    if issubclass(kind, tuple) and isinstance(getattr(kind, "_fields", None), tuple):  # a namedtuple
        return {"type": "tuple", "items": [plain(item) for item in tuple.__getitem__(value, slice(0, 1000))]}
    if kind is dict:
        items = list(value.items())[:1000]
        return {"type": name, "entries": [[plain(k), plain(v)] for k, v in items]}
    import numpy as np

    if kind.__module__ == "numpy" and isinstance(value, np.generic | np.ndarray):
        return {"type": name, "value": np.asarray(value)}
    if kind.__name__ == "EagerTensor" and hasattr(value, "numpy"):
        return {"type": name, "value": np.asarray(value.numpy())}
    return {"type": name}


def unwrap(result: Any, name: str) -> Any:
    """The value of an :func:`attempt`, or a failure that says what the student's function raised."""
    __tracebackhide__ = True
    if not isinstance(result, dict):
        fail("the answer could not be judged.", "malformed data")
    if result.get("raised") == "NotImplementedError":
        fail(
            f"{name} is not written yet: replace `raise NotImplementedError()` with your code.", "not written"
        )
    if "raised" in result:
        fail(f"{name} raised {result['raised']}: {result.get('message', '')}", "raises an error")
    return result.get("value")


@dataclass(frozen=True)
class Exercise:
    """A graded exercise: which names the answer defines, its probe and its judge."""

    grade_id: str
    title: str
    names: tuple[str, ...]
    probe: Probe
    judge: Judge
    needs_context: bool = False  # the judge also takes what only the grader knows (student id, answer key)

    def gather(self, values: Sequence[Any], seed: int) -> Any:
        """Run the probe on the student's values; a missing name or a failing probe is data too."""
        missing = [name for name, value in zip(self.names, values, strict=True) if value is MISSING]
        if missing:
            return {"missing": missing}
        try:
            return self.probe(seed, *values)
        except Exception as error:
            return {"probe_error": f"{type(error).__name__}: {_first_line(error)}"}

    def decide(self, data: Any, seed: int, context: dict[str, Any] | None = None) -> Verdict:
        """Judge the data (with the grader's ``context`` where the judge needs it): never raises."""
        if data is None:
            return Verdict(
                False, "no answer reached the grader: the check did not run to the end.", "no answer"
            )
        if isinstance(data, dict) and isinstance(data.get("missing"), list):
            names = ", ".join(f"`{name}`" for name in data["missing"] if isinstance(name, str))
            return Verdict(False, f"{names} is not defined: run the cell that defines it.", "not defined")
        if isinstance(data, dict) and "probe_error" in data:
            return Verdict(
                False, f"checking the answer failed: {str(data['probe_error'])[:MAX_MESSAGE]}", "error"
            )
        try:
            message = self.judge(data, seed, context or {}) if self.needs_context else self.judge(data, seed)
        except CheckFailed as failure:
            return Verdict(False, str(failure).removeprefix("❌").strip(), failure.mistake or "wrong")
        except Exception:
            return Verdict(
                False, "the answer could not be judged: its data is not what a probe writes.", "malformed"
            )
        return Verdict(True, message)

    def judged(self, values: Sequence[Any], seed: int, context: dict[str, Any] | None = None) -> Verdict:
        """Exactly what grading decides: the probe's data for ``values``, over the wire, judged."""
        return self.decide(wire.loads(wire.dumps(self.gather(values, seed))), seed, context)

    def __call__(self, *values: Any, seed: int = PRACTICE_SEED) -> None:
        """The notebook's check: probe and judge here, on the practice seed; ✅ or a failure."""
        __tracebackhide__ = True
        verdict = self.judged(values, seed)
        if not verdict.passed:
            raise CheckFailed(f"❌ {verdict.message}", verdict.mistake)
        passed(verdict.message)


def emit(lesson: str, grade_id: str, seed: int) -> None:
    """When grading: probe the answer in this kernel's namespace and publish the data as one output."""
    from IPython import get_ipython
    from IPython.display import display

    from augcourse.checks import exercises

    exercise = exercises(lesson)[grade_id]
    shell = get_ipython()
    namespace = shell.user_ns if shell is not None else {}
    values = [namespace.get(name, MISSING) for name in exercise.names]
    try:
        text = wire.dumps({"grade_id": grade_id, "seed": seed, "data": exercise.gather(values, seed)})
    except (wire.WireError, TypeError, ValueError) as error:
        text = wire.dumps({"grade_id": grade_id, "seed": seed, "data": {"probe_error": str(error)}})
    display({MIME: json.loads(text)}, raw=True)
