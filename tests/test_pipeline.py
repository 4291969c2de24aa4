"""Lesson 02, augmentation in a tf.data pipeline: its two exercises (probe + judge) against right and
wrong answers written as a student would, forged probe data, and every claim the lesson makes about
Keras and tf.data, executed in the pinned runtime."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from augcourse import images
from augcourse.checks import CheckFailed, exercises, wire
from augcourse.checks import pipeline as check
from augcourse.checks.exercise import MISSING, Exercise, Verdict
from grader.answers import reference_answers
from tests.conftest import ROOT

L = keras.layers
AUTOTUNE = tf.data.AUTOTUNE
LESSON = "02_augmentation_pipeline"
SOLUTION = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
RELEASE = ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb"
SEEDS = (0, 7)  # the practice seed and another: every wrong answer fails on both
MANY_SEEDS = (0, 1, 2, 3, 7, 12, 2026, 2027, 31337, 123456789)


def verdict(exercise: Exercise, values: list[Any], seed: int) -> Verdict:
    """Exactly what grading does: probe in the kernel, the data over the wire, judge apart."""
    return exercise.judged(values, seed)


def make_augmenter(seed: int | None = None) -> keras.Sequential:
    """The lesson's digit augmenter (small turns and shifts, black fill)."""
    return keras.Sequential(
        [
            L.RandomRotation(0.05, fill_mode="constant", seed=seed),
            L.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
        ]
    )


def define(code: str) -> dict[str, Any]:
    """Run an answer cell as the notebook would, after its set-up (names it leaves behind)."""
    namespace: dict[str, Any] = {
        "tf": tf,
        "keras": keras,
        "np": np,
        "AUTOTUNE": AUTOTUNE,
        "make_augmenter": make_augmenter,
        "augmenter": make_augmenter(),  # a notebook-level layer a student may reach for
    }
    exec(textwrap.dedent(code), namespace)
    return namespace


def answer(code: str, *names: str) -> list[Any]:
    namespace = define(code)
    return [namespace[name] for name in names]


REFERENCE = reference_answers(SOLUTION)
RELEASED = reference_answers(RELEASE)  # the stubs: no solution delimiters left to remove


def reference(*names: str) -> list[Any]:
    namespace = define(REFERENCE["ex1_answer"] + "\n" + REFERENCE["ex2_answer"])
    return [namespace[name] for name in names]


# ---- exercise 1: fast_train_ds ----------------------------------------------------------------

FAST_RIGHT = {
    "chained, a named augment function, experimental.AUTOTUNE, prefetch(1)": """
        def fast_train_ds(images, labels, augmenter, batch_size=32):
            def augment(batch, batch_labels):
                return augmenter(batch, training=True), batch_labels

            return (
                tf.data.Dataset.from_tensor_slices((images, labels))
                .shuffle(buffer_size=10_000, seed=42)
                .batch(batch_size)
                .map(augment, num_parallel_calls=tf.data.experimental.AUTOTUNE)
                .prefetch(1)
            )
        """,
    "zipped images and labels, default training flag, parallel batch, options": """
        def fast_train_ds(images, labels, augmenter, batch_size=32):
            pairs = tf.data.Dataset.zip(
                (tf.data.Dataset.from_tensor_slices(images), tf.data.Dataset.from_tensor_slices(labels))
            )
            pairs = pairs.shuffle(len(labels)).batch(batch_size, num_parallel_calls=AUTOTUNE)
            pairs = pairs.map(lambda x, y: (augmenter(x), y), num_parallel_calls=2, deterministic=False)
            options = tf.data.Options()
            options.experimental_optimization.map_parallelization = True
            return pairs.prefetch(buffer_size=AUTOTUNE).with_options(options)
        """,
    "raw data cached first, the augmenter wrapped in a keras.Sequential built outside map": """
        def fast_train_ds(images, labels, augmenter, batch_size=32):
            model = keras.Sequential([augmenter])
            ds = tf.data.Dataset.from_tensor_slices((images, labels)).cache()
            ds = ds.shuffle(len(images), reshuffle_each_iteration=True).batch(batch_size)
            ds = ds.map(lambda x, y: (model(x, training=True), y), num_parallel_calls=AUTOTUNE)
            return ds.prefetch(AUTOTUNE)
        """,
}

