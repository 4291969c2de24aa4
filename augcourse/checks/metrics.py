"""Checks of the lesson on metrics and evaluation: one function per exercise.

Reference values come from scikit-learn; right verdicts are stored as digests, as in the quiz.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from sklearn.metrics import precision_recall_fscore_support

from augcourse.checks.feedback import fail, passed
from augcourse.checks.verdicts import VerdictTable

# --- Answers that are numbers ---------------------------------------------------------------

TOLERANCE = 1e-6


def as_number(value: object, what: str) -> float:
    """``value`` as a float when it is a plain real number (Python, NumPy or a scalar tensor).

    Anything else fails: an object that merely claims to equal a number is not an answer.
    """
    __tracebackhide__ = True
    if type(value) in (int, float):
        return float(value)
    if isinstance(value, np.integer | np.floating) and type(value).__module__ == "numpy":
        return float(value)
    if type(value) is np.ndarray and value.shape == () and value.dtype.kind in "iuf":
        return float(value)
    if type(value).__name__ == "EagerTensor" and tuple(value.shape) == ():
        return as_number(value.numpy(), what)
    fail(f"{what} must be a number (a float), got {value!r} of type {type(value).__name__}.")


def _close(a: float, b: float, tol: float = TOLERANCE) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=tol)


# --- Exercise 1: precision, recall and F1 from a confusion matrix ----------------------------

SEED_MATRIX = ((45, 5), (7, 43))  # rows: true cat, dog; columns: predicted cat, dog
MATRIX_CASES: tuple[tuple[Sequence[Sequence[int]], int], ...] = (
    (SEED_MATRIX, 0),
    (SEED_MATRIX, 1),
    (((50, 10, 0), (5, 30, 5), (2, 3, 40)), 2),
    (((50, 10, 0), (5, 30, 5), (2, 3, 40)), 0),
)


def reference_prf(matrix: Sequence[Sequence[int]], positive: int) -> tuple[float, float, float]:
    """Precision, recall and F1 of class ``positive`` (rows: true labels), from scikit-learn."""
    cm = np.asarray(matrix)
    rows, cols = np.indices(cm.shape)
    y_true, y_pred = np.repeat(rows.ravel(), cm.ravel()), np.repeat(cols.ravel(), cm.ravel())
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=[positive], zero_division=0)
    return float(p[0]), float(r[0]), float(f[0])


def _triple(result: object) -> tuple[float, float, float]:
    __tracebackhide__ = True
    if type(result) not in (tuple, list) or len(result) != 3:
        fail(
            f"precision_recall_f1 must return three numbers, (precision, recall, f1); it returned {result!r}."
        )
    names = ("precision", "recall", "f1")
    values = (as_number(v, n) for v, n in zip(result, names, strict=True))
    return tuple(values)  # type: ignore[return-value]


def _prf_mistake(got: tuple[float, ...], cm: np.ndarray, positive: int) -> str:
    """What a wrong (precision, recall, f1) most likely got wrong."""
    p, r, _ = reference_prf(cm, positive)
    where = f"for class {positive} of the matrix {cm.tolist()}"
    if any(v > 1 for v in got):
        return f"the values {where} are above 1: give fractions between 0 and 1, not percentages."
    if _close(got[0], r) and _close(got[1], p):
        return (
            f"precision and recall are swapped {where}. Rows of tf.math.confusion_matrix are the "
            "true labels and columns the predictions: precision divides by the predicted "
            "column's total, recall by the true row's total."
        )
    if _close(got[0], p) and _close(got[1], r):
        if _close(got[2], (p + r) / 2):
            return (
                f"F1 {where} is not the arithmetic mean of precision and recall: use the "
                "harmonic mean, 2·P·R / (P + R)."
            )
        return f"precision and recall are right {where}, but F1 is not: F1 = 2·P·R / (P + R)."
    others = [reference_prf(cm, k) for k in range(len(cm)) if k != positive]
    if any(all(_close(a, b) for a, b in zip(got, o, strict=True)) for o in others):
        return f"these are the numbers of another class, not {where}: use the `positive` argument."
    return (
        f"the numbers {where} are not right. Precision = TP / (TP + FP), recall = TP / (TP + FN): "
        "TP is on the diagonal, FP in the rest of the predicted column, FN in the rest of the "
        "true row."
    )


def precision_recall_f1(
    func: Callable[[np.ndarray, int], object],
    cases: Iterable[tuple[Sequence[Sequence[int]], int]] = MATRIX_CASES,
) -> None:
    """Exercise 1: ``func(cm, positive)`` returns the class's (precision, recall, f1)."""
    __tracebackhide__ = True
    cases = list(cases)
    for matrix, positive in cases:
        cm = np.array(matrix, dtype="int64")
        got = _triple(func(cm.copy(), positive))
        want = reference_prf(cm, positive)
        if not all(_close(a, b) for a, b in zip(got, want, strict=True)):
            fail(_prf_mistake(got, cm, positive))
    passed(f"precision_recall_f1 is right on {len(cases)} confusion matrices.")


# --- Exercise 2: the threshold that reaches a target recall ---------------------------------

THRESHOLD_CASES = (
    ((0, 1, 1, 0, 1, 1, 0, 1), (0.10, 0.35, 0.80, 0.40, 0.90, 0.55, 0.70, 0.20), 0.75),
    ((1, 0, 1, 0, 0, 1), (0.90, 0.80, 0.60, 0.30, 0.20, 0.10), 0.5),
    ((0, 0, 0, 0, 0, 0, 1, 1), (0.10, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80), 0.5),
)


