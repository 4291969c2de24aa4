"""Lesson 03_metrics_evaluation: its exercises against right and wrong answers, and its claims.

Every exercise is tested on the path grading takes: the probe gathers the answer on a seed, the
data crosses the wire, and the judge decides on it (see :func:`decide`).
"""

from __future__ import annotations

import contextlib
import math
import subprocess
import sys
import textwrap
from typing import Any

import keras
import nbformat
import numpy as np
import pytest
import tensorflow as tf

from augcourse import data
from augcourse.checks import CheckFailed, wire
from augcourse.checks import metrics as check
from augcourse.checks.exercise import MISSING, Exercise, Verdict
from grader.answers import reference_answers
from tests.conftest import ROOT

LESSON = "03_metrics_evaluation"
SOLUTION = ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
RELEASE = ROOT / "notebooks" / LESSON / f"{LESSON}.ipynb"
SEED = 42  # the notebook's SEED
SEEDS = (0, 7, 2**31 - 2)  # the practice seed, a hidden test's seed, a grading-sized one
RECALL_TARGET = 0.9
CAT, DOG = 0, 1


def decide(exercise: Exercise, values: tuple[Any, ...], seed: int) -> Verdict:
    """What grading decides: the probe on ``seed``, the data over the wire, the judge."""
    return exercise.judged(values, seed)


def define(source: str, name: str, **namespace: Any) -> Any:
    """``name`` as defined by a student's code ``source`` (dedented), run with ``np`` and ``tf``."""
    scope: dict[str, Any] = {"np": np, "tf": tf, "keras": keras, **namespace}
    exec(textwrap.dedent(source), scope)
    return scope[name]


def run_cell(source: str, **namespace: Any) -> dict[str, Any]:
    """Run an answer cell as the notebook would; a ``NotImplementedError`` stops it, as in a kernel."""
    scope: dict[str, Any] = {"np": np, "tf": tf, "keras": keras, **namespace}
    with contextlib.suppress(NotImplementedError):
        exec(source, scope)
    return scope


class AlwaysEqual(float):
    """An answer that claims to equal anything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = float.__hash__


class AlwaysEqualStr(str):
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = str.__hash__


# --- Fixtures: the lesson's models, built once ----------------------------------------------


@pytest.fixture(scope="module")
def screening() -> data.Screening:
    return data.screening_data(seed=SEED)


@pytest.fixture(scope="module")
def fitted(screening: data.Screening) -> data.Logistic:
    return data.fit_screening(screening)


@pytest.fixture(scope="module")
def classifier(fitted: data.Logistic) -> keras.Model:
    return data.screening_classifier(fitted)


@pytest.fixture(scope="module")
def scores(screening: data.Screening, classifier: keras.Model) -> dict[str, np.ndarray]:
    """The notebook's float32 Keras scores, per split."""
    return {
        name: classifier.predict(getattr(screening, name)[0], verbose=0).ravel()
        for name in ("train", "val", "test")
    }


@pytest.fixture(scope="module")
def answers() -> dict[str, str]:
    return reference_answers(SOLUTION)