FAST_STEPS = """
    def fast_train_ds(images, labels, augmenter, batch_size=32):
        ds = tf.data.Dataset.from_tensor_slices((images, labels))
{steps}
        return ds
"""
SHUFFLE = "        ds = ds.shuffle(len(images))"
BATCH = "        ds = ds.batch(batch_size)"
PMAP = "        ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=AUTOTUNE)"
MAP = "        ds = ds.map(lambda x, y: (augmenter(x, training=True), y))"
PREFETCH = "        ds = ds.prefetch(AUTOTUNE)"
CACHE = "        ds = ds.cache()"
NO_RESHUFFLE = "        ds = ds.shuffle(len(images), reshuffle_each_iteration=False)"
REPEAT = "        ds = ds.repeat()"


def steps(*lines: str) -> str:
    return FAST_STEPS.format(steps="\n".join(lines))


# answer -> (code, mistake kind, a fragment of the message that names the mistake)
FAST_WRONG = {
    "the slow pipeline, unchanged": (steps(SHUFFLE, MAP, BATCH), "map per image", "one image at a time"),
    "a parallel map per image, prefetched": (
        steps(SHUFFLE, PMAP, BATCH, PREFETCH),
        "map per image",
        "one image at a time",
    ),
    "batch first, but a sequential map": (
        steps(SHUFFLE, BATCH, MAP, PREFETCH),
        "sequential map",
        "sequentially",
    ),
    "no prefetch": (steps(SHUFFLE, BATCH, PMAP), "no prefetch", "end with .prefetch"),
    "prefetch before the map": (
        steps(SHUFFLE, BATCH, PREFETCH, PMAP),
        "prefetch not last",
        "ends with ParallelMap",
    ),
    "no shuffle": (steps(BATCH, PMAP, PREFETCH), "not shuffled", "original order every epoch"),
    "shuffles the batches, not the images": (
        steps(BATCH, SHUFFLE.replace("len(images)", "100"), PMAP, PREFETCH),
        "shuffles batches",
        "only the order of the batches changes",
    ),
    "a shuffle buffer of one batch": (
        steps(SHUFFLE.replace("len(images)", "batch_size"), BATCH, PMAP, PREFETCH),
        "small shuffle buffer",
        "buffer size of",
    ),
    "reshuffle_each_iteration=False": (
        steps(NO_RESHUFFLE, BATCH, PMAP, PREFETCH),
        "reshuffle_each_iteration=False",
        "reshuffle_each_iteration=False",
    ),
    "cache after the shuffle": (
        steps(SHUFFLE, CACHE, BATCH, PMAP, PREFETCH),
        "cache after shuffle",
        ".cache() after the shuffle",
    ),
    "cache after the map": (
        steps(SHUFFLE, BATCH, PMAP, CACHE, PREFETCH),
        "cache after map",
        ".cache() after the random map",
    ),
    "augments once, before building the dataset": (
        """
        def fast_train_ds(images, labels, augmenter, batch_size=32):
            augmented = augmenter(images, training=True)
            ds = tf.data.Dataset.from_tensor_slices((augmented, labels)).shuffle(len(images))
            return ds.batch(batch_size).prefetch(AUTOTUNE)
        """,
        "augmented once",
        "drawn once",
    ),
    "forgets the augmentation": (
        steps(SHUFFLE, BATCH, PREFETCH),
        "not augmented",
        "never calls the `augmenter`",
    ),
    "augments in inference mode": (
        steps(SHUFFLE, BATCH, PMAP.replace("training=True", "training=False"), PREFETCH),
        "training=False",
        "training=False",
    ),
    "the notebook's own augmenter, not the argument": (
        """
        def fast_train_ds(images, labels, aug, batch_size=32):
            ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images)).batch(batch_size)
            ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=AUTOTUNE)
            return ds.prefetch(AUTOTUNE)
        """,
        "augmenter not used",
        "something other than the `augmenter`",
    ),
    "a layer created inside map": (
        """
        def fast_train_ds(images, labels, augmenter, batch_size=32):
            ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images)).batch(batch_size)
            ds = ds.map(lambda x, y: (make_augmenter()(x, training=True), y), num_parallel_calls=AUTOTUNE)
            return ds.prefetch(AUTOTUNE)
        """,
        "layer created inside map",
        "Create the layer outside `map`",
    ),
    "images and labels shuffled apart": (
        """
        def fast_train_ds(images, labels, augmenter, batch_size=32):
            x = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images))
            y = tf.data.Dataset.from_tensor_slices(labels).shuffle(len(labels))
            ds = tf.data.Dataset.zip((x, y)).batch(batch_size)
            ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=AUTOTUNE)
            return ds.prefetch(AUTOTUNE)
        """,
        "labels apart from images",
        "label of another image",
    ),
    "rescales images already in [0, 1]": (
        steps(SHUFFLE, BATCH, PMAP.replace("augmenter(x, training=True)", "augmenter(x / 255.0)"), PREFETCH),
        "images rescaled",
        "rescales the images",
    ),
    "a hard-coded batch size": (
        steps(SHUFFLE, BATCH.replace("batch_size", "32"), PMAP, PREFETCH),
        "wrong batch size",
        "use batch_size=",
    ),
    "drop_remainder=True": (
        steps(SHUFFLE, BATCH.replace("batch_size", "batch_size, drop_remainder=True"), PMAP, PREFETCH),
        "drop remainder",
        "drop_remainder=True",
    ),
    "repeat, for several epochs": (
        steps(SHUFFLE, BATCH, PMAP, PREFETCH, REPEAT),
        "repeat",
        "leave out .repeat()",
    ),
    "never batched": (steps(SHUFFLE, PMAP, PREFETCH), "not batched", "batch it"),
    "leaves the labels out": (
        """
        def fast_train_ds(images, labels, augmenter, batch_size=32):
            ds = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images)).batch(batch_size)
            return ds.map(lambda x: augmenter(x, training=True), num_parallel_calls=AUTOTUNE).prefetch(1)
        """,
        "not (images, labels) pairs",
        "without its label",
    ),
    "maps the augmenter itself": (
        steps(SHUFFLE, BATCH, "        ds = ds.map(augmenter, num_parallel_calls=AUTOTUNE)", PREFETCH),
        "map function arguments",
        "called with the parts of each element",
    ),
    "converts to NumPy inside map": (
        steps(SHUFFLE, BATCH, PMAP.replace("augmenter(x, training=True)", "augmenter(x.numpy())"), PREFETCH),
        "raises an error",
        "no attribute 'numpy' (while tf.data traced the function given to `map`)",
    ),
    "forgets to return": (
        """
        def fast_train_ds(images, labels, augmenter, batch_size=32):
            ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images)).batch(batch_size)
            ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=AUTOTUNE)
            ds = ds.prefetch(AUTOTUNE)
        """,
        "not a dataset",
        "is a `return` missing?",
    ),
    "returns arrays": (
        """
        def fast_train_ds(images, labels, augmenter, batch_size=32):
            return np.asarray(augmenter(images, training=True)), labels
        """,
        "not a dataset",
        "must return a tf.data.Dataset",
    ),
}


