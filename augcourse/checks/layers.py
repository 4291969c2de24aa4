"""Checks of lesson 01, augmentation layers: judged by what the layers do, not by attribute values.

Factors are read from ``get_config()`` and normalised to ``(low, high)`` the way Keras reads them
(a number ``f`` means ``(-|f|, f)``), so the checks do not depend on how a Keras version stores
them. Flips are judged by running the layer on asymmetric images and seeing which flips happen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from augcourse.checks.feedback import expect, fail, passed

TRIALS = 8  # training-mode calls per behaviour check; each flips a batch of 6 images at random
ROTATION = 0.2  # the seed pipeline: rotation up to 20% of a turn either way
ZOOM = 0.1  # the seed pipeline: zoom in or out by up to 10%
DIGIT_MAX_TURN = 0.05  # digits: rotate by at most 5% of a turn (18°) either way
TOLERANCE = 1e-6
RANDOM_EXTRAS = ("RandAugment", "AugMix", "MixUp", "CutMix", "Solarization")


def test_images(shape: tuple[int, ...] = (6, 9, 11, 3), seed: int = 0) -> np.ndarray:
    """A batch of asymmetric images in [0, 1]: every flip and rotation of them is visible."""
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def flatten(layer: Any) -> list[Any]:
    """``layer`` and every layer nested inside it (Sequential within Sequential), in order."""
    inner = getattr(layer, "layers", None)
    if inner is None:
        return [layer]
    return [leaf for sub in inner for leaf in flatten(sub)]


def factor_range(factor: Any) -> tuple[float, float]:
    """A factor as Keras reads it: ``f`` means ``(-|f|, |f|)``; a pair means ``(min, max)``."""
    if isinstance(factor, tuple | list) and len(factor) == 2:
        low, high = sorted(float(f) for f in factor)
        return low, high
    value = abs(float(factor))
    return -value, value


def rotation_range(layer: Any) -> tuple[float, float]:
    """A RandomRotation's range in fractions of a full turn."""
    return factor_range(layer.get_config()["factor"])


