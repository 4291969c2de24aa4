"""Lesson 01, augmentation layers: its exercises (probe + judge) against right and wrong answers, and
every claim the lesson makes about Keras, executed in the pinned runtime."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from augcourse import images
from augcourse.checks import Exercise, Verdict, digits, wire
from augcourse.checks import layers as check
from grader.answers import reference_answers
from tests.conftest import ROOT

L = keras.layers
SEEDS = (0, 2024)  # every table is checked on both
LESSON = "01_augmentation_layers"
SOLUTION = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
RELEASE = ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb"


def decide(exercise: Exercise, value: Any, seed: int) -> Verdict:
    """Exactly what grading does: probe in the kernel, the data over the wire, judge in the grader."""
    return exercise.judged([value], seed)


def student(code: str, name: str) -> Any:
    """A student's answer cell, run as the notebook runs it (keras, tf and np imported)."""
    namespace: dict[str, Any] = {"keras": keras, "tf": tf, "np": np}
    exec(compile(code, f"<{name}>", "exec"), namespace)
    return namespace[name]


def notebook_answers(path: Any) -> dict[str, Any]:
    """The three answers as a notebook's answer cells define them."""
    sources = reference_answers(path)
    names = {
        "ex1_answer": "build_augmenter",
        "ex2_answer": "is_augmenting",
        "ex3_answer": "build_digit_augmenter",
    }
    return {grade_id: student(sources[grade_id], name) for grade_id, name in names.items()}


SOLVED = notebook_answers(SOLUTION)
build_augmenter = SOLVED["ex1_answer"]
is_augmenting = SOLVED["ex2_answer"]
build_digit_augmenter = SOLVED["ex3_answer"]


def assert_rejected(verdict: Verdict, mistake: str, fragment: str, answers: tuple[str, ...]) -> None:
    assert not verdict.passed
    assert verdict.mistake == mistake, verdict
    assert fragment.lower() in verdict.message.lower(), verdict.message
    for answer in answers:
        assert answer not in verdict.message, f"the message gives the answer away: {verdict.message}"
    for noise in ("in user code", "Exception encountered", "\x1b["):
        assert noise not in verdict.message


# ---- exercise 1: build_augmenter ----


def pipeline(*lines: str, seed: str = "seed") -> str:
    """A student's build_augmenter: the layers as written, each given ``seed=<seed>``."""
    body = "".join(
        f"        keras.layers.{line[:-1]}{', ' if line[-2] != '(' else ''}seed={seed}),\n" for line in lines
    )
    return f"def build_augmenter(seed=None):\n    return keras.Sequential([\n{body}    ])\n"


FLIP, ROTATION, ZOOM = 'RandomFlip("horizontal")', "RandomRotation(0.2)", "RandomZoom(0.1)"
EX1_ANSWERS = ('RandomFlip("horizontal"', "RandomRotation(0.2", "RandomZoom(0.1", "width_factor=None")

