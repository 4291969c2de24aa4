"""Checks of the lesson on metrics and evaluation: one :class:`Exercise` (probe + judge) per graded cell.

Each probe calls the student's function on inputs derived from the seed and describes what came
back with :func:`plain`; each judge recomputes the inputs from the seed and the references with
NumPy and scikit-learn, and never imports TensorFlow. The screening threshold of exercise 2 is
judged against the lesson's own validation data, which the judge rebuilds itself
(:func:`screening_reference`: scikit-learn's breast-cancer data and an exact NumPy fit). The
diagnosis of exercise 3 is a practice table: its right verdicts are stored as digests.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache, lru_cache
from typing import Any

import numpy as np

from augcourse import data as lesson_data
from augcourse.checks.exercise import Exercise, attempt, plain, unwrap
from augcourse.checks.feedback import fail
from augcourse.checks.verdicts import VerdictTable

TOLERANCE = 1e-6  # on numbers the judge can compute exactly from the seed
LESSON_TOLERANCE = 1e-5  # on scores the kernel computed in float32 with Keras
LESSON_SEED = 42  # the notebook's SEED: its split of the breast-cancer data
RECALL_TARGET = 0.9  # the notebook's RECALL_TARGET
NUMERIC_KINDS = "iuf"


def _seed(seed: int) -> int:
    return abs(int(seed))


# --- Answers that are numbers ---------------------------------------------------------------


def as_number(value: object, what: str) -> float:
    """``value`` as a float when it is a plain real number (Python, NumPy or a scalar tensor).

    Anything else fails: an object that merely claims to equal a number is not an answer. NumPy
    only: a scalar tensor is read through its ``numpy()`` method, TensorFlow is never imported.
    """
    __tracebackhide__ = True
    return number_of(describe(value), what)


def number_of(description: Any, what: str) -> float:
    """The real number in a :func:`plain` description: Python, NumPy or scalar-tensor, finite.

    Fails with a message and a mistake kind on anything else (``None``, a string, a bool, an
    array of several values, NaN, an object that only claims to be a number).
    """
    __tracebackhide__ = True
    kind = description.get("type") if isinstance(description, dict) else None
    value = description.get("value") if isinstance(description, dict) else None
    if kind == "NoneType":
        fail(f"{what} is None: it must be a number. Did the code forget to `return` it?", "returns None")
    number: float | None = None
    try:
        if kind in ("int", "float") and type(value) in (int, float):
            number = float(value)
        elif isinstance(kind, str) and isinstance(value, np.ndarray) and value.dtype.kind in NUMERIC_KINDS:
            shape = _shape(description, value)
            if shape == () and value.size == 1:
                number = float(value.reshape(()))
            elif value.size == 1:
                fail(
                    f"{what} is an array of shape {shape}, not a number: take the number out "
                    "of it, e.g. with float(...).",
                    "array, not a number",
                )
    except OverflowError:
        number = math.inf
    if number is None:
        fail(
            f"{what} must be a number (a float); it is a {kind or 'value of unknown type'}.",
            "not a number",
        )
    if not math.isfinite(number):
        fail(f"{what} is {number}, not a finite number: check for a division by zero.", "not finite")
    return number


def numbers_of(description: Any, what: str, count: int) -> tuple[float, ...]:
    """``count`` real numbers: a tuple or list of numbers, or a 1-D array or tensor of them."""
    __tracebackhide__ = True
    kind = description.get("type") if isinstance(description, dict) else None
    if kind in ("tuple", "list") and isinstance(description.get("items"), list):
        items = description["items"]
        if len(items) == count:
            return tuple(number_of(item, f"{what}[{i}]") for i, item in enumerate(items))
    value = description.get("value") if isinstance(description, dict) else None
    if (
        isinstance(value, np.ndarray)
        and value.dtype.kind in NUMERIC_KINDS
        and _shape(description, value) == (count,)
    ):
        numbers = tuple(float(v) for v in value)
        if not all(math.isfinite(v) for v in numbers):
            fail(
                f"{what} holds {numbers}: not all finite numbers. Check for a division by zero.", "not finite"
            )
        return numbers
    if kind == "NoneType":
        fail(f"{what} returned None: `return` the {count} numbers, as a tuple.", "returns None")
    size = len(description["items"]) if kind in ("tuple", "list") and "items" in description else None
    got = f"{size} values" if size is not None else f"a {kind or 'value of unknown type'}"
    fail(f"{what} must return {count} numbers as a tuple; it returned {got}.", "not three numbers")


def describe(value: Any) -> Any:
    """:func:`plain`, with each array's shape written beside it.

    The wire writes a 0-d array as one of shape ``(1,)``; the shape kept here tells a scalar (a
    NumPy float, a scalar tensor) from an array that holds one number.
    """
    return _with_shapes(plain(value))


def _with_shapes(description: Any) -> Any:
    if isinstance(description, dict):
        found = {key: _with_shapes(item) for key, item in description.items()}
        if isinstance(description.get("value"), np.ndarray):
            found["shape"] = list(description["value"].shape)
        return found
    if isinstance(description, list):
        return [_with_shapes(item) for item in description]
    return description


def _shape(description: dict[str, Any], value: np.ndarray) -> tuple[int, ...]:
    """The shape the probe saw (see :func:`describe`), if it is consistent with the value."""
    shape = description.get("shape")
    valid = isinstance(shape, list) and all(type(n) is int and n >= 0 for n in shape)
    if valid and math.prod(shape) == value.size:
        return tuple(shape)
    return value.shape


def _close(a: float, b: float, tol: float = TOLERANCE) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=tol)


def _all_close(got: tuple[float, ...], want: tuple[float, ...], tol: float = TOLERANCE) -> bool:
    return all(_close(a, b, tol) for a, b in zip(got, want, strict=True))


def _rounding(got: tuple[float, ...], want: tuple[float, ...]) -> int | None:
    """The number of decimals ``got`` looks rounded to from ``want`` (None if it does not)."""
    for decimals in range(5):
        if _all_close(got, tuple(round(w, decimals) for w in want), 1e-9):
            return decimals
    return None


def _results(data: Any, count: int, name: str) -> list[Any]:
    """The probe's list of attempts, after checking its form."""
    __tracebackhide__ = True
    if isinstance(data, dict) and "not_callable" in data:
        fail(
            f"{name} must be a function (def {name}(...):); it is a {str(data['not_callable'])[:40]}.",
            "not a function",
        )
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != count:
        fail("the answer could not be judged: its data is not what a probe writes.", "malformed")
    return results


