"""Checks of lesson 01, augmentation layers: three exercises, each a probe and a judge.

The probes run the student's pipelines and functions on inputs derived from a seed and return what
they did as plain data: layer class names and settings, and output arrays. The judges decide from
that data and the seed alone, without Keras: they regenerate the inputs themselves, read factors in
normalised form (a number ``f`` means ``(-|f|, f)``, as Keras reads it), and tell which flips
happened by comparing each output with the flips of the input they know.

Exercise 3 is judged by the course's one rule for digits, :mod:`augcourse.checks.digits`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from augcourse.checks import digits
from augcourse.checks.digits import Problem, factor_range
from augcourse.checks.exercise import Exercise, attempt, plain
from augcourse.checks.feedback import fail

TRIALS = 8  # training-mode calls of each flip layer; each flips a batch of 6 images at random
FLIP_SHAPE = (6, 9, 11, 3)  # asymmetric images: every flip and rotation of them is visible
ROTATION = 0.2  # exercise 1: rotation up to 20% of a turn either way
ZOOM = 0.1  # exercise 1: zoom in or out by up to 10%
TOLERANCE = 1e-6
MAX_FLIP_LAYERS = 4
RANDOM_EXTRAS = ("RandAugment", "AugMix", "MixUp", "CutMix", "Solarization", "GaussianNoise")
FLIP_NAMES = ("none", "horizontal", "vertical", "both")


# ---- helpers the lesson uses (and the tests) ----


def test_images(shape: tuple[int, ...] = FLIP_SHAPE, seed: int = 0) -> np.ndarray:
    """A batch of asymmetric images in [0, 1]: every flip and rotation of them is visible."""
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def rotation_range(layer: Any) -> tuple[float, float]:
    """A RandomRotation's range in fractions of a full turn."""
    return factor_range(layer.get_config()["factor"])


def zoom_ranges(layer: Any) -> tuple[tuple[float, float], tuple[float, float]]:
    """A RandomZoom's (height, width) ranges; width ``None`` keeps the aspect ratio (= height)."""
    config = layer.get_config()
    height = factor_range(config["height_factor"])
    width = config.get("width_factor")
    return height, height if width is None else factor_range(width)


def which_flips(images: np.ndarray, outputs: np.ndarray) -> set[str]:
    """Which of 'none', 'horizontal', 'vertical', 'both' turn ``images`` into ``outputs`` (per image)."""
    seen = set()
    for batch in outputs.reshape(-1, *images.shape):
        for got, image in zip(batch, images, strict=True):
            candidates = (image, image[:, ::-1], image[::-1], image[::-1, ::-1])
            seen.update(
                name for name, want in zip(FLIP_NAMES, candidates, strict=True) if np.allclose(got, want)
            )
    return seen


def flips_seen(layer: Any, images: np.ndarray | None = None, trials: int = TRIALS) -> set[str]:
    """Which flips a layer made over ``trials`` training-mode calls (runs the layer)."""
    images = test_images() if images is None else images
    outputs = np.stack([np.asarray(layer(images, training=True)) for _ in range(trials)])
    return which_flips(images, outputs)


def layer_seed(seed: int) -> int:
    """The seed the probes pass to a student's builder for a check's ``seed``."""
    return int(seed) % (2**31 - 2)


def _degrees(pair: tuple[float, float]) -> str:
    return f"{pair[0] * 360:+.1f}° to {pair[1] * 360:+.1f}°"


def _close(pair: tuple[float, float], low: float, high: float) -> bool:
    return abs(pair[0] - low) < TOLERANCE and abs(pair[1] - high) < TOLERANCE


# ---- exercise 1: build_augmenter ----