def zoom_ranges(layer: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    """A RandomZoom's (height, width) ranges; width ``None`` keeps the aspect ratio (= height)."""
    config = layer.get_config()
    height = factor_range(config["height_factor"])
    width = config.get("width_factor")
    return height, height if width is None else factor_range(width)


def flips_seen(layer: Any, images: np.ndarray | None = None, trials: int = TRIALS) -> set[str]:
    """Which of 'none', 'horizontal', 'vertical', 'both' a layer did over training-mode calls."""
    images = test_images() if images is None else images
    seen = set()
    for _ in range(trials):
        out = np.asarray(layer(images, training=True))
        for got, image in zip(out, images, strict=True):
            candidates = {
                "none": image,
                "horizontal": image[:, ::-1],
                "vertical": image[::-1],
                "both": image[::-1, ::-1],
            }
            seen.update(name for name, want in candidates.items() if np.allclose(got, want))
    return seen


def of_kind(layers: list[Any], name: str) -> list[Any]:
    """The layers whose class is ``keras.layers.<name>``."""
    import keras

    kind = getattr(keras.layers, name)
    return [layer for layer in layers if isinstance(layer, kind)]


def reproducible(build: Callable[..., Any], seed: int, images: np.ndarray) -> bool:
    """Whether two pipelines built with the same seed augment ``images`` identically."""
    first = np.asarray(build(seed=seed)(images, training=True))
    second = np.asarray(build(seed=seed)(images, training=True))
    return bool(np.allclose(first, second))


def _built(build: Callable[..., Any], name: str, seed: int | None = None) -> Any:
    """Call the student's builder; turn its failures into messages for the student."""
    __tracebackhide__ = True
    import keras

    try:
        layer = build(seed=seed)
    except NotImplementedError:
        fail(f"{name}() is not written yet: replace `raise NotImplementedError()` with your code.")
    except (ValueError, TypeError) as error:
        fail(
            f"{name}() raised {type(error).__name__} when Keras built a layer: {error} "
            "(rotation factors are fractions of a full turn, zoom factors fractions of the size)."
        )
    expect(
        isinstance(layer, keras.layers.Layer),
        f"{name}() must return a Keras layer or keras.Sequential of layers; "
        f"it returned {type(layer).__name__}.",
    )
    return layer


def _behaves(layer: Any, images: np.ndarray, name: str) -> list[np.ndarray]:
    """Shape kept, identity when ``training=False``; returns a few training-mode outputs."""
    __tracebackhide__ = True
    try:
        still = np.asarray(layer(images, training=False))
    except Exception as error:  # any error is the student's to read
        first = next((line for line in str(error).splitlines() if line.strip()), "")
        fail(
            f"calling {name}() on a batch of shape {images.shape} raised "
            f"{type(error).__name__}: {first[:200]} (build it without a fixed input shape)."
        )
    expect(
        still.shape == images.shape,
        f"{name}() changed the shape {images.shape} into {still.shape}; "
        "augmentation layers keep the size of the images.",
    )
    expect(
        np.allclose(still, images, atol=TOLERANCE),
        f"{name}() changed images when called with training=False; only the random augmentation "
        "layers belong in it (no rescaling or resizing).",
    )
    outs = [np.asarray(layer(images, training=True)) for _ in range(3)]
    expect(
        any(not np.allclose(out, images) for out in outs),
        f"{name}() did not change any image in 3 calls with training=True; "
        "check that its layers are random augmentation layers with non-zero factors.",
    )
    return outs


def _flip_message(seen: set[str], flip_layers: list[Any]) -> str | None:
    """What is wrong with the flips a pipeline makes, or None for a horizontal flip only."""
    if not flip_layers:
        return "there is no RandomFlip layer: add one that flips left to right."
    if seen & {"vertical", "both"}:
        modes = ", ".join(repr(layer.get_config().get("mode")) for layer in flip_layers)
        return (
            f"your flip (mode {modes}) also flips images upside down; "
            "the task asks for left-to-right flips only."
        )
    if "horizontal" not in seen:
        modes = ", ".join(repr(layer.get_config().get("mode")) for layer in flip_layers)
        return (
            f"your RandomFlip (mode {modes}) never flipped an image in {TRIALS} calls. Keras "
            "accepts an unknown mode string without an error and then never flips: check the "
            "spelling."
        )
    if "none" not in seen:
        return "every image was flipped in every call: a random flip leaves about half unflipped."
    return None


def _close(pair: tuple[float, float], low: float, high: float) -> bool:
    return abs(pair[0] - low) < TOLERANCE and abs(pair[1] - high) < TOLERANCE


def _degrees(pair: tuple[float, float]) -> str:
    return f"{pair[0] * 360:+.1f}° to {pair[1] * 360:+.1f}°"


def _rotation_message(rotations: list[Any]) -> str | None:
    """What is wrong with the rotation, or None for up to ±20% of a turn."""
    if len(rotations) != 1:
        return f"use exactly one RandomRotation layer (found {len(rotations)})."
    turn = rotation_range(rotations[0])
    if _close(turn, -ROTATION, ROTATION):
        return None
    if turn[0] >= 0 or turn[1] <= 0:
        return (
            f"your rotation only turns one way ({_degrees(turn)}); a (min, max) pair gives a "
            "one-sided range, one number f gives -f to +f."
        )
    if _close(turn, -ROTATION * 100 / 360, ROTATION * 100 / 360):
        return (
            f"your rotation turns by {_degrees(turn)}: that reads '20' as degrees. "
            "The factor is a fraction of a full turn (1.0 = 360°)."
        )
    return (
        f"your rotation turns by {_degrees(turn)}; the task asks for up to 20% of a full turn "
        "either way (the factor is a fraction of a full turn, 1.0 = 360°)."
    )


def _zoom_message(zooms: list[Any]) -> str | None:
    """What is wrong with the zoom, or None for zoom in or out by up to 10%."""
    if len(zooms) != 1:
        return f"use exactly one RandomZoom layer (found {len(zooms)})."
    height, width = zoom_ranges(zooms[0])
    if _close(height, -ZOOM, ZOOM) and _close(width, -ZOOM, ZOOM):
        return None
    if height[0] >= 0:
        return (
            f"your zoom factors run from {height[0]:+.0%} to {height[1]:+.0%}: positive factors "
            "zoom OUT only. The task asks for zooming in or out."
        )
    if height[1] <= 0:
        return (
            f"your zoom factors run from {height[0]:+.0%} to {height[1]:+.0%}: negative factors "
            "zoom IN only. The task asks for zooming in or out."
        )
    return (
        f"your zoom changes the height by {height[0]:+.0%} to {height[1]:+.0%} and the width by "
        f"{width[0]:+.0%} to {width[1]:+.0%}; the task asks for up to 10% in or out, "
        "keeping the aspect ratio."
    )


def seed_pipeline(build_augmenter: Callable[..., Any]) -> None:
    """Exercise 1: a horizontal flip, a rotation of up to ±20% of a turn, a zoom of up to ±10%."""
    __tracebackhide__ = True
    name = "build_augmenter"
    augmenter = _built(build_augmenter, name, seed=7)
    images = test_images()
    _behaves(augmenter, images, name)
    layers = flatten(augmenter)
    flips = of_kind(layers, "RandomFlip")
    seen = set().union(*(flips_seen(layer) for layer in flips)) if flips else set()
    for problem in (
        _flip_message(seen, flips),
        _rotation_message(of_kind(layers, "RandomRotation")),
        _zoom_message(of_kind(layers, "RandomZoom")),
    ):
        expect(problem is None, f"build_augmenter(): {problem}")
    known = (*flips, *of_kind(layers, "RandomRotation"), *of_kind(layers, "RandomZoom"))
    extras = [
        type(layer).__name__
        for layer in layers
        if layer not in known
        and (type(layer).__name__.startswith("Random") or type(layer).__name__ in RANDOM_EXTRAS)
    ]
    expect(
        not extras,
        f"build_augmenter() also has {', '.join(extras)}; the task asks for a flip, a rotation "
        "and a zoom only.",
    )
    passed(
        "build_augmenter() flips left to right, rotates by up to ±72° (20% of a turn) and zooms "
        "in or out by up to 10%, and leaves images alone when training=False."
    )


def changes_on_call(change_on: int) -> Callable[[np.ndarray], np.ndarray]:
    """A call that returns its input unchanged, except on call number ``change_on`` (from 1)."""
    calls = {"n": 0}

    def run(images: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        return images[:, ::-1] if calls["n"] == change_on else images.copy()

    return run


def detector_cases(images: np.ndarray, seed: int = 0) -> list[tuple[Callable, bool, str, str]]:
    """(call, augments?, what the call does, hint if judged wrong) for ``is_augmenting``."""
    import keras
    import tensorflow as tf

    flip = keras.layers.RandomFlip("horizontal", seed=seed)
    one_image = images.copy()
    one_image[0] = one_image[0, ::-1]
    return [
        (lambda x: x, False, "returns its input unchanged", "compare the outputs with the input."),
        (
            lambda x: flip(x),
            True,
            "calls a RandomFlip layer directly",
            "compare each call's output with the input.",
        ),
        (
            lambda x: flip(x, training=False),
            False,
            "calls a RandomFlip layer with training=False",
            "compare each call's output with the input.",
        ),
        (
            lambda x: tf.identity(x),
            False,
            "returns a tf.Tensor equal to its input",
            "convert outputs with np.asarray before comparing them.",
        ),
        (
            lambda x: np.asarray(x, dtype="float64") * (1 + 1e-7),
            False,
            "returns its input with float round-off (relative error 1e-7)",
            "round-off is not augmentation: compare with np.allclose, not exact equality.",
        ),
        (
            lambda x: one_image,
            True,
            "changes only the first image of the batch",
            "an augmentation may change only some images of a batch.",
        ),
        (
            changes_on_call(change_on=3),
            True,
            "changes the images only on its third call",
            "one call is not enough: a random layer can leave a whole batch unchanged by chance. "
            "Call `run` `calls` times.",
        ),
    ]


def detector(is_augmenting: Callable[..., Any]) -> None:
    """Exercise 2: ``is_augmenting(run, images, calls=5)`` tells whether ``run`` augments."""
    __tracebackhide__ = True
    images = test_images()
    for run, want, what, hint in detector_cases(images):
        try:
            got = is_augmenting(run, images)
        except NotImplementedError:
            fail("is_augmenting() is not written yet: replace `raise NotImplementedError()`.")
        expect(
            isinstance(got, bool | np.bool_),
            f"is_augmenting() must return True or False; it returned {got!r} of type {type(got).__name__}.",
        )
        expect(
            bool(got) == want,
            f"for a call that {what}, is_augmenting() returned {bool(got)}, expected {want}. Hint: {hint}",
        )
    passed("is_augmenting() tells augmenting calls from the rest, with tensors and round-off.")


def _digit_flip_message(flips: list[Any], images: np.ndarray) -> str | None:
    seen = set().union(*(flips_seen(layer, images) for layer in flips)) if flips else set()
    if seen - {"none"}:
        return (
            "it mirrors digits: a mirrored 2, 3, 4 or 7 is no longer a digit of its class, so a "
            "flip does not preserve the label. Remove the flip."
        )
    return None


def _digit_rotation_message(rotations: list[Any]) -> str | None:
    for layer in rotations:
        low, high = rotation_range(layer)
        if max(-low, high) > DIGIT_MAX_TURN + TOLERANCE:
            return (
                f"it rotates by {_degrees((low, high))}: a digit turned that far can look like "
                "another one (a 6 turned half a turn is a 9). Keep rotations within ±18° "
                "(5% of a turn)."
            )
    return None


def _digit_fill_message(layers: list[Any]) -> str | None:
    for layer in layers:
        config = layer.get_config()
        if "fill_mode" not in config:
            continue
        if config["fill_mode"] != "constant" or float(config.get("fill_value", 0.0)) != 0.0:
            return (
                f"{type(layer).__name__} fills the pixels it uncovers with "
                f"fill_mode={config['fill_mode']!r}, fill_value={config.get('fill_value')}: that "
                "adds ink (reflected or repeated strokes, or a bright border) that is not part of "
                "the digit. Fill with the black background instead."
            )
    return None


def digit_augmenter(build_digit_augmenter: Callable[..., Any]) -> None:
    """Exercise 3: label-preserving augmentation for 8×8 digits in [0, 1]."""
    __tracebackhide__ = True
    from augcourse.images import digits

    name = "build_digit_augmenter"
    images = digits()[0][:24]
    augmenter = _built(build_digit_augmenter, name, seed=3)
    outs = _behaves(augmenter, images, name)
    outs += [np.asarray(augmenter(images, training=True)) for _ in range(TRIALS)]
    low, high = min(out.min() for out in outs), max(out.max() for out in outs)
    expect(
        low >= -TOLERANCE and high <= 1 + TOLERANCE,
        f"{name}() produced pixel values from {low:.2f} to {high:.2f}, outside [0, 1]: a "
        "brightness or contrast layer assumes value_range=(0, 255) unless told otherwise.",
    )
    layers = flatten(augmenter)
    for problem in (
        _digit_flip_message(of_kind(layers, "RandomFlip"), images),
        _digit_rotation_message(of_kind(layers, "RandomRotation")),
        _digit_fill_message(layers),
    ):
        expect(problem is None, f"{name}(): {problem}")
    passed(
        f"{name}() changes digits without mirroring them, turning them far, adding ink at the "
        "borders or leaving [0, 1]."
    )