WRONG_AUGMENTERS = {  # answer -> (mistake kind, fragment of the message)
    "vertical flip": (pipeline('RandomFlip("vertical")', ROTATION, ZOOM), "flips vertically", "upside down"),
    "default flip (both axes)": (pipeline("RandomFlip()", ROTATION, ZOOM), "flips vertically", "upside down"),
    "diagonal flip": (
        pipeline('RandomFlip("diagonal")', ROTATION, ZOOM),
        "never flips",
        "check the spelling",
    ),
    "no flip": (pipeline(ROTATION, ZOOM), "no flip", "no RandomFlip"),
    "20 degrees as a fraction": (
        pipeline(FLIP, "RandomRotation(20 / 360)", ZOOM),
        "rotation in degrees",
        "as degrees",
    ),
    "rotation 20 (degrees)": (pipeline(FLIP, "RandomRotation(20)", ZOOM), "factor out of range", "full turn"),
    "rotation one way": (pipeline(FLIP, "RandomRotation((0, 0.2))", ZOOM), "rotation one way", "one way"),
    "rotation 0.02": (pipeline(FLIP, "RandomRotation(0.02)", ZOOM), "rotation range", "20% of a full turn"),
    "rotation range as two numbers": (
        pipeline(FLIP, "RandomRotation(-0.2, 0.2)", ZOOM),
        "range as two arguments",
        "one tuple",
    ),
    "zoom out only": (pipeline(FLIP, ROTATION, "RandomZoom((0.1, 0.2))"), "zoom out only", "zoom OUT only"),
    "zoom in only": (pipeline(FLIP, ROTATION, "RandomZoom((-0.1, 0.0))"), "zoom in only", "zoom IN only"),
    "zoom 10 (percent)": (pipeline(FLIP, ROTATION, "RandomZoom(10)"), "factor out of range", "size"),
    "width drawn separately": (
        pipeline(FLIP, ROTATION, "RandomZoom(0.1, 0.1)"),
        "aspect ratio not kept",
        "aspect ratio",
    ),
    "width zoomed more": (
        pipeline(FLIP, ROTATION, "RandomZoom(0.1, 0.3)"),
        "aspect ratio not kept",
        "aspect",
    ),
    "no zoom": (pipeline(FLIP, ROTATION), "zoom count", "exactly one RandomZoom"),
    "extra contrast": (
        pipeline(FLIP, ROTATION, ZOOM, "RandomContrast(0.2)"),
        "extra layers",
        "RandomContrast",
    ),
    "rescaling inside": (
        "def build_augmenter(seed=None):\n"
        "    return keras.Sequential([\n"
        "        keras.layers.Rescaling(1 / 255),\n"
        '        keras.layers.RandomFlip("horizontal", seed=seed),\n'
        "        keras.layers.RandomRotation(0.2, seed=seed),\n"
        "        keras.layers.RandomZoom(0.1, seed=seed),\n"
        "    ])\n",
        "changes in inference",
        "training=False",
    ),
    "no seed passed": (pipeline(FLIP, ROTATION, ZOOM, seed="None"), "seed not passed", "same seed"),
    "seed passed to the flip only": (
        "def build_augmenter(seed=None):\n    return keras.Sequential([\n"
        '        keras.layers.RandomFlip("horizontal", seed=seed),\n'
        "        keras.layers.RandomRotation(0.2),\n        keras.layers.RandomZoom(0.1),\n    ])\n",
        "seed not passed",
        "every random layer",
    ),
    "a fixed seed": (pipeline(FLIP, ROTATION, ZOOM, seed="42"), "seed ignored", "different seeds"),
    "a seed that fails on None": (
        pipeline(FLIP, ROTATION, ZOOM, seed="seed + 1"),
        "raises an error",
        "with seed=None",
    ),
    "None replaced by a number": (
        pipeline(FLIP, ROTATION, ZOOM, seed="seed or 42"),
        "fixed seed",
        "seed=None",
    ),
    "empty Sequential": (
        "def build_augmenter(seed=None):\n    return keras.Sequential()\n",
        "no layers",
        "has no layers",
    ),
    "forgot to return": (
        "def build_augmenter(seed=None):\n    keras.Sequential([keras.layers.RandomFlip('horizontal')])\n",
        "not a layer",
        "returned None",
    ),
    "a list of layers": (
        "def build_augmenter(seed=None):\n    return [keras.layers.RandomFlip('horizontal', seed=seed)]\n",
        "not a layer",
        "returned list",
    ),
    "a layer that cannot take the images": (
        "def build_augmenter(seed=None):\n"
        "    return keras.Sequential(\n"
        "        [keras.layers.Reshape((5, 5, 3)), keras.layers.RandomFlip('horizontal', seed=seed)]\n"
        "    )\n",
        "raises an error",
        "total size",
    ),
    "not written": (
        "def build_augmenter(seed=None):\n    raise NotImplementedError()\n",
        "not written",
        "not written",
    ),
}

