"""Lesson 04_augmentation_experiment: its checks against right and wrong answers, and its claims.

The experiment is computed once per module, with the lesson's seeds, by the same functions of
``augcourse.data`` that the notebook calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import keras
import numpy as np
import pytest

from augcourse import data
from augcourse.checks import CheckFailed
from augcourse.checks import experiment as check


@dataclass
class Experiment:
    """Everything the lesson trains: the same calls as the notebook's."""

    split: data.Split
    results: dict[str, list[data.Run]]
    sweep: list[data.Run]
    flips: data.Run
    leak: data.Leakage

    def val(self, arm: str) -> np.ndarray:
        return np.array([run.final("val_accuracy") for run in self.results[arm]])


@pytest.fixture(scope="module")
def experiment() -> Experiment:
    split = data.digit_split()
    return Experiment(
        split=split,
        results=data.augmentation_experiment(split, seeds=data.SEEDS),
        sweep=data.strength_sweep(split, strengths=(2.0, 3.0), seed=0),
        flips=data.train_cnn(split, lambda: data.augmentation(1.0, flips=True), seed=0),
        leak=data.leakage_experiment(),
    )


class AlwaysEqual(float):
    """An answer that claims to equal anything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = float.__hash__


# --- Exercise 1 ------------------------------------------------------------------------------


def digit_augmentation() -> keras.Sequential:
    return keras.Sequential(
        [
            keras.layers.RandomRotation(0.04, fill_mode="constant"),
            keras.layers.RandomZoom(0.1, fill_mode="constant"),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
        ]
    )


@pytest.mark.parametrize("seed", [0, 7, 123])
def test_reference_augmentation_passes(seed: int) -> None:
    check.augmentation_pipeline(digit_augmentation, seed=seed)


def test_the_lessons_own_augmentation_passes() -> None:
    check.augmentation_pipeline(data.augmentation)


def _sequential(*layers: keras.Layer) -> Callable[[], keras.Sequential]:
    return lambda: keras.Sequential(list(layers))


WRONG_AUGMENTATIONS: dict[str, tuple[Callable[[], object], str]] = {
    "horizontal flip": (lambda: keras.layers.RandomFlip("horizontal"), "flips"),
    "flip inside the pipeline": (
        _sequential(keras.layers.RandomRotation(0.04), keras.layers.RandomFlip()),
        "flips",
    ),
    "rotation up to ±180°": (_sequential(keras.layers.RandomRotation(0.5)), "rotates"),
    "upside down only": (_sequential(keras.layers.RandomRotation((0.45, 0.55))), "rotates"),
    "zoom far out": (_sequential(keras.layers.RandomZoom(0.8)), "RandomZoom"),
    "shift out of frame": (_sequential(keras.layers.RandomTranslation(0.5, 0.5)), "Translation"),
    "too strong overall": (partial(data.augmentation, 2.0), "correlation"),
    "brightness on 0–255": (_sequential(keras.layers.RandomBrightness(0.2)), "value_range"),
    "contrast on 0–255": (_sequential(keras.layers.RandomContrast(0.2)), "value_range"),
    "unclipped noise": (_sequential(keras.layers.GaussianNoise(0.05)), "noise"),
    "no random layer": (_sequential(keras.layers.Identity()), "unchanged"),
    "empty Sequential": (_sequential(), "raised ValueError"),
    "changes in inference": (_sequential(keras.layers.Rescaling(0.5)), "inference"),
    "not a layer": (lambda: lambda images: images, "Keras layer"),
    "nothing returned": (lambda: None, "Keras layer"),
}


@pytest.mark.parametrize("name", WRONG_AUGMENTATIONS)
def test_wrong_augmentation_fails(name: str) -> None:
    factory, words = WRONG_AUGMENTATIONS[name]
    with pytest.raises(CheckFailed, match=words):
        check.augmentation_pipeline(factory)


# --- Exercise 2 ------------------------------------------------------------------------------


def paired_effect(with_aug: np.ndarray, without_aug: np.ndarray) -> tuple[float, float]:
    differences = np.asarray(with_aug, dtype=float) - np.asarray(without_aug, dtype=float)
    return float(differences.mean()), float(differences.std(ddof=1))


def test_reference_effect_passes(experiment: Experiment) -> None:
    with_aug, without = experiment.val("with"), experiment.val("without")
    check.effect_summary(paired_effect, paired_effect(with_aug, without), with_aug, without)
    check.effect_function(
        paired_effect,
        [((0.91, 0.88), (0.90, 0.91)), ((0.5, 0.6, 0.7, 0.8, 0.9), (0.45, 0.61, 0.6, 0.72, 0.88))],
    )


def _diffs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.asarray(a, dtype=float) - np.asarray(b, dtype=float)


WRONG_EFFECTS: dict[str, tuple[Callable, str]] = {
    "population spread": (lambda a, b: (_diffs(a, b).mean(), _diffs(a, b).std()), "ddof=1"),
    "reversed sign": (lambda a, b: paired_effect(b, a), "sign"),
    "unpaired spread": (lambda a, b: (_diffs(a, b).mean(), np.std(a, ddof=1)), "pair"),
    "spreads subtracted": (
        lambda a, b: (_diffs(a, b).mean(), np.std(a, ddof=1) - np.std(b, ddof=1)),
        "pair",
    ),
    "percentages": (lambda a, b: tuple(100 * v for v in paired_effect(a, b)), "percentages"),
    "mean only": (lambda a, b: _diffs(a, b).mean(), "two numbers"),
    "ratio instead of difference": (
        lambda a, b: ((np.asarray(a) / np.asarray(b)).mean(), 0.01),
        "mean",
    ),
    "claims to equal anything": (lambda a, b: (AlwaysEqual(0), AlwaysEqual(0)), "number"),
}


@pytest.mark.parametrize("name", WRONG_EFFECTS)
def test_wrong_effect_function_fails(name: str, experiment: Experiment) -> None:
    func, words = WRONG_EFFECTS[name]
    with_aug, without = experiment.val("with"), experiment.val("without")
    with pytest.raises(CheckFailed, match=words):
        check.effect_summary(func, paired_effect(with_aug, without), with_aug, without)


@pytest.mark.parametrize(
    ("make_effect", "words"),
    [
        (lambda a, b: paired_effect(b, a), "sign"),
        (lambda a, b: (_diffs(a, b).mean(), _diffs(a, b).std()), "ddof=1"),
        (lambda a, b: None, "two numbers"),
        (lambda a, b: paired_effect(a[:2], b[:2]), "not right|mean|spread"),
    ],
)
def test_wrong_effect_value_fails(make_effect: Callable, words: str, experiment: Experiment) -> None:
    with_aug, without = experiment.val("with"), experiment.val("without")
    with pytest.raises(CheckFailed, match=words):
        check.effect_summary(paired_effect, make_effect(with_aug, without), with_aug, without)


# --- Exercise 3 ------------------------------------------------------------------------------


def clean_accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(model.predict(x, verbose=0).argmax(axis=1) == y))


RIGHT_CLEAN: dict[str, Callable] = {
    "predict": clean_accuracy,
    "evaluate": lambda model, x, y: model.evaluate(x, y, verbose=0)[1],
    "training=False": lambda model, x, y: float(np.mean(np.argmax(model(x, training=False), axis=1) == y)),
}


@pytest.mark.parametrize("name", RIGHT_CLEAN)
def test_right_clean_accuracy_passes(name: str, experiment: Experiment) -> None:
    model, split = experiment.results["with"][0].model, experiment.split
    check.clean_accuracy(RIGHT_CLEAN[name], model, split.x_train, split.y_train)
    check.clean_accuracy(RIGHT_CLEAN[name], model, split.x_val, split.y_val)


WRONG_CLEAN: dict[str, tuple[Callable, str]] = {
    "direct call, augmentation on": (
        lambda model, x, y: float(np.mean(np.argmax(model(x), axis=1) == y)),
        "training mode",
    ),
    "percentage": (lambda model, x, y: 100 * clean_accuracy(model, x, y), "percentage"),
    "evaluate's whole list": (lambda model, x, y: model.evaluate(x, y, verbose=0), "number"),
    "error rate": (lambda model, x, y: 1 - clean_accuracy(model, x, y), "not the accuracy"),
    "claims to equal anything": (lambda model, x, y: AlwaysEqual(1.0), "number"),
}


@pytest.mark.parametrize("name", WRONG_CLEAN)
def test_wrong_clean_accuracy_fails(name: str, experiment: Experiment) -> None:
    func, words = WRONG_CLEAN[name]
    model, split = experiment.results["with"][0].model, experiment.split
    with pytest.raises(CheckFailed, match=words):
        check.clean_accuracy(func, model, split.x_train, split.y_train)


def test_reported_training_accuracy_is_not_an_answer(experiment: Experiment) -> None:
    run, split = experiment.results["with"][1], experiment.split
    with pytest.raises(CheckFailed):
        check.clean_accuracy(lambda m, x, y: run.final("accuracy"), run.model, split.x_train, split.y_train)


# --- Exercise 4 ------------------------------------------------------------------------------

VERDICTS = {
    "P1": "leaks",
    "P2": "sound",
    "P3": "noisy validation",
    "P4": "breaks labels",
    "P5": "too strong",
    "P6": "sound",
}


def test_reference_verdicts_pass() -> None:
    check.pipeline_verdicts(VERDICTS)
    check.pipeline_verdicts({k: v.title().replace(" ", "_") for k, v in VERDICTS.items()})


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({**VERDICTS, "P1": "sound"}, "1 of 6"),
        ({**VERDICTS, "P6": "leaks"}, "1 of 6"),
        ({**VERDICTS, "P3": "leaks", "P1": "noisy validation"}, "2 of 6"),
        ({**VERDICTS, "P5": "breaks labels"}, "1 of 6"),
        (dict.fromkeys(VERDICTS, "sound"), "4 of 6"),
        ({**VERDICTS, "P4": "label breaking"}, "not one of"),
        ({**VERDICTS, "P2": True}, "str"),
        ({**VERDICTS, "P2": AlwaysEqual(0)}, "str"),
        ({k: v for k, v in VERDICTS.items() if k != "P6"}, "exactly one verdict"),
        (list(VERDICTS.values()), "dict"),
    ],
)
def test_wrong_verdicts_fail(answer: object, words: str) -> None:
    with pytest.raises(CheckFailed, match=words):
        check.pipeline_verdicts(answer)


def test_verdicts_are_not_in_the_module_in_plain_text() -> None:
    source = open(check.__file__, encoding="utf-8").read()  # noqa: SIM115
    assert '"P1": "leaks"' not in source and '"P5": "too strong"' not in source


# --- Claims of the lesson ----------------------------------------------------------------------


def test_runs_are_reproducible_from_their_seed() -> None:
    split = data.digit_split()
    runs = [data.train_cnn(split, partial(data.augmentation, 1.0), seed=5, epochs=8) for _ in range(2)]
    assert runs[0].history == runs[1].history
    assert runs[0].val_epochs == [8]


def test_without_augmentation_the_cnn_overfits(experiment: Experiment) -> None:
    split = experiment.split
    for run in experiment.results["without"]:
        assert run.final("accuracy") == 1.0
        assert data.accuracy(run.model, split.x_train, split.y_train) == 1.0
        assert run.final("loss") < 0.01
        assert run.final("val_accuracy") < 0.9
        assert run.final("val_loss") > min(run.history["val_loss"])


def test_augmentation_helps_for_every_seed(experiment: Experiment) -> None:
    gains = experiment.val("with") - experiment.val("without")
    mean, spread = data.paired_effect(experiment.val("with"), experiment.val("without"))
    assert np.all(gains > 0), gains
    assert 0.02 <= mean <= 0.10, mean
    assert mean > spread, (mean, spread)
    val_loss = {
        arm: np.mean([r.final("val_loss") for r in experiment.results[arm]]) for arm in ("with", "without")
    }
    assert val_loss["without"] > 1.5 * val_loss["with"]


def test_clean_training_accuracy_is_near_perfect_with_augmentation(experiment: Experiment) -> None:
    split = experiment.split
    for run in experiment.results["with"]:
        assert data.accuracy(run.model, split.x_train, split.y_train) >= 0.95


def test_direct_calls_augment_and_training_false_does_not(experiment: Experiment) -> None:
    model, split = experiment.results["with"][0].model, experiment.split
    keras.utils.set_random_seed(0)
    calls = [np.asarray(model(split.x_train)) for _ in range(5)]
    assert np.abs(calls[0] - calls[1]).max() > 0.1
    clean = data.accuracy(model, split.x_train, split.y_train)
    direct = [np.mean(p.argmax(axis=1) == split.y_train) for p in calls]
    assert np.mean(direct) < clean - 0.02
    off = np.asarray(model(split.x_train, training=False)).argmax(axis=1)
    assert np.mean(off == split.y_train) == clean
    assert clean == pytest.approx(clean_accuracy(model, split.x_train, split.y_train))


def test_fit_reports_metrics_on_augmented_batches(experiment: Experiment) -> None:
    """With the weights frozen (learning rate 0), fit's accuracy differs from evaluate's only
    because fit augments its batches."""
    trained, split = experiment.results["with"][0].model, experiment.split
    keras.utils.set_random_seed(0)
    model = keras.models.clone_model(trained)
    model.set_weights(trained.get_weights())
    model.compile(
        optimizer=keras.optimizers.SGD(0.0),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    x, y = split.x_val[:500], split.y_val[:500]
    reported = model.fit(x, y, epochs=1, batch_size=50, shuffle=False, verbose=0)
    _, clean = model.evaluate(x, y, verbose=0)
    assert clean == pytest.approx(data.accuracy(trained, x, y), abs=1e-6)
    assert reported.history["accuracy"][-1] < clean - 0.03


def test_augmenting_before_the_split_inflates_validation(experiment: Experiment) -> None:
    leak = experiment.leak
    assert leak.shared >= 0.5
    assert leak.reported - leak.fresh >= 0.03
    assert leak.run.final("accuracy") == 1.0


def test_augmenting_validation_makes_it_noisy_and_biased(experiment: Experiment) -> None:
    model, split = experiment.results["with"][0].model, experiment.split
    clean = [data.accuracy(model, split.x_val, split.y_val) for _ in range(2)]
    assert clean[0] == clean[1]
    keras.utils.set_random_seed(0)
    draws = data.augmented_validation(model, split, data.augmentation(1.0), draws=5)
    assert draws.max() - draws.min() > 0.005
    assert draws.max() < clean[0]


def test_flips_make_sixes_and_nines_swap(experiment: Experiment) -> None:
    split = experiment.split
    safe = data.confusion(experiment.results["with"][0].model, split.x_val, split.y_val)
    flips = data.confusion(experiment.flips.model, split.x_val, split.y_val)
    assert safe[6, 9] + safe[9, 6] <= 3
    assert flips[6, 9] + flips[9, 6] >= 20 and flips[6, 9] > 0 and flips[9, 6] > 0
    drop = np.diag(safe) / safe.sum(axis=1) - np.diag(flips) / flips.sum(axis=1)
    assert np.sum(np.delete(drop, [6, 9]) > 0.05) >= 3  # mirrored digits suffer too
    assert experiment.flips.final("val_accuracy") < experiment.results["with"][0].final("val_accuracy")


def test_too_strong_augmentation_underfits(experiment: Experiment) -> None:
    split = experiment.split
    runs = [experiment.results["without"][0], experiment.results["with"][0], *experiment.sweep]
    val = [run.final("val_accuracy") for run in runs]  # strengths 0, 1, 2, 3
    assert val[1] > val[0] and val[1] > val[2] > val[3]
    assert val[3] < val[0]
    assert data.accuracy(runs[3].model, split.x_train, split.y_train) <= 0.85
    for run in runs[2:]:
        assert run.final("val_accuracy") > run.final("accuracy")


def test_the_lessons_setup() -> None:
    """The sizes, schedule and augmentation factors the lesson's text names."""
    split = data.digit_split()
    assert len(split.y_train) == 50 and len(split.y_val) == 1747
    assert np.bincount(split.y_train).tolist() == [5] * 10
    assert split.x_train.shape[1:] == (16, 16, 1)
    assert split.x_train.min() >= 0.0 and split.x_train.max() <= 1.0
    assert data.EPOCHS == 80 and data.SEEDS == (0, 1, 2) and data.VAL_EVERY == 8
    rotation, zoom, shift = data.augmentation(1.0).layers
    assert rotation.factor == (-0.05, 0.05) and zoom.height_factor == 0.1
    assert shift.height_factor == shift.width_factor == 0.1
    assert rotation.fill_mode == zoom.fill_mode == shift.fill_mode == "constant"
    rotation, zoom, shift = data.augmentation(3.0).layers
    assert rotation.factor == pytest.approx((-0.15, 0.15))
    assert zoom.height_factor == pytest.approx(0.3)
    assert type(data.augmentation(1.0, flips=True).layers[0]).__name__ == "RandomFlip"
