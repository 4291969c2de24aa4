"""Lesson 04_augmentation_experiment: its exercises (probe + judge) against right and wrong answers,
forged probe data, and the claims the lesson makes.

Every answer is judged the way grading judges it: the probe's data goes through the wire format and
the judge decides on it. Answers are written as a student would write them, as code. The
experiment is computed once per module, with the lesson's seeds, by the same functions of
``augcourse.data`` that the notebook calls.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from functools import partial
from typing import Any

import keras
import nbformat
import numpy as np
import pytest

from augcourse import data
from augcourse.checks import CheckFailed, Exercise, Verdict, digits, exercises, wire
from augcourse.checks import experiment as check
from augcourse.checks.exercise import plain
from grader.answers import reference_answers
from tests.conftest import ROOT

LESSON = "04_augmentation_experiment"
SOLUTION = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
RELEASE = ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb"
SEEDS = (0, 7)


def judged(exercise: Exercise, *values: Any, seed: int = 0) -> Verdict:
    """What grading decides: the probe's data through the wire, then the judge."""
    return exercise.judged(values, seed)


def define(code: str, name: str, **extra: Any) -> Any:
    """The object ``name`` that a student's ``code`` defines (run as in the notebook's kernel)."""
    import tensorflow as tf

    namespace: dict[str, Any] = {"keras": keras, "tf": tf, "np": np, "data": data, **extra}
    exec(textwrap.dedent(code), namespace)
    return namespace[name]


def assert_rejected(verdict: Verdict, mistake: str, words: str) -> None:
    assert not verdict.passed, verdict
    assert verdict.mistake == mistake, verdict
    assert re.search(words, verdict.message, re.DOTALL), verdict


class AlwaysEqual(float):
    """An answer that claims to equal anything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = float.__hash__


def test_the_lesson_lists_one_exercise_per_graded_cell() -> None:
    notebook = nbformat.read(SOLUTION, as_version=4)
    graded = [
        cell.metadata.nbgrader["grade_id"]
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    ]
    assert list(exercises(LESSON)) == graded == ["ex1_check", "ex2_check", "ex3_check", "ex4_check"]
    assert [e.grade_id for e in check.EXERCISES] == graded


# --- The reference solution passes; the released stubs do not --------------------------------------


def _namespace(answers: dict[str, str]) -> dict[str, Any]:
    """The names the answer cells define, run after a set-up like the notebook's."""
    import tensorflow as tf

    namespace: dict[str, Any] = {"keras": keras, "tf": tf, "np": np, "data": data}
    namespace["val_with"] = np.array([1415, 1467, 1398]) / 1747  # right answers / validation images
    namespace["val_without"] = np.array([1363, 1380, 1345]) / 1747
    for grade_id in ("ex1_answer", "ex2_answer", "ex3_answer", "ex4_answer"):
        with contextlib.suppress(NotImplementedError):  # a released cell stops there, as in the notebook
            exec(answers[grade_id], namespace)
    return namespace