def _call_all(func: Any, cases: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Probe: the student's function on each case, each result described with :func:`plain`."""
    if not callable(func):
        return {"not_callable": plain(func)["type"]}
    results = []
    for case in cases:
        result = attempt(func, *(a.copy() if isinstance(a, np.ndarray) else a for a in case))
        results.append({"value": describe(result["value"])} if "value" in result else result)
    return {"results": results}


# --- Exercise 1: precision, recall and F1 from a confusion matrix ----------------------------


def matrix_cases(seed: int) -> list[tuple[np.ndarray, int]]:
    """Confusion matrices of 2 to 5 classes (rows: true labels) and the class to score, from ``seed``.

    In each, precision and recall differ (so that swapping them shows) and none is a round number.
    """
    return [(cm.copy(), positive) for cm, positive in _matrix_cases(_seed(seed))]


@lru_cache(maxsize=64)
def _matrix_cases(seed: int) -> tuple[tuple[np.ndarray, int], ...]:
    rng = np.random.default_rng([seed, 3001])
    cases = []
    for size in (2, 3, 4, 5):
        while True:
            cm = rng.integers(1, 25, size=(size, size)) + np.diag(rng.integers(20, 80, size))
            positive = int(rng.integers(0, size)) if size == 2 else int(rng.integers(1, size))
            p, r, f = reference_prf(cm, positive)
            others = [reference_prf(cm, k) for k in range(size) if k != positive]
            if (
                abs(p - r) > 0.02
                and _rounding((p, r, f), (p, r, f)) is None
                and all(not _all_close((p, r, f), o, 1e-3) for o in others)
            ):
                break
        cases.append((cm.astype("int64"), positive))
    return tuple(cases)


def reference_prf(matrix: Any, positive: int) -> tuple[float, float, float]:
    """Precision, recall and F1 of class ``positive`` (rows: true labels), from scikit-learn."""
    from sklearn.metrics import precision_recall_fscore_support

    cm = np.asarray(matrix)
    rows, cols = np.indices(cm.shape)
    y_true, y_pred = np.repeat(rows.ravel(), cm.ravel()), np.repeat(cols.ravel(), cm.ravel())
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=[positive], zero_division=0)
    return float(p[0]), float(r[0]), float(f[0])