def forbidden(*grade_ids: str) -> list[str]:
    """Lines of the reference answers that a message must never show."""
    lines = [line.strip() for grade_id in grade_ids for line in REFERENCE[grade_id].splitlines()]
    return [line for line in lines if len(line) >= 25 and not line.startswith(('"""', "def "))]


def test_the_reference_fast_pipeline_passes_on_any_seed() -> None:
    for seed in MANY_SEEDS:
        result = verdict(check.ex1, reference("fast_train_ds"), seed)
        assert result.passed, (seed, result)
    assert "ParallelMap → Prefetch" in result.message


@pytest.mark.parametrize("name", FAST_RIGHT)
@pytest.mark.parametrize("seed", SEEDS)
def test_right_fast_pipelines_in_other_styles_pass(name: str, seed: int) -> None:
    result = verdict(check.ex1, answer(FAST_RIGHT[name], "fast_train_ds"), seed)
    assert result.passed, result


@pytest.mark.parametrize("name", FAST_WRONG)
@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_fast_pipelines_fail_and_name_the_mistake(name: str, seed: int) -> None:
    code, mistake, fragment = FAST_WRONG[name]
    result = verdict(check.ex1, answer(code, "fast_train_ds"), seed)
    assert not result.passed
    assert (result.mistake, fragment in result.message) == (mistake, True), result.message
    assert not any(line in result.message for line in forbidden("ex1_answer"))


def test_the_released_stub_is_not_written() -> None:
    for exercise, names in ((check.ex1, ("fast_train_ds",)), (check.ex2, ("make_train_ds", "make_val_ds"))):
        stubs = define(RELEASED["ex1_answer"] + "\n" + RELEASED["ex2_answer"])
        result = verdict(exercise, [stubs[name] for name in names], 0)
        assert (result.passed, result.mistake) == (False, "not written"), result
        assert "not written yet" in result.message


