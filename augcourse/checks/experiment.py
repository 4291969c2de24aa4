"""Checks of lesson 04, the augmentation experiment: one :class:`Exercise` (probe + judge) per graded cell.

Each probe runs in the student's kernel: it calls the student's functions on inputs derived from the
seed (digits chosen by the seed, accuracies drawn from it, a small Keras model whose weights come
from it) and returns what they gave as plain data. Each judge is a pure function of that data and
the seed: it rebuilds the same inputs with NumPy, computes the reference itself (the small model's
forward pass included) and never imports Keras or TensorFlow. Right verdicts of exercise 4 are
stored as digests, as in the quiz.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from augcourse.checks import digits
from augcourse.checks.exercise import Exercise, plain, unwrap
from augcourse.checks.feedback import CheckFailed, fail
from augcourse.checks.verdicts import VerdictTable

# --- Reading plain data (see exercise.plain) ----------------------------------------------------

MAX_SHOWN = 60


def _attempt(function: Any, *args: Any) -> dict[str, Any]:
    """:func:`attempt`, with the informative line of a Keras-wrapped error (probe side)."""
    try:
        return {"value": function(*args)}
    except Exception as error:  # the student's error is data for the judge
        return {"raised": type(error).__name__, "message": digits.error_line(error)}


def _call(function: Any, *args: Any) -> dict[str, Any]:
    """:func:`_attempt`, with the returned value described by :func:`plain` (probe side)."""
    result = _attempt(function, *args)
    if "value" in result:
        result["value"] = plain(result["value"])
    return result


def _value(result: Any, name: str) -> Any:
    """:func:`unwrap`, where only a bare ``NotImplementedError`` means "not written yet"."""
    __tracebackhide__ = True
    if isinstance(result, dict) and result.get("raised") == "NotImplementedError" and result.get("message"):
        fail(f"{name} raised NotImplementedError: {str(result['message'])[:200]}", "raises an error")
    return unwrap(result, name)


def _type_name(description: Any) -> str:
    kind = description.get("type") if isinstance(description, dict) else None
    if not isinstance(kind, str):
        return "an unreadable value"
    kind = kind.rsplit(".", 1)[-1][:MAX_SHOWN]
    return "None" if kind == "NoneType" else kind


def _scalar(description: Any) -> float | None:
    """The number a description holds (an int, a float, a NumPy scalar or a scalar tensor), or None."""
    if not isinstance(description, dict) or not isinstance(description.get("type"), str):
        return None
    kind, value = description["type"], description.get("value")
    try:
        if kind in ("int", "float") and type(value) in (int, float):
            return float(value)
        numeric = kind.startswith("numpy.") or kind.endswith("EagerTensor")
        # wire sends a 0-d array as shape (1,) (np.ascontiguousarray makes it 1-D)
        scalar = isinstance(value, np.ndarray) and value.shape in ((), (1,))
        if numeric and scalar and value.dtype.kind in "iuf":
            return float(value.reshape(()))
    except OverflowError:
        return math.inf
    return None


def _number(description: Any, what: str) -> float:
    """The finite number a description holds; fails with a message naming ``what`` otherwise."""
    __tracebackhide__ = True
    number = _scalar(description)
    if number is None:
        fail(f"{what} must be a number (a float); it is {_type_name(description)}.", "not a number")
    if not math.isfinite(number):
        fail(f"{what} is {number}, not a finite number.", "not finite")
    return number


def _items(description: Any) -> list[Any] | None:
    """The items of a tuple, a list or a 1-D array, as descriptions; None for anything else."""
    if not isinstance(description, dict):
        return None
    if description.get("type") in ("tuple", "list") and isinstance(description.get("items"), list):
        return description["items"]
    value = description.get("value")
    kind = str(description.get("type", ""))
    array_like = kind == "numpy.ndarray" or kind.endswith("EagerTensor")
    if array_like and isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "biuf":
        return [{"type": "float", "value": float(v)} for v in value[:1000]]
    return None


def _close(a: float, b: float, tolerance: float) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=tolerance)


def _rounded(got: float, want: float, tolerance: float) -> bool:
    """Whether ``got`` is ``want`` rounded to 1–5 decimals (and not ``want`` itself)."""
    return not _close(got, want, tolerance) and any(
        _close(got, round(want, digits_), tolerance) for digits_ in range(1, 6)
    )


def _shown(values: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:.4f}" for v in values) + "]"


# --- Exercise 1: a label-preserving augmentation for digits --------------------------------------

DIGIT_SIZE = 16  # the lesson's digits are enlarged to 16×16


def _augmentation_probe(seed: int, digit_augmentation: Any) -> dict[str, Any]:
    """Build the student's augmentation and observe it on digits chosen by ``seed``."""
    built = _attempt(digit_augmentation)
    if "value" not in built:
        return built
    return digits.observe(built["value"], digits.sample(seed, size=DIGIT_SIZE))