@pytest.fixture(scope="module")
def stubs() -> dict[str, str]:
    release = nbformat.read(RELEASE, as_version=4)
    return {
        cell.metadata.nbgrader["grade_id"]: cell.source
        for cell in release.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


@pytest.fixture(scope="module")
def reference(answers: dict[str, str], screening: data.Screening, scores: dict) -> dict[str, Any]:
    """The reference solution's objects, defined as in the notebook."""
    scope = run_cell(answers["ex1_answer"])
    scope = run_cell(answers["ex2_answer"], y_val=screening.val[1], p_val=scores["val"], **scope)
    return run_cell(answers["ex3_answer"], **scope)


@pytest.fixture(scope="module")
def runs() -> tuple[data.Split, dict[str, data.Run]]:
    """Section 1: the digits CNN without and with augmentation, seed 42."""
    split = data.digit_split()
    return split, {
        "without": data.train_cnn(split, None, seed=SEED),
        "with": data.train_cnn(split, lambda: data.augmentation(1.0), seed=SEED),
    }


@pytest.fixture(scope="module")
def detectors() -> tuple[data.Split, dict[str, keras.Model]]:
    """Section 4.2: the baseline fraud detector and the two remedies, seed 42."""
    cards = data.transactions()
    weights = data.class_weights(cards.y_train)
    return cards, {
        "baseline": data.train_fraud_classifier(cards.x_train, cards.y_train, seed=SEED),
        "class weights": data.train_fraud_classifier(cards.x_train, cards.y_train, weights, seed=SEED),
        "oversampled": data.train_fraud_classifier(
            *data.oversample(cards.x_train, cards.y_train, seed=SEED), seed=SEED
        ),
    }


def keras_pr(labels: object, predictions: object, **options: Any) -> tuple[float, float]:
    precision, recall = keras.metrics.Precision(**options), keras.metrics.Recall(**options)
    precision.update_state(labels, predictions)
    recall.update_state(labels, predictions)
    return float(precision.result()), float(recall.result())


# --- The judges need no TensorFlow --------------------------------------------------------------


def test_the_judges_import_and_judge_without_tensorflow() -> None:
    code = textwrap.dedent(
        """
        import sys
        from augcourse.checks import metrics
        from augcourse.checks.exercise import Verdict
        assert not {"tensorflow", "keras"} & set(sys.modules), "importing the judges imports TensorFlow"
        sys.modules["tensorflow"] = sys.modules["keras"] = None  # from here, any import of them fails
        verdict = metrics.ex2.decide({"results": [], "threshold": {"type": "float", "value": 0.2}}, 0)
        assert isinstance(verdict, Verdict) and not verdict.passed
        assert len(metrics.screening_reference()["val"][1]) == 114
        assert metrics.ex3.decide({"type": "dict", "entries": []}, 0).mistake == "wrong keys"
        import numpy as np
        from augcourse import data
        def prf(cm, k):
            p, r = cm[k, k] / cm[:, k].sum(), cm[k, k] / cm[k].sum()
            return p, r, 2 * p * r / (p + r)
        y_val, p_val = metrics.screening_reference()["val"]
        threshold = data.highest_threshold(y_val, p_val, 0.9)
        assert metrics.ex1.decide(metrics.ex1.gather([prf], 5), 5).passed
        assert metrics.ex2.decide(metrics.ex2.gather([data.highest_threshold, threshold], 5), 5).passed
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_graded_cell_has_its_exercise() -> None:
    notebook = nbformat.read(SOLUTION, as_version=4)
    graded = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert [c.metadata.nbgrader["grade_id"] for c in graded] == [e.grade_id for e in check.EXERCISES]
    for cell, exercise in zip(graded, check.EXERCISES, strict=True):
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        assert f"check.{exercise.grade_id.removesuffix('_check')}(" in visible


# --- Exercise 1: precision, recall and F1 ---------------------------------------------------

RIGHT_PRF = {
    "loops over plain lists, returns a list": """
        def precision_recall_f1(cm, positive):
            rows = [list(map(int, row)) for row in cm]
            tp = rows[positive][positive]
            predicted = 0
            for row in rows:
                predicted += row[positive]
            actual = sum(rows[positive])
            p, r = tp / predicted, tp / actual
            return [p, r, 2 * p * r / (p + r)]
    """,
    "TensorFlow ops, tensors out": """
        def precision_recall_f1(cm, positive):
            cm = tf.constant(cm, dtype=tf.float64)
            tp = cm[positive, positive]
            p = tp / tf.reduce_sum(cm[:, positive])
            r = tp / tf.reduce_sum(cm[positive, :])
            return p, r, 2 / (1 / p + 1 / r)
    """,
    "scikit-learn on rebuilt labels": """
        from sklearn.metrics import f1_score, precision_score, recall_score
        def precision_recall_f1(cm, positive):
            cm = np.asarray(cm)
            true, pred = np.nonzero(np.ones_like(cm))
            y_true, y_pred = np.repeat(true, cm.ravel()), np.repeat(pred, cm.ravel())
            y_true, y_pred = y_true == positive, y_pred == positive
            return precision_score(y_true, y_pred), recall_score(y_true, y_pred), f1_score(y_true, y_pred)
    """,
    "one NumPy array of three, float32": """
        def precision_recall_f1(cm, positive):
            cm = np.asarray(cm, dtype=np.float32)
            tp = cm[positive, positive]
            p, r = tp / cm.sum(axis=0)[positive], tp / cm.sum(axis=1)[positive]
            return np.array([p, r, 2 * p * r / (p + r)])
    """,
}

_PRF = """
        def parts(cm, positive):
            cm = np.asarray(cm, dtype=float)
            tp = cm[positive, positive]
            return tp / cm[:, positive].sum(), tp / cm[positive, :].sum()
"""

WRONG_PRF: dict[str, tuple[str, str, str]] = {
    "precision from the row, recall from the column": (
        """
        def precision_recall_f1(cm, positive):
            tp = cm[positive, positive]
            p, r = tp / cm[positive, :].sum(), tp / cm[:, positive].sum()
            return p, r, 2 * p * r / (p + r)
        """,
        "precision and recall swapped",
        "swapped",
    ),
    "F1 as the arithmetic mean": (
        _PRF
        + """
        def precision_recall_f1(cm, positive):
            p, r = parts(cm, positive)
            return p, r, (p + r) / 2
        """,
        "F1 arithmetic mean",
        "harmonic mean",
    ),
    "F1 without the factor 2": (
        _PRF
        + """
        def precision_recall_f1(cm, positive):
            p, r = parts(cm, positive)
            return p, r, p * r / (p + r)
        """,
        "F1 wrong",
        "F1 is not",
    ),
    "percentages": (
        _PRF
        + """
        def precision_recall_f1(cm, positive):
            p, r = parts(cm, positive)
            return 100 * p, 100 * r, 100 * 2 * p * r / (p + r)
        """,
        "percentages",
        "not percentages",
    ),
    "rounded to 3 decimals, as printed": (
        _PRF
        + """
        def precision_recall_f1(cm, positive):
            p, r = parts(cm, positive)
            return round(p, 3), round(r, 3), round(2 * p * r / (p + r), 3)
        """,
        "rounded",
        "do not round",
    ),
    "always scores class 0": (
        _PRF
        + """
        def precision_recall_f1(cm, positive):
            p, r = parts(cm, 0)
            return p, r, 2 * p * r / (p + r)
        """,
        "another class",
        "another class",
    ),
    "accuracy for all three": (
        """
        def precision_recall_f1(cm, positive):
            accuracy = np.trace(cm) / np.sum(cm)
            return accuracy, accuracy, accuracy
        """,
        "accuracy",
        "accuracy",
    ),
    "only two classes in mind": (
        """
        def precision_recall_f1(cm, positive):
            tp = cm[positive, positive]
            fp, fn = cm[1 - positive, positive], cm[positive, 1 - positive]
            p, r = tp / (tp + fp), tp / (tp + fn)
            return p, r, 2 * p * r / (p + r)
        """,
        "two classes only",
        "two classes",
    ),
    "divides by the total": (
        """
        def precision_recall_f1(cm, positive):
            tp = cm[positive, positive]
            p, r = tp / cm.sum(), tp / cm[positive, :].sum()
            return p, r, 2 * p * r / (p + r)
        """,
        "formula wrong",
        "not right",
    ),
    "returns precision and recall only": (
        _PRF
        + """
        def precision_recall_f1(cm, positive):
            return parts(cm, positive)
        """,
        "not three numbers",
        "3 numbers",
    ),
    "prints instead of returning": (
        _PRF
        + """
        def precision_recall_f1(cm, positive):
            p, r = parts(cm, positive)
            print(p, r, 2 * p * r / (p + r))
        """,
        "returns None",
        "None",
    ),
    "formatted strings": (
        _PRF
        + """
        def precision_recall_f1(cm, positive):
            p, r = parts(cm, positive)
            return f"{p:.3f}", f"{r:.3f}", f"{2 * p * r / (p + r):.3f}"
        """,
        "not a number",
        "must be a number",
    ),
}


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_precision_recall_f1_passes(reference: dict, seed: int) -> None:
    verdict = decide(check.ex1, (reference["precision_recall_f1"],), seed)
    assert verdict.passed, verdict


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("style", RIGHT_PRF)
def test_right_precision_recall_f1_in_other_styles_passes(style: str, seed: int) -> None:
    verdict = decide(check.ex1, (define(RIGHT_PRF[style], "precision_recall_f1"),), seed)
    assert verdict.passed, verdict


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("name", WRONG_PRF)
def test_wrong_precision_recall_f1_fails_with_its_mistake(name: str, seed: int) -> None:
    source, mistake, words = WRONG_PRF[name]
    verdict = decide(check.ex1, (define(source, "precision_recall_f1"),), seed)
    assert not verdict.passed
    assert verdict.mistake == mistake, verdict
    assert words in verdict.message, verdict.message


def test_precision_recall_f1_messages_never_give_the_answer() -> None:
    for source, _, _ in WRONG_PRF.values():
        verdict = decide(check.ex1, (define(source, "precision_recall_f1"),), 0)
        for cm, positive in check.matrix_cases(0):
            for value in check.reference_prf(cm, positive):
                assert f"{value:.3f}" not in verdict.message and f"{value:.2f}" not in verdict.message


def test_precision_recall_f1_stub_is_not_written(stubs: dict[str, str]) -> None:
    stub = run_cell(stubs["ex1_answer"])["precision_recall_f1"]
    verdict = decide(check.ex1, (stub,), 0)
    assert (verdict.passed, verdict.mistake) == (False, "not written")
    assert decide(check.ex1, (MISSING,), 0).mistake == "not defined"
    assert decide(check.ex1, (None,), 0).mistake == "not a function"


def test_matrix_cases_differ_by_seed_and_score_several_classes() -> None:
    cases = [check.matrix_cases(seed) for seed in SEEDS]
    assert [cm.shape for cm, _ in cases[0]] == [(2, 2), (3, 3), (4, 4), (5, 5)]
    assert not np.array_equal(cases[0][1][0], cases[1][1][0])
    assert all(positive != 0 for cm, positive in cases[0][1:])


# --- Exercise 2: the threshold for a recall target ------------------------------------------

RIGHT_THRESHOLD = {
    "loop over candidate thresholds, highest first": """
        def threshold_for_recall(y_true, scores, target):
            positives = sum(1 for y in y_true if y == 1)
            for t in sorted(set(scores), reverse=True):
                caught = sum(1 for y, s in zip(y_true, scores) if y == 1 and s >= t)
                if caught / positives >= target:
                    return t
    """,
    "scikit-learn's roc_curve": """
        from sklearn.metrics import roc_curve
        def threshold_for_recall(y_true, scores, target):
            _, tpr, thresholds = roc_curve(y_true, scores, drop_intermediate=False)
            return float(thresholds[np.argmax(tpr >= target)])
    """,
    "TensorFlow, float32 tensor out": """
        def threshold_for_recall(y_true, scores, target):
            positive = tf.boolean_mask(tf.constant(scores, tf.float32), y_true == 1)
            positive = tf.sort(positive, direction="DESCENDING")
            needed = int(np.ceil(target * int(tf.size(positive))))
            return positive[needed - 1]
    """,
}

WRONG_THRESHOLD: dict[str, tuple[str, str, str]] = {
    "returns the target": (
        "def threshold_for_recall(y_true, scores, target):\n    return target",
        "threshold is the target",
        "recall target",
    ),
    "the default threshold": (
        "def threshold_for_recall(y_true, scores, target):\n    return 0.5",
        "fixed 0.5",
        "default threshold",
    ),
    "lowest positive score, target ignored": (
        "def threshold_for_recall(y_true, scores, target):\n    return float(np.min(scores[y_true == 1]))",
        "ignores the target",
        "whatever the target",
    ),
    "rounds the count of positives down": """
        def threshold_for_recall(y_true, scores, target):
            positive = np.sort(scores[y_true == 1])[::-1]
            return float(positive[max(int(target * len(positive)), 1) - 1])
    """,
    "flags score > t, so steps one positive further": """
        def threshold_for_recall(y_true, scores, target):
            positive = np.sort(scores[y_true == 1])[::-1]
            needed = int(np.ceil(target * len(positive)))
            return float(positive[needed])
    """,
    "quantile of all scores": (
        "def threshold_for_recall(y_true, scores, target):\n    return np.quantile(scores, 1 - target)",
        "quantile of all scores",
        "negatives included",
    ),
    "rounded to 3 decimals": """
        def threshold_for_recall(y_true, scores, target):
            positive = np.sort(scores[y_true == 1])[::-1]
            return round(float(positive[int(np.ceil(target * len(positive))) - 1]), 3)
    """,
    "returns the position, not the score": """
        def threshold_for_recall(y_true, scores, target):
            positive = np.sort(scores[y_true == 1])[::-1]
            return int(np.ceil(target * len(positive))) - 1
    """,
    "a one-element array": """
        def threshold_for_recall(y_true, scores, target):
            positive = np.sort(scores[y_true == 1])[::-1]
            return positive[int(np.ceil(target * len(positive))) - 1 :][:1]
    """,
}
WRONG_THRESHOLD_KINDS = {
    "rounds the count of positives down": ("one positive short", "round the count up"),
    "flags score > t, so steps one positive further": ("one positive too many", "one positive more"),
    "rounded to 3 decimals": ("rounded", "do not round"),
    "returns the position, not the score": ("recall below target", "short of the"),
    "a one-element array": ("array, not a number", "not a number"),
}


def _wrong_threshold(name: str) -> tuple[str, str, str]:
    entry = WRONG_THRESHOLD[name]
    return entry if isinstance(entry, tuple) else (entry, *WRONG_THRESHOLD_KINDS[name])


@pytest.mark.parametrize("seed", SEEDS)
def test_reference_threshold_passes(reference: dict, seed: int) -> None:
    verdict = decide(check.ex2, (reference["threshold_for_recall"], reference["screening_threshold"]), seed)
    assert verdict.passed, verdict
    assert "90.7%" in verdict.message  # the recall the threshold reaches on the validation data


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("style", RIGHT_THRESHOLD)
def test_right_threshold_function_in_other_styles_passes(
    style: str, seed: int, screening: data.Screening, scores: dict
) -> None:
    function = define(RIGHT_THRESHOLD[style], "threshold_for_recall")
    chosen = function(screening.val[1], scores["val"], RECALL_TARGET)
    verdict = decide(check.ex2, (function, chosen), seed)
    assert verdict.passed, verdict


def test_any_screening_threshold_that_flags_the_same_patients_passes(
    reference: dict, screening: data.Screening, scores: dict
) -> None:
    p_val = scores["val"]
    best = reference["screening_threshold"]
    below = float(p_val[p_val < best].max())
    for value in (best, np.float32(best), (best + below) / 2, round(best, 2), tf.constant(best)):
        verdict = decide(check.ex2, (reference["threshold_for_recall"], value), 0)
        assert verdict.passed, (value, verdict)


@pytest.mark.parametrize("seed", SEEDS[:2])
@pytest.mark.parametrize("name", WRONG_THRESHOLD)
def test_wrong_threshold_function_fails_with_its_mistake(name: str, seed: int, reference: dict) -> None:
    source, mistake, words = _wrong_threshold(name)
    function = define(source, "threshold_for_recall")
    verdict = decide(check.ex2, (function, reference["screening_threshold"]), seed)
    assert not verdict.passed
    assert verdict.mistake == mistake, verdict
    assert words in verdict.message, verdict.message


def _on(split: str, screening: data.Screening, scores: dict, target: float = RECALL_TARGET) -> float:
    return data.highest_threshold(getattr(screening, split)[1], scores[split], target)


@pytest.mark.parametrize(
    ("answer", "mistake", "words"),
    [
        (lambda s, p: _on("test", s, p), "threshold from test data", "test set is kept"),
        (lambda s, p: _on("train", s, p), "threshold from training data", "training patients"),
        (lambda s, p: 0.5, "fixed 0.5", "default threshold"),
        (lambda s, p: round(_on("val", s, p), 3), "rounded", "do not round"),
        (lambda s, p: RECALL_TARGET, "threshold is the target", "recall target"),
        (lambda s, p: _on("val", s, p, 0.97), "threshold too low", "higher threshold"),
        (
            lambda s, p: float(np.nextafter(np.float32(_on("val", s, p, 0.8)), 1.0)),
            "recall below target",
            "short of",
        ),
        (lambda s, p: None, "not answered", "not set yet"),
        (lambda s, p: "0.24", "not a number", "must be a number"),
        (lambda s, p: AlwaysEqual(0.24), "not a number", "must be a number"),
        (lambda s, p: float("nan"), "not finite", "not a finite number"),
    ],
)
def test_wrong_screening_threshold_fails_with_its_mistake(
    answer: Any, mistake: str, words: str, reference: dict, screening: data.Screening, scores: dict
) -> None:
    for seed in SEEDS[:2]:
        verdict = decide(check.ex2, (reference["threshold_for_recall"], answer(screening, scores)), seed)
        assert (verdict.passed, verdict.mistake) == (False, mistake), verdict
        assert words in verdict.message, verdict.message
        assert f"{reference['screening_threshold']:.3f}" not in verdict.message


def test_threshold_stub_is_not_written(
    stubs: dict[str, str], screening: data.Screening, scores: dict
) -> None:
    scope = run_cell(stubs["ex2_answer"], y_val=screening.val[1], p_val=scores["val"])
    verdict = decide(check.ex2, (scope["threshold_for_recall"], scope["screening_threshold"]), 0)
    assert (verdict.passed, verdict.mistake) == (False, "not written")


def test_threshold_cases_are_fair() -> None:
    """Scores apart, targets exact in floating point, a whole and a fractional count of positives."""
    for seed in SEEDS:
        cases = check.threshold_cases(seed)
        for y_true, scores, target in cases:
            assert np.min(np.diff(np.sort(scores))) >= 2e-4
            assert math.ceil(target * y_true.sum()) == math.ceil(target * y_true.sum() - 1e-9)
        assert [float(t * y.sum()).is_integer() for y, _, t in cases[:2]] == [False, True]
        assert cases[3][2] == 1.0


def test_the_judge_rebuilds_the_notebooks_scores(screening: data.Screening, scores: dict) -> None:
    """The Keras model of the notebook and the judge's NumPy model flag the same patients."""
    rebuilt = check.screening_reference()
    for split in ("train", "val", "test"):
        labels, judged = rebuilt[split]
        np.testing.assert_array_equal(labels, getattr(screening, split)[1])
        np.testing.assert_allclose(judged, scores[split], atol=1e-6)
        kernel_best = data.highest_threshold(labels, scores[split], RECALL_TARGET)
        judge_best = data.highest_threshold(labels, judged, RECALL_TARGET)
        assert kernel_best == pytest.approx(judge_best, abs=1e-6)
        near = np.abs(judged - judge_best)
        assert np.sort(near)[1] > 10 * check.LESSON_TOLERANCE, "no other score is within the tolerance"


def test_thresholds_on_train_val_and_test_flag_different_validation_patients(
    screening: data.Screening, scores: dict
) -> None:
    p_val = scores["val"]
    flagged = {split: tuple(p_val >= _on(split, screening, scores)) for split in ("train", "val", "test")}
    assert len(set(flagged.values())) == 3


# --- Exercise 3: the diagnosis --------------------------------------------------------------

DIAGNOSIS = {
    "A": "overfits",
    "B": "ready",
    "C": "misses positives",
    "D": "underfits",
    "E": "cannot tell",
    "F": "misses positives",
}

RIGHT_DIAGNOSIS = {
    "upper case, underscores": {k: v.upper().replace(" ", "_") for k, v in DIAGNOSIS.items()},
    "hyphens and spaces": {k: f"  {v.replace(' ', '-')} " for k, v in DIAGNOSIS.items()},
    "built with zip": dict(zip("ABCDEF", [DIAGNOSIS[k] for k in "ABCDEF"], strict=True)),
}

WRONG_DIAGNOSIS: dict[str, tuple[object, str, str]] = {
    "trusts accuracy on rare fraud": ({**DIAGNOSIS, "C": "ready"}, "C judged ready", "model C"),
    "trusts precision without recall": ({**DIAGNOSIS, "F": "ready"}, "F judged ready", "model F"),
    "swaps over- and underfitting": (
        {**DIAGNOSIS, "A": "underfits", "D": "overfits"},
        "A judged underfits",
        "2 of 6",
    ),
    "reads augmented training numbers as underfitting": (
        {**DIAGNOSIS, "B": "underfits"},
        "B judged underfits",
        "model B",
    ),
    "trusts training numbers alone": ({**DIAGNOSIS, "E": "ready"}, "E judged ready", "model E"),
    "reads rare-class trouble as underfitting": (
        {**DIAGNOSIS, "C": "underfits"},
        "C judged underfits",
        "model C",
    ),
    "a verdict of its own": ({**DIAGNOSIS, "C": "production ready"}, "unknown verdict", "not one of"),
    "a bool": ({**DIAGNOSIS, "C": False}, "not a str", "in quotes"),
    "claims to equal anything": ({**DIAGNOSIS, "A": AlwaysEqualStr("ready")}, "not a str", "in quotes"),
    "a list": (list(DIAGNOSIS.values()), "not a dict", "must be a dict"),
    "a model missing": ({k: v for k, v in DIAGNOSIS.items() if k != "E"}, "wrong keys", "exactly one"),
    "an extra model": ({**DIAGNOSIS, "G": "ready"}, "wrong keys", "exactly one"),
    "one left unanswered": ({**DIAGNOSIS, "D": None}, "not answered", "no verdict yet"),
}


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_reference_diagnosis_passes(reference: dict, seed: int) -> None:
    assert reference["diagnosis"] == DIAGNOSIS
    assert decide(check.ex3, (reference["diagnosis"],), seed).passed


@pytest.mark.parametrize("style", RIGHT_DIAGNOSIS)
def test_right_diagnosis_in_other_spellings_passes(style: str) -> None:
    for seed in SEEDS[:2]:
        verdict = decide(check.ex3, (RIGHT_DIAGNOSIS[style],), seed)
        assert verdict.passed, verdict


@pytest.mark.parametrize("name", WRONG_DIAGNOSIS)
def test_wrong_diagnosis_fails_with_its_mistake(name: str) -> None:
    answer, mistake, words = WRONG_DIAGNOSIS[name]
    for seed in SEEDS[:2]:
        verdict = decide(check.ex3, (answer,), seed)
        assert (verdict.passed, verdict.mistake) == (False, mistake), verdict
        assert words in verdict.message, verdict.message


def test_diagnosis_stub_is_not_answered(stubs: dict[str, str]) -> None:
    verdict = decide(check.ex3, (run_cell(stubs["ex3_answer"])["diagnosis"],), 0)
    assert (verdict.passed, verdict.mistake) == (False, "not answered")


def test_verdicts_are_not_in_the_module_in_plain_text() -> None:
    source = open(check.__file__, encoding="utf-8").read()  # noqa: SIM115
    assert '"C": "misses positives"' not in source and '"A": "overfits"' not in source


def test_verdict_table_still_checks_answers_in_the_kernel() -> None:
    """Lesson 4 uses the table directly: its check of a dict, normalize and wrong keep working."""
    check.TABLE.check(DIAGNOSIS, check.MODELS)
    assert check.TABLE.normalize(" Misses_Positives ", "C") == "misses positives"
    assert check.TABLE.wrong({**DIAGNOSIS, "C": "ready"}, check.MODELS) == ["C"]
    with pytest.raises(CheckFailed, match="1 of 6") as failure:
        check.TABLE.check({**DIAGNOSIS, "F": "ready"}, check.MODELS)
    assert failure.value.mistake == "F judged ready"


# --- Forged and malformed probe data ----------------------------------------------------------

NAN = {"type": "float", "value": float("nan")}
HUGE = {"type": "int", "value": 10**400}
FORGED = [
    None,
    {},
    [],
    "right",
    12,
    {"results": "all right"},
    {"results": [None] * 4},
    {"results": [{}] * 4},
    {"results": [{"value": NAN}] * 4},
    {"results": [{"value": {"type": "tuple", "items": [NAN] * 3}}] * 4},
    {"results": [{"value": {"type": "tuple", "items": [HUGE] * 3}}] * 4},
    {"results": [{"value": {"type": "float", "value": 1e308}}] * 4, "threshold": HUGE},
    {"results": [{"value": {"type": "float"}}] * 4, "threshold": {"type": "float", "value": "0.2"}},
    {"results": [{"value": {"type": "numpy.float64", "value": np.zeros((2, 2))}}] * 4},
    {"results": [{"raised": "ValueError"}] * 4},
    {"results": [{"value": {"type": "tuple", "items": [{"type": "float", "value": [1, 2]}] * 3}}] * 4},
    {"type": "dict", "entries": "A"},
    {"type": "dict", "entries": [[{"type": "str", "value": "A"}]]},
    {"type": "dict", "entries": [[{"type": "int", "value": 1}, {"type": "str", "value": "ready"}]]},
    {"type": "dict", "entries": [["A", "ready"]] * 6},
    {"missing": ["diagnosis"]},
    {"probe_error": "RecursionError: " + "x" * 10_000},
    {"not_callable": {"nested": []}},
]


@pytest.mark.parametrize("exercise", check.EXERCISES, ids=lambda e: e.grade_id)
def test_forged_data_fails_with_a_message(exercise: Exercise) -> None:
    for forged in FORGED:
        for seed in (0, -5, 2**40):
            verdict = exercise.decide(wire.loads(wire.dumps(forged)), seed)
            assert not verdict.passed, (forged, verdict)
            assert verdict.message and verdict.mistake and len(verdict.message) < 2000, verdict


def test_forged_right_data_from_another_seed_fails(reference: dict) -> None:
    """A right answer's data replayed on the grading seed's inputs is not a right answer there."""
    for exercise, values in [
        (check.ex1, (reference["precision_recall_f1"],)),
        (check.ex2, (reference["threshold_for_recall"], reference["screening_threshold"])),
    ]:
        recorded = wire.loads(wire.dumps(exercise.gather(list(values), 0)))
        assert exercise.decide(recorded, 0).passed
        assert not exercise.decide(recorded, 7).passed


def test_as_number_reads_numbers_with_numpy_only() -> None:
    """Kept for the lessons that read a scalar answer: plain numbers, NumPy scalars, scalar tensors."""
    for value in (0.5, 1, np.float32(0.5), np.int64(3), np.array(0.25), tf.constant(0.5)):
        assert check.as_number(value, "x") == float(value)
    for value in ("0.5", None, True, AlwaysEqual(0.5), [0.5], np.array([0.5, 0.1])):
        with pytest.raises(CheckFailed):
            check.as_number(value, "x")


# --- Claims of the lesson, section 1: is augmentation working? ----------------------------------


def test_augmentation_prevents_overfitting_on_fifty_digits(runs: tuple) -> None:
    _, run = runs
    without, with_aug = run["without"], run["with"]
    # without: training loss near zero; validation loss lowest early, then rising
    assert without.final("loss") < 0.01
    lowest = int(np.argmin(without.history["val_loss"]))
    assert lowest < len(without.val_epochs) - 2
    assert without.final("val_loss") > 1.2 * without.history["val_loss"][lowest]
    # with: training loss higher, validation loss still falling at the end, far lower, near training
    assert with_aug.final("loss") > 10 * without.final("loss")
    assert with_aug.final("val_loss") <= 1.05 * min(with_aug.history["val_loss"])
    assert with_aug.final("val_loss") < 0.6 * without.final("val_loss")
    assert abs(with_aug.final("val_loss") - with_aug.final("loss")) < 0.15
    assert with_aug.final("val_accuracy") > without.final("val_accuracy") + 0.02


def test_augmented_training_accuracy_is_measured_on_augmented_batches(runs: tuple) -> None:
    split, run = runs
    with_aug = run["with"]
    assert with_aug.final("accuracy") < run["without"].final("accuracy") - 0.05
    assert with_aug.final("accuracy") < data.accuracy(with_aug.model, split.x_train, split.y_train) - 0.05


def test_per_digit_gains_are_uneven(runs: tuple, reference: dict) -> None:
    split, run = runs
    prf = reference["precision_recall_f1"]
    per_digit = {
        name: np.array([prf(data.confusion(r.model, split.x_val, split.y_val), d) for d in range(10)])
        for name, r in run.items()
    }
    before, after = per_digit["without"], per_digit["with"]
    assert np.sum(after[:, 1] > before[:, 1]) > 5, "most digits are found more often"
    assert np.any((after[:, :2] < before[:, :2]).any(axis=1)), "some digit loses precision or recall"


def test_training_metrics_alone_mislead(runs: tuple) -> None:
    split, run = runs
    without = run["without"]
    assert data.accuracy(without.model, split.x_train, split.y_train) >= 0.99
    assert without.final("val_accuracy") <= without.final("accuracy") - 0.1
    assert without.final("val_loss") > 10 * without.final("loss")


# --- Section 2: the confusion matrix -----------------------------------------------------------


def test_seed_confusion_matrix(reference: dict) -> None:
    y_true = np.array([CAT] * 50 + [DOG] * 50)
    y_pred = np.array([CAT] * 45 + [DOG] * 5 + [CAT] * 7 + [DOG] * 43)
    cm = tf.math.confusion_matrix(y_true, y_pred).numpy()
    np.testing.assert_array_equal(cm, [[45, 5], [7, 43]])
    np.testing.assert_array_equal(tf.math.confusion_matrix(y_pred, y_true).numpy(), cm.T)
    np.testing.assert_array_equal(
        tf.math.confusion_matrix(1 - y_true, 1 - y_pred).numpy(), [[43, 7], [5, 45]]
    )
    p, r, _ = reference["precision_recall_f1"](cm, CAT)
    assert round(p, 3) == 0.865 and round(r, 3) == 0.900
    assert np.allclose(keras_pr(y_true == CAT, y_pred == CAT), (45 / 52, 45 / 50), atol=1e-6)
    assert np.allclose(keras_pr(y_true, y_pred), (43 / 48, 43 / 50), atol=1e-6)


# --- Section 3: the screening model and its threshold ---------------------------------------


def test_the_numpy_fit_is_the_optimum_of_the_keras_loss(
    screening: data.Screening, fitted: data.Logistic, classifier: keras.Model
) -> None:
    """Newton's method solves the problem model.fit would: binary cross-entropy plus the penalty."""
    x, y = screening.train
    weights = tf.Variable(fitted.weights.reshape(-1, 1))
    bias = tf.Variable(np.array([fitted.bias]))
    with tf.GradientTape() as tape:
        probabilities = tf.sigmoid(tf.constant(x, tf.float64) @ weights + bias)
        cross_entropy = keras.losses.binary_crossentropy(tf.constant(y[:, None], tf.float64), probabilities)
        loss = tf.reduce_sum(cross_entropy) + data.SCREENING_L2 / 2 * tf.reduce_sum(weights**2)
    gradients = tape.gradient(loss, [weights, bias])
    assert max(float(tf.reduce_max(tf.abs(g))) for g in gradients) < 1e-4
    assert [type(layer).__name__ for layer in classifier.layers] == ["Dense", "Activation"]


def test_threshold_sweep(screening: data.Screening, scores: dict) -> None:
    y_val, p_val = screening.val[1], scores["val"]
    thresholds = np.linspace(0.0, 1.0, 201)[1:-1].tolist()
    precision = np.array(keras.metrics.Precision(thresholds=thresholds)(y_val, p_val))
    recall = np.array(keras.metrics.Recall(thresholds=thresholds)(y_val, p_val))
    assert np.all(np.diff(recall) <= 0), "recall can only fall as the threshold rises"
    flagged = precision[recall > 0]
    assert flagged[-1] > flagged[0] and np.mean(np.diff(flagged) >= 0) > 0.5
    at_half = recall[thresholds.index(0.5)]
    assert at_half < 0.75, "the default threshold misses far too many for a screening test"
    missed = int(y_val.sum()) - int(np.sum(p_val[y_val == 1] > 0.5))
    assert missed == round((1 - at_half) * y_val.sum())


def test_screening_threshold_on_the_test_set(screening: data.Screening, scores: dict) -> None:
    chosen = _on("val", screening, scores)
    assert chosen < 0.5
    y_test, p_test = screening.test[1], scores["test"]
    low, default = p_test >= chosen, p_test >= 0.5
    assert keras_pr(y_test, low)[1] > keras_pr(y_test, default)[1]
    assert np.sum(low & (y_test == 0)) > np.sum(default & (y_test == 0))


def test_keras_thresholds(screening: data.Screening, scores: dict) -> None:
    """Keras flags ``score > threshold`` (0.5 by default) and reports precision 0 when nothing is flagged."""
    y_val, p_val = screening.val[1], scores["val"]
    flagged = p_val > 0.5
    expected = (np.mean(y_val[flagged] == 1), np.mean(flagged[y_val == 1]))
    assert keras_pr(y_val, p_val) == pytest.approx(expected, abs=1e-6)
    at_a_score = float(p_val[y_val == 1].max())
    assert keras_pr(y_val, p_val, thresholds=at_a_score)[1] == pytest.approx(
        (np.sum(p_val[y_val == 1] > at_a_score)) / np.sum(y_val == 1)
    )
    assert keras_pr(y_val, p_val, thresholds=at_a_score)[1] < np.mean(p_val[y_val == 1] >= at_a_score)
    assert keras_pr(y_val, p_val, thresholds=0.999) == (0.0, 0.0)


# --- Section 4: the accuracy paradox and its remedies ------------------------------------------


def test_accuracy_paradox() -> None:
    fraud_true, flagged = data.fraud_case()
    assert fraud_true.mean() == pytest.approx(0.02)
    for predictions, recall in [(flagged, 0.12), (np.zeros_like(fraud_true), 0.0)]:
        accuracy = keras.metrics.BinaryAccuracy()
        accuracy.update_state(fraud_true, predictions)
        assert round(float(accuracy.result()), 2) == 0.98
        assert keras_pr(fraud_true, predictions)[1] == pytest.approx(recall)
    assert np.sum((fraud_true == 1) & (flagged == 0)) == 176


def test_class_weights_make_both_classes_weigh_alike() -> None:
    cards = data.transactions()
    assert cards.y_train.mean() == pytest.approx(0.02) and len(cards.y_train) == 6000
    weights = data.class_weights(cards.y_train)
    totals = [weights[label] * np.sum(cards.y_train == label) for label in (0, 1)]
    assert totals == pytest.approx([len(cards.y_train) / 2] * 2)
    x_over, y_over = data.oversample(cards.x_train, cards.y_train, seed=SEED)
    assert y_over.mean() == 0.5 and set(map(tuple, x_over[y_over == 1])) <= set(
        map(tuple, cards.x_train[cards.y_train == 1])
    )


def test_class_weight_multiplies_each_examples_loss() -> None:
    """``fit(class_weight=...)`` trains exactly as the same weights given per example would."""
    cards = data.transactions()
    x, y = cards.x_train[:512], cards.y_train[:512]
    weights = {0: 0.5, 1: 7.0}
    trained = []
    for options in ({"class_weight": weights}, {"sample_weight": np.where(y == 1, 7.0, 0.5)}):
        keras.utils.set_random_seed(SEED)
        model = data.fraud_classifier(x.shape[1])
        model.fit(x, y, epochs=1, batch_size=256, shuffle=False, verbose=0, **options)
        trained.append(model.get_weights())
    for a, b in zip(*trained, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_remedies_trade_precision_for_recall(detectors: tuple) -> None:
    cards, models = detectors
    table = {}
    for name, model in models.items():
        scores = model.predict(cards.x_val, verbose=0).ravel()
        flagged = scores >= 0.5
        precision, recall = keras_pr(cards.y_val, flagged)
        table[name] = {
            "accuracy": float(np.mean(flagged == cards.y_val)),
            "precision": precision,
            "recall": recall,
            "PR AUC": float(keras.metrics.AUC(curve="PR")(cards.y_val, scores)),
        }
    baseline = table.pop("baseline")
    assert baseline["accuracy"] > 0.98 and baseline["recall"] < 0.5
    for remedy in table.values():
        assert remedy["recall"] >= 0.8 and remedy["recall"] > baseline["recall"] + 0.3
        assert remedy["precision"] < baseline["precision"]
        assert remedy["accuracy"] < baseline["accuracy"]
        assert remedy["PR AUC"] > baseline["PR AUC"]


# --- Section 4.4: Keras metric traps ---------------------------------------------------------


def test_precision_and_recall_on_logits_are_silently_wrong(
    screening: data.Screening, classifier: keras.Model, scores: dict
) -> None:
    y_val, p_val = screening.val[1], scores["val"]
    logits = data.logit_model(classifier).predict(screening.val[0], verbose=0).ravel()
    np.testing.assert_allclose(tf.sigmoid(logits), p_val, atol=1e-5)
    right = keras_pr(y_val, p_val)
    assert keras_pr(y_val, logits) != pytest.approx(right)
    assert keras_pr(y_val, logits, thresholds=0.0) == pytest.approx(right)
    assert keras_pr(y_val, tf.sigmoid(logits)) == pytest.approx(right)


def test_compiled_metrics_on_logits_are_silently_wrong(
    screening: data.Screening, classifier: keras.Model
) -> None:
    x_val, y_val = screening.val
    logit_model = data.logit_model(classifier)
    logit_model.compile(
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.Precision(), keras.metrics.Recall()],
    )
    _, precision, recall = logit_model.evaluate(x_val, y_val, verbose=0)
    logits = logit_model.predict(x_val, verbose=0).ravel()
    assert (precision, recall) == pytest.approx(keras_pr(y_val, logits), abs=1e-6)
    assert (precision, recall) != pytest.approx(keras_pr(y_val, tf.sigmoid(logits)), abs=1e-3)


def test_sparse_labels_traps(runs: tuple) -> None:
    split, run = runs
    probs = run["without"].model.predict(split.x_val, verbose=0)
    labels, one_hot = split.y_val, tf.one_hot(split.y_val, depth=10)
    with pytest.raises(tf.errors.InvalidArgumentError):
        keras.metrics.Precision()(labels, probs)
    predicted = probs.argmax(axis=1)
    by_hand = {
        keras.metrics.Precision: np.mean(labels[predicted == 6] == 6),
        keras.metrics.Recall: np.mean(predicted[labels == 6] == 6),
    }
    for metric, right in by_hand.items():
        assert float(metric(class_id=6, top_k=1)(one_hot, probs)) == pytest.approx(right, abs=1e-6)
        assert abs(float(metric(class_id=6, top_k=1)(labels, probs)) - right) > 0.05
        assert abs(float(metric(class_id=6)(labels, probs)) - right) > 0.05
    thresholded = float(keras.metrics.Precision(class_id=6)(one_hot, probs))
    assert thresholded != pytest.approx(by_hand[keras.metrics.Precision], abs=1e-6)
    accuracy = float(np.mean(predicted == labels))
    sparse_accuracy = float(keras.metrics.SparseCategoricalAccuracy()(labels, probs))
    assert sparse_accuracy == pytest.approx(accuracy)
    assert abs(float(keras.metrics.CategoricalAccuracy()(labels, probs)) - accuracy) > 0.3


def test_compile_accuracy_string_reads_sparse_labels(runs: tuple) -> None:
    split, run = runs
    trained = run["without"].model
    model = keras.models.clone_model(trained)
    model.set_weights(trained.get_weights())
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, accuracy = model.evaluate(split.x_val, split.y_val, verbose=0)
    assert accuracy == pytest.approx(data.accuracy(trained, split.x_val, split.y_val), abs=1e-6)