def _prf_probe(seed: int, func: Any) -> dict[str, Any]:
    return _call_all(func, list(matrix_cases(seed)))


def _prf_mistake(
    got: tuple[float, ...], cm: np.ndarray, positive: int, earlier_right: bool
) -> tuple[str, str]:
    """What a wrong (precision, recall, f1) most likely got wrong: (message, mistake kind)."""
    p, r, f = reference_prf(cm, positive)
    if _all_close(got, (100 * p, 100 * r, 100 * f), 1e-4):
        return "these are percentages: give fractions between 0 and 1, not percentages.", "percentages"
    decimals = _rounding(got, (p, r, f))
    if decimals is not None:
        return (
            f"the numbers look rounded to {decimals} decimals: do not round. Return the full "
            "values; round only when you print them.",
            "rounded",
        )
    if _close(got[0], r) and _close(got[1], p):
        return (
            "precision and recall are swapped. Rows of tf.math.confusion_matrix are the true labels "
            "and columns the predictions: precision divides by the predicted column's total, recall "
            "by the true row's total.",
            "precision and recall swapped",
        )
    if _close(got[0], p) and _close(got[1], r):
        if _close(got[2], (p + r) / 2):
            return (
                "F1 is not the arithmetic mean of precision and recall: it is their harmonic mean.",
                "F1 arithmetic mean",
            )
        return "precision and recall are right, but F1 is not: F1 is their harmonic mean.", "F1 wrong"
    accuracy = float(np.trace(cm) / cm.sum())
    if _all_close(got, (accuracy,) * 3):
        return (
            "all three numbers are the accuracy (the diagonal over the total): precision and "
            "recall are about the one class `positive`.",
            "accuracy",
        )
    others = [k for k in range(len(cm)) if k != positive]
    if any(_all_close(got, reference_prf(cm, k)) for k in others):
        return "these are the numbers of another class: score the class given by `positive`.", "another class"
    if earlier_right and len(cm) > 2:
        return (
            f"right on a matrix of two classes, but not on this one of {len(cm)}: false positives "
            "are all the other entries of the predicted column, false negatives all the other "
            "entries of the true row.",
            "two classes only",
        )
    return (
        "the numbers are not right. Precision = TP / (TP + FP), recall = TP / (TP + FN): TP is on "
        "the diagonal, FP in the rest of the predicted column, FN in the rest of the true row.",
        "formula wrong",
    )


def _prf_judge(data: Any, seed: int) -> str:
    __tracebackhide__ = True
    cases = matrix_cases(seed)
    results = _results(data, len(cases), "precision_recall_f1")
    for right, ((cm, positive), result) in enumerate(zip(cases, results, strict=True)):
        value = unwrap(result, "precision_recall_f1(cm, positive)")
        got = numbers_of(value, "precision_recall_f1(cm, positive)", 3)
        if not _all_close(got, reference_prf(cm, positive)):
            message, mistake = _prf_mistake(got, cm, positive, earlier_right=right > 0)
            fail(f"For class {positive} of the matrix {cm.tolist()}: {message}", mistake)
    return f"precision_recall_f1 is right on {len(cases)} confusion matrices of 2 to 5 classes."


# --- Exercise 2: the threshold that reaches a target recall ---------------------------------

TARGETS = (0.6, 0.7, 0.75, 0.8, 0.9, 1.0)  # not 0.5: it would read as the default


