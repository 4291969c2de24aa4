"""Checks of the lesson on the augmentation experiment: one function per exercise.

The checks are seed-fixed (they seed Keras before building or calling anything random) and
compare numbers with a tolerance. Right verdicts are stored as digests, as in the quiz.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import keras
import numpy as np

from augcourse import data
from augcourse.checks.feedback import expect, fail, passed
from augcourse.checks.metrics import as_number
from augcourse.checks.verdicts import VerdictTable

# --- Exercise 1: a label-preserving augmentation for digits ---------------------------------

MAX_ROTATION = 0.1  # of a full turn (36°): beyond it a 6 starts to read as a 9
MAX_SHIFT_OR_ZOOM = 0.3
MIN_SIMILARITY = 0.6  # mean correlation of an augmented digit with its original


def _layers(layer: keras.Layer) -> list[keras.Layer]:
    """``layer`` and every layer nested inside it."""
    found = [layer]
    for inner in getattr(layer, "layers", []):
        found += _layers(inner)
    return found


def _largest(*factors: object) -> float:
    """The largest magnitude among factors given as numbers or (low, high) pairs."""
    values: list[float] = []
    for factor in factors:
        if factor is None:
            continue
        pair = factor if isinstance(factor, tuple | list) else (factor,)
        values += [abs(float(v)) for v in pair]
    return max(values, default=0.0)


def _structure_problem(layer: keras.Layer) -> str | None:
    """A label-breaking or too-strong layer inside ``layer``, if any."""
    for inner in _layers(layer):
        kind = type(inner).__name__
        if kind == "RandomFlip":
            return (
                "it flips the digits. A mirrored 2, 3, 4, 5 or 7 is not a digit, and a 6 flipped "
                "both ways is a 9: flips change the label. Leave them out."
            )
        if kind == "RandomRotation" and _largest(inner.factor) > MAX_ROTATION:
            return (
                f"it rotates by up to {_largest(inner.factor) * 360:.0f}°. Far enough, a 6 "
                "reads as a 9; keep rotations small (factors are fractions of a full turn)."
            )
        if kind in ("RandomZoom", "RandomTranslation"):
            largest = _largest(inner.height_factor, inner.width_factor)
            if largest > MAX_SHIFT_OR_ZOOM:
                return (
                    f"its {kind} factor {largest:g} moves or scales digits so far that parts "
                    "leave the 16×16 frame; keep it small."
                )
    return None


def _similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Correlation of each image of ``a`` with the same image of ``b``."""
    a = a.reshape(len(a), -1) - a.reshape(len(a), -1).mean(axis=1, keepdims=True)
    b = b.reshape(len(b), -1) - b.reshape(len(b), -1).mean(axis=1, keepdims=True)
    return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1) + 1e-12)


def _behaviour_problem(layer: keras.Layer, images: np.ndarray) -> str | None:
    """What is wrong with how ``layer`` treats a batch of digits, if anything."""
    try:
        trained = np.asarray(layer(images, training=True))
        inferred = np.asarray(layer(images, training=False))
    except Exception as error:  # any error, reported to the student
        return f"calling it on a batch of digits raised {type(error).__name__}: {error}"
    if trained.shape != images.shape:
        return f"it turns a batch of shape {images.shape} into {trained.shape}; keep the shape."
    if not np.allclose(inferred, images, atol=1e-5):
        return "it changes images in inference mode (training=False); use Keras's Random* layers."
    if np.abs(trained - images).mean() < 1e-3:
        return "it leaves the digits unchanged in training mode: add at least one random layer."
    if trained.min() < -0.01 or trained.max() > 1.01:
        return (
            f"its output spans [{trained.min():.2f}, {trained.max():.2f}], outside the images' "
            "range [0, 1]. Brightness and contrast layers assume 0–255 unless given "
            "value_range=(0, 1), and added noise is not clipped."
        )
    similarity = float(_similarity(trained, images).mean())
    if similarity < MIN_SIMILARITY:
        return (
            f"it changes the digits so much that they keep only {similarity:.2f} correlation "
            f"with the originals on average (at least {MIN_SIMILARITY} keeps them readable); "
            "weaken it."
        )
    return None


def augmentation_pipeline(factory: Callable[[], object], seed: int = 0) -> None:
    """Exercise 1: ``factory()`` builds a label-preserving augmentation for the digits."""
    __tracebackhide__ = True
    keras.utils.set_random_seed(seed)
    layer = factory()
    expect(
        isinstance(layer, keras.Layer),
        f"digit_augmentation() must return a Keras layer, such as keras.Sequential([...]); it "
        f"returned {type(layer).__name__}.",
    )
    problem = _structure_problem(layer)  # type: ignore[arg-type]
    if problem is None:
        x, y = data.digit_images()
        images = x[np.random.default_rng(seed).choice(len(y), size=64, replace=False)]
        problem = _behaviour_problem(layer, images)  # type: ignore[arg-type]
    if problem:
        fail(f"The augmentation is not right for digits yet: {problem}")
    passed(
        "the augmentation changes digits in training, leaves them alone in inference and keeps them readable."
    )


# --- Exercise 2: the effect, mean ± spread over seeds ---------------------------------------

EFFECT_CASES = (
    ((0.85, 0.86, 0.84), (0.80, 0.82, 0.81)),
    ((0.70, 0.74, 0.69, 0.75), (0.71, 0.70, 0.68, 0.72)),
)