def test_a_name_that_is_not_defined_or_not_a_function() -> None:
    assert verdict(check.ex1, [MISSING], 0).mistake == "not defined"
    result = verdict(check.ex1, [None], 0)
    assert result.mistake == "not a function" and "NoneType" in result.message


def test_the_notebook_check_prints_a_tick_or_raises(capsys: pytest.CaptureFixture[str]) -> None:
    check.ex1(*reference("fast_train_ds"))
    assert capsys.readouterr().out.startswith("✅ fast_train_ds()")
    with pytest.raises(CheckFailed, match="one image at a time") as failure:
        check.ex1(*answer(FAST_WRONG["the slow pipeline, unchanged"][0], "fast_train_ds"))
    assert failure.value.mistake == "map per image"
    assert exercises(LESSON) == {"ex1_check": check.ex1, "ex2_check": check.ex2}


# ---- exercise 2: make_train_ds and make_val_ds ---------------------------------------------

TRAIN_RIGHT = {
    "no cache at all": """
        def make_train_ds(images, labels, augmenter, batch_size=32):
            ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images))
            ds = ds.batch(batch_size).map(lambda x, y: (augmenter(x), y), num_parallel_calls=AUTOTUNE)
            return ds.prefetch(AUTOTUNE)
        """,
    "cached, then explicitly reshuffled, tf.keras's augmenter call with a named function": """
        def make_train_ds(images, labels, augmenter, batch_size=32):
            def augment(x, y):
                return augmenter(x, training=True), y

            ds = tf.data.Dataset.from_tensor_slices((images, labels)).cache()
            ds = ds.shuffle(buffer_size=len(images), reshuffle_each_iteration=True)
            ds = ds.batch(batch_size, drop_remainder=False)
            return ds.map(augment, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
        """,
    "a deterministic cast cached before the random map": """
        def make_train_ds(images, labels, augmenter, batch_size=32):
            ds = tf.data.Dataset.from_tensor_slices((images, labels))
            ds = ds.map(lambda x, y: (tf.cast(x, "float32"), y), num_parallel_calls=AUTOTUNE).cache()
            ds = ds.shuffle(4096).batch(batch_size)
            ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=AUTOTUNE)
            return ds.prefetch(2)
        """,
    "a plain (sequential) cast of each image, cached before batching": """
        def make_train_ds(images, labels, augmenter, batch_size=32):
            ds = tf.data.Dataset.from_tensor_slices((images, labels))
            ds = ds.map(lambda x, y: (tf.cast(x, tf.float32), y)).cache().shuffle(len(images))
            ds = ds.batch(batch_size).map(lambda x, y: (augmenter(x), y), num_parallel_calls=AUTOTUNE)
            return ds.prefetch(AUTOTUNE)
        """,
}
VAL_RIGHT = {
    "batched and prefetched, no cache": """
        def make_val_ds(images, labels, batch_size=32):
            return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size).prefetch(AUTOTUNE)
        """,
    "shuffled: the order changes no validation metric": """
        def make_val_ds(images, labels, batch_size=32):
            ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images))
            return ds.batch(batch_size)
        """,
    "zipped, cached": """
        def make_val_ds(images, labels, batch_size=32):
            x = tf.data.Dataset.from_tensor_slices(images)
            y = tf.data.Dataset.from_tensor_slices(labels)
            return tf.data.Dataset.zip((x, y)).cache().batch(batch_size)
        """,
}
VAL_OK = VAL_RIGHT["batched and prefetched, no cache"]
TRAIN_OK = TRAIN_RIGHT["no cache at all"]
TRAIN_STEPS = FAST_STEPS.replace("fast_train_ds", "make_train_ds")


def train_steps(*lines: str) -> str:
    return TRAIN_STEPS.format(steps="\n".join(lines))