RIGHT_AUGMENTERS = {
    "the reference": pipeline(FLIP, ROTATION, ZOOM),
    "tf.keras, keywords and (min, max) tuples": (
        "def build_augmenter(seed=None):\n"
        "    return tf.keras.Sequential([\n"
        '        tf.keras.layers.RandomFlip(mode="horizontal", seed=seed),\n'
        "        tf.keras.layers.RandomRotation(factor=(-0.2, 0.2), seed=seed),\n"
        "        tf.keras.layers.RandomZoom(height_factor=(-0.1, 0.1), width_factor=None, seed=seed),\n"
        "    ])\n"
    ),
    "an Input layer and add() in a loop": (
        "def build_augmenter(seed=None):\n"
        "    model = keras.Sequential([keras.Input(shape=(None, None, 3))])\n"
        "    for layer in (keras.layers.RandomFlip('horizontal', seed=seed),\n"
        "                  keras.layers.RandomZoom(0.1, fill_mode='constant', seed=seed),\n"
        "                  keras.layers.RandomRotation(0.2, fill_mode='nearest', seed=seed)):\n"
        "        model.add(layer)\n"
        "    return model\n"
    ),
    "nested Sequentials": (
        "def build_augmenter(seed=None):\n"
        "    flips = keras.Sequential([keras.layers.RandomFlip('horizontal', seed=seed)])\n"
        "    turns = keras.Sequential([keras.layers.RandomRotation(0.2, seed=seed),\n"
        "                              keras.layers.RandomZoom(0.1, seed=seed)])\n"
        "    return keras.Sequential([flips, turns])\n"
    ),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", RIGHT_AUGMENTERS)
def test_right_augmenters_pass(name: str, seed: int) -> None:
    verdict = decide(check.ex1, student(RIGHT_AUGMENTERS[name], "build_augmenter"), seed)
    assert verdict.passed, verdict


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", WRONG_AUGMENTERS)
def test_wrong_augmenters_fail_naming_the_mistake(name: str, seed: int) -> None:
    code, mistake, fragment = WRONG_AUGMENTERS[name]
    verdict = decide(check.ex1, student(code, "build_augmenter"), seed)
    assert_rejected(verdict, mistake, fragment, EX1_ANSWERS)


# ---- exercise 2: is_augmenting ----

EX2_ANSWERS = ("np.allclose(np.asarray(run(images)), images)", "for _ in range(calls)")

WRONG_DETECTORS = {
    "calls once": (
        "def is_augmenting(run, images, calls=5):\n"
        "    return not np.allclose(np.asarray(run(images)), images)\n",
        "calls once",
        "one call is not enough",
    ),
    "exact equality": (
        "def is_augmenting(run, images, calls=5):\n"
        "    return any(not np.array_equal(np.asarray(run(images)), images) for _ in range(calls))\n",
        "exact equality",
        "round-off",
    ),
    "compares shapes": (
        "def is_augmenting(run, images, calls=5):\n    return np.shape(run(images)) != np.shape(images)\n",
        "always False",
        "returned False for every call",
    ),
    "compares calls with each other": (
        "def is_augmenting(run, images, calls=5):\n"
        "    outs = [np.asarray(run(images)) for _ in range(calls)]\n"
        "    return any(not np.allclose(a, b) for a, b in zip(outs, outs[1:]))\n",
        "compares calls with each other",
        "not the outputs with each other",
    ),
    "every image must change": (
        "def is_augmenting(run, images, calls=5):\n"
        "    for _ in range(calls):\n"
        "        out = np.asarray(run(images))\n"
        "        if all(not np.allclose(o, i) for o, i in zip(out, images)):\n"
        "            return True\n"
        "    return False\n",
        "needs every image changed",
        "only some images",
    ),
    "identity of objects": (
        "def is_augmenting(run, images, calls=5):\n"
        "    return any(run(images) is not images for _ in range(calls))\n",
        "tensor comparison",
        "np.asarray",
    ),
    "a fixed number of calls": (
        "def is_augmenting(run, images, calls=5):\n"
        "    return any(not np.allclose(np.asarray(run(images)), images) for _ in range(10))\n",
        "ignores calls",
        "exactly `calls` times",
    ),
    "answers the opposite": (
        "def is_augmenting(run, images, calls=5):\n"
        "    return all(np.allclose(np.asarray(run(images)), images) for _ in range(calls))\n",
        "true for unchanged images",
        "returns its input unchanged",
    ),
    "always True": (
        "def is_augmenting(run, images, calls=5):\n    return True\n",
        "always True",
        "every call",
    ),
    "returns text": (
        "def is_augmenting(run, images, calls=5):\n"
        "    changed = any(not np.allclose(np.asarray(run(images)), images) for _ in range(calls))\n"
        "    return 'yes' if changed else 'no'\n",
        "not a bool",
        "True or False",
    ),
    "not written": (
        "def is_augmenting(run, images, calls=5):\n    raise NotImplementedError()\n",
        "not written",
        "not written",
    ),
}

RIGHT_DETECTORS = {
    "the reference": (
        "def is_augmenting(run, images, calls=5):\n"
        "    images = np.asarray(images)\n"
        "    return any(not np.allclose(np.asarray(run(images)), images) for _ in range(calls))\n"
    ),
    "a loop with an early return": (
        "def is_augmenting(run, images, calls=5):\n"
        "    for _ in range(calls):\n"
        "        if not np.allclose(run(images), images, atol=1e-6):\n"
        "            return True\n"
        "    return False\n"
    ),
    "TensorFlow throughout": (
        "def is_augmenting(run, images, calls=5):\n"
        "    x = tf.cast(images, tf.float32)\n"
        "    changes = [tf.reduce_max(tf.abs(tf.cast(run(images), tf.float32) - x)) for _ in range(calls)]\n"
        "    return bool(tf.reduce_max(tf.stack(changes)) > 1e-5)\n"
    ),
    "vectorised, a numpy bool": (
        "def is_augmenting(run, images, calls=5):\n"
        "    outs = np.stack([np.asarray(run(images), dtype='float64') for _ in range(calls)])\n"
        "    return np.any(~np.isclose(outs, np.asarray(images)[None]))\n"
    ),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", RIGHT_DETECTORS)
def test_right_detectors_pass(name: str, seed: int) -> None:
    verdict = decide(check.ex2, student(RIGHT_DETECTORS[name], "is_augmenting"), seed)
    assert verdict.passed, verdict


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", WRONG_DETECTORS)
def test_wrong_detectors_fail_naming_the_mistake(name: str, seed: int) -> None:
    code, mistake, fragment = WRONG_DETECTORS[name]
    verdict = decide(check.ex2, student(code, "is_augmenting"), seed)
    assert_rejected(verdict, mistake, fragment, EX2_ANSWERS)


def test_detector_inputs_vary_with_the_seed() -> None:
    specs = {check.detector_spec(seed) for seed in range(20)}
    assert len(specs) > 10
    for spec in specs:
        assert 2 <= spec.change_on <= spec.calls and spec.shape[0] >= 4


# ---- exercise 3: build_digit_augmenter ----


def digit_pipeline(*lines: str, seed: str = "seed") -> str:
    body = "".join(f"        keras.layers.{line[:-1]}, seed={seed}),\n" for line in lines)
    return f"def build_digit_augmenter(seed=None):\n    return keras.Sequential([\n{body}    ])\n"


TURN = 'RandomRotation(0.04, fill_mode="constant")'
EX3_ANSWERS = ('RandomRotation(0.04, fill_mode="constant"', 'fill_mode="constant"', "value_range=(0, 1)")

WRONG_DIGIT_AUGMENTERS = {
    "horizontal flip": (digit_pipeline('RandomFlip("horizontal")', TURN), "flip", "flips digits"),
    "vertical flip": (digit_pipeline(TURN, 'RandomFlip("vertical")'), "flip", "6 turned upside down"),
    "half-turn rotation": (
        digit_pipeline('RandomRotation(0.5, fill_mode="constant")'),
        "rotation too large",
        "+180.0°",
    ),
    "36° (a tenth of a turn)": (
        digit_pipeline('RandomRotation(0.1, fill_mode="constant")'),
        "rotation too large",
        "±18°",
    ),
    "rotation in degrees": (
        digit_pipeline('RandomRotation(15, fill_mode="constant")'),
        "factor out of range",
        "full turn",
    ),
    "reflect fill (the default)": (digit_pipeline("RandomRotation(0.04)"), "ink in the fill", "'reflect'"),
    "wrap fill": (
        digit_pipeline('RandomTranslation(0.1, 0.1, fill_mode="wrap")'),
        "ink in the fill",
        "'wrap'",
    ),
    "bright constant fill": (
        digit_pipeline('RandomTranslation(0.1, 0.1, fill_mode="constant", fill_value=1.0)'),
        "bright fill",
        "black",
    ),
    "zoom by half": (digit_pipeline(TURN, 'RandomZoom(0.5, fill_mode="constant")'), "zoom too large", "20%"),
    "shift by a third": (
        digit_pipeline('RandomTranslation(0.3, 0.3, fill_mode="constant")'),
        "shift too large",
        "frame",
    ),
    "brightness in (0, 255)": (digit_pipeline(TURN, "RandomBrightness(0.2)"), "value range", "[0, 1]"),
    "contrast in (0, 255)": (digit_pipeline(TURN, "RandomContrast(0.3)"), "value range", "value_range"),
    "brightness washes out": (
        digit_pipeline(TURN, "RandomBrightness(0.8, value_range=(0, 1))"),
        "brightness too strong",
        "wash",
    ),
    "Gaussian noise": (digit_pipeline(TURN, "GaussianNoise(0.1)"), "layer not allowed", "GaussianNoise"),
    "rotation by zero": (
        digit_pipeline('RandomRotation(0.0, fill_mode="constant")'),
        "no change in training",
        "did not change",
    ),
    "identity only": (
        "def build_digit_augmenter(seed=None):\n    return keras.Sequential([keras.layers.Identity()])\n",
        "no layers",
        "no layers",
    ),
    "no seed passed": (digit_pipeline(TURN, seed="None"), "seed not passed", "same seed"),
    "a fixed seed": (digit_pipeline(TURN, seed="7"), "seed ignored", "different seeds"),
    "not written": (
        "def build_digit_augmenter(seed=None):\n    raise NotImplementedError()\n",
        "not written",
        "not written",
    ),
}

RIGHT_DIGIT_AUGMENTERS = {
    "the reference": digit_pipeline(
        TURN, 'RandomZoom(0.1, fill_mode="constant")', 'RandomTranslation(0.1, 0.1, fill_mode="constant")'
    ),
    "tf.keras and (min, max) tuples at the limits": (
        "def build_digit_augmenter(seed=None):\n"
        "    return tf.keras.Sequential([\n"
        "        tf.keras.layers.RandomRotation(\n"
        "            (-0.05, 0.05), fill_mode='constant', fill_value=0.0, seed=seed),\n"
        "        tf.keras.layers.RandomTranslation(\n"
        "            (-0.2, 0.2), (-0.2, 0.2), fill_mode='constant', seed=seed),\n"
        "    ])\n"
    ),
    "an Input, brightness and contrast in [0, 1]": (
        "def build_digit_augmenter(seed=None):\n"
        "    layers = [keras.Input((8, 8, 1)),\n"
        "              keras.layers.RandomZoom((-0.2, 0.2), fill_mode='constant', seed=seed),\n"
        "              keras.layers.RandomBrightness(0.1, value_range=(0, 1), seed=seed),\n"
        "              keras.layers.RandomContrast((0.3, 0.3), value_range=(0.0, 1.0), seed=seed)]\n"
        "    return keras.Sequential(layers)\n"
    ),
    "one layer, seeds derived per layer": (
        "def build_digit_augmenter(seed=None):\n"
        "    rotate = keras.layers.RandomRotation(0.03, fill_mode='constant',\n"
        "                                         seed=None if seed is None else seed + 1)\n"
        "    return keras.Sequential([rotate])\n"
    ),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", RIGHT_DIGIT_AUGMENTERS)
def test_right_digit_augmenters_pass(name: str, seed: int) -> None:
    verdict = decide(check.ex3, student(RIGHT_DIGIT_AUGMENTERS[name], "build_digit_augmenter"), seed)
    assert verdict.passed, verdict


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", WRONG_DIGIT_AUGMENTERS)
def test_wrong_digit_augmenters_fail_naming_the_mistake(name: str, seed: int) -> None:
    code, mistake, fragment = WRONG_DIGIT_AUGMENTERS[name]
    verdict = decide(check.ex3, student(code, "build_digit_augmenter"), seed)
    assert_rejected(verdict, mistake, fragment, EX3_ANSWERS)


def test_the_digit_rule_judges_16_pixel_digits_too() -> None:
    """Lesson 4 judges its 16×16 digits by the same rule, without a seed argument."""
    big = digits.sample(3, size=16)
    assert big.shape == (digits.COUNT, 16, 16, 1) and big.min() >= 0 and big.max() <= 1
    right = digits.observe(build_digit_augmenter(), big)
    assert digits.problem(wire.loads(wire.dumps(right)), digits.sample(3, size=16), seeded=False) is None
    flipped = digits.observe(keras.Sequential([L.RandomFlip("horizontal")]), big)
    assert digits.problem(flipped, big, seeded=False)[1] == "flip"


# ---- the reference solution, the release stub, forged data ----


@pytest.mark.parametrize("seed", SEEDS)
def test_the_reference_solution_passes(seed: int) -> None:
    for exercise, grade_id in zip(check.EXERCISES, ("ex1_answer", "ex2_answer", "ex3_answer"), strict=True):
        verdict = decide(exercise, SOLVED[grade_id], seed)
        assert verdict.passed, verdict


def test_the_release_stubs_are_not_written() -> None:
    stubs = notebook_answers(RELEASE)
    for exercise, grade_id in zip(check.EXERCISES, ("ex1_answer", "ex2_answer", "ex3_answer"), strict=True):
        verdict = decide(exercise, stubs[grade_id], 0)
        assert (verdict.passed, verdict.mistake) == (False, "not written"), verdict


def test_every_exercise_is_listed_with_its_grade_id() -> None:
    assert [e.grade_id for e in check.EXERCISES] == ["ex1_check", "ex2_check", "ex3_check"]
    assert [e.names for e in check.EXERCISES] == [
        ("build_augmenter",),
        ("is_augmenting",),
        ("build_digit_augmenter",),
    ]


@pytest.fixture(scope="module")
def right_data() -> dict[str, Any]:
    """What the probes write for the reference solution on seed 0."""
    values = {"ex1_check": build_augmenter, "ex2_check": is_augmenting, "ex3_check": build_digit_augmenter}
    return {e.grade_id: wire.loads(wire.dumps(e.gather([values[e.grade_id]], 0))) for e in check.EXERCISES}


def forgeries(data: dict[str, Any]) -> list[Any]:
    """Malformed versions of a probe's data: wrong types, missing keys, huge values, NaN."""
    forged: list[Any] = [None, 3, "✅", [], {}, {"layers": "all of them"}, {"answers": [True] * 3}]
    for key in data:
        forged.append({k: v for k, v in data.items() if k != key})  # one key missing
        for value in (None, "x", float("nan"), 1e308, [1, 2], {"__ndarray__": 1}, np.zeros(3)):
            forged.append({**data, key: value})
        if isinstance(data[key], np.ndarray):
            forged.append({**data, key: np.full_like(data[key], np.nan)})
            forged.append({**data, key: data[key] * 1e30})
            forged.append({**data, key: data[key][..., :-1, :]})  # one column short
    if "layers" in data:
        for field in ("factor", "height_factor", "fill_mode", "mode"):
            for value in (float("nan"), 1e308, "x", None, [0.1, "a"]):
                layers = [
                    {**layer, "config": {**layer["config"], field: value}}
                    for layer in data["layers"]
                    if field in layer["config"]
                ]
                if layers:
                    forged.append({**data, "layers": layers})
        forged.append({**data, "layers": [{"class": None, "config": {}}]})
        forged.append({**data, "layers": [{"class": "RandomFlip"}] * 1000})
    if "answers" in data:
        forged.append({"answers": [{"value": {"type": "bool", "value": "True"}}] * len(data["answers"])})
        forged.append({"answers": [{"value": {"type": "bool"}}] * len(data["answers"])})
        forged.append({"answers": [None] * len(data["answers"])})
    return forged


@pytest.mark.parametrize("grade_id", ["ex1_check", "ex2_check", "ex3_check"])
def test_forged_data_fails_with_a_message_and_never_crashes(
    grade_id: str, right_data: dict[str, Any]
) -> None:
    exercise = {e.grade_id: e for e in check.EXERCISES}[grade_id]
    data = right_data[grade_id]
    assert exercise.decide(data, 0).passed
    for forged in forgeries(data):
        verdict = exercise.decide(forged, 0)
        assert not verdict.passed, forged
        assert verdict.message and verdict.mistake
        assert verdict.mistake != "malformed" or "could not" in verdict.message


@pytest.mark.parametrize("grade_id", ["ex1_check", "ex3_check"])
def test_right_data_for_another_seed_fails(grade_id: str, right_data: dict[str, Any]) -> None:
    """A probe's data is judged against the seed's own inputs: a replay from another seed fails."""
    exercise = {e.grade_id: e for e in check.EXERCISES}[grade_id]
    verdict = exercise.decide(right_data[grade_id], 1)
    assert not verdict.passed


def test_the_judges_import_without_tensorflow() -> None:
    code = (
        "import sys\n"
        "from augcourse.checks import digits, layers\n"
        "assert digits.sample(0).shape == (24, 8, 8, 1)\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


def test_keras_errors_are_reported_without_their_wrapping() -> None:
    try:
        keras.Sequential([L.Reshape((5, 5, 3))])(check.test_images())
    except ValueError as error:
        line = digits.error_line(error)
    assert line.startswith("The total size of the tensor must be unchanged"), line


def test_flips_are_decided_from_outputs() -> None:
    x = check.test_images()
    assert check.which_flips(x, np.stack([x, x[:, :, ::-1]])) == {"none", "horizontal"}
    assert check.which_flips(x, x[:, ::-1, ::-1][np.newaxis]) == {"both"}
    assert check.which_flips(x, np.zeros((2, *x.shape))) == set()


def test_factor_range_normalises_numbers_and_pairs() -> None:
    assert check.factor_range(0.2) == (-0.2, 0.2)
    assert check.factor_range(-0.2) == (-0.2, 0.2)
    assert check.factor_range((0.3, 0.1)) == (0.1, 0.3)
    assert check.zoom_ranges(L.RandomZoom(0.1, (0.0, 0.2))) == ((-0.1, 0.1), (0.0, 0.2))
    with pytest.raises(ValueError):
        check.factor_range(float("nan"))


# ---- the lesson's claims about Keras, executed ----


def test_the_images_ship_with_packages() -> None:
    cat = images.cat(96)
    assert cat.shape == (96, 144, 3) and cat.dtype == np.float32
    assert cat.min() >= 0 and cat.max() <= 1
    digits, labels = images.digits()
    assert digits.shape == (1797, 8, 8, 1) and digits.max() == 1.0
    assert list(labels[:10]) == list(range(10))


def test_rotation_factor_is_a_fraction_of_a_turn_counter_clockwise() -> None:
    square = check.test_images(shape=(1, 9, 9, 1))
    quarter = np.asarray(L.RandomRotation((0.25, 0.25))(square))[0]
    assert np.allclose(quarter, np.rot90(square[0]), atol=1e-5)
    back = np.asarray(L.RandomRotation((-0.25, -0.25))(square))[0]
    assert np.allclose(back, np.rot90(square[0], -1), atol=1e-5)
    assert check.rotation_range(L.RandomRotation(0.2)) == (-0.2, 0.2)  # ±72°


def keras_version() -> tuple[int, ...]:
    return tuple(int(part) for part in keras.__version__.split(".")[:2])


def test_factor_ranges_are_enforced() -> None:
    L.RandomRotation(1.0)
    L.RandomZoom(1.0)
    L.RandomTranslation(1.0, -1.0)
    for build in (
        lambda: L.RandomRotation(20),
        lambda: L.RandomRotation(45),
        lambda: L.RandomZoom(10),
    ):
        with pytest.raises(ValueError):
            build()


def test_zoom_of_minus_one_is_rejected_from_keras_3_14_on() -> None:
    """The lesson: Keras 3.14 and later take zoom factors in (-1, 1], earlier versions in [-1, 1]."""
    if keras_version() >= (3, 14):
        with pytest.raises(ValueError, match="range"):
            L.RandomZoom(-1.0)
    else:
        L.RandomZoom(-1.0)
    L.RandomZoom(-0.99)


def test_positive_zoom_zooms_out_negative_zooms_in() -> None:
    square = np.zeros((1, 21, 21, 1), "float32")
    square[:, 6:15, 6:15] = 1
    ink = int((square > 0.5).sum())
    out = np.asarray(L.RandomZoom((0.5, 0.5), fill_mode="constant")(square))
    into = np.asarray(L.RandomZoom((-0.5, -0.5), fill_mode="constant")(square))
    assert (out > 0.5).sum() < ink < (into > 0.5).sum()


def test_zoom_without_width_factor_keeps_the_aspect_ratio() -> None:
    box = np.zeros((1, 21, 31, 1), "float32")
    box[:, 6:15, 11:20] = 1  # 9 × 9

    def extent(layer: Any) -> tuple[int, int]:
        rows, cols = np.where(np.asarray(layer(box))[0, ..., 0] > 0.5)
        return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)

    kept = extent(L.RandomZoom((0.5, 0.5), fill_mode="constant"))
    assert kept[0] == kept[1] < 9
    height_only = extent(L.RandomZoom((0.5, 0.5), (0.0, 0.0), fill_mode="constant"))
    assert height_only[0] < 9 == height_only[1]


def test_default_flip_mode_flips_both_axes_at_once() -> None:
    assert L.RandomFlip().get_config()["mode"] == "horizontal_and_vertical"
    assert check.flips_seen(L.RandomFlip(seed=1)) == {"none", "both"}


def test_other_factor_ranges() -> None:
    L.RandomBrightness(-1.0)
    L.RandomContrast(1.0)
    for build in (
        lambda: L.RandomTranslation(1.5, 0.0),
        lambda: L.RandomContrast(1.5),
        lambda: L.RandomContrast(-0.1),
        lambda: L.RandomBrightness(1.5),
    ):
        with pytest.raises(ValueError):
            build()


def test_translation_needs_both_factors() -> None:
    with pytest.raises(TypeError):
        L.RandomTranslation(0.1)


def test_fill_modes_differ_and_unknown_ones_raise() -> None:
    picture = images.cat(24)[np.newaxis]
    turned = {
        mode: np.asarray(L.RandomRotation((0.125, 0.125), fill_mode=mode)(picture))[0]
        for mode in ("reflect", "wrap", "constant", "nearest")
    }
    assert np.all(turned["constant"][0, 0] == 0) and np.all(turned["constant"][-1, -1] == 0)
    modes = list(turned)
    for i, first in enumerate(modes):
        for second in modes[i + 1 :]:
            assert not np.allclose(turned[first], turned[second])
    with pytest.raises(NotImplementedError, match="fill_mode"):
        L.RandomRotation(0.1, fill_mode="mirror")
    assert L.RandomRotation(0.1).get_config()["fill_mode"] == "reflect"


def test_what_each_fill_mode_puts_into_the_uncovered_pixels() -> None:
    row = np.tile(np.arange(1, 9, dtype="float32"), (4, 1))[np.newaxis, ..., np.newaxis]
    shifted = {
        mode: np.asarray(L.RandomTranslation((0, 0), (0.25, 0.25), fill_mode=mode)(row))[0, 0, :, 0]
        for mode in ("reflect", "wrap", "constant", "nearest")
    }  # every row moves two pixels to the right
    assert shifted["reflect"][:3].tolist() == [2, 1, 1]  # mirrored
    assert shifted["wrap"][:3].tolist() == [7, 8, 1]  # repeated from the other side
    assert shifted["constant"][:3].tolist() == [0, 0, 1]  # fill_value, 0 by default
    assert shifted["nearest"][:3].tolist() == [1, 1, 1]  # the edge pixel, stretched


def test_reflect_fill_copies_strokes_constant_fill_is_black() -> None:
    samples = images.digits()[0][[2, 3, 6, 7]]
    shift = {
        mode: np.asarray(L.RandomTranslation((0.25, 0.25), (0.25, 0.25), fill_mode=mode)(samples))
        for mode in ("reflect", "constant")
    }
    assert np.all(shift["constant"][:, :2] == 0) and np.all(shift["constant"][:, :, :2] == 0)
    assert shift["reflect"][:, :2].max() > 0.5 or shift["reflect"][:, :, :2].max() > 0.5


def test_brightness_needs_value_range_for_images_in_0_1() -> None:
    batch = np.repeat(images.cat(24)[np.newaxis], 16, axis=0)
    washed = np.asarray(L.RandomBrightness(0.2, seed=1)(batch))
    assert 2 < washed.max() <= 1 + 0.2 * 255 + 1e-3  # up to ±51 added to values in [0, 1]
    fine = np.asarray(L.RandomBrightness(0.2, value_range=(0, 1), seed=1)(batch))
    assert fine.min() >= 0 and fine.max() <= 1


def contrast_factors(layer: Any, pictures: np.ndarray) -> np.ndarray:
    out = np.asarray(layer(pictures, training=True))

    def spread(x: np.ndarray) -> np.ndarray:
        return (x - x.mean(axis=(1, 2), keepdims=True)).std(axis=(1, 2, 3))

    return spread(out) / spread(pictures)


def test_one_contrast_number_only_raises_contrast_a_pair_goes_both_ways() -> None:
    grey = 0.25 + 0.5 * np.repeat(images.cat(24)[np.newaxis], 64, axis=0)
    single = L.RandomContrast(0.2, value_range=(0, 1), seed=1)
    assert single.factor == (0, 0.2)
    found = contrast_factors(single, grey)
    assert found.min() >= 1 - 1e-4 and 1.15 < found.max() <= 1.2 + 1e-4
    pair = contrast_factors(L.RandomContrast((0.2, 0.2), value_range=(0, 1), seed=1), grey)
    assert 0.8 - 1e-4 <= pair.min() < 0.85 and 1.15 < pair.max() <= 1.2 + 1e-4


def test_seeds_repeat_streams_and_unseeded_layers_differ() -> None:
    small = check.test_images()
    first, second = L.RandomRotation(0.2, seed=7), L.RandomRotation(0.2, seed=7)
    assert np.allclose(first(small), second(small))
    assert not np.allclose(first(small), first(small))
    assert not np.allclose(L.RandomRotation(0.2)(small), L.RandomRotation(0.2)(small))


def test_unknown_flip_mode_builds_and_never_flips() -> None:
    diagonal = L.RandomFlip("diagonal", seed=1)
    assert check.flips_seen(diagonal, trials=16) == {"none"}
    assert check.flips_seen(L.RandomFlip("horizontal", seed=1)) == {"none", "horizontal"}
    assert check.flips_seen(L.RandomFlip("vertical", seed=1)) == {"none", "vertical"}


def test_second_positional_rotation_argument_is_fill_mode() -> None:
    with pytest.raises(NotImplementedError, match="fill_mode"):
        L.RandomRotation(0.2, 0.3)
    assert check.rotation_range(L.RandomRotation((0.2, 0.3))) == (0.2, 0.3)  # +72° to +108°


def test_one_number_means_minus_f_to_f_and_a_pair_is_exact() -> None:
    assert L.RandomRotation(0.2).factor == (-0.2, 0.2)
    assert L.RandomRotation((0.2, 0.3)).factor == (0.2, 0.3)
    assert L.RandomBrightness(0.2).factor == (-0.2, 0.2)
    assert L.RandomBrightness((-0.1, 0.3)).factor == (-0.1, 0.3)
    zoom_layer = L.RandomZoom(0.1, (-0.2, 0.3))
    assert (zoom_layer.height_lower, zoom_layer.height_upper) == (-0.1, 0.1)
    assert (zoom_layer.width_lower, zoom_layer.width_upper) == (-0.2, 0.3)
    shift = L.RandomTranslation(0.1, (0.0, 0.2))
    assert (shift.height_lower, shift.height_upper, shift.width_lower, shift.width_upper) == (
        -0.1,
        0.1,
        0.0,
        0.2,
    )


def test_every_layer_returns_its_input_in_inference_mode() -> None:
    x = check.test_images()
    for layer in (
        L.RandomFlip("horizontal", seed=1),  # seeded: an unseeded flip leaves all 6 alone 1 time in 64
        L.RandomRotation(0.2, seed=1),
        L.RandomZoom(0.3, seed=1),
        L.RandomTranslation(0.2, 0.2, seed=1),
        L.RandomContrast((0.5, 0.5), value_range=(0, 1), seed=1),
        L.RandomBrightness(0.4, value_range=(0, 1), seed=1),
    ):
        assert np.allclose(layer(x, training=False), x), type(layer).__name__
        assert not np.allclose(layer(x, training=True), x), type(layer).__name__


def test_factors_are_not_stored_as_passed() -> None:
    rotation_layer = L.RandomRotation(0.2)
    assert rotation_layer.factor == (-0.2, 0.2) and rotation_layer.factor != 0.2
    assert L.RandomZoom(0.1).height_factor == 0.1
    assert L.RandomContrast(0.2).factor == (0, 0.2)


def test_shapes_are_kept_in_training_and_inference() -> None:
    x = tf.random.uniform([1, 128, 128, 3])
    layer = keras.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.1)])
    assert layer(x).shape == layer(x, training=False).shape == (1, 128, 128, 3)