def _pair(result: object, what: str) -> tuple[float, float]:
    __tracebackhide__ = True
    if type(result) not in (tuple, list) or len(result) != 2:
        fail(f"{what} must be two numbers, (mean, spread); it is {result!r}.")
    mean = as_number(result[0], f"the mean in {what}")
    return mean, as_number(result[1], f"the spread in {what}")


def _effect_mistake(got: tuple[float, float], with_aug: np.ndarray, without: np.ndarray) -> str:
    """What a wrong (mean, spread) most likely got wrong."""
    mean, _ = data.paired_effect(with_aug, without)
    differences = with_aug - without
    if abs(got[0]) > 1.5 or got[1] > 1.5:
        return "give accuracies as fractions, as the runs report them, not percentages."
    if math.isclose(got[0], -mean, abs_tol=1e-9) and abs(mean) > 1e-9:
        return "the sign is reversed: the effect is accuracy with augmentation minus without."
    if not math.isclose(got[0], mean, abs_tol=1e-9):
        return "the mean is not the mean of the per-seed differences (with minus without)."
    if math.isclose(got[1], float(differences.std(ddof=0)), abs_tol=1e-9):
        return (
            "the spread uses the population formula (ddof=0). With a handful of seeds use the "
            "sample standard deviation, ddof=1."
        )
    return (
        "the spread is not the sample standard deviation of the per-seed differences: pair each "
        "seed's two runs, take their differences, then the spread of those."
    )


def _effect_ok(got: tuple[float, float], with_aug: np.ndarray, without: np.ndarray) -> bool:
    want = data.paired_effect(with_aug, without)
    return all(math.isclose(g, w, abs_tol=1e-9) for g, w in zip(got, want, strict=True))


def effect_function(
    func: Callable[[np.ndarray, np.ndarray], object],
    cases: Iterable[tuple[Sequence[float], Sequence[float]]] = EFFECT_CASES,
) -> None:
    """Exercise 2, the function: ``func(with_aug, without_aug)`` on known accuracies."""
    __tracebackhide__ = True
    cases = list(cases)
    for with_values, without_values in cases:
        with_aug, without = np.array(with_values), np.array(without_values)
        got = _pair(func(with_aug.copy(), without.copy()), "paired_effect(...)")
        if not _effect_ok(got, with_aug, without):
            fail(
                f"For with={list(with_values)}, without={list(without_values)}: "
                + _effect_mistake(got, with_aug, without)
            )
    passed(f"paired_effect is right on {len(cases)} sets of runs.")


def effect_summary(
    func: Callable[[np.ndarray, np.ndarray], object],
    effect: object,
    with_aug: Sequence[float],
    without_aug: Sequence[float],
) -> None:
    """Exercise 2: the function, then ``effect`` computed from the experiment's accuracies."""
    __tracebackhide__ = True
    effect_function(func)
    with_arr, without_arr = np.asarray(with_aug, dtype=float), np.asarray(without_aug, dtype=float)
    got = _pair(effect, "effect")
    if not _effect_ok(got, with_arr, without_arr):
        fail(
            "effect, from the experiment's validation accuracies: "
            + _effect_mistake(got, with_arr, without_arr)
        )
    passed(f"effect = {got[0]:+.1%} ± {got[1]:.1%} over {len(with_arr)} seeds.")


# --- Exercise 3: accuracy on clean images -----------------------------------------------------


def clean_accuracy(
    func: Callable[[keras.Model, np.ndarray, np.ndarray], object],
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
) -> None:
    """Exercise 3: ``func(model, x, y)`` is the accuracy with augmentation switched off.

    Besides ``x``, the check uses 600 validation digits, on which the accuracy with augmentation
    on differs from the clean one by far more than chance.
    """
    __tracebackhide__ = True
    keras.utils.set_random_seed(0)
    extra = data.digit_split()
    results = []
    for images, labels in ((x, y), (extra.x_val[:600], extra.y_val[:600])):
        got = as_number(func(model, images, labels), "clean_accuracy(...)")
        results.append(got)
        if got > 1:
            fail("give the accuracy as a fraction between 0 and 1, not a percentage.")
        if not math.isclose(got, data.accuracy(model, images, labels), abs_tol=1e-4):
            fail(
                f"on {len(labels)} images, {got:.4f} is not the accuracy with augmentation off. "
                "Calling model(x) directly runs Keras 3's augmentation layers in training mode, "
                "and the accuracy that training reports was measured on augmented batches: use "
                "model.predict or model.evaluate, or model(x, training=False)."
            )
    passed(f"clean accuracy {results[0]:.4f} on {len(y)} images.")


# --- Exercise 4: judge augmentation pipelines -------------------------------------------------

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


TABLE = VerdictTable("verdicts", "course-experiment", PIPELINE_VERDICTS, _PIPELINES, PIPELINE_HINTS)


def normalize_pipeline_verdict(value: object, pipeline: str) -> str:
    """A verdict as one of :data:`PIPELINE_VERDICTS` (the hidden tests compare these)."""
    __tracebackhide__ = True
    return TABLE.normalize(value, pipeline)


def pipeline_verdicts(answer: object) -> None:
    """Exercise 4: a verdict for each pipeline of the table."""
    __tracebackhide__ = True
    TABLE.check(answer, PIPELINES)
    passed(f"all {len(PIPELINES)} verdicts are right.")