def threshold_cases(seed: int) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Labels, distinct scores and a recall target, four times, from ``seed``.

    Scores lie at least 2e-4 apart and are not round numbers; positives tend to score higher.
    Every target times the number of positives rounds up the same in floating point as exactly,
    so no case hinges on ``0.9 * 10`` being ``9.000000000000002``. In the first case that product
    is not a whole number, in the second it is; in the first three, at least two positives may be
    missed (so the lowest positive score is never right); the last case asks for every positive.
    """
    rng = np.random.default_rng([_seed(seed), 3002])
    cases = []
    for index in range(4):
        while True:
            n = int(rng.integers(10, 41))
            grid = np.sort(rng.choice(np.arange(10, 990), n, replace=False)) / 1000
            scores = grid + rng.uniform(1e-4, 8e-4, n)
            chance = 1 / (1 + np.exp(-(scores - 0.55) * 8))  # higher scores: more often positive
            labels = (rng.random(n) < chance).astype("int64")
            target = 1.0 if index == 3 else float(rng.choice(TARGETS[:-1]))
            k = int(labels.sum())
            exact = Fraction(str(target)) * k
            if not 3 <= k <= n - 3:
                continue
            if index == 3:
                break
            whole = exact.denominator == 1
            if math.ceil(target * k) == math.ceil(exact) <= k - 2 and whole == (index == 1):
                break
        order = rng.permutation(n)
        cases.append((labels[order], scores[order], target))
    return cases


def _interval(y_true: np.ndarray, scores: np.ndarray, target: float, tol: float) -> tuple[float, float]:
    """The thresholds that flag the same samples as the highest right one: ``(low, high]``."""
    best = lesson_data.highest_threshold(y_true, scores, target)
    below = scores[scores < best - tol]
    return (float(below.max()) + tol if len(below) else -math.inf), best + tol


def _recall(y_true: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    return float(np.mean(scores[y_true == 1] >= threshold))


def _threshold_mistake(
    got: float, y_true: np.ndarray, scores: np.ndarray, target: float, tol: float
) -> tuple[str, str] | None:
    """Why ``got`` is not a highest threshold that reaches ``target`` recall: (message, kind), or None."""
    low, high = _interval(y_true, scores, target, tol)
    if low < got <= high:
        return None
    best = lesson_data.highest_threshold(y_true, scores, target)
    positives = np.sort(scores[y_true == 1])[::-1]
    rank = int(np.flatnonzero(positives == best)[0])
    recall = _recall(y_true, scores, got)
    if _close(got, target, 1e-9):
        return (
            f"the threshold is the recall target {target} itself: a threshold is a score to compare "
            "with `scores`, found from the scores of the positives.",
            "threshold is the target",
        )
    if _close(got, 0.5, 1e-9):
        return (
            "0.5 is the default threshold, not one chosen for the target: find it from the scores.",
            "fixed 0.5",
        )
    decimals = _rounding((got,), (best,))
    if decimals is not None:
        return (
            f"the threshold looks rounded to {decimals} decimals, which moves it past a score: do not "
            "round it; return the score itself.",
            "rounded",
        )
    if target < 1 and _close(got, float(positives[-1]), tol):
        return (
            "the threshold catches every positive, whatever the target: the highest threshold that "
            "still reaches the target flags fewer negatives.",
            "ignores the target",
        )
    if _close(got, float(np.quantile(scores, 1 - target)), tol):
        return (
            "the threshold is a quantile of all the scores, negatives included: recall counts only "
            "the positives (labels 1), so rank their scores alone.",
            "quantile of all scores",
        )
    if recall < target - 1e-12:
        if rank > 0 and _close(got, float(positives[rank - 1]), tol):
            return (
                f"the threshold catches one positive fewer than {target:.0%} of them needs: when "
                "target × positives is not a whole number, round the count up.",
                "one positive short",
            )
        return (
            f"the threshold {got:.4g} catches only {recall:.1%} of the positives, short of the "
            f"{target:.0%} target: lower it.",
            "recall below target",
        )
    if rank + 1 < len(positives) and _close(got, float(positives[rank + 1]), tol):
        return (
            "the threshold catches one positive more than the target needs. The rule flags "
            "`score >= t`: the threshold can be the score of the last positive it must catch.",
            "one positive too many",
        )
    return (
        f"the threshold {got:.4g} reaches the recall target, but a higher threshold would too and "
        "flag fewer negatives: find the highest one.",
        "threshold too low",
    )


@cache
def screening_reference() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The lesson's screening labels and scores, per split, rebuilt without TensorFlow.

    The notebook's model is :func:`augcourse.data.fit_screening` loaded into Keras; its float32
    scores agree with these to about 1e-7.
    """
    screening = lesson_data.screening_data(seed=LESSON_SEED)
    fitted = lesson_data.fit_screening(screening)
    return {
        name: (np.asarray(getattr(screening, name)[1]), fitted.scores(getattr(screening, name)[0]))
        for name in ("train", "val", "test")
    }