def _released_answers() -> dict[str, str]:
    notebook = nbformat.read(RELEASE, as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: cell.source
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


@pytest.mark.parametrize("seed", [0, 7, 2**31 - 1])
def test_the_reference_solution_passes(seed: int) -> None:
    namespace = _namespace(reference_answers(SOLUTION))
    for exercise in check.EXERCISES:
        verdict = judged(exercise, *(namespace[name] for name in exercise.names), seed=seed)
        assert verdict.passed, (exercise.grade_id, verdict)


STUB_KINDS = {
    "ex1_check": "not written",
    "ex2_check": "not written",
    "ex3_check": "not written",
    "ex4_check": "not answered",
}


def test_the_released_stubs_fail_as_not_written() -> None:
    namespace = _namespace(_released_answers())
    for exercise in check.EXERCISES:
        verdict = judged(exercise, *(namespace[name] for name in exercise.names))
        assert not verdict.passed and verdict.mistake == STUB_KINDS[exercise.grade_id], verdict
        assert re.search("not written|no verdict yet", verdict.message), verdict


def test_a_name_not_defined_is_named() -> None:
    from augcourse.checks.exercise import MISSING

    verdict = judged(check.ex2, lambda a, b: (0.0, 0.0), MISSING, *EXPERIMENT)
    assert not verdict.passed and verdict.mistake == "not defined" and "`effect`" in verdict.message


def test_the_notebook_check_speaks_in_one_line() -> None:
    """The check the notebook calls: a ✅ on success, a CheckFailed with the judge's message."""
    with pytest.raises(CheckFailed, match="raised ValueError") as failure:
        check.ex1(lambda: keras.Sequential([keras.layers.RandomRotation(20)]))
    assert failure.value.mistake == "factor out of range"
    assert "Traceback" not in str(failure.value) and len(str(failure.value)) < 400


# --- Exercise 1: a label-preserving augmentation for digits -----------------------------------------

RIGHT_AUGMENTATIONS = {
    "reference": """
        def digit_augmentation():
            return keras.Sequential([
                keras.layers.RandomRotation(0.04, fill_mode="constant"),
                keras.layers.RandomZoom(0.1, fill_mode="constant"),
                keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            ])
        """,
    "tf.keras, an Input layer, ranges as tuples": """
        def digit_augmentation():
            return tf.keras.Sequential([
                tf.keras.Input((16, 16, 1)),
                tf.keras.layers.RandomRotation((-0.05, 0.05), fill_mode="constant", fill_value=0.0),
                tf.keras.layers.RandomTranslation((-0.15, 0.15), (-0.15, 0.15), fill_mode="constant"),
            ])
        """,
    "zoom and contrast in the images' range": """
        from keras import layers

        def digit_augmentation():
            model = keras.Sequential(name="digits")
            model.add(layers.RandomZoom(0.15, 0.1, fill_mode="constant"))
            model.add(layers.RandomContrast(0.2, value_range=(0, 1)))
            return model
        """,
    "the lesson's own augmentation": """
        def digit_augmentation():
            return data.augmentation(1.0)
        """,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", RIGHT_AUGMENTATIONS)
def test_right_augmentation_passes(name: str, seed: int) -> None:
    verdict = judged(check.ex1, define(RIGHT_AUGMENTATIONS[name], "digit_augmentation"), seed=seed)
    assert verdict.passed, verdict


def _augmentation(*layers: str) -> str:
    return f"def digit_augmentation():\n    return keras.Sequential([{', '.join(layers)}])"


WRONG_AUGMENTATIONS: dict[str, tuple[str, str, str]] = {
    "default fill (reflect)": (
        _augmentation("keras.layers.RandomRotation(0.04)", "keras.layers.RandomZoom(0.1)"),
        "ink in the fill",
        "fill_mode='reflect'.*background",
    ),
    "a horizontal flip": (
        _augmentation(
            'keras.layers.RandomFlip("horizontal")', 'keras.layers.RandomZoom(0.1, fill_mode="constant")'
        ),
        "flip",
        "flips digits",
    ),
    "rotation in degrees": (
        _augmentation('keras.layers.RandomRotation(15, fill_mode="constant")'),
        "factor out of range",
        "raised ValueError.*fractions of a full turn",
    ),
    "rotation up to 36° (0.1 of a turn)": (
        _augmentation('keras.layers.RandomRotation(0.1, fill_mode="constant")'),
        "rotation too large",
        "-36.0° to \\+36.0°",
    ),
    "the lesson's augmentation at strength 2": (
        "def digit_augmentation():\n    return data.augmentation(2.0)",
        "rotation too large",
        "rotates by",
    ),
    "zoom by half": (
        _augmentation('keras.layers.RandomZoom(0.5, fill_mode="constant")'),
        "zoom too large",
        "RandomZoom factor 0.5",
    ),
    "shift by 40%": (
        _augmentation('keras.layers.RandomTranslation(0.4, 0.4, fill_mode="constant")'),
        "shift too large",
        "RandomTranslation factor 0.4",
    ),
    "brightness on 0-255": (
        _augmentation("keras.layers.RandomBrightness(0.2)"),
        "value range",
        "value_range",
    ),
    "white fill": (
        _augmentation('keras.layers.RandomRotation(0.04, fill_mode="constant", fill_value=1.0)'),
        "bright fill",
        "fill_value=1.0",
    ),
    "a list of layers, not a layer": (
        'def digit_augmentation():\n    return [keras.layers.RandomRotation(0.04, fill_mode="constant")]',
        "not a layer",
        "must return a Keras layer.*returned list",
    ),
    "forgot to return": (
        "def digit_augmentation():\n"
        '    keras.Sequential([keras.layers.RandomZoom(0.1, fill_mode="constant")])',
        "not a layer",
        "returned None",
    ),
    "rescaling inside": (
        _augmentation("keras.layers.Rescaling(1 / 16)", 'keras.layers.RandomZoom(0.1, fill_mode="constant")'),
        "layer not allowed",
        "Rescaling",
    ),
    "empty Sequential": (_augmentation(), "no layers", "no layers"),
    "rotation range as two numbers": (
        _augmentation("keras.layers.RandomRotation(-0.05, 0.05)"),
        "range as two arguments",
        "one tuple",
    ),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", WRONG_AUGMENTATIONS)
def test_wrong_augmentation_is_rejected(name: str, seed: int) -> None:
    code, mistake, words = WRONG_AUGMENTATIONS[name]
    assert_rejected(judged(check.ex1, define(code, "digit_augmentation"), seed=seed), mistake, words)


def test_lessons_1_and_4_judge_digits_by_one_rule() -> None:
    """The same augmentation gets the same decision in both lessons (lesson 4 at 16×16 pixels)."""
    source = (ROOT / "augcourse" / "checks" / "experiment.py").read_text(encoding="utf-8")
    assert "digits.problem(" in source and "digits.observe(" in source
    assert "MAX_TURN" not in source and "fill_mode" not in source.split("def clean_model")[0]


# --- Exercise 2: the effect, mean ± spread -------------------------------------------------------

VAL_WITH, VAL_WITHOUT = np.array([1502, 1497, 1489]) / 1747, np.array([1412, 1424, 1393]) / 1747
EXPERIMENT = (VAL_WITH, VAL_WITHOUT)  # the lesson's val_with and val_without, as its experiment makes them

REFERENCE_EFFECT = """
    def paired_effect(with_aug, without_aug):
        differences = np.asarray(with_aug, dtype=float) - np.asarray(without_aug, dtype=float)
        return float(differences.mean()), float(differences.std(ddof=1))
    """

RIGHT_EFFECTS = {
    "numpy, as in the solution": REFERENCE_EFFECT,
    "statistics module, a list": """
        import statistics

        def paired_effect(with_aug, without_aug):
            gains = [w - o for w, o in zip(with_aug, without_aug)]
            return [statistics.mean(gains), statistics.stdev(gains)]
        """,
    "a plain loop": """
        def paired_effect(with_aug, without_aug):
            n = len(with_aug)
            total = 0.0
            for i in range(n):
                total += with_aug[i] - without_aug[i]
            mean = total / n
            squares = 0.0
            for i in range(n):
                squares += (with_aug[i] - without_aug[i] - mean) ** 2
            return mean, (squares / (n - 1)) ** 0.5
        """,
    "numpy scalars, unconverted": """
        def paired_effect(with_aug, without_aug):
            d = with_aug - without_aug
            return np.mean(d), np.std(d, ddof=1)
        """,
    "a namedtuple": """
        from collections import namedtuple

        Effect = namedtuple("Effect", "mean spread")

        def paired_effect(with_aug, without_aug):
            d = np.asarray(with_aug) - np.asarray(without_aug)
            return Effect(float(d.mean()), float(d.std(ddof=1)))
        """,
    "float32 tensors": """
        def paired_effect(with_aug, without_aug):
            d = tf.constant(with_aug, tf.float32) - tf.constant(without_aug, tf.float32)
            mean = tf.reduce_mean(d)
            return mean, tf.sqrt(tf.reduce_sum((d - mean) ** 2) / (len(with_aug) - 1))
        """,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", RIGHT_EFFECTS)
def test_right_effect_passes(name: str, seed: int) -> None:
    paired_effect = define(RIGHT_EFFECTS[name], "paired_effect")
    verdict = judged(check.ex2, paired_effect, paired_effect(*EXPERIMENT), *EXPERIMENT, seed=seed)
    assert verdict.passed, verdict


def _effect(body: str) -> str:
    return f"def paired_effect(with_aug, without_aug):\n    d = with_aug - without_aug\n    {body}"


WRONG_EFFECTS: dict[str, tuple[str, str, str]] = {
    "population spread (numpy's default)": (_effect("return d.mean(), d.std()"), "ddof=0", "population"),
    "without minus with": (_effect("return (-d).mean(), d.std(ddof=1)"), "sign reversed", "sign is reversed"),
    "spreads of the arms subtracted": (
        _effect("return d.mean(), np.std(with_aug, ddof=1) - np.std(without_aug, ddof=1)"),
        "unpaired spread",
        "pair each seed",
    ),
    "percentages": (_effect("return 100 * d.mean(), 100 * d.std(ddof=1)"), "percent", "percentages"),
    "the mean alone": (_effect("return d.mean()"), "not a pair", "one number.*two"),
    "a variance": (_effect("return d.mean(), d.var(ddof=1)"), "variance", "variance"),
    "the standard error": (
        _effect("return d.mean(), d.std(ddof=1) / np.sqrt(len(d))"),
        "standard error",
        "standard error",
    ),
    "rounded for display": (
        _effect("return round(d.mean(), 3), round(d.std(ddof=1), 3)"),
        "rounded",
        "rounded",
    ),
    "a ratio": (_effect("return (with_aug / without_aug).mean() - 1, d.std(ddof=1)"), "ratio", "ratios"),
    "absolute differences": (
        _effect("return np.abs(d).mean(), np.abs(d).std(ddof=1)"),
        "absolute differences",
        "absolute",
    ),
    "a string for printing": (
        _effect('return f"{d.mean():+.1%} ± {d.std(ddof=1):.1%}"'),
        "not a pair",
        "tuple of two numbers.*str",
    ),
    "mean and spread in the wrong order": (
        _effect("return d.std(ddof=1), d.mean()"),
        "order swapped",
        "order",
    ),
    "only the mean as a percentage": (
        _effect("return 100 * d.mean(), d.std(ddof=1)"),
        "percent",
        "mean is a",
    ),
    "prints instead of returning": (_effect("print(d.mean(), d.std(ddof=1))"), "not a pair", "None: return"),
    "absolute differences, on the case with a loss": (
        _effect("return float(np.abs(d).mean()), float(np.abs(d).std(ddof=1))"),
        "absolute differences",
        "absolute",
    ),
    "the arms sorted, which breaks the pairs": (
        "def paired_effect(with_aug, without_aug):\n    d = np.sort(with_aug) - np.sort(without_aug)\n"
        "    return d.mean(), d.std(ddof=1)",
        "unpaired spread|wrong spread|wrong mean",
        "spread|mean",
    ),
    "numbers that claim to equal anything": (
        "def paired_effect(with_aug, without_aug):\n    return AlwaysEqual(0), AlwaysEqual(0)",
        "not a number",
        "must be a number.*AlwaysEqual",
    ),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", WRONG_EFFECTS)
def test_wrong_effect_function_is_rejected(name: str, seed: int) -> None:
    code, mistake, words = WRONG_EFFECTS[name]
    paired_effect = define(code, "paired_effect", AlwaysEqual=AlwaysEqual)
    verdict = judged(check.ex2, paired_effect, (0.03, 0.01), *EXPERIMENT, seed=seed)
    assert not verdict.passed and re.fullmatch(mistake, verdict.mistake), verdict
    assert re.search(words, verdict.message, re.DOTALL), verdict
    assert "For with_aug=[" in verdict.message or mistake in ("not a pair", "not a number")


@pytest.mark.parametrize(
    ("effect", "mistake", "words"),
    [
        (None, "effect not set", "not set yet"),
        ((3.1, 1.2), "percent", "percentages"),
        (0.031, "not a pair", "one number"),
        ((0.0, 0.0), "effect placeholder", "spread of exactly 0"),
        ((0.03, -0.01), "negative spread", "negative"),
        ("+3.1% ± 1.2%", "not a pair", "tuple of two numbers"),
        ((0.03, float("nan")), "not finite", "not a finite number"),
    ],
)
@pytest.mark.parametrize("seed", SEEDS)
def test_wrong_effect_value_is_rejected(effect: object, mistake: str, words: str, seed: int) -> None:
    paired_effect = define(REFERENCE_EFFECT, "paired_effect")
    assert_rejected(judged(check.ex2, paired_effect, effect, *EXPERIMENT, seed=seed), mistake, words)


EFFECTS_NOT_FROM_THE_EXPERIMENT = {  # effect as students set it wrongly, from the experiment's arrays
    "arguments swapped": (lambda w, o: check.reference_effect(o, w), "arguments swapped", "swapped"),
    "rounded for display": (
        lambda w, o: tuple(round(v, 3) for v in check.reference_effect(w, o)),
        "rounded",
        "rounded",
    ),
    "typed in from an earlier run": (
        lambda w, o: (0.052, 0.031),
        "effect not from the experiment",
        "val_with",
    ),
    "spread first": (lambda w, o: check.reference_effect(w, o)[::-1], "order swapped", "spread first"),
    "difference of the means, population spread": (
        lambda w, o: (w.mean() - o.mean(), float(np.std(w - o))),
        "effect not from the experiment",
        "your function",
    ),
    "from the arms' spreads": (
        lambda w, o: (float((w - o).mean()), float(np.std(w, ddof=1))),
        "effect not from the experiment",
        "your function",
    ),
}


@pytest.mark.parametrize("name", EFFECTS_NOT_FROM_THE_EXPERIMENT)
@pytest.mark.parametrize("seed", SEEDS)
def test_effect_must_come_from_the_experiment(name: str, seed: int) -> None:
    make, mistake, words = EFFECTS_NOT_FROM_THE_EXPERIMENT[name]
    paired_effect = define(REFERENCE_EFFECT, "paired_effect")
    verdict = judged(check.ex2, paired_effect, make(*EXPERIMENT), *EXPERIMENT, seed=seed)
    assert_rejected(verdict, mistake, words)
    for value in check.reference_effect(*EXPERIMENT):
        assert f"{value:.3f}" not in verdict.message and f"{value:.1%}" not in verdict.message


@pytest.mark.parametrize(
    "experiment",
    [
        (None, VAL_WITHOUT),
        (VAL_WITH, VAL_WITHOUT[:2]),
        (VAL_WITH * 100, VAL_WITHOUT * 100),
        ("0.81", "0.78"),
        (VAL_WITH, VAL_WITH),
        (np.array([0.981, 0.975, 0.984]), VAL_WITHOUT),
        (VAL_WITH.round(2), VAL_WITHOUT.round(2)),
    ],
    ids=[
        "not set",
        "unequal lengths",
        "percentages",
        "strings",
        "the same array twice",
        "training accuracies typed in",
        "rounded",
    ],
)
def test_an_experiment_overwritten_is_named(experiment: tuple) -> None:
    paired_effect = define(REFERENCE_EFFECT, "paired_effect")
    verdict = judged(check.ex2, paired_effect, paired_effect(*EXPERIMENT), *experiment)
    kinds = ("experiment missing", "same arrays", "not validation accuracies")
    assert not verdict.passed and verdict.mistake in kinds, verdict
    assert re.search("[Rr]un (the|those) (experiment|cells)", verdict.message), verdict


CHANGES_ITS_ARGUMENTS = {
    "subtracts in place": "def paired_effect(with_aug, without_aug):\n    with_aug -= without_aug\n"
    "    return float(with_aug.mean()), float(with_aug.std(ddof=1))",
    "sorts in place": "def paired_effect(with_aug, without_aug):\n    with_aug.sort()\n"
    "    without_aug.sort()\n    d = with_aug - without_aug\n"
    "    return float(d.mean()), float(d.std(ddof=1))",
}
IGNORES_ITS_ARGUMENTS = {
    "returns typed-in numbers": "def paired_effect(with_aug, without_aug):\n    return 0.0494, 0.0070",
    "uses the lesson's arrays": "def paired_effect(with_aug, without_aug):\n    d = val_with - val_without\n"
    "    return float(d.mean()), float(d.std(ddof=1))",
}


@pytest.mark.parametrize("seed", SEEDS)
def test_a_function_that_changes_or_ignores_its_arguments_is_named(seed: int) -> None:
    for name, code in CHANGES_ITS_ARGUMENTS.items():
        verdict = judged(check.ex2, define(code, "paired_effect"), (0.03, 0.01), *EXPERIMENT, seed=seed)
        assert verdict.mistake == "changes its arguments" and "in-place" in verdict.message, (name, verdict)
    for name, code in IGNORES_ITS_ARGUMENTS.items():
        function = define(code, "paired_effect", val_with=VAL_WITH, val_without=VAL_WITHOUT)
        verdict = judged(check.ex2, function, function(*EXPERIMENT), *EXPERIMENT, seed=seed)
        assert verdict.mistake == "ignores its arguments" and "from its arguments" in verdict.message, name


def test_every_seed_has_a_case_with_a_loss_whose_arms_rank_the_seeds_differently() -> None:
    """Otherwise dropping the sign (absolute differences) or sorting an arm passes on some seeds."""
    for seed in range(500):
        with_aug, without = check.effect_cases(seed)[1]
        gains = with_aug - without
        assert gains.min() < 0 < gains.max(), seed
        assert (np.argsort(with_aug) != np.argsort(without)).any(), seed


def test_effect_messages_never_give_the_numbers() -> None:
    """A rejected function is told what went wrong, never the mean or spread it should return."""
    for name, (code, _, _) in WRONG_EFFECTS.items():
        paired_effect = define(code, "paired_effect", AlwaysEqual=AlwaysEqual)
        verdict = judged(check.ex2, paired_effect, (0.03, 0.01), *EXPERIMENT)
        for value in check.reference_effect(*check.effect_cases(0)[0]):
            assert f"{value:.4f}" not in verdict.message and f"{value:.3f}" not in verdict.message, name


def test_effect_cases_follow_the_seed() -> None:
    first, again, other = check.effect_cases(0), check.effect_cases(0), check.effect_cases(7)
    assert all(
        np.array_equal(a, b) for pair in zip(first, again, strict=True) for a, b in zip(*pair, strict=True)
    )
    assert not np.array_equal(first[0][0], other[0][0])
    assert [len(w) for w, _ in first] == list(check.EFFECT_SIZES)


# --- Exercise 3: accuracy on clean images --------------------------------------------------------

RIGHT_CLEAN = {
    "predict, as in the solution": """
        def clean_accuracy(model, x, y):
            predicted = model.predict(x, verbose=0).argmax(axis=1)
            return float(np.mean(predicted == y))
        """,
    "evaluate": """
        def clean_accuracy(model, x, y):
            loss, accuracy = model.evaluate(x, y, verbose=0)
            return accuracy
        """,
    "evaluate, as a dict": """
        def clean_accuracy(model, x, y):
            return model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"]
        """,
    "training=False, TensorFlow ops": """
        def clean_accuracy(model, x, y):
            predicted = tf.argmax(model(x, training=False), axis=-1, output_type=tf.int32)
            return tf.reduce_mean(tf.cast(predicted == y, tf.float32))
        """,
    "a tf.keras metric": """
        def clean_accuracy(model, x, y):
            metric = tf.keras.metrics.SparseCategoricalAccuracy()
            metric.update_state(y, model.predict(x, verbose=0))
            return float(metric.result())
        """,
    "a loop over images": """
        def clean_accuracy(model, x, y):
            outputs = model.predict(x, verbose=0)
            right = 0
            for output, label in zip(outputs, y):
                if np.argmax(output) == label:
                    right += 1
            return right / len(y)
        """,
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", RIGHT_CLEAN)
def test_right_clean_accuracy_passes(name: str, seed: int) -> None:
    verdict = judged(check.ex3, define(RIGHT_CLEAN[name], "clean_accuracy"), seed=seed)
    assert verdict.passed, verdict


def _clean(body: str) -> str:
    return f"def clean_accuracy(model, x, y):\n    {body}"


WRONG_CLEAN: dict[str, tuple[str, str, str]] = {
    "a direct call, augmentation on": (
        _clean("return float(np.mean(np.argmax(model(x), axis=1) == y))"),
        "augmentation on",
        "training mode",
    ),
    "training=True": (
        _clean("return float(np.mean(np.argmax(model(x, training=True), axis=1) == y))"),
        "augmentation on",
        "augmentation on",
    ),
    "a percentage": (
        _clean("return 100 * float(np.mean(model.predict(x, verbose=0).argmax(1) == y))"),
        "percent",
        "percentage",
    ),
    "the error rate": (
        _clean("return float(np.mean(model.predict(x, verbose=0).argmax(1) != y))"),
        "error rate",
        "predicted wrong",
    ),
    "a count": (_clean("return int(np.sum(model.predict(x, verbose=0).argmax(1) == y))"), "count", "count"),
    "rounded": (
        _clean("return round(float(np.mean(model.predict(x, verbose=0).argmax(1) == y)), 2)"),
        "rounded",
        "rounded",
    ),
    "evaluate's whole list": (
        _clean("return model.evaluate(x, y, verbose=0)"),
        "evaluate's list",
        "loss, accuracy",
    ),
    "the confidence": (
        _clean("return float(model.predict(x, verbose=0).max(axis=1).mean())"),
        "confidence",
        "confidence",
    ),
    "argmax without an axis": (
        _clean("return float(np.mean(np.argmax(model.predict(x, verbose=0)) == y))"),
        "argmax axis",
        "single number",
    ),
    "argmax over the images": (
        _clean("return float(np.mean(model.predict(x, verbose=0).argmax(axis=0) == y))"),
        "argmax axis",
        "one predicted class per image",
    ),
    "labels read as one-hot": (
        _clean("return float(np.mean(model.predict(x, verbose=0).argmax(1) == y.argmax(axis=1)))"),
        "labels vs one-hot",
        "integer label",
    ),
    "categorical accuracy on integer labels": (
        _clean("return float(np.mean(keras.metrics.categorical_accuracy(y, model.predict(x, verbose=0))))"),
        "labels vs one-hot",
        "one-hot",
    ),
    "one value per image": (
        _clean("return model.predict(x, verbose=0).argmax(1) == y"),
        "not averaged",
        "one per image",
    ),
    "the lesson's variables": (
        _clean("return float(np.mean(model.predict(digits.x_train, verbose=0).argmax(1) == digits.y_train))"),
        "raises an error",
        "use the arguments",
    ),
    "a number that claims to equal anything": (
        _clean("return AlwaysEqual(1.0)"),
        "not a number",
        "must be a number",
    ),
    "images flattened first": (
        _clean("return float(np.mean(model.predict(x.reshape(len(x), -1), verbose=0).argmax(1) == y))"),
        "raises an error",
        "^clean_accuracy\\(model, x, y\\) raised ValueError: Invalid input shape",
    ),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", WRONG_CLEAN)
def test_wrong_clean_accuracy_is_rejected(name: str, seed: int) -> None:
    code, mistake, words = WRONG_CLEAN[name]
    verdict = judged(check.ex3, define(code, "clean_accuracy", AlwaysEqual=AlwaysEqual), seed=seed)
    assert_rejected(verdict, mistake, words)
    case = check.clean_case(seed, 0)
    assert f"{case.accuracy():.4f}" not in verdict.message and f"{case.accuracy():.3f}" not in verdict.message


def test_errors_are_short_and_only_a_bare_not_implemented_means_not_written() -> None:
    """Keras's wrapping of an error is dropped (lesson 1 does the same); a NotImplementedError that
    says something is the student's error, not the untouched stub."""
    code = _clean("return float(np.mean(model.predict(x.reshape(len(x), -1), verbose=0).argmax(1) == y))")
    verdict = judged(check.ex3, define(code, "clean_accuracy"))
    assert "Exception encountered" not in verdict.message and "Traceback" not in verdict.message
    assert len(verdict.message) < 500
    code = "def paired_effect(with_aug, without_aug):\n    raise NotImplementedError('lists only')"
    verdict = judged(check.ex2, define(code, "paired_effect"), (0.03, 0.01), *EXPERIMENT)
    assert_rejected(verdict, "raises an error", "raised NotImplementedError: lists only")


def test_clean_cases_follow_the_seed_and_separate_the_mistakes() -> None:
    for seed in (0, 1, 7, 123, 2**31 - 1):
        for index in range(check.CLEAN_CASES):
            case = check.clean_case(seed, index)
            again = check.clean_case(seed, index)
            assert np.array_equal(case.x, again.x) and np.array_equal(case.y, again.y)
            want = case.accuracy()
            assert 0.5 < want < 0.9 and abs(case.accuracy(turned=True) - want) > 0.1
            assert len(case.y) in check.CLEAN_SIZES and not any(
                abs(round(want, k) - want) < 1e-6 for k in range(1, 5)
            )
            assert np.bincount(case.y, minlength=10).max() < 0.5 * len(case.y)
    assert not np.array_equal(check.clean_case(0, 0).x[:5], check.clean_case(7, 0).x[:5])


def test_the_test_model_is_what_the_judge_computes() -> None:
    """The Keras model of a case and the judge's NumPy forward pass agree, in both modes, and the
    model's augmentation behaves as the check's message says: on in a direct call and with
    training=True (every image upside down), off in predict, evaluate and with training=False."""
    case = check.clean_case(3, 0)
    model = check.clean_model(case)
    probabilities = case.probabilities()
    assert np.allclose(model.predict(case.x, verbose=0), probabilities, atol=1e-5)
    assert np.allclose(np.asarray(model(case.x, training=False)), probabilities, atol=1e-5)
    assert np.allclose(np.asarray(model(case.x)), case.probabilities(turned=True), atol=1e-5)
    assert np.allclose(np.asarray(model(case.x, training=True)), case.probabilities(turned=True), atol=1e-5)
    turned = np.asarray(model.layers[0](case.x, training=True))
    assert np.array_equal(turned, case.x[:, ::-1, ::-1])
    _, accuracy = model.evaluate(case.x, case.y, verbose=0)
    assert accuracy == pytest.approx(case.accuracy(), abs=1e-6)


# --- Exercise 4: judge augmentation pipelines ----------------------------------------------------

VERDICTS = {
    "P1": "leaks",
    "P2": "sound",
    "P3": "noisy validation",
    "P4": "breaks labels",
    "P5": "too strong",
    "P6": "sound",
}

RIGHT_VERDICTS = {
    "as in the solution": VERDICTS,
    "other spellings": {
        "P1": " LEAKS ",
        "P2": "Sound",
        "P3": "noisy-validation",
        "P4": "Breaks_Labels",
        "P5": "too  strong",
        "P6": "sound",
    },
    "built with zip, keys in another order": dict(
        zip(
            ["P6", "P5", "P4", "P3", "P2", "P1"],
            ["sound", "too strong", "breaks labels", "noisy validation", "sound", "leaks"],
            strict=True,
        )
    ),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", RIGHT_VERDICTS)
def test_right_verdicts_pass(name: str, seed: int) -> None:
    verdict = judged(check.ex4, RIGHT_VERDICTS[name], seed=seed)
    assert verdict.passed, verdict


WRONG_VERDICTS: dict[str, tuple[object, str, str]] = {
    "augmenting before the split looks sound": (
        {**VERDICTS, "P1": "sound"},
        "P1 judged sound",
        "1 of 6.*P1:",
    ),
    "validation above training taken for a fault": (
        {**VERDICTS, "P6": "too strong"},
        "P6 judged too strong",
        "1 of 6.*P6:",
    ),
    "leak and noisy validation swapped": (
        {**VERDICTS, "P1": "noisy validation", "P3": "leaks"},
        "P1 judged noisy validation",
        "2 of 6.*P1:.*P3:",
    ),
    "underfitting taken for broken labels": (
        {**VERDICTS, "P5": "breaks labels"},
        "P5 judged breaks labels",
        "P5:",
    ),
    "everything sound": (dict.fromkeys(VERDICTS, "sound"), "P1 judged sound", "4 of 6"),
    "a verdict not in the list": (
        {**VERDICTS, "P4": "label breaking"},
        "unknown verdict",
        "not one of the verdicts",
    ),
    "a bool": ({**VERDICTS, "P2": True}, "not a str", "in quotes"),
    "a str that claims to equal anything": ({**VERDICTS, "P2": AlwaysEqual(0)}, "not a str", "in quotes"),
    "a pipeline left out": (
        {k: v for k, v in VERDICTS.items() if k != "P6"},
        "wrong keys",
        "exactly one verdict",
    ),
    "a list, not a dict": (list(VERDICTS.values()), "not a dict", "must be a dict"),
    "one left unanswered": ({**VERDICTS, "P3": None}, "not answered", "P3 has no verdict yet"),
}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", WRONG_VERDICTS)
def test_wrong_verdicts_are_rejected(name: str, seed: int) -> None:
    answer, mistake, words = WRONG_VERDICTS[name]
    verdict = judged(check.ex4, answer, seed=seed)
    assert_rejected(verdict, mistake, words)
    if "Hints:" in verdict.message:
        assert "leaks" not in verdict.message.split("Hints:")[-1]


def test_verdicts_are_not_in_the_module_in_plain_text() -> None:
    source = (ROOT / "augcourse" / "checks" / "experiment.py").read_text(encoding="utf-8")
    assert '"P1": "leaks"' not in source and '"P5": "too strong"' not in source


# --- Forged and malformed probe data -------------------------------------------------------------


def _right_data(exercise: Exercise, seed: int) -> Any:
    """What a right answer's probe writes for ``seed``, through the wire."""
    namespace = _namespace(reference_answers(SOLUTION))
    values = [namespace[name] for name in exercise.names]
    return wire.loads(wire.dumps(exercise.gather(values, seed)))


@pytest.fixture(scope="module")
def right_data() -> dict[str, Any]:
    return {exercise.grade_id: _right_data(exercise, 0) for exercise in check.EXERCISES}


@pytest.mark.parametrize("exercise", check.EXERCISES[:3], ids=lambda e: e.grade_id)
def test_a_right_answer_for_another_seed_is_not_a_right_answer(exercise: Exercise, right_data: dict) -> None:
    """Data replayed from another grading run (or made up in advance) does not score."""
    assert exercise.decide(right_data[exercise.grade_id], 0).passed
    verdict = exercise.decide(right_data[exercise.grade_id], 7)
    assert not verdict.passed, verdict


FORGERIES = [
    None,
    [],
    "right",
    {},
    {"cases": "all right"},
    {"cases": [None, None, None]},
    {"cases": [{"value": {"type": "float", "value": float("nan")}}] * 3},
    {"cases": [{"value": {"type": "int", "value": 10**400}}] * 3},
    {"cases": [{"value": {"type": "float", "value": "0.8"}}] * 3},
    {"cases": [{"value": {"type": "numpy.float64", "value": np.zeros((1000,))}}] * 3},
    {"cases": [{"value": {"type": "tuple", "items": [{"type": "float", "value": 1e308}] * 2}}] * 3},
    {"cases": [{"raised": 3, "message": None}] * 3},
    {"layers": "many", "inference": np.zeros(3)},
    {"layers": [{"class": "RandomZoom", "config": {"height_factor": "big"}}], "inference": 1, "training": 2},
    {"type": "dict", "entries": [[{"type": "str", "value": "P1"}]]},
    {"type": "dict", "entries": "P1"},
    {
        "type": "dict",
        "entries": [[{"type": "str", "value": p}, {"type": "str", "value": 5}] for p in VERDICTS],
    },
    {"missing": "everything"},
    {"probe_error": None},
]


@pytest.mark.parametrize("exercise", check.EXERCISES, ids=lambda e: e.grade_id)
def test_forged_data_fails_with_a_message_and_never_crashes(exercise: Exercise) -> None:
    for forged in FORGERIES:
        verdict = exercise.decide(wire.loads(wire.dumps(forged)), 0)
        assert not verdict.passed, (forged, verdict)
        assert verdict.message and len(verdict.message) < 600 and verdict.mistake, (forged, verdict)


def test_forged_data_in_the_right_shape_is_judged_by_its_values(right_data: dict) -> None:
    """Right-looking data with one value changed is judged like a student's wrong answer."""
    forged = json.loads(json.dumps(wire.encode(right_data["ex3_check"])))
    forged["cases"][1]["value"] = {"type": "float", "value": 0.5}
    assert check.ex3.decide(wire.decode(forged), 0).mistake == "wrong accuracy"
    forged = wire.loads(wire.dumps(right_data["ex2_check"]))
    forged["effect"] = plain((0.02, 5e300))
    assert check.ex2.decide(forged, 0).mistake == "percent"
    forged = wire.loads(wire.dumps(right_data["ex1_check"]))
    forged["training"] = forged["training"] * 3.0
    assert check.ex1.decide(forged, 0).mistake == "values outside [0, 1]"


def test_the_judges_run_without_tensorflow() -> None:
    """Importing the module and judging right data (made with NumPy alone) never imports Keras."""
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from augcourse.checks import experiment as check, digits, wire
        from augcourse.checks.exercise import plain

        seed = 5
        images = digits.sample(seed, size=check.DIGIT_SIZE)
        shifted = np.roll(images, 1, axis=2)
        shifted[:, :, 0] = 0
        ex1 = {
            "layers": [{"class": "RandomTranslation", "config": {"height_factor": 0.1,
                        "width_factor": 0.1, "fill_mode": "constant", "fill_value": 0.0}}],
            "inference": images, "training": np.stack([shifted] * 3),
        }
        cases = check.effect_cases(seed)
        runs = (np.array([1502, 1497, 1489]) / 1747, np.array([1412, 1424, 1393]) / 1747)
        ex2 = {"cases": [{"value": plain(check.reference_effect(*case))} for case in cases],
               "effect": plain(check.reference_effect(*runs)), "runs": [plain(run) for run in runs]}
        ex3 = {"cases": [{"value": plain(check.clean_case(seed, i).accuracy())}
               for i in range(check.CLEAN_CASES)]}
        answer = {"P1": "leaks", "P2": "sound", "P3": "noisy validation", "P4": "breaks labels",
                  "P5": "too strong", "P6": "sound"}
        for exercise, data in zip(check.EXERCISES, (ex1, ex2, ex3, plain(answer))):
            verdict = exercise.decide(wire.loads(wire.dumps(data)), seed)
            assert verdict.passed, verdict
        loaded = [name for name in ("tensorflow", "keras") if name in sys.modules]
        assert not loaded, loaded
        print("judged without TensorFlow")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "judged without TensorFlow" in done.stdout


# --- Claims of the lesson ----------------------------------------------------------------------


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


def _markdown(cell_id: str) -> str:
    notebook = nbformat.read(SOLUTION, as_version=4)
    return next(cell.source for cell in notebook.cells if cell.get("id") == cell_id)


def test_exercise_1_states_the_rule_the_check_applies() -> None:
    text = " ".join(_markdown("ex1").split())
    assert f"calls it on {digits.COUNT} digits" in text
    for layer in digits.ALLOWED:
        assert f"`{layer}`" in text
    assert "RandomFlip" not in digits.ALLOWED and "no flips" in text
    assert f"at most {digits.MAX_TURN:g} of a full turn ({digits.MAX_TURN * 360:.0f}°)" in text
    assert (
        digits.MAX_ZOOM == digits.MAX_SHIFT and f"zooms and shifts of at most {digits.MAX_ZOOM:.0%}" in text
    )
    assert f'fill_mode="{digits.FILL_MODE}"' in text and f"fill_value={digits.FILL_VALUE:g}" in text
    assert f"value_range={tuple(int(v) for v in digits.VALUE_RANGE)}" in text
    limits = f"at most {digits.MAX_BRIGHTNESS:g} (brightness) and {digits.MAX_CONTRAST:g} (contrast)"
    assert limits in text
    assert "source material" not in _markdown("overview")


def test_the_default_fill_copies_strokes_into_the_border() -> None:
    """Exercise 1's text: the default fill_mode is "reflect", which puts ink where "constant" puts 0."""
    assert keras.layers.RandomZoom(0.1).get_config()["fill_mode"] == "reflect"
    assert keras.layers.RandomRotation(0.1).get_config()["fill_mode"] == "reflect"
    images = digits.sample(0, count=200, size=16)
    border = np.ones((16, 16), dtype=bool)
    border[2:-2, 2:-2] = False  # zooming out by 40% uncovers at least 2 pixels at each edge
    out = {
        mode: np.asarray(keras.layers.RandomZoom((0.4, 0.4), fill_mode=mode)(images, training=True))[..., 0]
        for mode in ("reflect", "constant")
    }
    assert np.abs(out["constant"][:, border]).max() < 1e-6
    assert out["reflect"][:, border].sum(axis=1).max() > 1.0


def test_exercise_3_describes_the_check_s_test_models() -> None:
    text = " ".join(_markdown("ex3").split())
    assert check.IMAGE_SHAPE == (8, 8, 1) and "(8×8 images, one augmentation layer)" in text
    model = check.clean_model(check.clean_case(0, 0))
    assert [type(layer).__name__ for layer in model.layers] == ["RandomRotation", "Flatten", "Dense"]


def test_runs_are_reproducible_from_their_seed() -> None:
    split = data.digit_split()
    runs = [data.train_cnn(split, partial(data.augmentation, 1.0), seed=5, epochs=8) for _ in range(2)]
    assert runs[0].history == runs[1].history
    assert runs[0].val_epochs == [8]


def test_the_lessons_experiment_gives_an_effect_the_check_accepts(experiment: Experiment) -> None:
    val_with, val_without = experiment.val("with"), experiment.val("without")
    paired_effect = define(REFERENCE_EFFECT, "paired_effect")
    assert judged(
        check.ex2, paired_effect, paired_effect(val_with, val_without), val_with, val_without
    ).passed
    assert paired_effect(val_with, val_without) == data.paired_effect(val_with, val_without)


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
    predicted = model.predict(split.x_train, verbose=0).argmax(axis=1)
    assert np.mean(predicted == split.y_train) == clean


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