def _probe_augmenter(seed: int, build_augmenter: Callable[..., Any]) -> dict[str, Any]:
    images = test_images(seed=seed)
    data = digits.observe_builder(build_augmenter, images, layer_seed(seed))
    if "training" in data and "raised" not in data:
        built = build_augmenter(seed=layer_seed(seed))
        flips = [leaf for leaf in digits.leaves(built) if type(leaf).__name__ == "RandomFlip"]
        data["flips"] = [
            np.stack([np.asarray(flip(images, training=True), dtype="float32") for _ in range(TRIALS)])
            for flip in flips[:MAX_FLIP_LAYERS]
        ]
    return data


def _flip_problem(layers: list[dict[str, Any]], outputs: Any, images: np.ndarray) -> Problem | None:
    flips = [layer for layer in layers if layer["class"] == "RandomFlip"]
    if not flips:
        return "there is no RandomFlip layer: add one that flips left to right.", "no flip"
    shape = (TRIALS, *images.shape)
    if not (
        isinstance(outputs, list)
        and len(outputs) == min(len(flips), MAX_FLIP_LAYERS)
        and all(
            isinstance(out, np.ndarray) and out.shape == shape and out.dtype.kind == "f" for out in outputs
        )
    ):
        return "the outputs of its flip could not be read.", "malformed"
    seen = set().union(*(which_flips(images, out) for out in outputs))
    modes = ", ".join(repr(str(layer["config"].get("mode"))[:40]) for layer in flips)
    if seen & {"vertical", "both"}:
        return (
            f"your flip (mode {modes}) also turns images upside down; the task asks for left-to-right "
            "flips only.",
            "flips vertically",
        )
    if "horizontal" not in seen:
        return (
            f"your RandomFlip (mode {modes}) never flipped an image in {TRIALS} calls. Keras accepts a "
            "mode string it does not know without an error and then never flips: check the spelling.",
            "never flips",
        )
    if "none" not in seen:
        return (
            "every image was flipped in every call: a random flip leaves about half unflipped.",
            "always flips",
        )
    return None


def _rotation_problem(layers: list[dict[str, Any]]) -> Problem | None:
    rotations = [layer for layer in layers if layer["class"] == "RandomRotation"]
    if len(rotations) != 1:
        return f"use exactly one RandomRotation layer (found {len(rotations)}).", "rotation count"
    turn = factor_range(rotations[0]["config"]["factor"])
    if _close(turn, -ROTATION, ROTATION):
        return None
    if turn[0] >= 0 or turn[1] <= 0:
        return (
            f"your rotation only turns one way ({_degrees(turn)}); a (min, max) pair gives a "
            "one-sided range, one number f gives -f to +f.",
            "rotation one way",
        )
    if _close(turn, -ROTATION * 100 / 360, ROTATION * 100 / 360):
        return (
            f"your rotation turns by {_degrees(turn)}: that reads '20' as degrees. The factor is a "
            "fraction of a full turn (1.0 = 360°).",
            "rotation in degrees",
        )
    return (
        f"your rotation turns by {_degrees(turn)}; the task asks for up to 20% of a full turn either "
        "way (the factor is a fraction of a full turn, 1.0 = 360°).",
        "rotation range",
    )


def _zoom_problem(layers: list[dict[str, Any]]) -> Problem | None:
    zooms = [layer for layer in layers if layer["class"] == "RandomZoom"]
    if len(zooms) != 1:
        return f"use exactly one RandomZoom layer (found {len(zooms)}).", "zoom count"
    config = zooms[0]["config"]
    height = factor_range(config["height_factor"])
    width = config.get("width_factor")
    if not _close(height, -ZOOM, ZOOM):
        if height[0] >= 0:
            return (
                f"your zoom factors run from {height[0]:+.0%} to {height[1]:+.0%}: positive factors zoom "
                "OUT only. The task asks for zooming in or out.",
                "zoom out only",
            )
        if height[1] <= 0:
            return (
                f"your zoom factors run from {height[0]:+.0%} to {height[1]:+.0%}: negative factors zoom "
                "IN only. The task asks for zooming in or out.",
                "zoom in only",
            )
        return (
            f"your zoom changes the size by {height[0]:+.0%} to {height[1]:+.0%}; the task asks for up "
            "to 10% in or out.",
            "zoom range",
        )
    if width is not None:
        low, high = factor_range(width)
        return (
            f"your RandomZoom draws the width factor ({low:+.0%} to {high:+.0%}) separately from the "
            "height, so each image is stretched by a different amount across than down and the aspect "
            "ratio is not kept (section 2's table says which argument keeps it).",
            "aspect ratio not kept",
        )
    return None