TRAIN_WRONG = {
    "a map per image, although section 2 is the fast way": (
        train_steps(CACHE, SHUFFLE, PMAP, BATCH, PREFETCH),
        "map per image",
        "one image at a time",
    ),
    "the cache after the map": (
        train_steps(SHUFFLE, BATCH, PMAP, CACHE, PREFETCH),
        "cache after map",
        ".cache()",
    ),
    "the cache after the map, then a shuffle": (
        train_steps(BATCH, PMAP, CACHE, SHUFFLE, PREFETCH),
        "cache after map",
        ".cache() after the random map",
    ),
    "shuffle, map per image, cache": (
        train_steps(SHUFFLE, PMAP, CACHE, BATCH, PREFETCH),
        "cache after map",
        ".cache() after the random map",
    ),
    "shuffle, then cache": (
        train_steps(SHUFFLE, CACHE, BATCH, PMAP, PREFETCH),
        "cache after shuffle",
        ".cache() after the shuffle",
    ),
    "reshuffle_each_iteration=False": (
        train_steps(CACHE, NO_RESHUFFLE, BATCH, PMAP, PREFETCH),
        "reshuffle_each_iteration=False",
        "reshuffle_each_iteration=False",
    ),
    "a layer created inside map": (
        train_steps(
            SHUFFLE, BATCH, PMAP.replace("augmenter(", "keras.layers.RandomFlip('horizontal')("), PREFETCH
        ),
        "layer created inside map",
        "Create the layer outside `map`",
    ),
    "no augmentation": (train_steps(CACHE, SHUFFLE, BATCH, PREFETCH), "not augmented", "never calls"),
    "no shuffle": (train_steps(CACHE, BATCH, PMAP, PREFETCH), "not shuffled", "shuffle the training set"),
    "repeat": (train_steps(SHUFFLE, BATCH, PMAP, PREFETCH, REPEAT), "repeat", ".repeat()"),
    "not written": (
        "def make_train_ds(*args):\n    raise NotImplementedError()",
        "not written",
        "not written",
    ),
}
VAL_STEPS = """
    def make_val_ds(images, labels, batch_size=32):
        ds = tf.data.Dataset.from_tensor_slices((images, labels))
{steps}
        return ds
"""


def val_steps(*lines: str) -> str:
    return VAL_STEPS.format(steps="\n".join(lines))


VAL_WRONG = {
    "built like the training set, with the notebook's augmenter": (
        val_steps(CACHE, SHUFFLE, BATCH, PMAP, PREFETCH),
        "validation augmented",
        "must not be augmented",
    ),
    "augmented in the default (training) mode of a direct call": (
        val_steps(BATCH, "        ds = ds.map(lambda x, y: (augmenter(x), y))"),
        "validation augmented",
        "must not be augmented",
    ),
    "rescaled again": (
        val_steps(BATCH, "        ds = ds.map(lambda x, y: (x / 255.0, y))"),
        "validation rescaled",
        "rescales the validation images",
    ),
    "drops the last batch": (
        val_steps("        ds = ds.batch(batch_size, drop_remainder=True)"),
        "drop remainder",
        "drop_remainder=True",
    ),
    "not batched": (val_steps(PREFETCH), "not batched", "batch it"),
    "repeated": (val_steps(BATCH, REPEAT), "repeat", ".repeat()"),
    "images and labels shuffled apart": (
        """
        def make_val_ds(images, labels, batch_size=32):
            x = tf.data.Dataset.from_tensor_slices(images).shuffle(len(images))
            y = tf.data.Dataset.from_tensor_slices(labels).shuffle(len(labels))
            return tf.data.Dataset.zip((x, y)).batch(batch_size)
        """,
        "validation mislabelled",
        "label of another image",
    ),
    "not written": ("def make_val_ds(*args):\n    raise NotImplementedError()", "not written", "not written"),
}


def test_the_reference_train_and_val_pass_on_any_seed() -> None:
    for seed in MANY_SEEDS:
        result = verdict(check.ex2, reference("make_train_ds", "make_val_ds"), seed)
        assert result.passed, (seed, result)
    assert "Cache → Shuffle → Batch → ParallelMap → Prefetch" in result.message


@pytest.mark.parametrize("train", TRAIN_RIGHT)
@pytest.mark.parametrize("val", VAL_RIGHT)
def test_right_train_and_val_in_other_styles_pass(train: str, val: str) -> None:
    values = answer(TRAIN_RIGHT[train] + VAL_RIGHT[val], "make_train_ds", "make_val_ds")
    for seed in SEEDS:
        result = verdict(check.ex2, values, seed)
        assert result.passed, result


