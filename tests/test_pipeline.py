"""Lesson 02, augmentation in a tf.data pipeline: its checks against right and wrong answers, and
every claim the lesson makes about Keras and tf.data, executed in the pinned runtime."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from augcourse import images
from augcourse.checks import pipeline as check
from augcourse.checks.feedback import CheckFailed

L = keras.layers
AUTOTUNE = tf.data.AUTOTUNE


def source(images: np.ndarray, labels: np.ndarray) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices((images, labels))


def augment(augmenter: Any) -> Callable:
    return lambda x, y: (augmenter(x, training=True), y)


# ---- reference answers (the same as the solution notebook's) ----


def slow_train_ds(images: np.ndarray, labels: np.ndarray, augmenter: Any, batch_size: int = 32):
    ds = source(images, labels).shuffle(len(images))
    return ds.map(augment(augmenter)).batch(batch_size)


def fast_train_ds(images: np.ndarray, labels: np.ndarray, augmenter: Any, batch_size: int = 32):
    ds = source(images, labels).shuffle(len(images)).batch(batch_size)
    ds = ds.map(augment(augmenter), num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)


def make_train_ds(images: np.ndarray, labels: np.ndarray, augmenter: Any, batch_size: int = 32):
    ds = source(images, labels).cache().shuffle(len(images)).batch(batch_size)
    ds = ds.map(augment(augmenter), num_parallel_calls=AUTOTUNE)
    return ds.prefetch(AUTOTUNE)


def make_val_ds(images: np.ndarray, labels: np.ndarray, batch_size: int = 32):
    return source(images, labels).batch(batch_size).cache().prefetch(AUTOTUNE)


# ---- known-wrong answers ----


def not_written(*args: Any, **kwargs: Any) -> None:
    raise NotImplementedError()


SOMEONE_ELSES_AUGMENTER = L.RandomFlip("vertical", seed=4)  # a notebook-level global


def train_variant(*, steps: str) -> Callable[..., tf.data.Dataset]:
    """A training pipeline from a string of steps: s(huffle) b(atch) m(ap) p(arallel map)
    c(ache) f(etch, i.e. prefetch) r(epeat) g(lobal augmenter) x (misaligned labels)."""

    def make(images: np.ndarray, labels: np.ndarray, augmenter: Any, batch_size: int = 32):
        if "x" in steps:
            labels = np.random.default_rng(0).permutation(labels)
        layer = SOMEONE_ELSES_AUGMENTER if "g" in steps else augmenter
        ds = source(images, labels)
        for step in steps:
            if step == "s":
                ds = ds.shuffle(len(images))
            elif step == "b":
                ds = ds.batch(batch_size)
            elif step in "mg":
                ds = ds.map(augment(layer))
            elif step == "p":
                ds = ds.map(augment(layer), num_parallel_calls=AUTOTUNE)
            elif step == "c":
                ds = ds.cache()
            elif step == "f":
                ds = ds.prefetch(AUTOTUNE)
            elif step == "r":
                ds = ds.repeat()
        return ds

    return make


WRONG_FAST = {
    "the slow pipeline itself": slow_train_ds,
    "map per image, in parallel, prefetch": train_variant(steps="spbf"),
    "batch first but sequential map": train_variant(steps="sbmf"),
    "no prefetch": train_variant(steps="sbp"),
    "prefetch before the map": train_variant(steps="sbfp"),
    "no shuffle": train_variant(steps="bpf"),
    "cache after the map": train_variant(steps="sbpcf"),
    "no augmentation": train_variant(steps="sbf"),
    "a global augmenter": train_variant(steps="sbgf"),
    "repeat": train_variant(steps="sbpfr"),
    "labels shuffled apart from images": train_variant(steps="xsbpf"),
    "unbatched": train_variant(steps="spf"),
    "wrong batch size": lambda i, y, a, batch_size=32: fast_train_ds(i, y, a, batch_size * 2),
    "returns an array": lambda i, y, a, batch_size=32: np.asarray(i),
    "maps the augmenter over (images, labels)": lambda i, y, a, batch_size=32: (
        source(i, y).shuffle(len(i)).batch(batch_size).map(a)
    ),
    "not written": not_written,
}


def val_from_train(images: np.ndarray, labels: np.ndarray, batch_size: int = 32):
    return make_train_ds(images, labels, SOMEONE_ELSES_AUGMENTER, batch_size)


def val_with(transform: Callable) -> Callable[..., tf.data.Dataset]:
    return lambda i, y, batch_size=32: source(i, y).batch(batch_size).map(transform)


WRONG_VAL = {
    "validation built like training": val_from_train,
    "validation augmented by a global layer": val_with(
        lambda x, y: (SOMEONE_ELSES_AUGMENTER(x, training=True), y)
    ),
    "validation rescaled again": val_with(lambda x, y: (x / 255.0, y)),
    "validation drops the last batch": lambda i, y, batch_size=32: source(i, y).batch(
        batch_size * 3, drop_remainder=True
    ),
    "validation drops the remainder": lambda i, y, batch_size=32: source(i, y).batch(
        batch_size, drop_remainder=True
    ),
    "validation not batched": lambda i, y, batch_size=32: source(i, y),
    "not written": not_written,
}

WRONG_TRAIN = {
    "cache after the map": train_variant(steps="sbpcf"),
    "cache after the map, then shuffle": train_variant(steps="bpcsf"),
    "shuffle, map, cache": train_variant(steps="smcb"),
    "no augmentation": train_variant(steps="csbf"),
    "no shuffle": train_variant(steps="cbpf"),
    "shuffles batches, not images": train_variant(steps="cbspf"),
    "repeat": train_variant(steps="sbpfr"),
    "labels shuffled apart from images": train_variant(steps="xsbpf"),
    "drops the remainder": lambda i, y, a, batch_size=32: (
        source(i, y).shuffle(len(i)).batch(batch_size, drop_remainder=True).map(augment(a))
    ),
    "not written": not_written,
}


# ---- the checks ----


def test_reference_fast_pipeline_passes(capsys: pytest.CaptureFixture[str]) -> None:
    check.fast_pipeline(fast_train_ds, slow_train_ds)
    assert "images/s" in capsys.readouterr().out
    check.fast_pipeline(fast_train_ds, count=30, batch_size=4, seed=2)
    check.fast_pipeline(fast_train_ds, not_written)  # a broken slow pipeline only skips timing
    assert "images/s" not in capsys.readouterr().out


@pytest.mark.parametrize("name", WRONG_FAST)
def test_wrong_fast_pipeline_fails(name: str) -> None:
    with pytest.raises(CheckFailed):
        check.fast_pipeline(WRONG_FAST[name])


def test_fast_pipeline_messages_name_the_mistake() -> None:
    with pytest.raises(CheckFailed, match="one image at a time"):
        check.fast_pipeline(slow_train_ds)
    with pytest.raises(CheckFailed, match="shuffle the images before batching"):
        check.fast_pipeline(train_variant(steps="bspf"))
    with pytest.raises(CheckFailed, match="sequentially"):
        check.fast_pipeline(WRONG_FAST["batch first but sequential map"])
    with pytest.raises(CheckFailed, match="prefetch"):
        check.fast_pipeline(WRONG_FAST["prefetch before the map"])


def test_reference_train_and_val_pass() -> None:
    check.train_and_val(make_train_ds, make_val_ds)
    check.train_and_val(make_train_ds, make_val_ds, count=30, batch_size=4, seed=3)
    ops = check.dataset_ops(make_train_ds(*check.sample_data(), check.probe_augmenter(), 8))
    assert not check.cached_after_map(ops)


@pytest.mark.parametrize("name", WRONG_VAL)
def test_wrong_val_fails(name: str) -> None:
    with pytest.raises(CheckFailed):
        check.train_and_val(make_train_ds, WRONG_VAL[name])


@pytest.mark.parametrize("name", WRONG_TRAIN)
def test_wrong_train_fails(name: str) -> None:
    with pytest.raises(CheckFailed):
        check.train_and_val(WRONG_TRAIN[name], make_val_ds)


def test_cache_after_map_is_named_in_the_message() -> None:
    for name in ("cache after the map", "cache after the map, then shuffle", "shuffle, map, cache"):
        with pytest.raises(CheckFailed, match="cache"):
            check.train_and_val(WRONG_TRAIN[name], make_val_ds)
    with pytest.raises(CheckFailed, match="must not be augmented"):
        check.train_and_val(make_train_ds, WRONG_VAL["validation built like training"])


def test_dataset_ops_reads_the_order_of_steps() -> None:
    images, labels = check.sample_data()
    ops = check.dataset_ops(make_train_ds(images, labels, check.probe_augmenter(), 8))
    assert ops == ["TensorSlice", "Cache", "Shuffle", "Batch", "ParallelMap", "Prefetch"]
    late = check.dataset_ops(train_variant(steps="sbpcf")(images, labels, L.Identity()))
    assert check.cached_after_map(late) and not check.cached_after_map(ops)


# ---- the lesson's claims about Keras and tf.data, executed ----


def digit_augmenter(seed: int | None = None) -> keras.Sequential:
    return keras.Sequential(
        [
            L.RandomRotation(0.05, fill_mode="constant", seed=seed),
            L.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
        ]
    )


def test_digit_batch_enlarges_by_whole_pixels_and_repeats() -> None:
    small, small_labels = images.digits()
    big, labels = images.digit_batch(1800, size=32, channels=3)
    assert big.shape == (1800, 32, 32, 3) and big.dtype == np.float32
    assert np.array_equal(big[5, ::4, ::4, 0], small[5, ..., 0])
    assert np.array_equal(big[1797], big[0]) and labels[1797] == labels[0] == small_labels[0]


def test_a_sequential_fixes_the_rank_of_its_first_input() -> None:
    grey = images.digit_batch(8, size=32, channels=1)[0]
    layer = digit_augmenter()
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


def two_epochs(ds: tf.data.Dataset) -> list[np.ndarray]:
    return [np.concatenate([x for x, _ in ds]) for _ in range(2)]


def test_cache_after_a_random_map_freezes_the_augmentation() -> None:
    x, y = images.digit_batch(128, size=32, channels=1)
    after, before = digit_augmenter(), digit_augmenter()
    frozen = source(x, y).batch(32).map(augment(after)).cache()
    fresh = source(x, y).cache().batch(32).map(augment(before))
    epoch0, epoch1 = two_epochs(frozen)
    assert np.allclose(epoch0, epoch1) and not np.allclose(epoch0, x)
    epoch0, epoch1 = two_epochs(fresh)
    assert not np.allclose(epoch0, epoch1)


def test_the_recommended_pipeline_steps_and_validation_untouched() -> None:
    x, y = images.digit_batch(96, size=32, channels=1)
    train = make_train_ds(x, y, digit_augmenter(), 32)
    assert check.dataset_ops(train) == ["TensorSlice", "Cache", "Shuffle", "Batch", "ParallelMap", "Prefetch"]
    assert not np.allclose(np.concatenate([b for b, _ in train]), x)
    val = np.concatenate([b for b, _ in make_val_ds(x, y, 32)])
    assert np.array_equal(val, x)


def test_batch_then_map_is_faster_than_any_map_per_image() -> None:
    x, y = images.digit_batch(512, size=32, channels=1)
    pipelines = {
        "per image": source(x, y).map(augment(digit_augmenter())).batch(64),
        "parallel per image": source(x, y)
        .map(augment(digit_augmenter()), num_parallel_calls=AUTOTUNE)
        .batch(64),
        "batch, then map": fast_train_ds(x, y, digit_augmenter(), 64),
    }
    best = dict.fromkeys(pipelines, 0.0)
    for _ in range(3):  # interleaved, best of three: robust to a burst of load elsewhere
        for name, ds in pipelines.items():
            best[name] = max(best[name], check.images_per_second(ds, len(x)))
    assert max(best, key=best.get) == "batch, then map", best


def test_export_keeps_augmentation_that_is_in_the_model() -> None:
    x = images.digit_batch(64, size=32, channels=1)[0]

    def classifier(*first: Any) -> keras.Sequential:
        return keras.Sequential([keras.Input((32, 32, 1)), *first, L.Flatten(), L.Dense(10)])

    for model, augments in ((classifier(), False), (classifier(digit_augmenter(1)), True)):
        with tempfile.TemporaryDirectory() as folder:
            model.export(folder, verbose=False)
            exported = tf.saved_model.load(folder)  # kept: its variables live as long as it does
            served = exported.serve(tf.constant(x)).numpy()
        assert np.allclose(served, model.predict(x, verbose=0), atol=1e-4) is not augments