class Probe(L.Layer):
    """Passes its input through and keeps a copy of the last batch it saw."""

    def call(self, inputs: Any) -> Any:
        if tf.executing_eagerly():
            self.seen = np.asarray(inputs)
        return inputs


def test_when_augmentation_is_active() -> None:
    x = check.test_images(shape=(4, 16, 16, 3))
    y = np.zeros(len(x))
    augmenter = build_augmenter(seed=3)
    probe = Probe()
    model = keras.Sequential(
        [keras.Input(x.shape[1:]), augmenter, probe, L.GlobalAveragePooling2D(), L.Dense(2)]
    )
    model.compile(
        optimizer="sgd",
        run_eagerly=True,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    def augments(call: Callable[[], Any]) -> bool:
        call()
        return not np.allclose(probe.seen, x)

    assert augments(lambda: model.fit(x, y, batch_size=4, verbose=0))
    assert not augments(lambda: model.evaluate(x, y, batch_size=4, verbose=0))
    assert not augments(lambda: model.predict(x, batch_size=4, verbose=0))
    assert augments(lambda: model(x))
    assert not augments(lambda: model(x, training=False))
    assert is_augmenting(augmenter, x)
    assert not is_augmenting(lambda b: augmenter(b, training=False), x)
    with tempfile.TemporaryDirectory() as folder:
        model.export(folder, verbose=False)
        exported = tf.saved_model.load(folder)
        first, second = exported.serve(tf.constant(x)), exported.serve(tf.constant(x))
        predicted = model.predict(x, verbose=0)
        assert not np.allclose(first, predicted, atol=1e-5)
        assert not np.allclose(first, second, atol=1e-5)