def reference_threshold(y_true: Sequence[int], scores: Sequence[float], target: float) -> float:
    """The highest threshold t whose rule ``score >= t`` reaches ``target`` recall."""
    positives = np.sort(np.asarray(scores, dtype="float64")[np.asarray(y_true) == 1])[::-1]
    needed = max(1, math.ceil(target * len(positives) - 1e-9))
    return float(positives[needed - 1])


def _rates(y_true: np.ndarray, scores: np.ndarray, threshold: float) -> tuple[float, float]:
    flagged = scores >= threshold
    caught = np.sum(flagged & (y_true == 1))
    precision = caught / flagged.sum() if flagged.any() else 0.0
    return float(caught / np.sum(y_true == 1)), float(precision)


def _threshold_problem(
    threshold: float, y_true: np.ndarray, scores: np.ndarray, target: float, where: str
) -> str | None:
    """Why ``threshold`` is not the highest one that reaches ``target`` recall (None if it is)."""
    best = reference_threshold(y_true, scores, target)
    recall, _ = _rates(y_true, scores, threshold)
    if recall < target - 1e-12:
        return (
            f"{where}, the threshold {threshold:.4g} flags only {recall:.1%} of the positives, "
            f"short of the {target:.0%} target. Lower it, and choose it on these scores (a "
            "threshold tuned on other data does not carry over exactly)."
        )
    if not np.array_equal(scores >= threshold, scores >= best):
        return (
            f"{where}, the threshold {threshold:.4g} reaches the recall target, but a higher "
            "threshold would too and flag fewer negatives. Find the highest threshold that still "
            "reaches the target, on these scores."
        )
    return None


def recall_threshold_function(
    func: Callable[[np.ndarray, np.ndarray, float], object],
    cases: Iterable[tuple[Sequence[int], Sequence[float], float]] = THRESHOLD_CASES,
) -> None:
    """Exercise 2, the function: ``func(y_true, scores, target)`` on small known cases."""
    __tracebackhide__ = True
    cases = list(cases)
    for labels, values, target in cases:
        y_true, scores = np.array(labels), np.array(values, dtype="float64")
        got = as_number(func(y_true.copy(), scores.copy(), target), "threshold_for_recall(...)")
        case = f"labels {list(labels)}, scores {list(values)}, target {target}"
        problem = _threshold_problem(got, y_true, scores, target, f"For {case}")
        if problem:
            fail(problem)
    passed(f"threshold_for_recall is right on {len(cases)} small cases.")


def recall_threshold(
    func: Callable[[np.ndarray, np.ndarray, float], object],
    threshold: object,
    y_val: np.ndarray,
    scores_val: np.ndarray,
    target: float,
) -> None:
    """Exercise 2: the function, then ``threshold`` chosen on the validation scores."""
    __tracebackhide__ = True
    recall_threshold_function(func)
    value = as_number(threshold, "screening_threshold")
    y_true, scores = np.asarray(y_val).ravel(), np.asarray(scores_val, dtype="float64").ravel()
    problem = _threshold_problem(value, y_true, scores, target, "On the validation data")
    if problem:
        fail(problem)
    recall, precision = _rates(y_true, scores, value)
    passed(
        f"screening_threshold = {value:.4f} reaches {recall:.1%} recall on the validation data, "
        f"with {precision:.1%} precision."
    )


# --- Exercise 3: diagnose models from their metrics -----------------------------------------

VERDICTS = ("ready", "overfits", "underfits", "misses positives", "cannot tell")
MODELS = ("A", "B", "C", "D", "E", "F")
_DIAGNOSIS = {
    "A": "d2244c8c052a88c60d6440f6aad4c0ff7aba7f439c57386cba90d0be1a8d07dd",
    "B": "e9a909d476f02e42de0f6af7e91f63b0277bd14c9556c884af7c70ec6c5c7b26",
    "C": "cebc21d0347d1eb0728168553a14c7bcbc1a7a471c12d88926b0e301e3c6048a",
    "D": "ae6080f876e90325690486c95734aaca84fb7bfca21bed0ec39edcebbdde808f",
    "E": "5ccb528075ddee97a18d1925ed5499a2946e72af882b3d32f52820edcab4d99d",
    "F": "d4b45fd198e40b1cae1798528908544de9d83cc993f24da7b8d858fda01c9e4f",
}
HINTS = {
    "A": "compare its training and validation numbers, and the way its validation loss moves.",
    "B": "its training numbers come from augmented batches; judge it by its validation numbers and "
    "how balanced precision and recall are.",
    "C": "compare its accuracy with the share of legitimate transactions, and ask how many frauds "
    "it catches.",
    "D": "look at how well it does even on its own training data.",
    "E": "ask which numbers you would need before trusting it on new patients.",
    "F": "ask what share of the tumours it finds.",
}


TABLE = VerdictTable(
    "diagnosis",
    "course-metrics",
    VERDICTS,
    _DIAGNOSIS,
    HINTS,
    label="model {item}",
    example=', e.g. "cannot tell"',
)


def normalize_verdict(value: object, model: str) -> str:
    """A verdict as one of :data:`VERDICTS` (the hidden tests compare these)."""
    __tracebackhide__ = True
    return TABLE.normalize(value, model)


def diagnosis(answer: object, models: Sequence[str] = MODELS) -> None:
    """Exercise 3: a verdict for each model of the table."""
    __tracebackhide__ = True
    TABLE.check(answer, tuple(models))
    passed(f"all {len(models)} verdicts are right.")