@pytest.mark.parametrize("name", TRAIN_WRONG)
@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_training_sets_fail_and_name_the_mistake(name: str, seed: int) -> None:
    code, mistake, fragment = TRAIN_WRONG[name]
    values = answer(textwrap.dedent(code) + textwrap.dedent(VAL_OK), "make_train_ds", "make_val_ds")
    result = verdict(check.ex2, values, seed)
    assert not result.passed
    assert (result.mistake, fragment in result.message) == (mistake, True), result.message
    assert result.message.startswith("make_train_ds()") or mistake == "not written"
    assert not any(line in result.message for line in forbidden("ex2_answer"))


@pytest.mark.parametrize("name", VAL_WRONG)
@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_validation_sets_fail_and_name_the_mistake(name: str, seed: int) -> None:
    code, mistake, fragment = VAL_WRONG[name]
    values = answer(textwrap.dedent(TRAIN_OK) + textwrap.dedent(code), "make_train_ds", "make_val_ds")
    result = verdict(check.ex2, values, seed)
    assert not result.passed
    assert (result.mistake, fragment in result.message) == (mistake, True), result.message
    assert "make_val_ds()" in result.message
    assert not any(line in result.message for line in forbidden("ex2_answer"))


# ---- forged data: a claimed answer scores only if a right answer produces it -----------------


@pytest.fixture(scope="module")
def right_data() -> dict[str, Any]:
    """What the reference answers' probes write, on the practice seed, as the grader reads it."""
    return wire.loads(wire.dumps(check.ex2.gather(reference("make_train_ds", "make_val_ds"), 0)))


