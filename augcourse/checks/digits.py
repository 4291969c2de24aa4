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
    scikit-learn's 1,797, float32 ``(count, size, size, 1)`` in [0, 1] (``size=16`` enlarges them by
    bilinear interpolation). The probe calls it to get its inputs; the judge calls it again to know
    them without trusting the probe.

Probe side (runs in the student's kernel):
    ``observe(layer, images, calls=CALLS) -> dict`` — a built layer as plain data:
    ``{"layers": [{"class": name, "config": {scalar settings of get_config()}}, ...],
    "inference": layer(images, training=False), "training": array (calls, *images.shape)}``;
    ``{"type": name}`` when it is not a Keras layer; ``"raised"`` / ``"message"`` added when calling
    it fails. Nested ``Sequential`` s are flattened into their leaf layers.
    ``observe_builder(build, images, seed, calls=CALLS) -> dict`` — for a builder called as
    ``build(seed=...)``: ``observe(build(seed=seed))`` plus the first training calls of fresh builds:
    ``"same_seed"`` (two builds with ``seed``, stacked), ``"other_seed"`` (one with ``seed + 1``)
    and ``"unseeded"`` (two with ``seed=None``, stacked); ``{"raised": name, "message": line,
    "when": "building"}`` when building fails, ``"when": "seeds"`` added when only the builds for
    other seeds fail. A builder without a ``seed`` argument: call it
    yourself inside ``attempt``-like code and pass the layer to ``observe``.
    ``error_line(error) -> str`` — the informative line of a (Keras-wrapped) error message.

Judge side (pure; never runs Keras). Every function returns ``(message, mistake)`` or None:
    ``problem(data, images, name="the augmentation", seeded=True)`` — the whole rule. ``images``
    are the judge's own ``sample(...)``; ``name`` names the student's function in messages (e.g.
    "digit_augmentation()"); ``seeded=False`` skips the seed criteria (data from ``observe`` alone).
    ``message`` names the mistake without giving the answer; ``mistake`` is a short stable kind for
    the class report: "not written", "raises an error", "factor out of range",
    "range as two arguments", "not a layer",
    "no layers", "flip", "layer not allowed", "rotation too large", "zoom too large",
    "shift too large", "ink in the fill", "bright fill", "value range", "brightness too strong",
    "contrast too strong", "shape changed", "changes in inference", "no change in training",
    "values outside [0, 1]", "seed not passed", "seed ignored", "fixed seed", "malformed".
    Forged or malformed data yields a problem ("malformed"), never an exception.
    Its parts, in the order ``problem`` applies them, for a check that needs only some:
    ``built_problem(data, name)``, ``rule_problem(data, name)`` (``layer_problem(kind, config)`` per
    layer), ``call_problem(data, images, name, noun="digits")``, ``change_problem(data, images, name,
    noun)``, ``range_problem(data, name)``, ``seed_problem(data, name, noun)``; each assumes the
    ones before it passed. ``factor_range(f)`` reads a factor as Keras does (``f`` → ``(-|f|, |f|)``).

Example (lesson 4, a builder without ``seed``)::

    def probe(seed, digit_augmentation):
        images = digits.sample(seed, size=16)
        built = attempt(digit_augmentation)
        if "raised" in built:
            return {"raised": built["raised"], "message": built["message"]}
        return digits.observe(built["value"], images)

    def judge(data, seed):
        found = digits.problem(data, digits.sample(seed, size=16), "digit_augmentation()", seeded=False)
        if found:
            fail(*found)
        return "..."
"""

from __future__ import annotations

import math
import re
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
MAX_TEXT = 200  # characters of a student's error or setting quoted in a message


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

ERROR_NOISE = ("Exception encountered when calling", "in user code", "File ", "Arguments received by")


def error_line(error: BaseException) -> str:
    """The line of an error that says what went wrong, without Keras's wrapping and colour codes."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()]
    useful = [line for line in lines if line and not line.startswith(ERROR_NOISE)]
    text = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", useful[0] if useful else "")
    return text[:MAX_TEXT]


def leaves(layer: Any) -> list[Any]:
    """``layer`` and every layer nested inside it (Sequential within Sequential), in order."""
    try:
        inner = layer.layers
    except Exception:  # not a container (or a broken one): the layer itself
        return [layer]
    if not isinstance(inner, list | tuple):
        return [layer]
    return [leaf for sub in inner for leaf in leaves(sub)]


def _plain_config(config: Any) -> dict[str, Any]:
    """The scalar settings of a ``get_config()``: numbers, strings and short lists of them."""
    if not isinstance(config, dict):
        return {}
    kept: dict[str, Any] = {}
    for key, value in list(config.items())[:50]:
        if value is None or type(value) in (bool, int, float, str):
            kept[str(key)] = value[:MAX_TEXT] if isinstance(value, str) else value
        elif isinstance(value, list | tuple) and all(type(v) in (bool, int, float) for v in value[:4]):
            kept[str(key)] = list(value[:4])
    return kept


def describe(layer: Any) -> list[dict[str, Any]]:
    """Every leaf layer inside ``layer``: its class name and the scalar part of ``get_config()``."""
    found = []
    for leaf in leaves(layer)[:MAX_LAYERS]:
        try:
            config = leaf.get_config()
        except Exception:  # a custom layer without a config is described by its class alone
            config = {}
        found.append({"class": type(leaf).__name__[:MAX_TEXT], "config": _plain_config(config)})
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
        data.update(raised=type(error).__name__, message=error_line(error))
    return data


def observe_builder(build: Any, images: np.ndarray, seed: int, calls: int = CALLS) -> dict[str, Any]:
    """A builder ``build(seed=None)`` as plain data: :func:`observe` plus its seed behaviour."""

    def first_call(seed: int | None) -> np.ndarray:
        return np.asarray(build(seed=seed)(images, training=True), dtype="float32")

    try:
        layer = build(seed=seed)
    except Exception as error:
        return {"raised": type(error).__name__, "message": error_line(error), "when": "building"}
    data = observe(layer, images, calls)
    if "training" not in data:
        return data
    try:
        data["same_seed"] = np.stack([first_call(seed), first_call(seed)])
        data["other_seed"] = first_call(seed + 1)
        data["unseeded"] = np.stack([first_call(None), first_call(None)])
    except Exception as error:
        data.update(raised=type(error).__name__, message=error_line(error), when="seeds")
    return data


# ---- judge side (pure) ----

Problem = tuple[str, str]  # (message for the student, kind of mistake)


def factor_range(value: Any) -> tuple[float, float]:
    """A factor as Keras reads it: ``f`` means ``(-|f|, |f|)``; a pair means ``(min, max)``."""
    if isinstance(value, list | tuple) and len(value) == 2:
        low, high = sorted(float(v) for v in value)
    else:
        low, high = -abs(float(value)), abs(float(value))
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError("factor not finite")
    return low, high


def _largest(*factors: Any) -> float:
    return max(max(abs(v) for v in factor_range(f)) for f in factors if f is not None)


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    return str(value)[:limit]


def built_problem(data: Any, name: str) -> Problem | None:
    """Whether the builder ran and returned a Keras layer (not written, raised, returned None...)."""
    if not isinstance(data, dict):
        return "the answer could not be judged: its data is not what a probe writes.", "malformed"
    if data.get("raised") == "NotImplementedError" and not data.get("message"):
        return (
            f"{name} is not written yet: replace `raise NotImplementedError()` with your code.",
            "not written",
        )
    if "raised" in data and "layers" not in data:
        message, hint, mistake = _text(data.get("message", "")), "", "raises an error"
        if data["raised"] == "ValueError" and "factor" in message:
            hint, mistake = (
                " Rotation factors are fractions of a full turn (1.0 = 360°); zoom and shift factors "
                "are fractions of the size.",
                "factor out of range",
            )
        elif "fill_mode" in message:
            hint, mistake = (
                " A range of factors is one tuple, (low, high): a number passed on its own as the "
                "next argument lands in another setting.",
                "range as two arguments",
            )
        if hint and not message.endswith((".", "!", "?")):
            message += "."
        return f"{name} raised {_text(data['raised'], 40)}: {message}{hint}", mistake
    if "layers" not in data:
        kind = _text(data.get("type", "something else"), 60)
        kind = "None" if kind == "NoneType" else kind
        return (
            f"{name} must return a Keras layer such as keras.Sequential([...]); it returned {kind}.",
            "not a layer",
        )
    layers = data["layers"]
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        return f"{name}: its layers could not be read.", "malformed"
    if not all(
        isinstance(layer, dict)
        and isinstance(layer.get("class"), str)
        and isinstance(layer.get("config"), dict)
        for layer in layers
    ):
        return f"{name}: its layers could not be read.", "malformed"
    if not [layer for layer in layers if layer["class"] not in NEUTRAL]:
        return (
            f"{name} returns a pipeline without augmentation layers: it has no layers that change "
            "images. Put the random augmentation layers inside keras.Sequential([...]).",
            "no layers",
        )
    return None


def layer_problem(kind: str, config: dict[str, Any]) -> Problem | None:
    """What makes one layer wrong for digits, from its class and configuration (a message fragment)."""
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
        low, high = factor_range(config["factor"])
        if max(-low, high) > MAX_TURN + 1e-9:
            return (
                f"it rotates by {low * 360:+.1f}° to {high * 360:+.1f}°: turned that far a digit can "
                f"look like another (a 6 and a 9). Keep rotations within ±{MAX_TURN * 360:.0f}° "
                "(rotation factors are fractions of a full turn).",
                "rotation too large",
            )
    if kind in ("RandomZoom", "RandomTranslation"):
        limit, what = (MAX_ZOOM, "zoom") if kind == "RandomZoom" else (MAX_SHIFT, "shift")
        harm = "leave the frame or shrink away" if kind == "RandomZoom" else "leave the frame"
        largest = _largest(config["height_factor"], config.get("width_factor"))
        if largest > limit + 1e-9:
            return (
                f"its {kind} factor {largest:g} is too large for small digits: strokes {harm}. "
                f"Keep the {what} within {limit:.0%} of the size.",
                f"{what} too large",
            )
    if kind in ("RandomRotation", "RandomZoom", "RandomTranslation"):
        mode, value = config.get("fill_mode"), config.get("fill_value", 0.0)
        if mode != FILL_MODE:
            return (
                f"its {kind} fills the pixels it uncovers with fill_mode={_text(mode, 40)!r}: that puts "
                "ink into the border (reflected, wrapped or stretched strokes), which can change the "
                "digit. Fill them with the black background instead.",
                "ink in the fill",
            )
        if type(value) not in (int, float) or float(value) != FILL_VALUE:
            return (
                f"its {kind} fills uncovered pixels with fill_value={_text(value, 40)}; the background "
                "of the digits is black (0).",
                "bright fill",
            )
    if kind in ("RandomBrightness", "RandomContrast"):
        value_range = config.get("value_range")
        if not isinstance(value_range, list) or [float(v) for v in value_range] != list(VALUE_RANGE):
            return (
                f"its {kind} assumes value_range={_text(value_range, 40)}, but the digits are in "
                "[0, 1]: tell the layer the range of its images.",
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


def rule_problem(data: dict[str, Any], name: str) -> Problem | None:
    """The digit rule applied to every layer (after :func:`built_problem` passed)."""
    layers = data["layers"]
    flips = [layer for layer in layers if layer["class"] in FLIPS]
    for layer in flips + layers:  # a flip first: the most harmful mistake is named first
        try:
            found = layer_problem(layer["class"], layer["config"])
        except (KeyError, TypeError, ValueError):
            return (
                f"{name}: the configuration of its {_text(layer['class'], 40)} could not be read.",
                "malformed",
            )
        if found:
            return f"{name}: {found[0]}", found[1]
    return None


def _array(data: dict[str, Any], key: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """``data[key]`` as float64 if it is a finite numeric array of ``shape``, else None."""
    value = data.get(key)
    if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype.kind not in "fiub":
        return None
    value = value.astype("float64")
    return value if np.all(np.isfinite(value)) else None


def call_problem(data: dict[str, Any], images: np.ndarray, name: str, noun: str = "digits") -> Problem | None:
    """Whether calling it worked, kept the shape and left ``images`` alone with ``training=False``."""
    if "raised" in data:
        when = f"calling the pipeline on {noun} of shape {images.shape}"
        if data.get("when") == "seeds":
            when = "building and calling it with another seed or with seed=None"
        return (
            f"{name}: {when} raised {_text(data['raised'], 40)}: {_text(data.get('message', ''))}",
            "raises an error",
        )
    shape = images.shape
    for key in ("inference", "training"):
        value = data.get(key)
        got = (
            value.shape[1:]
            if key == "training" and isinstance(value, np.ndarray)
            else getattr(value, "shape", None)
        )
        if isinstance(value, np.ndarray) and got != shape:
            return (
                f"{name} turns a batch of shape {shape} into {got}; augmentation keeps the size of the "
                "images.",
                "shape changed",
            )
    training = data.get("training")
    calls = len(training) if isinstance(training, np.ndarray) and training.ndim == len(shape) + 1 else 0
    inference = _array(data, "inference", shape)
    if inference is None or calls == 0 or _array(data, "training", (calls, *shape)) is None:
        return f"{name}: its outputs could not be read.", "malformed"
    if not np.allclose(inference, images, atol=TOLERANCE):
        return (
            f"{name} changes the {noun} when called with training=False: in inference an augmentation "
            "returns its input unchanged, so only random augmentation layers belong in it.",
            "changes in inference",
        )
    return None


def change_problem(
    data: dict[str, Any], images: np.ndarray, name: str, noun: str = "digits"
) -> Problem | None:
    """Whether training-mode calls change the images (after :func:`call_problem` passed)."""
    training = data["training"].astype("float64")
    change = np.abs(training - images[np.newaxis]).mean(axis=tuple(range(1, training.ndim)))
    if change.max() < MIN_CHANGE:
        return (
            f"{name} did not change the {noun} in {len(training)} calls with training=True: its layers "
            "must be random augmentation layers with non-zero factors.",
            "no change in training",
        )
    return None


def range_problem(data: dict[str, Any], name: str) -> Problem | None:
    """Whether training-mode outputs stay in [0, 1]."""
    training = data["training"]
    low, high = float(training.min()), float(training.max())
    if low < -TOLERANCE or high > 1 + TOLERANCE:
        return (
            f"{name} produced pixel values from {low:.2f} to {high:.2f}, outside [0, 1].",
            "values outside [0, 1]",
        )
    return None


def seed_problem(data: dict[str, Any], name: str, noun: str = "digits") -> Problem | None:
    """Same seed → same first transforms, another seed → others, ``seed=None`` → random.

    Images in [0, 1] only: outputs for other seeds outside [0, 1] are not what a probe writes.
    """
    shape = data["training"].shape[1:]
    same, other = _array(data, "same_seed", (2, *shape)), _array(data, "other_seed", shape)
    unseeded = _array(data, "unseeded", (2, *shape))
    if (
        same is None
        or other is None
        or unseeded is None
        or not all(a.min() >= -TOLERANCE and a.max() <= 1 + TOLERANCE for a in (same, other, unseeded))
    ):
        return f"{name}: its outputs for other seeds could not be read.", "malformed"
    first = same[0]
    if not np.allclose(same[1], first, atol=TOLERANCE):
        return (
            f"{name} built twice with the same seed transformed the same {noun} differently: pass "
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
            "(None means a fresh random stream) instead of replacing None by a fixed number.",
            "fixed seed",
        )
    return None


def problem(
    data: Any, images: np.ndarray, name: str = "the augmentation", seeded: bool = True
) -> Problem | None:
    """What is wrong with an observed digit augmentation, as ``(message, mistake)``; None if right."""
    return (
        built_problem(data, name)
        or rule_problem(data, name)
        or call_problem(data, images, name)
        or change_problem(data, images, name)
        or range_problem(data, name)
        or (seed_problem(data, name) if seeded else None)
    )