def _extras_problem(layers: list[dict[str, Any]]) -> Problem | None:
    known = ("RandomFlip", "RandomRotation", "RandomZoom")
    extras = [
        layer["class"][:40]
        for layer in layers
        if layer["class"] not in known
        and (layer["class"].startswith("Random") or layer["class"] in RANDOM_EXTRAS)
    ]
    if extras:
        return (
            f"it also has {', '.join(extras)}; the task asks for a flip, a rotation and a zoom only.",
            "extra layers",
        )
    return None


def _judge_augmenter(data: Any, seed: int) -> str:
    __tracebackhide__ = True
    name = "build_augmenter()"
    images = test_images(seed=seed)
    found = digits.built_problem(data, name) or digits.call_problem(data, images, name, "images")
    if not found:
        layers = data["layers"]
        for check in (
            lambda: _flip_problem(layers, data.get("flips"), images),
            lambda: _rotation_problem(layers),
            lambda: _zoom_problem(layers),
            lambda: _extras_problem(layers),
        ):
            try:
                found = check()
            except (KeyError, TypeError, ValueError):
                found = "the settings of its layers could not be read.", "malformed"
            if found:
                found = f"{name}: {found[0]}", found[1]
                break
    found = (
        found
        or digits.change_problem(data, images, name, "images")
        or digits.range_problem(data, name)  # flips, turns and zooms of images in [0, 1] stay in it
        or digits.seed_problem(data, name, "images")
    )
    if found:
        fail(*found)
    return (
        "build_augmenter() flips left to right, rotates by up to ±72° (20% of a turn) and zooms in or "
        "out by up to 10% keeping the aspect ratio; it leaves images alone when training=False, and "
        "its seed repeats its transforms."
    )


# ---- exercise 2: is_augmenting ----


class DetectorSpec(NamedTuple):
    """The inputs of one check of ``is_augmenting``, all drawn from its seed."""

    shape: tuple[int, int, int, int]
    mode: str  # of the RandomFlip the check calls
    calls: int  # passed as ``calls=`` in the cases that test it
    change_on: int  # the call (from 1) on which a "later call" run changes the images


def detector_spec(seed: int) -> DetectorSpec:
    """The seed's batch shape, flip mode, ``calls`` and the call that changes the images."""
    rng = np.random.default_rng(seed)
    height = int(rng.integers(5, 10))
    shape = (int(rng.integers(4, 8)), height, height + int(rng.integers(1, 4)), int(rng.choice([1, 3])))
    calls = int(rng.integers(4, 8))
    return DetectorSpec(
        shape, str(rng.choice(["horizontal", "vertical"])), calls, int(rng.integers(2, calls + 1))
    )


class Case(NamedTuple):
    """One call given to ``is_augmenting``: what it does, the right answer, a hint, the mistake."""

    key: str
    augments: bool
    what: str
    hint: str
    mistake: str