def edited(data: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copy = wire.loads(wire.dumps(data))
    edit(copy)
    return copy


def first_batch(data: dict[str, Any], part: str = "train") -> dict[str, Any]:
    return data[part]["epochs"][0]["batches"][0]


def set_images(value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        first_batch(data)["x"] = np.full_like(first_batch(data)["x"], value)

    return edit


FORGED: dict[str, Callable[[dict[str, Any]], None]] = {
    "no train part": lambda d: d.pop("train"),
    "train is a string": lambda d: d.update(train="a dataset"),
    "steps missing": lambda d: d["train"].pop("steps"),
    "steps not dicts": lambda d: d["train"].update(steps=["Shuffle", "Batch"]),
    "calls not a list": lambda d: d["train"].update(calls="many"),
    "one epoch only": lambda d: d["train"]["epochs"].pop(),
    "epochs not a list": lambda d: d["val"].update(epochs={"0": []}),
    "batches missing": lambda d: d["train"]["epochs"][0].pop("batches"),
    "images not an array": lambda d: first_batch(d).update(x=[[0.5]]),
    "labels as floats": lambda d: first_batch(d).update(y=first_batch(d)["y"].astype("float32")),
    "labels out of range": lambda d: first_batch(d).update(y=first_batch(d)["y"] + 10**9),
    "images NaN": set_images(np.nan),
    "images huge": set_images(3.4e38),
    "images of another shape": lambda d: first_batch(d).update(x=np.zeros((4, 2, 2, 1), "float32")),
    "validation images changed": lambda d: first_batch(d, "val").update(
        x=first_batch(d, "val")["x"][:, ::-1]
    ),
    "a batch dropped": lambda d: d["train"]["epochs"][1]["batches"].pop(),
    "every epoch the same": lambda d: d["train"]["epochs"].__setitem__(1, d["train"]["epochs"][0]),
    "cardinality a string": lambda d: d["val"].update(cardinality="inf"),
    "a sequential map claimed": lambda d: d["train"]["steps"][-2].update(op="Map"),
    "prefetch left out": lambda d: d["train"]["steps"].pop(),
    "no steps at all": lambda d: d["train"].update(steps=[]),
    "structure an array": lambda d: d["train"]["epochs"][0].update(structure=np.zeros(3)),
    "a call's shape of arrays": lambda d: d["train"]["calls"][0].update(shape=[np.zeros(3)] * 4),
}


def test_the_right_data_passes_and_survives_a_round_trip(right_data: dict[str, Any]) -> None:
    assert check.ex2.decide(right_data, 0).passed
    assert check.ex2.decide(edited(right_data, lambda d: None), 0).passed


@pytest.mark.parametrize("name", FORGED)
def test_forged_data_fails_with_a_message(right_data: dict[str, Any], name: str) -> None:
    result = check.ex2.decide(edited(right_data, FORGED[name]), 0)
    assert not result.passed and result.message and result.mistake, result
    assert "Traceback" not in result.message and len(result.message) < 600
    assert result.mistake != "malformed", "the judge's own checks, not a crash, reject it"


@pytest.mark.parametrize("data", [None, {}, [], "✅", 3, {"train": None}, {"probe_error": "boom"}])
def test_data_that_no_probe_writes_fails(data: Any) -> None:
    for exercise in (check.ex1, check.ex2):
        result = exercise.decide(data, 0)
        assert not result.passed and result.message


def test_right_data_for_another_seed_fails(right_data: dict[str, Any]) -> None:
    for seed in (1, 7, 2026):
        assert not check.ex2.decide(right_data, seed).passed


def test_the_judge_imports_without_tensorflow() -> None:
    code = (
        "import sys; import augcourse.checks.pipeline as p; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported'; "
        "print(p.ex1.decide({'train': {'raised': 'NotImplementedError'}}, 0).mistake)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "not written"


def test_inputs_are_a_pure_function_of_the_seed() -> None:
    first, again = check.inputs(5), check.inputs(5)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    for seed in MANY_SEEDS:
        x, y, batch = check.inputs(seed)
        assert len(x) % batch and len(x) >= 4 * batch and np.array_equal(y, np.arange(len(x)))


def test_the_steps_of_a_pipeline_are_read_from_its_graph() -> None:
    x, y, _ = check.inputs(0)
    ds = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .cache()
        .shuffle(len(x), reshuffle_each_iteration=False)
        .batch(4, drop_remainder=True)
        .map(lambda a, b: (a, b), num_parallel_calls=AUTOTUNE)
        .prefetch(3)
    )
    steps = check.dataset_steps(ds)
    assert [s["op"] for s in steps] == check.dataset_ops(ds)
    assert check.dataset_ops(ds) == ["TensorSlice", "Cache", "Shuffle", "Batch", "ParallelMap", "Prefetch"]
    shuffle, batch = steps[2], steps[3]
    assert shuffle["reshuffle"] is False and shuffle["args"][0] == len(x)
    assert batch["args"][:2] == [4, True] and (steps[2]["rank"], steps[3]["rank"]) == (3, 4)


# ---- the lesson's claims about Keras and tf.data, executed ----


def source(x: np.ndarray, y: np.ndarray) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((x, y))


def augment(augmenter: Any) -> Callable:
    return lambda x, y: (augmenter(x, training=True), y)


def test_digit_batch_enlarges_by_whole_pixels_and_repeats() -> None:
    small, small_labels = images.digits()
    big, labels = images.digit_batch(1800, size=32, channels=3)
    assert big.shape == (1800, 32, 32, 3) and big.dtype == np.float32
    assert np.array_equal(big[5, ::4, ::4, 0], small[5, ..., 0])
    assert np.array_equal(big[1797], big[0]) and labels[1797] == labels[0] == small_labels[0]


def test_a_sequential_fixes_the_rank_of_its_first_input() -> None:
    grey = images.digit_batch(8, size=32, channels=1)[0]
    layer = make_augmenter()
    layer(grey)
    assert layer(grey[0]).shape == (32, 32, 1, 1)
    colour = keras.Sequential([L.RandomRotation(0.05)])
    colour(np.zeros((8, 32, 32, 3), "float32"))
    with pytest.raises(ValueError):
        colour(np.zeros((32, 32, 3), "float32"))


def test_a_layer_created_inside_map_fails_outside_works() -> None:
    x = images.digit_batch(4, size=16, channels=1)[0]
    with pytest.raises(ValueError, match=r"singleton tf\.Variables"):
        tf.data.Dataset.from_tensor_slices(x).map(lambda image: L.RandomRotation(0.05)(image, training=True))
    outside = L.RandomRotation(0.05, seed=1)
    mapped = tf.data.Dataset.from_tensor_slices(x).map(lambda i: outside(i, training=True))
    assert not np.allclose(np.stack(list(mapped)), x)


def test_batching_1500_images_by_64_makes_24_calls() -> None:
    x, y = images.digit_batch(1500, size=8, channels=1)
    assert int(source(x, y).batch(64).cardinality()) == 24


def two_epochs(ds: tf.data.Dataset) -> list[np.ndarray]:
    return [np.concatenate([x for x, _ in ds]) for _ in range(2)]


def test_cache_after_a_random_map_freezes_the_augmentation() -> None:
    x, y = images.digit_batch(128, size=32, channels=1)
    after, before = make_augmenter(), make_augmenter()
    frozen = source(x, y).batch(32).map(augment(after)).cache()
    fresh = source(x, y).cache().batch(32).map(augment(before))
    epoch0, epoch1 = two_epochs(frozen)
    assert np.allclose(epoch0, epoch1) and not np.allclose(epoch0, x)
    epoch0, epoch1 = two_epochs(fresh)
    assert not np.allclose(epoch0, epoch1)


def test_cache_after_shuffle_and_reshuffle_false_keep_one_order() -> None:
    x = images.digit_batch(128, size=8, channels=1)[0]

    def orders(ds: tf.data.Dataset) -> list[np.ndarray]:
        return [np.concatenate([labels for _, labels in ds]) for _ in range(2)]

    for frozen in (
        source(x, np.arange(128)).shuffle(128).cache().batch(32),
        source(x, np.arange(128)).shuffle(128, reshuffle_each_iteration=False).batch(32),
    ):
        first, second = orders(frozen)
        assert np.array_equal(first, second) and not np.array_equal(first, np.arange(128))
    first, second = orders(source(x, np.arange(128)).cache().shuffle(128).batch(32))
    assert not np.array_equal(first, second)


def test_the_recommended_pipeline_steps_and_validation_untouched() -> None:
    x, y = images.digit_batch(96, size=32, channels=1)
    make_train_ds, make_val_ds = reference("make_train_ds", "make_val_ds")
    train = make_train_ds(x, y, make_augmenter(), 32)
    assert check.dataset_ops(train) == ["TensorSlice", "Cache", "Shuffle", "Batch", "ParallelMap", "Prefetch"]
    assert not np.allclose(np.concatenate([b for b, _ in train]), x)
    val = np.concatenate([b for b, _ in make_val_ds(x, y, 32)])
    assert np.array_equal(val, x)


def test_the_order_of_the_validation_set_changes_no_metric() -> None:
    x, y = images.digit_batch(256, size=8, channels=1)
    model = keras.Sequential([keras.Input((8, 8, 1)), L.Flatten(), L.Dense(10)])
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=2, verbose=0)
    ordered = model.evaluate(source(x, y).batch(32), verbose=0)
    shuffled = model.evaluate(source(x, y).shuffle(256).batch(32), verbose=0)
    assert np.allclose(ordered, shuffled, rtol=1e-5)


def cpu_seconds_per_pass(dataset: tf.data.Dataset) -> float:
    """CPU time (all of this process's threads) of one full pass, after a warm-up pass."""
    for _ in dataset:
        pass
    start = time.process_time()
    for _ in dataset:
        pass
    return time.process_time() - start


def test_batch_then_map_is_faster_than_any_map_per_image() -> None:
    """The work each pipeline does, as CPU time: wall-clock rates swing with other processes' load
    (the notebook shows them), the CPU a pass costs much less. Batching first costs the least."""
    x, y = images.digit_batch(1024, size=32, channels=1)
    fast_train_ds = reference("fast_train_ds")[0]
    pipelines = {
        "per image": source(x, y).map(augment(make_augmenter())).batch(64),
        "parallel per image": source(x, y)
        .map(augment(make_augmenter()), num_parallel_calls=AUTOTUNE)
        .batch(64),
        "batch, then map": fast_train_ds(x, y, make_augmenter(), 64),
    }
    least = dict.fromkeys(pipelines, float("inf"))
    for _ in range(3):  # interleaved, best of three
        for name, ds in pipelines.items():
            least[name] = min(least[name], cpu_seconds_per_pass(ds))
    batched = least.pop("batch, then map")
    assert all(batched < 0.8 * other for other in least.values()), (batched, least)
    assert check.images_per_second(pipelines["batch, then map"], len(x)) > 0


def test_export_keeps_augmentation_that_is_in_the_model() -> None:
    x = images.digit_batch(64, size=32, channels=1)[0]

    def classifier(*first: Any) -> keras.Sequential:
        return keras.Sequential([keras.Input((32, 32, 1)), *first, L.Flatten(), L.Dense(10)])

    for model, augments in ((classifier(), False), (classifier(make_augmenter(1)), True)):
        with tempfile.TemporaryDirectory() as folder:
            model.export(folder, verbose=False)
            exported = tf.saved_model.load(folder)  # kept: its variables live as long as it does
            served = exported.serve(tf.constant(x)).numpy()
        assert np.allclose(served, model.predict(x, verbose=0), atol=1e-4) is not augments
