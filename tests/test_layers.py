"""Lesson 01, augmentation layers: its checks against right and wrong answers, and every claim the
lesson makes about Keras, executed in the pinned runtime."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest
import tensorflow as tf

from augcourse import images
from augcourse.checks import layers as check
from augcourse.checks.feedback import CheckFailed

L = keras.layers


# ---- reference answers (the same as the solution notebook's) and known-wrong ones ----


def build_augmenter(seed: int | None = None) -> keras.Sequential:
    return keras.Sequential(
        [
            L.RandomFlip("horizontal", seed=seed),
            L.RandomRotation(0.2, seed=seed),
            L.RandomZoom(0.1, seed=seed),
        ]
    )


def is_augmenting(run: Callable, images: np.ndarray, calls: int = 5) -> bool:
    images = np.asarray(images)
    return any(not np.allclose(np.asarray(run(images)), images) for _ in range(calls))


def build_digit_augmenter(seed: int | None = None) -> keras.Sequential:
    return keras.Sequential(
        [
            L.RandomRotation(0.04, fill_mode="constant", seed=seed),
            L.RandomZoom(0.1, fill_mode="constant", seed=seed),
            L.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
        ]
    )


def pipeline(*makers: Callable[[int | None], Any]) -> Callable[..., keras.Sequential]:
    """A builder like the exercises ask for, from one maker per layer."""
    return lambda seed=None: keras.Sequential([make(seed) for make in makers])


def flip(mode: str) -> Callable[[int | None], Any]:
    return lambda seed: L.RandomFlip(mode, seed=seed)


def rotation(factor: Any, **kwargs: Any) -> Callable[[int | None], Any]:
    return lambda seed: L.RandomRotation(factor, seed=seed, **kwargs)


def zoom(*factors: Any, **kwargs: Any) -> Callable[[int | None], Any]:
    return lambda seed: L.RandomZoom(*factors, seed=seed, **kwargs)


def not_written(seed: int | None = None) -> None:
    raise NotImplementedError()


WRONG_AUGMENTERS = {
    "vertical flip": pipeline(flip("vertical"), rotation(0.2), zoom(0.1)),
    "both flips": pipeline(flip("horizontal_and_vertical"), rotation(0.2), zoom(0.1)),
    "diagonal flip (never flips)": pipeline(flip("diagonal"), rotation(0.2), zoom(0.1)),
    "no flip": pipeline(rotation(0.2), zoom(0.1)),
    "rotation 20 degrees as a fraction": pipeline(flip("horizontal"), rotation(20 / 360), zoom(0.1)),
    "rotation 20 (degrees)": pipeline(flip("horizontal"), rotation(20), zoom(0.1)),
    "rotation one way only": pipeline(flip("horizontal"), rotation((0, 0.2)), zoom(0.1)),
    "rotation 0.02": pipeline(flip("horizontal"), rotation(0.02), zoom(0.1)),
    "zoom out only": pipeline(flip("horizontal"), rotation(0.2), zoom((0.1, 0.2))),
    "zoom in only": pipeline(flip("horizontal"), rotation(0.2), zoom((-0.1, 0.0))),
    "zoom 10 (percent)": pipeline(flip("horizontal"), rotation(0.2), zoom(10)),
    "zoom width differs": pipeline(flip("horizontal"), rotation(0.2), zoom(0.1, 0.3)),
    "no zoom": pipeline(flip("horizontal"), rotation(0.2)),
    "extra contrast": pipeline(
        flip("horizontal"), rotation(0.2), zoom(0.1), lambda s: L.RandomContrast(0.2, seed=s)
    ),
    "rescaling inside": pipeline(
        flip("horizontal"), rotation(0.2), zoom(0.1), lambda s: L.Rescaling(1 / 255)
    ),
    "returns None": lambda seed=None: None,
    "not written": not_written,
}


def once(run: Callable, images: np.ndarray, calls: int = 5) -> bool:
    return not np.allclose(np.asarray(run(images)), images)


def exact(run: Callable, images: np.ndarray, calls: int = 5) -> bool:
    return any(not np.array_equal(np.asarray(run(images)), images) for _ in range(calls))


def by_shape(run: Callable, images: np.ndarray, calls: int = 5) -> bool:
    return np.asarray(run(images)).shape != np.shape(images)


def call_to_call(run: Callable, images: np.ndarray, calls: int = 5) -> bool:
    outs = [np.asarray(run(images)) for _ in range(calls)]
    return any(not np.allclose(a, b) for a, b in itertools.pairwise(outs))


WRONG_DETECTORS = {
    "calls once": once,
    "exact equality": exact,
    "compares shapes": by_shape,
    "compares calls with each other": call_to_call,
    "always True": lambda run, images, calls=5: True,
    "always False": lambda run, images, calls=5: False,
    "returns text": lambda run, images, calls=5: "yes" if is_augmenting(run, images) else "no",
    "not written": lambda run, images, calls=5: not_written(),
}


def constant(layer: type, *args: Any) -> Callable[[int | None], Any]:
    return lambda seed: layer(*args, fill_mode="constant", seed=seed)


WRONG_DIGIT_AUGMENTERS = {
    "horizontal flip": pipeline(flip("horizontal"), constant(L.RandomRotation, 0.04)),
    "vertical flip": pipeline(flip("vertical"), constant(L.RandomRotation, 0.04)),
    "half-turn rotation": pipeline(constant(L.RandomRotation, 0.5)),
    "36 degree rotation": pipeline(constant(L.RandomRotation, 0.1)),
    "reflect fill (the default)": pipeline(rotation(0.04)),
    "bright constant fill": pipeline(
        lambda s: L.RandomTranslation(0.2, 0.2, fill_mode="constant", fill_value=1.0, seed=s)
    ),
    "brightness in (0, 255)": pipeline(
        constant(L.RandomRotation, 0.04), lambda s: L.RandomBrightness(0.2, seed=s)
    ),
    "contrast in (0, 255)": pipeline(
        constant(L.RandomRotation, 0.04), lambda s: L.RandomContrast(0.3, seed=s)
    ),
    "changes nothing": lambda seed=None: keras.Sequential([L.Identity()]),
    "not written": not_written,
}


# ---- the checks ----


def test_reference_augmenter_passes() -> None:
    check.seed_pipeline(build_augmenter)


@pytest.mark.parametrize("name", WRONG_AUGMENTERS)
def test_wrong_augmenter_fails(name: str) -> None:
    with pytest.raises(CheckFailed):
        check.seed_pipeline(WRONG_AUGMENTERS[name])


def test_a_pipeline_that_cannot_be_called_fails_with_a_message() -> None:
    def broken(seed: int | None = None) -> keras.Sequential:
        return keras.Sequential([L.Reshape((5, 5, 3)), *build_augmenter(seed).layers])

    with pytest.raises(CheckFailed, match="raised"):
        check.seed_pipeline(broken)


def test_seed_pipeline_messages_name_the_mistake() -> None:
    with pytest.raises(CheckFailed, match="never flipped"):
        check.seed_pipeline(WRONG_AUGMENTERS["diagonal flip (never flips)"])
    with pytest.raises(CheckFailed, match="zoom OUT only"):
        check.seed_pipeline(WRONG_AUGMENTERS["zoom out only"])
    with pytest.raises(CheckFailed, match="degrees"):
        check.seed_pipeline(WRONG_AUGMENTERS["rotation 20 degrees as a fraction"])


def test_reference_augmenter_passes_the_hidden_tests() -> None:
    other = check.test_images(shape=(5, 12, 20, 3), seed=11)
    assert check.reproducible(build_augmenter, 5, other)
    assert not np.allclose(build_augmenter(seed=1)(other), build_augmenter(seed=2)(other))


def test_an_unseeded_augmenter_is_not_reproducible() -> None:
    unseeded = pipeline(lambda s: L.RandomFlip("horizontal"), lambda s: L.RandomRotation(0.2))
    assert not check.reproducible(unseeded, 5, check.test_images(seed=11))


def test_reference_detector_passes() -> None:
    check.detector(is_augmenting)


@pytest.mark.parametrize("name", WRONG_DETECTORS)
def test_wrong_detector_fails(name: str) -> None:
    with pytest.raises(CheckFailed):
        check.detector(WRONG_DETECTORS[name])


def test_detector_hidden_cases() -> None:
    other = check.test_images(shape=(3, 7, 5, 1), seed=5)
    assert is_augmenting(check.changes_on_call(4), other, calls=6)
    assert not is_augmenting(check.changes_on_call(4), other, calls=3)


def test_reference_digit_augmenter_passes() -> None:
    check.digit_augmenter(build_digit_augmenter)


@pytest.mark.parametrize("name", WRONG_DIGIT_AUGMENTERS)
def test_wrong_digit_augmenter_fails(name: str) -> None:
    with pytest.raises(CheckFailed):
        check.digit_augmenter(WRONG_DIGIT_AUGMENTERS[name])


def test_factor_range_normalises_numbers_and_pairs() -> None:
    assert check.factor_range(0.2) == (-0.2, 0.2)
    assert check.factor_range(-0.2) == (-0.2, 0.2)
    assert check.factor_range((0.3, 0.1)) == (0.1, 0.3)
    assert check.zoom_ranges(L.RandomZoom(0.1, (0.0, 0.2))) == ((-0.1, 0.1), (0.0, 0.2))


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


def test_factor_ranges_are_enforced() -> None:
    L.RandomRotation(1.0)
    L.RandomZoom(1.0)
    L.RandomTranslation(1.0, -1.0)
    for build in (
        lambda: L.RandomRotation(20),
        lambda: L.RandomRotation(45),
        lambda: L.RandomZoom(10),
        lambda: L.RandomZoom(-1.0),
    ):
        with pytest.raises(ValueError):
            build()


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
        L.RandomFlip("horizontal"),
        L.RandomRotation(0.2),
        L.RandomZoom(0.3),
        L.RandomTranslation(0.2, 0.2),
        L.RandomContrast((0.5, 0.5), value_range=(0, 1)),
        L.RandomBrightness(0.4, value_range=(0, 1)),
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