def _augmentation_judge(data: Any, seed: int) -> str:
    __tracebackhide__ = True
    found = digits.problem(data, digits.sample(seed, size=DIGIT_SIZE), "digit_augmentation()", seeded=False)
    if found:
        fail(*found)
    return (
        "digit_augmentation() changes the digits in training, leaves them alone in inference, and "
        "neither flips them, turns them far, moves them out of the frame nor adds ink."
    )


# --- Exercise 2: the effect, mean ± spread over seeds -------------------------------------------

EFFECT_TOLERANCE = 1e-6  # float32 arithmetic is close enough; rounding to 5 decimals is not
VALIDATION_SIZE = 1747  # accuracies are counts out of the lesson's validation set
EFFECT_SIZES = (3, 5, 2)  # seeds per case: the lesson's three, more, and the fewest that have a spread


def effect_cases(seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(with_aug, without_aug)`` validation accuracies, one per seed, for each case of ``seed``.

    The second case always has a gain and a loss, and ranks its seeds differently in the two arms,
    so that dropping the sign or breaking the pairs (sorting an arm) never goes unnoticed.
    """
    rng = np.random.default_rng(seed)
    cases = []
    for index, n in enumerate(EFFECT_SIZES):
        while True:
            without = rng.integers(round(0.55 * VALIDATION_SIZE), round(0.92 * VALIDATION_SIZE), n)
            gain = rng.integers(-round(0.03 * VALIDATION_SIZE), round(0.07 * VALIDATION_SIZE), n)
            telling = index != 1 or (
                gain.min() < 0 < gain.max() and (np.argsort(without + gain) != np.argsort(without)).any()
            )
            if len(set(gain.tolist())) == n and gain.sum() != 0 and telling:
                break
        cases.append(((without + gain) / VALIDATION_SIZE, without / VALIDATION_SIZE))
    return cases


def reference_effect(with_aug: np.ndarray, without_aug: np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of the per-seed differences."""
    differences = np.asarray(with_aug, dtype=float) - np.asarray(without_aug, dtype=float)
    return float(differences.mean()), float(differences.std(ddof=1))


def _effect_probe(
    seed: int, paired_effect: Any, effect: Any, val_with: Any, val_without: Any
) -> dict[str, Any]:
    """The student's function on the seed's accuracies; ``effect`` and the experiment's accuracies."""
    cases = []
    for with_aug, without in effect_cases(seed):
        given = (with_aug.copy(), without.copy())
        result = _call(paired_effect, *given)
        result["changed"] = not (np.array_equal(given[0], with_aug) and np.array_equal(given[1], without))
        cases.append(result)
    return {"cases": cases, "effect": plain(effect), "runs": [plain(val_with), plain(val_without)]}


def _accuracies(description: Any) -> np.ndarray | None:
    """One validation accuracy per seed (at least two, each in [0, 1]), from a description; else None."""
    numbers = [_scalar(item) for item in _items(description) or []]
    if len(numbers) < 2 or None in numbers:
        return None
    values = np.asarray(numbers, dtype=float)
    return values if np.all(np.isfinite(values)) and values.min() >= 0 and values.max() <= 1 else None


def _pair(description: Any, what: str, example: str) -> tuple[float, float]:
    """Two finite numbers, ``(mean, spread)``, from a description; fails with a message otherwise."""
    __tracebackhide__ = True
    items = _items(description)
    if items is None:
        if isinstance(description, dict) and description.get("type") == "NoneType":
            fail(f"{what} is None: return (mean, spread); printing them does not return them.", "not a pair")
        if _scalar(description) is not None:
            fail(
                f"{what} is one number; it must be two, the mean and the spread, as a tuple such as "
                f"{example}.",
                "not a pair",
            )
        fail(
            f"{what} must be a tuple of two numbers, {example}; it is {_type_name(description)}.",
            "not a pair",
        )
    if len(items) != 2:
        fail(f"{what} holds {len(items)} values; it must hold two, {example}.", "not a pair")
    return _number(items[0], f"the mean in {what}"), _number(items[1], f"the spread in {what}")


def _effect_mistake(got: tuple[float, float], with_aug: np.ndarray, without: np.ndarray) -> tuple[str, str]:
    """What a wrong (mean, spread) most likely got wrong: (message, mistake)."""
    mean, spread = reference_effect(with_aug, without)
    d = with_aug - without
    n, tol = len(d), EFFECT_TOLERANCE
    m, s = got
    if _close(m, 100 * mean, 1e-4) and _close(s, 100 * spread, 1e-4):
        return "the values are percentages: give them as fractions, as the accuracies are.", "percent"
    if _close(m, 100 * mean, 1e-4) and not _close(m, mean, tol):
        return "the mean is a percentage: give it as a fraction, as the accuracies are.", "percent"
    if _close(m, mean, tol) and _close(s, 100 * spread, 1e-4) and not _close(s, spread, tol):
        return "the spread is a percentage: give it as a fraction, as the accuracies are.", "percent"
    if _close(m, spread, tol) and _close(s, mean, tol) and not _close(mean, spread, tol):
        return (
            "the two numbers are in the wrong order: return (mean, spread), the mean first.",
            "order swapped",
        )
    if _close(m, -mean, tol):
        return (
            "the sign is reversed: the effect is the accuracy with augmentation minus the accuracy "
            "without (a gain is positive).",
            "sign reversed",
        )
    if _rounded(m, mean, tol) or (_close(m, mean, tol) and _rounded(s, spread, tol)):
        return (
            "the numbers are rounded: return them as computed, and round only where you print them.",
            "rounded",
        )
    if not _close(m, mean, tol):
        if _close(m, float(np.abs(d).mean()), tol):
            return (
                "the mean is of the absolute differences: keep their sign, a loss counts against the gain.",
                "absolute differences",
            )
        ratios = (float((with_aug / without).mean()), float(with_aug.mean() / without.mean()))
        if any(_close(m, r, tol) or _close(m, r - 1, tol) for r in ratios):
            return (
                "the mean is of ratios: the effect is a difference of accuracies, with minus without.",
                "ratio",
            )
        if _close(m, float(np.median(d)), tol):
            return (
                "the first number is the median of the differences; the exercise asks for the mean.",
                "median",
            )
        return (
            "the mean is not the mean of the per-seed differences (with minus without, seed by seed).",
            "wrong mean",
        )
    if _close(s, float(d.std(ddof=0)), tol):
        return (
            "the spread uses the population formula (ddof=0). With a handful of seeds use the sample "
            "standard deviation, as the exercise asks.",
            "ddof=0",
        )
    if _close(s, float(d.var(ddof=1)), tol) or _close(s, float(d.var(ddof=0)), tol):
        return (
            "the spread is a variance; the exercise asks for a standard deviation (its square root).",
            "variance",
        )
    if _close(s, spread / math.sqrt(n), tol):
        return (
            "the spread is the standard error of the mean; the exercise asks for the standard "
            "deviation of the differences themselves.",
            "standard error",
        )
    unpaired = [np.std(with_aug, ddof=k) for k in (0, 1)] + [np.std(without, ddof=k) for k in (0, 1)]
    unpaired += [abs(np.std(with_aug, ddof=k) - np.std(without, ddof=k)) for k in (0, 1)]
    unpaired += [math.hypot(np.std(with_aug, ddof=k), np.std(without, ddof=k)) for k in (0, 1)]
    unpaired += [np.std(with_aug, ddof=k) + np.std(without, ddof=k) for k in (0, 1)]
    if any(_close(s, float(u), tol) for u in unpaired):
        return (
            "the spread comes from the two arms separately: pair each seed's two runs, take their "
            "difference, and measure the spread of those differences.",
            "unpaired spread",
        )
    return (
        "the spread is not the sample standard deviation of the per-seed differences.",
        "wrong spread",
    )


def _effect_judge(data: Any, seed: int) -> str:
    __tracebackhide__ = True
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        fail("the answer could not be judged: its data is not what a probe writes.", "malformed")
    cases = effect_cases(seed)
    if len(data["cases"]) != len(cases):
        fail("the answer could not be judged: its data is not what a probe writes.", "malformed")
    _function_is_right(data["cases"], cases)
    effect = data.get("effect")
    if isinstance(effect, dict) and effect.get("type") in ("NoneType", "ellipsis"):
        fail(
            "paired_effect is right, but `effect` is not set yet: set it from the experiment's "
            "val_with and val_without with your function.",
            "effect not set",
        )
    with_aug, without = _experiment(data.get("runs"))
    mean, spread = _pair(effect, "effect", "paired_effect(val_with, val_without)")
    if abs(mean) > 1 or spread > 1:
        fail("effect holds percentages: give it as fractions, as paired_effect returns them.", "percent")
    if spread < 0:
        fail("the spread in effect is negative; a standard deviation never is.", "negative spread")
    if spread == 0:
        fail(
            "effect has a spread of exactly 0, which real runs do not give: set it with your "
            "function from the experiment's val_with and val_without.",
            "effect placeholder",
        )
    _from_the_experiment((mean, spread), with_aug, without)
    return (
        f"paired_effect is right on {len(cases)} sets of runs, and effect = {mean:+.1%} ± {spread:.1%} "
        "(mean ± sample standard deviation of the per-seed differences)."
    )


def _returned(result: Any) -> tuple[float, float] | None:
    """The (mean, spread) a call returned, or None where it is not two finite numbers."""
    try:
        return _pair(_value(result, "paired_effect()"), "", "")
    except CheckFailed:
        return None


def _function_is_right(results: list[Any], cases: list[tuple[np.ndarray, np.ndarray]]) -> None:
    """Fail with the most likely mistake unless ``paired_effect`` was right on every case."""
    __tracebackhide__ = True
    returned = [_returned(result) for result in results]
    if None not in returned and len(set(returned)) == 1:
        fail(
            "paired_effect returns the same numbers for every set of runs it is given: compute them "
            "from its arguments, with_aug and without_aug, not from val_with, val_without or numbers "
            "you typed in.",
            "ignores its arguments",
        )
    for result, (with_aug, without) in zip(results, cases, strict=True):
        if isinstance(result, dict) and result.get("changed") is True:
            fail(
                "paired_effect changes the arrays it is given (an in-place operation such as `-=` or "
                "`.sort()`), and with them the experiment's val_with and val_without: compute into a "
                "new array and leave the arguments as they are.",
                "changes its arguments",
            )
        where = f"For with_aug={_shown(with_aug)}, without_aug={_shown(without)}"
        got = _pair(_value(result, "paired_effect()"), "the result of paired_effect()", "(mean, spread)")
        want = reference_effect(with_aug, without)
        if not all(_close(g, w, EFFECT_TOLERANCE) for g, w in zip(got, want, strict=True)):
            message, mistake = _effect_mistake(got, with_aug, without)
            fail(f"{where}: {message}", mistake)


def _experiment(runs: Any) -> tuple[np.ndarray, np.ndarray]:
    """The experiment's (val_with, val_without) from the probe's data; fails where they are not that."""
    __tracebackhide__ = True
    pair = [_accuracies(arm) for arm in runs] if isinstance(runs, list) and len(runs) == 2 else [None]
    if any(arm is None for arm in pair) or len(pair[0]) != len(pair[1]):
        fail(
            "val_with and val_without are not the experiment's accuracies (one fraction per seed, as "
            "many in one as in the other): run the experiment's cells again, and leave those two "
            "names as they make them.",
            "experiment missing",
        )
    counts = np.concatenate(pair) * VALIDATION_SIZE  # Keras's accuracy: right answers / images
    if np.abs(counts - np.round(counts)).max() > 0.01:
        fail(
            f"val_with and val_without are not the experiment's validation accuracies: each is a "
            f"count of right answers out of its {VALIDATION_SIZE} validation images, and these are "
            "not (typed in, rounded, or another metric?). Run the experiment's cells again, and leave "
            "those two names as they make them.",
            "not validation accuracies",
        )
    if np.array_equal(pair[0], pair[1]):
        fail(
            "val_with and val_without hold the same accuracies: each must be its own arm of the "
            "experiment, as its cells make them. Run those cells again.",
            "same arrays",
        )
    return pair[0], pair[1]


def _from_the_experiment(effect: tuple[float, float], with_aug: np.ndarray, without: np.ndarray) -> None:
    """Fail unless ``effect`` is the paired effect of the experiment's own accuracies, with first."""
    __tracebackhide__ = True
    mean, spread = reference_effect(with_aug, without)
    if all(_close(g, w, EFFECT_TOLERANCE) for g, w in zip(effect, (mean, spread), strict=True)):
        return
    if _close(effect[0], -mean, EFFECT_TOLERANCE) and _close(effect[1], spread, EFFECT_TOLERANCE):
        fail(
            "effect has the sign reversed: the arguments are swapped. Call "
            "paired_effect(val_with, val_without), with augmentation first.",
            "arguments swapped",
        )
    if _close(effect[0], spread, EFFECT_TOLERANCE) and _close(effect[1], mean, EFFECT_TOLERANCE):
        fail(
            "effect holds the spread first: keep (mean, spread) in the order paired_effect returns.",
            "order swapped",
        )
    if _rounded(effect[0], mean, EFFECT_TOLERANCE) or _rounded(effect[1], spread, EFFECT_TOLERANCE):
        fail(
            "effect is rounded: set it from your function's result as computed, and round only where "
            "you print it.",
            "rounded",
        )
    fail(
        "effect is not what paired_effect gives on val_with and val_without as they are now: set it "
        "with your function from those two arrays, and run that cell again whenever the experiment "
        "runs again.",
        "effect not from the experiment",
    )


# --- Exercise 3: accuracy on clean images ---------------------------------------------------------

IMAGE_SHAPE = (8, 8, 1)  # the test model's images: not the lesson's, so its variables do not fit
CLASSES = 10
CLEAN_SIZES = (37, 41, 43, 47, 53, 59)  # primes: no accuracy k/n is a round decimal
CLEAN_CASES = 2
CLEAN_TOLERANCE = 1e-6  # what model.evaluate's float32 mean can differ by


@dataclass(frozen=True)
class CleanCase:
    """A test model and its images, derived from a seed.

    The model is ``Input(8, 8, 1) → RandomRotation((0.5, 0.5)) → Flatten → Dense(10, softmax)``:
    in training mode its augmentation turns every image upside down, so the accuracy with
    augmentation on differs from the clean one by far more than chance, and is known exactly. All
    values are small multiples of powers of two, so float32 and float64 agree on every logit.
    """

    x: np.ndarray  # float32 (n, 8, 8, 1), multiples of 1/16 in [0, 1]
    y: np.ndarray  # int32 (n,) labels 0-9
    kernel: np.ndarray  # float32 (64, 10), multiples of 1/64 in [-1, 1]
    bias: np.ndarray  # float32 (10,)

    def logits(self, turned: bool = False) -> np.ndarray:
        """The Dense layer's logits in float64 (``turned``: on the images turned upside down)."""
        images = self.x[:, ::-1, ::-1] if turned else self.x
        return images.reshape(len(images), -1).astype(np.float64) @ self.kernel.astype(np.float64) + self.bias

    def probabilities(self, turned: bool = False) -> np.ndarray:
        """The model's softmax outputs, in float64."""
        logits = self.logits(turned)
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def accuracy(self, turned: bool = False) -> float:
        """Accuracy with augmentation off (``turned``: on, as in training mode)."""
        return float(np.mean(self.logits(turned).argmax(axis=1) == self.y))


def _no_ties(logits: np.ndarray) -> bool:
    top = np.sort(logits, axis=1)[:, -2:]
    return bool(np.all(top[:, 1] > top[:, 0]))


def mistaken_values(case: CleanCase) -> dict[str, float]:
    """What typical mistakes return on ``case``, by kind of mistake (beside the right accuracy)."""
    probabilities, predicted = case.probabilities(), case.logits().argmax(axis=1)
    return {
        "augmentation on": case.accuracy(turned=True),  # a direct call model(x): training mode
        "error rate": 1 - case.accuracy(),
        "confidence": float(probabilities.max(axis=1).mean()),
        "argmax without axis": float(np.mean(case.y == probabilities.argmax())),
        "labels vs one-hot": float(np.mean(predicted == case.y.argmax())),  # categorical accuracy
    }


def _distinct(case: CleanCase) -> bool:
    """Whether every typical mistake gives a value of its own (not 0), far from the right one and its
    roundings."""
    want = case.accuracy()
    values = [want, *mistaken_values(case).values()]
    apart = min(values) > 0 and all(abs(a - b) > 0.01 for i, a in enumerate(values) for b in values[i + 1 :])
    return apart and all(abs(round(want, k) - want) > 2e-6 for k in range(1, 5))


def clean_case(seed: int, index: int) -> CleanCase:
    """The ``index``-th test model and images of ``seed`` (the same in the probe and the judge).

    Drawn again until the classes are predicted evenly, no image has two equal top outputs, the
    most confident image comes first by a clear margin, and the typical mistakes give values apart.
    """
    rng = np.random.default_rng([seed, index])
    n = int(rng.choice(CLEAN_SIZES))
    size = math.prod(IMAGE_SHAPE)
    while True:
        x = (rng.integers(0, 17, size=(n, *IMAGE_SHAPE)) / 16).astype("float32")
        kernel = (rng.integers(-32, 33, size=(size, CLASSES)) / 64).astype("float32")
        bias = (-kernel.sum(axis=0) / 2 + rng.integers(-8, 9, size=CLASSES) / 64).astype("float32")
        case = CleanCase(x, np.zeros(n, dtype="int32"), kernel, bias)
        predicted = case.logits().argmax(axis=1)
        if not (_no_ties(case.logits()) and _no_ties(case.logits(turned=True))):
            continue
        if np.bincount(predicted, minlength=CLASSES).max() > 0.35 * n:
            continue
        confidence = case.probabilities().max(axis=1)
        first = int(confidence.argmax())
        if np.sort(confidence)[-2] > confidence[first] - 1e-3:
            continue
        order = np.r_[first, np.delete(np.arange(n), first)]
        x, predicted = x[order], predicted[order]
        right = np.zeros(n, dtype=bool)
        right[rng.permutation(n)[: rng.integers(math.ceil(0.55 * n), math.floor(0.85 * n) + 1)]] = True
        y = np.where(right, predicted, (predicted + rng.integers(1, CLASSES, n)) % CLASSES).astype("int32")
        case = CleanCase(x, y, kernel, bias)
        if _distinct(case):
            return case


def clean_model(case: CleanCase) -> Any:
    """The Keras model of a :class:`CleanCase`, compiled as the lesson's models are (probe side)."""
    import keras

    dense = keras.layers.Dense(CLASSES, activation="softmax")
    model = keras.Sequential(
        [
            keras.Input(IMAGE_SHAPE),
            keras.layers.RandomRotation((0.5, 0.5), fill_mode="constant", interpolation="nearest"),
            keras.layers.Flatten(),
            dense,
        ]
    )
    dense.set_weights([case.kernel, case.bias])
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _clean_probe(seed: int, clean_accuracy: Any) -> dict[str, Any]:
    """The student's function on the seed's test models and images."""
    results = []
    for index in range(CLEAN_CASES):
        case = clean_case(seed, index)
        results.append(_call(clean_accuracy, clean_model(case), case.x.copy(), case.y.copy()))
    return {"cases": results}


def _clean_error(result: dict[str, Any], n: int) -> None:
    """Fail on a raised error, with a hint where the error is a typical one."""
    __tracebackhide__ = True
    if result.get("raised") is None or (
        result["raised"] == "NotImplementedError" and not result.get("message")
    ):
        return
    name, message = str(result["raised"])[:MAX_SHOWN], str(result.get("message", ""))[:200]
    raised = f"clean_accuracy(model, x, y) raised {name}: {message}"
    if re.search(r"axis \d+ is out of bounds for array of dimension 1", message):
        fail(f"{raised}. y holds one integer label (0–9) per image, not one-hot rows.", "labels vs one-hot")
    if "broadcast" in message or "Incompatible shapes" in message:
        fail(
            f"{raised}. Compare one predicted class per image with its label: the predicted class "
            "is the position of the largest of the image's 10 outputs.",
            "argmax axis",
        )
    fail(
        f"{raised}. The check calls it with its own small model, {n} images of shape {IMAGE_SHAPE} "
        "and their integer labels: use the arguments, not the lesson's variables.",
        "raises an error",
    )


def _clean_mistake(got: float, case: CleanCase) -> tuple[str, str]:
    """What a wrong accuracy most likely got wrong: (message, mistake)."""
    want, n, tol = case.accuracy(), len(case.y), CLEAN_TOLERANCE
    mistaken = mistaken_values(case)
    if _close(got, mistaken["augmentation on"], tol) or _close(got, 100 * mistaken["augmentation on"], 1e-4):
        return (
            f"on a test model whose augmentation turns every image upside down in training, "
            f"clean_accuracy returned {got:.4g}: the accuracy with the augmentation on. In Keras 3 a "
            "direct call model(x) runs augmentation layers in training mode (section 3 shows how "
            "to switch them off).",
            "augmentation on",
        )
    if _close(got, 100 * want, 1e-4):
        return (
            f"clean_accuracy returned {got:.4g}, a percentage: return a fraction between 0 and 1.",
            "percent",
        )
    if _close(got, want * n, 1e-3):
        return (
            f"clean_accuracy returned a count ({got:g} of {n} images): divide by the number of images.",
            "count",
        )
    if _rounded(got, want, tol):
        return f"clean_accuracy returned {got:g}, a rounded value: round only where you print it.", "rounded"
    messages = {
        "error rate": "clean_accuracy returned the share of images predicted wrong, not the share "
        "predicted right.",
        "confidence": "clean_accuracy returned the mean of the largest output, the model's confidence; "
        "accuracy counts the images whose predicted class equals their label.",
        "argmax without axis": "clean_accuracy compares the labels with a single number: argmax "
        "without an axis takes the largest output of the whole batch. Take one predicted class per image.",
        "labels vs one-hot": "clean_accuracy treats the labels as one-hot rows (as a categorical "
        "accuracy does); y holds one integer label (0–9) per image.",
    }
    for kind, message in messages.items():
        if _close(got, mistaken[kind], tol):
            return message, "argmax axis" if kind == "argmax without axis" else kind
    return (
        f"on {n} test images clean_accuracy returned {got:.4f}, which is not the share of images "
        "whose predicted class (the largest of the 10 outputs) equals their integer label, with "
        "augmentation off. Use the model, images and labels it is given.",
        "wrong accuracy",
    )


def _clean_judge(data: Any, seed: int) -> str:
    __tracebackhide__ = True
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        fail("the answer could not be judged: its data is not what a probe writes.", "malformed")
    if len(data["cases"]) != CLEAN_CASES:
        fail("the answer could not be judged: its data is not what a probe writes.", "malformed")
    for index, result in enumerate(data["cases"]):
        case = clean_case(seed, index)
        if isinstance(result, dict):
            _clean_error(result, len(case.y))
        description = _value(result, "clean_accuracy()")
        items = _items(description)
        scalars = [_scalar(item) for item in items or []]
        pair = items is not None and len(items) == 2 and all(v is not None for v in scalars)
        if pair and _close(float(scalars[1]), case.accuracy(), 1e-5):  # type: ignore[arg-type]
            fail(
                "clean_accuracy returned two numbers, [loss, accuracy], as model.evaluate does: return the "
                "accuracy alone, as one float.",
                "evaluate's list",
            )
        if items is not None and len(items) == len(case.y) > 2:
            fail(
                f"clean_accuracy returned {len(items)} values, one per image: return one number, "
                "the share of images predicted right.",
                "not averaged",
            )
        got = _number(description, "the result of clean_accuracy(model, x, y)")
        if not _close(got, case.accuracy(), CLEAN_TOLERANCE):
            message, mistake = _clean_mistake(got, case)
            fail(message, mistake)
    return (
        f"clean_accuracy is right on {CLEAN_CASES} test models whose augmentation turns every image "
        "upside down in training: it measures with the augmentation off."
    )


# --- Exercise 4: judge augmentation pipelines ----------------------------------------------------

PIPELINE_VERDICTS = ("sound", "leaks", "noisy validation", "breaks labels", "too strong")
PIPELINES = ("P1", "P2", "P3", "P4", "P5", "P6")
_PIPELINES = {
    "P1": "937610552e34513b440f1937f8ca57d59119c25566455e826d2fee3ad4596295",
    "P2": "9218263293a8ee822f3790d07e195e55e4d922817c513953339d3a9fdced1b75",
    "P3": "cb0233e2f506e3cdc6a4602d0c7ae152229c30738d22104266f61077b1fa0dd7",
    "P4": "3a3cc7f93105a4385c76efa40cfbd0ee3b1304175186975a05daf4b155dd16c6",
    "P5": "856fc97d6805913da3275f771b56ccf65b8089a844262a07680d13458d8b6d74",
    "P6": "e8a7856cbfdd3036d2a99e15a692fc3f678fb050087715d17e3e588ae2f3cbaf",
}
PIPELINE_HINTS = {
    "P1": "where do the copies of one original image end up after the shuffle?",
    "P2": "which images are augmented, and which does validation use?",
    "P3": "evaluate the same model twice: do you get the same number?",
    "P4": "what does a 6 look like flipped both ways?",
    "P5": "how well does the model do on its own, clean, training images?",
    "P6": "what is the training accuracy measured on, and what does validation see?",
}

TABLE = VerdictTable(
    "verdicts", "course-experiment", PIPELINE_VERDICTS, _PIPELINES, PIPELINE_HINTS, example=', e.g. "sound"'
)


# --- The exercises ---------------------------------------------------------------------------------

ex1 = Exercise(
    "ex1_check",
    "A label-preserving augmentation for digits",
    ("digit_augmentation",),
    _augmentation_probe,
    _augmentation_judge,
)
ex2 = Exercise(
    "ex2_check",
    "The effect of augmentation, mean ± spread over seeds",
    ("paired_effect", "effect", "val_with", "val_without"),
    _effect_probe,
    _effect_judge,
)
ex3 = Exercise(
    "ex3_check",
    "Accuracy on clean images, augmentation off",
    ("clean_accuracy",),
    _clean_probe,
    _clean_judge,
)
ex4 = TABLE.exercise("ex4_check", "Judge six augmentation pipelines", PIPELINES)

EXERCISES = [ex1, ex2, ex3, ex4]