def _screening_mistake(got: float) -> tuple[str, str] | None:
    """Why ``screening_threshold`` is not the threshold chosen on the validation scores, or None."""
    reference = screening_reference()
    y_val, p_val = reference["val"]
    low, high = _interval(y_val, p_val, RECALL_TARGET, LESSON_TOLERANCE)
    if low < got <= high:
        return None
    for split, words, kind in (
        (
            "test",
            "the test patients. The test set is kept for the final, honest estimate",
            "threshold from test data",
        ),
        (
            "train",
            "the training patients, whose scores are not those of new patients",
            "threshold from training data",
        ),
    ):
        test_low, test_high = _interval(*reference[split], RECALL_TARGET, LESSON_TOLERANCE)
        if test_low < got <= test_high:
            return (
                f"screening_threshold was chosen on {words}: choose it on the validation scores "
                "`p_val` with `y_val`.",
                kind,
            )
    message, kind = _threshold_mistake(got, y_val, p_val, RECALL_TARGET, LESSON_TOLERANCE) or ("", "wrong")
    return f"On the validation data, {message}", kind


def _threshold_probe(seed: int, func: Any, threshold: Any) -> dict[str, Any]:
    found = _call_all(func, list(threshold_cases(seed)))
    return {**found, "threshold": describe(threshold)}


def _threshold_judge(data: Any, seed: int) -> str:
    __tracebackhide__ = True
    cases = threshold_cases(seed)
    results = _results(data, len(cases), "threshold_for_recall")
    for (y_true, scores, target), result in zip(cases, results, strict=True):
        what = "threshold_for_recall(y_true, scores, target)"
        got = number_of(unwrap(result, "threshold_for_recall()"), what)
        mistake = _threshold_mistake(got, y_true, scores, target, TOLERANCE)
        if mistake:
            where = f"On {len(scores)} scores, {int(y_true.sum())} of them positives, with target {target}"
            fail(f"{where}: {mistake[0]}", mistake[1])
    description = data.get("threshold")
    if isinstance(description, dict) and description.get("type") in ("NoneType", "ellipsis"):
        fail(
            "threshold_for_recall is right, but screening_threshold is not set yet: set it with your "
            "function on the validation scores.",
            "not answered",
        )
    got = number_of(description, "screening_threshold")
    mistake = _screening_mistake(got)
    if mistake:
        fail(*mistake)
    y_val, p_val = screening_reference()["val"]
    chosen = lesson_data.highest_threshold(y_val, p_val, RECALL_TARGET)  # flags what `got` flags
    flagged = p_val >= chosen
    return (
        f"threshold_for_recall is right on {len(cases)} cases, and screening_threshold = {got:.4f} "
        f"finds {_recall(y_val, p_val, chosen):.1%} of the malignant validation tumours, with "
        f"{np.mean(y_val[flagged] == 1):.1%} precision."
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


# --- The exercises ---------------------------------------------------------------------------

ex1 = Exercise(
    "ex1_check",
    "Precision, recall and F1 from a confusion matrix",
    ("precision_recall_f1",),
    _prf_probe,
    _prf_judge,
)
ex2 = Exercise(
    "ex2_check",
    "The threshold that reaches a target recall, chosen on validation data",
    ("threshold_for_recall", "screening_threshold"),
    _threshold_probe,
    _threshold_judge,
)
ex3 = TABLE.exercise("ex3_check", "Diagnose six models from their metrics", MODELS)
EXERCISES = [ex1, ex2, ex3]