def detector_cases(spec: DetectorSpec) -> list[Case]:
    """The calls ``is_augmenting`` is tried on (pure: the judge's list of right answers).

    The order names the misconception: a wrong answer is reported on the first case it gets wrong,
    and the cases whose outcome does not depend on chance come first.
    """
    compare = "compare each call's output with the input."
    return [
        Case("identity", False, "returns its input unchanged", compare, "true for unchanged images"),
        Case(
            "tensor",
            False,
            "returns a tf.Tensor equal to its input",
            "convert outputs with np.asarray before comparing them.",
            "tensor comparison",
        ),
        Case(
            "round_off",
            False,
            "returns its input with float round-off (relative error 1e-7)",
            "round-off is not augmentation: compare with a tolerance, not exact equality.",
            "exact equality",
        ),
        Case(
            "always_flipped",
            True,
            "flips every image left to right, the same way on every call",
            "compare each output with the input, not the outputs with each other.",
            "compares calls with each other",
        ),
        Case(
            "first_image",
            True,
            "changes only the first image of the batch",
            "an augmentation may change only some images of a batch.",
            "needs every image changed",
        ),
        Case(
            "tensor_change",
            True,
            "returns a tf.Tensor of the images turned upside down",
            "convert outputs with np.asarray before comparing them.",
            "tensor comparison",
        ),
        Case(
            "later_call",
            True,
            f"changes the images only on its call number {spec.change_on}, with calls={spec.calls}",
            "one call is not enough: a random layer can leave a whole batch unchanged by chance. "
            "Call `run` `calls` times.",
            "calls once",
        ),
        Case(
            "beyond_calls",
            False,
            f"changes the images only on its call number {spec.calls + 1}, with calls={spec.calls}",
            "call `run` exactly `calls` times.",
            "ignores calls",
        ),
        Case(
            "flip",
            True,
            f"calls a RandomFlip({spec.mode!r}) layer directly",
            "a direct call runs a random layer in training mode: " + compare,
            "misses a random layer",
        ),
        Case(
            "flip_off",
            False,
            f"calls a RandomFlip({spec.mode!r}) layer with training=False",
            compare,
            "true for training=False",
        ),
    ]


def changes_on_call(change_on: int) -> Callable[[np.ndarray], np.ndarray]:
    """A call that returns its input unchanged, except on call number ``change_on`` (from 1)."""
    calls = {"n": 0}

    def run(images: np.ndarray) -> np.ndarray:
        calls["n"] += 1
        return np.asarray(images)[:, ::-1].copy() if calls["n"] == change_on else np.array(images)

    return run


def _runs(spec: DetectorSpec, seed: int) -> dict[str, tuple[Callable[[Any], Any], dict[str, int]]]:
    """Probe side: the call of each case, and the keyword arguments it is checked with."""
    import keras
    import tensorflow as tf

    flip = keras.layers.RandomFlip(spec.mode, seed=layer_seed(seed))

    def first_image(images: Any) -> np.ndarray:
        out = np.array(images)
        out[0] = out[0, ::-1]
        return out

    return {
        "identity": (lambda x: x, {}),
        "flip": (lambda x: flip(x), {}),
        "flip_off": (lambda x: flip(x, training=False), {}),
        "tensor": (lambda x: tf.identity(x), {}),
        "round_off": (lambda x: np.asarray(x, dtype="float64") * (1 + 1e-7), {}),
        "always_flipped": (lambda x: np.asarray(x)[:, :, ::-1].copy(), {}),
        "first_image": (first_image, {}),
        "tensor_change": (lambda x: tf.reverse(tf.convert_to_tensor(x), axis=[1]), {}),
        "later_call": (changes_on_call(spec.change_on), {"calls": spec.calls}),
        "beyond_calls": (changes_on_call(spec.calls + 1), {"calls": spec.calls}),
    }


def _probe_detector(seed: int, is_augmenting: Callable[..., Any]) -> dict[str, Any]:
    spec = detector_spec(seed)
    runs = _runs(spec, seed)
    answers = []
    for case in detector_cases(spec):
        run, kwargs = runs[case.key]
        result = attempt(is_augmenting, run, test_images(spec.shape, seed), **kwargs)
        answers.append({"value": plain(result["value"])} if "value" in result else result)
    return {"answers": answers}


