"""The one rule for a label-preserving augmentation of handwritten digit images in [0, 1].

Lesson 1 (8×8 digits) and lesson 4 (16×16 digits) both ask for such an augmentation; both judge it
here, so the course states one rule. An augmentation is accepted when it is a Keras layer (usually a
``keras.Sequential``) whose layers are all among :data:`ALLOWED` (plus the neutral :data:`NEUTRAL`),
and:

- it has at least one layer and never flips (:data:`ALLOWED` has no ``RandomFlip``: a mirrored 2, 3,
  4, 5 or 7 is not a digit, and a 6 turned upside down is a 9);
- ``RandomRotation`` turns by at most :data:`MAX_TURN` of a full turn either way (0.05 = 18°);
- ``RandomZoom`` and ``RandomTranslation`` factors (height and width) are at most :data:`MAX_ZOOM`
  and :data:`MAX_SHIFT` in size;
- every layer with a ``fill_mode`` uses :data:`FILL_MODE` ("constant") with ``fill_value``
  :data:`FILL_VALUE` (0, the black background): "reflect", the default, copies strokes into the
  uncovered border and can change the digit; "wrap" and "nearest" add ink too;
- ``RandomBrightness`` / ``RandomContrast`` use ``value_range=(0, 1)`` and factors of at most
  :data:`MAX_BRIGHTNESS` / :data:`MAX_CONTRAST`;
- on digits it keeps the shape, leaves images unchanged with ``training=False``, changes them with
  ``training=True`` (mean absolute change at least :data:`MIN_CHANGE` in some call) and keeps every
  value in [0, 1] (within :data:`TOLERANCE`);
- where the exercise asks for a seed (``seeded=True``): two augmentations built with the same seed
  make the same first transforms, two built with different seeds differ, and one built with
  ``seed=None`` is still random (two such builds differ).

API (numpy only at module top level; Keras is imported inside the probe-side functions only):

Inputs, both sides:
    ``sample(seed, count=COUNT, size=8) -> np.ndarray`` — ``count`` digits chosen by ``seed`` from
    scikit-learn's 1,797, float32 ``(count, size, size, 1)`` in [0, 1] (``size`` 16 enlarges them by
    bilinear interpolation). The probe calls it to get its inputs; the judge calls it again to know
    them without trusting the probe.

Probe side (runs in the student's kernel):
    ``observe(layer, images, calls=CALLS) -> dict`` — a built layer as plain data:
    ``{"layers": [{"class": name, "config": get_config()}...], "inference": array,
    "training": array (calls, *images.shape)}``; ``{"type": name}`` when it is not a Keras layer;
    ``"raised"``/``"message"`` when calling it fails.
    ``observe_builder(build, images, seed, calls=CALLS) -> dict`` — for a builder taking ``seed=``:
    ``observe(build(seed=seed))`` plus ``"same_seed"`` (first training call of a second build with
    ``seed``), ``"other_seed"`` (of a build with ``seed + 1``) and ``"unseeded"`` (first calls of two
    builds with ``seed=None``); ``{"raised": name, "message": line}`` when building fails.

Judge side (pure; never runs Keras):
    ``problem(data, images, name="the augmentation", seeded=True) -> (message, mistake) | None`` —
    ``images`` are the judge's own ``sample(...)``; ``name`` names the student's function in messages
    (e.g. "build_digit_augmenter()"); ``seeded=False`` skips the seed criteria, for a builder without
    a ``seed`` argument (pass ``observe(...)``'s data). ``message`` is written for the student (it
    names the mistake, not the answer); ``mistake`` is a short stable kind for the class report.
    Forged or malformed data yields a problem, never an exception.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

import numpy as np

MAX_TURN = 0.05  # of a full turn either way (18°): a 6 turned much further starts to read as a 9
MAX_ZOOM = 0.2  # of the size, in or out: beyond it strokes leave the small frame or shrink to dots
MAX_SHIFT = 0.2  # of the height / width
MAX_BRIGHTNESS = 0.3  # of the value range (0, 1)
MAX_CONTRAST = 0.5  # contrast factors from 0.5 to 1.5 at most
FILL_MODE = "constant"
FILL_VALUE = 0.0  # the black background
VALUE_RANGE = (0.0, 1.0)
MIN_CHANGE = 1e-3  # mean absolute change that counts as "changes the digits"
TOLERANCE = 1e-4
COUNT = 24  # digits per check
CALLS = 3  # training-mode calls observed
ALLOWED = ("RandomRotation", "RandomZoom", "RandomTranslation", "RandomBrightness", "RandomContrast")
NEUTRAL = ("InputLayer", "Identity")  # layers that do nothing to an image
FLIPS = ("RandomFlip",)
MAX_LAYERS = 50


# ---- inputs (both sides) ----


@cache
def _all_digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return (load_digits().images / 16.0).astype("float32")


def sample(seed: int, count: int = COUNT, size: int = 8) -> np.ndarray:
    """``count`` digits chosen by ``seed``: float32 ``(count, size, size, 1)`` in [0, 1]."""
    every = _all_digits()
    chosen = every[np.random.default_rng(seed).choice(len(every), size=count, replace=False)]
    if size != chosen.shape[1]:
        from skimage.transform import resize

        chosen = resize(chosen, (count, size, size), order=1, anti_aliasing=False)
    return np.clip(chosen, 0, 1).astype("float32")[..., np.newaxis]


# ---- probe side (in the student's kernel) ----


def _first_line(error: BaseException) -> str:
    text = next((line for line in str(error).splitlines() if line.strip()), "")
    return text.strip()[:200]


def _leaves(layer: Any) -> list[Any]:
    inner = getattr(layer, "layers", None)
    if not isinstance(inner, list | tuple):
        return [layer]
    return [leaf for sub in inner for leaf in _leaves(sub)]


def describe(layer: Any) -> list[dict[str, Any]]:
    """Every leaf layer inside ``layer``: its class name and ``get_config()`` (probe side)."""
    found = []
    for leaf in _leaves(layer)[:MAX_LAYERS]:
        try:
            config = leaf.get_config()
        except Exception:  # a custom layer without a config is described by its class alone
            config = {}
        found.append({"class": type(leaf).__name__, "config": config if isinstance(config, dict) else {}})
    return found


def observe(layer: Any, images: np.ndarray, calls: int = CALLS) -> dict[str, Any]:
    """A built layer as plain data: its layers, its output in inference and in ``calls`` training calls."""
    import keras

    if not isinstance(layer, keras.layers.Layer):
        kind = type(layer)
        return {"type": kind.__name__ if kind.__module__ == "builtins" else kind.__qualname__}
    data: dict[str, Any] = {"layers": describe(layer)}
    try:
        data["inference"] = np.asarray(layer(images, training=False), dtype="float32")
        data["training"] = np.stack(
            [np.asarray(layer(images, training=True), dtype="float32") for _ in range(calls)]
        )
    except Exception as error:  # the student's error is data for the judge
        data.update(raised=type(error).__name__, message=_first_line(error))
    return data


def observe_builder(build: Any, images: np.ndarray, seed: int, calls: int = CALLS) -> dict[str, Any]:
    """A builder ``build(seed=None)`` as plain data: :func:`observe` plus its seed behaviour."""

    def first_call(seed: int | None) -> np.ndarray:
        return np.asarray(build(seed=seed)(images, training=True), dtype="float32")

    try:
        layer = build(seed=seed)
    except Exception as error:
        return {"raised": type(error).__name__, "message": _first_line(error), "when": "building"}
    data = observe(layer, images, calls)
    if "training" not in data:
        return data
    try:
        data["same_seed"] = first_call(seed)
        data["other_seed"] = first_call(seed + 1)
        data["unseeded"] = np.stack([first_call(None), first_call(None)])
    except Exception as error:
        data.update(raised=type(error).__name__, message=_first_line(error))
    return data


# ---- judge side (pure) ----


def _pair(value: Any) -> tuple[float, float]:
    """A factor as Keras reads it: ``f`` means ``(-|f|, |f|)``; a pair means ``(min, max)``."""
    if isinstance(value, list | tuple) and len(value) == 2:
        low, high = sorted(float(v) for v in value)
    else:
        low, high = -abs(float(value)), abs(float(value))
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("factor not finite")
    return low, high


def _largest(*factors: Any) -> float:
    return max(max(abs(v) for v in _pair(f)) for f in factors if f is not None)


def _array(data: dict[str, Any], key: str, shape: tuple[int, ...]) -> np.ndarray | None:
    value = data.get(key)
    if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype.kind not in "fiub":
        return None
    return value.astype("float64")


def _layer_problem(kind: str, config: dict[str, Any]) -> tuple[str, str] | None:
    """What makes one layer wrong for digits, judged from its class and configuration."""
    if kind in FLIPS:
        return (
            f"it flips digits ({kind}); a mirrored 2, 3, 4, 5 or 7 is no longer a digit of its class "
            "and a 6 turned upside down reads as a 9, so flips change the label. Leave flips out.",
            "flip",
        )
    if kind in NEUTRAL:
        return None
    if kind not in ALLOWED:
        return (
            f"it has a {kind} layer; for digits use only these layers: {', '.join(ALLOWED)}.",
            "layer not allowed",
        )
    if kind == "RandomRotation":
        low, high = _pair(config["factor"])
        if max(-low, high) > MAX_TURN + 1e-9:
            return (
                f"it rotates by {low * 360:+.1f}° to {high * 360:+.1f}°: turned that far a digit can "
                f"look like another (a 6 and a 9). Keep rotations within ±{MAX_TURN * 360:.0f}° "
                "(rotation factors are fractions of a full turn).",
                "rotation too large",
            )
    if kind in ("RandomZoom", "RandomTranslation"):
        limit, what = (MAX_ZOOM, "zoom") if kind == "RandomZoom" else (MAX_SHIFT, "shift")
        largest = _largest(config["height_factor"], config.get("width_factor"))
        if largest > limit + 1e-9:
            return (
                f"its {kind} factor {largest:g} is too large for small digits: strokes leave the frame "
                f"or shrink away. Keep the {what} within {limit:.0%} of the size.",
                f"{what} too large",
            )
    if "fill_mode" in config or kind in ("RandomRotation", "RandomZoom", "RandomTranslation"):
        mode, value = config.get("fill_mode"), config.get("fill_value", 0.0)
        if mode != FILL_MODE:
            return (
                f"its {kind} fills the pixels it uncovers with fill_mode={mode!r}: that copies "
                "strokes into the border (reflected, wrapped or stretched ink), which can change "
                "the digit. Fill them with the black background instead.",
                "ink in the fill",
            )
        if not isinstance(value, int | float) or float(value) != FILL_VALUE:
            return (
                f"its {kind} fills uncovered pixels with fill_value={value!r}; the background of the "
                "digits is black (0).",
                "bright fill",
            )
    if kind in ("RandomBrightness", "RandomContrast"):
        value_range = config.get("value_range")
        if not isinstance(value_range, list | tuple) or [float(v) for v in value_range] != list(VALUE_RANGE):
            return (
                f"its {kind} assumes value_range={value_range!r}, but the digits are in [0, 1]: "
                "tell the layer the range of its images.",
                "value range",
            )
        limit = MAX_BRIGHTNESS if kind == "RandomBrightness" else MAX_CONTRAST
        largest = _largest(config["factor"])
        if largest > limit + 1e-9:
            return (
                f"its {kind} factor {largest:g} is strong enough to wash digits out; keep it within "
                f"{limit:g}.",
                "brightness too strong" if kind == "RandomBrightness" else "contrast too strong",
            )
    return None


def _structure_problem(data: dict[str, Any]) -> tuple[str, str] | None:
    layers = data.get("layers")
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        return "its layers could not be read.", "malformed"
    kinds = []
    for layer in layers:
        if not (isinstance(layer, dict) and isinstance(layer.get("class"), str)):
            return "its layers could not be read.", "malformed"
        kinds.append(layer["class"])
    if not [kind for kind in kinds if kind not in NEUTRAL]:
        return (
            "it has no layers: put the random augmentation layers inside the keras.Sequential([...]).",
            "no layers",
        )
    for layer in layers:  # flips first: the most harmful mistake is named first
        if layer["class"] in FLIPS:
            return _layer_problem(layer["class"], {})
    for layer in layers:
        config = layer.get("config")
        try:
            found = _layer_problem(layer["class"], config if isinstance(config, dict) else {})
        except (KeyError, TypeError, ValueError):
            return f"the configuration of its {layer['class'][:40]} could not be read.", "malformed"
        if found:
            return found
    return None


def _behaviour_problem(
    data: dict[str, Any], images: np.ndarray, name: str, seeded: bool
) -> tuple[str, str] | None:
    shape = images.shape
    inference = data.get("inference")
    if isinstance(inference, np.ndarray) and inference.shape != shape:
        return (
            f"{name} turns a batch of shape {shape} into {inference.shape}; augmentation keeps the "
            "size of the images.",
            "shape changed",
        )
    inference = _array(data, "inference", shape)
    training = data.get("training")
    if inference is None or not isinstance(training, np.ndarray) or training.ndim != len(shape) + 1:
        return "its outputs could not be read.", "malformed"
    if training.shape[1:] != shape:
        return (
            f"{name} turns a batch of shape {shape} into {training.shape[1:]} in training; "
            "augmentation keeps the size of the images.",
            "shape changed",
        )
    training = _array(data, "training", (max(1, training.shape[0]), *shape))
    if training is None or not (np.all(np.isfinite(inference)) and np.all(np.isfinite(training))):
        return "its outputs could not be read (not finite numbers).", "malformed"
    if not np.allclose(inference, images, atol=TOLERANCE):
        return (
            f"{name} changes the digits when called with training=False: in inference an "
            "augmentation must return its input (only random augmentation layers belong in it).",
            "changes in inference",
        )
    change = np.abs(training - images[np.newaxis]).mean(axis=tuple(range(1, training.ndim)))
    if change.max() < MIN_CHANGE:
        return (
            f"{name} did not change the digits in {len(training)} calls with training=True: give its "
            "random layers non-zero factors.",
            "no change in training",
        )
    low, high = float(training.min()), float(training.max())
    if low < -TOLERANCE or high > 1 + TOLERANCE:
        return (
            f"{name} produced pixel values from {low:.2f} to {high:.2f}, outside [0, 1].",
            "values outside [0, 1]",
        )
    if seeded:
        return _seed_problem(data, training[0], name)
    return None


def _seed_problem(data: dict[str, Any], first: np.ndarray, name: str) -> tuple[str, str] | None:
    shape = first.shape
    same, other = _array(data, "same_seed", shape), _array(data, "other_seed", shape)
    unseeded = _array(data, "unseeded", (2, *shape))
    if same is None or other is None or unseeded is None:
        return "its outputs for other seeds could not be read.", "malformed"
    if not np.allclose(same, first, atol=TOLERANCE):
        return (
            f"{name} built twice with the same seed transformed the same digits differently: pass "
            "`seed` to every random layer.",
            "seed not passed",
        )
    if np.allclose(other, first, atol=TOLERANCE):
        return (
            f"{name} made the same transforms with two different seeds: use the `seed` argument "
            "instead of a fixed number.",
            "seed ignored",
        )
    if np.allclose(unseeded[0], unseeded[1], atol=TOLERANCE):
        return (
            f"{name} with seed=None made the same transforms twice: pass `seed` on as it is given "
            "(None means a fresh random stream), without replacing None by a fixed number.",
            "fixed seed",
        )
    return None


def problem(
    data: Any, images: np.ndarray, name: str = "the augmentation", seeded: bool = True
) -> tuple[str, str] | None:
    """What is wrong with an observed digit augmentation, as ``(message, mistake)``; None if right."""
    if not isinstance(data, dict):
        return "the answer could not be judged: its data is not what a probe writes.", "malformed"
    if data.get("raised") == "NotImplementedError":
        return (
            f"{name} is not written yet: replace `raise NotImplementedError()` with your code.",
            "not written",
        )
    if "raised" in data and "layers" not in data:
        return (
            f"{name} raised {str(data['raised'])[:40]}: {str(data.get('message', ''))[:200]}",
            "raises an error",
        )
    if "layers" not in data:
        kind = str(data.get("type", "something else"))[:60]
        kind = "None" if kind == "NoneType" else kind
        return (
            f"{name} must return a Keras layer such as keras.Sequential([...]); it returned {kind}.",
            "not a layer",
        )
    found = _structure_problem(data)
    if found:
        return f"{name}: {found[0]}", found[1]
    if "raised" in data:
        return (
            f"{name}: calling the augmentation on digits of shape {images.shape} raised "
            f"{str(data['raised'])[:40]}: {str(data.get('message', ''))[:200]}",
            "raises an error",
        )
    return _behaviour_problem(data, images, name, seeded)