def _as_bool(answer: Any) -> bool | str:
    """An answer's boolean, or the name of its type when it is not a bool."""
    if not isinstance(answer, dict) or not isinstance(answer.get("type"), str):
        raise ValueError("malformed answer")
    kind, value = answer["type"], answer.get("value")
    if kind == "bool" and type(value) is bool:
        return value
    if kind in ("numpy.bool", "numpy.bool_") and isinstance(value, np.ndarray) and value.size == 1:
        return bool(value.reshape(()))  # a NumPy scalar (the wire may give it the shape (1,))
    return "None" if kind == "NoneType" else kind[:60]


def _judge_detector(data: Any, seed: int) -> str:
    __tracebackhide__ = True
    name = "is_augmenting()"
    cases = detector_cases(detector_spec(seed))
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, list) or len(answers) != len(cases):
        fail("the answer could not be judged: its data is not what a probe writes.", "malformed")
    got: list[bool] = []
    for case, answer in zip(cases, answers, strict=True):
        if not isinstance(answer, dict):
            fail("the answer could not be judged: its data is not what a probe writes.", "malformed")
        if answer.get("raised") == "NotImplementedError":
            fail(
                f"{name} is not written yet: replace `raise NotImplementedError()` with your code.",
                "not written",
            )
        if "raised" in answer:
            fail(
                f"for a call that {case.what}, {name} raised {str(answer['raised'])[:40]}: "
                f"{str(answer.get('message', ''))[:200]}",
                "raises an error",
            )
        try:
            value = _as_bool(answer.get("value"))
        except ValueError:
            fail("the answer could not be judged: its data is not what a probe writes.", "malformed")
        if not isinstance(value, bool):
            fail(f"{name} must return True or False; it returned a value of type {value}.", "not a bool")
        got.append(value)
    if all(got) or not any(got):
        fail(
            f"{name} returned {got[0]} for every call it was given, those that change the images and "
            "those that do not: compare each call's output with the input.",
            f"always {got[0]}",
        )
    for case, value in zip(cases, got, strict=True):
        if value != case.augments:
            fail(
                f"for a call that {case.what}, {name} returned {value}, expected {case.augments}. "
                f"Hint: {case.hint}",
                case.mistake,
            )
    return (
        f"{name} tells augmenting calls from the rest on {len(cases)} kinds of call: tensors, round-off, "
        "changes to one image or on a later call, and `calls` respected."
    )


# ---- exercise 3: build_digit_augmenter ----


def _probe_digit_augmenter(seed: int, build_digit_augmenter: Callable[..., Any]) -> dict[str, Any]:
    return digits.observe_builder(build_digit_augmenter, digits.sample(seed), layer_seed(seed))


def _judge_digit_augmenter(data: Any, seed: int) -> str:
    __tracebackhide__ = True
    name = "build_digit_augmenter()"
    found = digits.problem(data, digits.sample(seed), name)
    if found:
        fail(*found)
    return (
        f"{name} changes digits without flipping them, turning them far, moving them out of the "
        "frame, adding ink at the borders or leaving [0, 1], and its seed repeats its transforms."
    )


ex1 = Exercise(
    "ex1_check",
    "Exercise 1: the augmentation pipeline",
    ("build_augmenter",),
    _probe_augmenter,
    _judge_augmenter,
)
ex2 = Exercise(
    "ex2_check",
    "Exercise 2: is this call augmenting?",
    ("is_augmenting",),
    _probe_detector,
    _judge_detector,
)
ex3 = Exercise(
    "ex3_check",
    "Exercise 3: augmentation for digits",
    ("build_digit_augmenter",),
    _probe_digit_augmenter,
    _judge_digit_augmenter,
)
EXERCISES: Sequence[Exercise] = [ex1, ex2, ex3]

# The names earlier versions of the notebook called.
seed_pipeline, detector, digit_augmenter = ex1, ex2, ex3
