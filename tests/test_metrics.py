"""Lesson 03_metrics_evaluation: its checks against right and wrong answers, and its claims."""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
import pytest
import tensorflow as tf

from augcourse import data
from augcourse.checks import CheckFailed
from augcourse.checks import metrics as check

RECALL_TARGET = 0.9
CAT, DOG = 0, 1
SEED = 42


# --- Reference answers, as in the solution notebook -----------------------------------------


def precision_recall_f1(cm: np.ndarray, positive: int) -> tuple[float, float, float]:
    cm = np.asarray(cm, dtype=float)
    tp = cm[positive, positive]
    precision = tp / cm[:, positive].sum()
    recall = tp / cm[positive, :].sum()
    return float(precision), float(recall), float(2 * precision * recall / (precision + recall))


def threshold_for_recall(y_true: np.ndarray, scores: np.ndarray, target: float) -> float:
    y_true, scores = np.asarray(y_true), np.asarray(scores)
    positive_scores = np.sort(scores[y_true == 1])[::-1]
    needed = max(1, int(np.ceil(target * len(positive_scores) - 1e-9)))
    return float(positive_scores[needed - 1])


DIAGNOSIS = {
    "A": "overfits",
    "B": "ready",
    "C": "misses positives",
    "D": "underfits",
    "E": "cannot tell",
    "F": "misses positives",
}


class AlwaysEqual(float):
    """An answer that claims to equal anything."""

    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = float.__hash__


@pytest.fixture(scope="module")
def cats_dogs() -> tuple[np.ndarray, np.ndarray]:
    """The seed's 100 validation images: labels and predictions."""
    y_true = np.array([CAT] * 50 + [DOG] * 50)
    y_pred = np.array([CAT] * 45 + [DOG] * 5 + [CAT] * 7 + [DOG] * 43)
    return y_true, y_pred


@pytest.fixture(scope="module")
def screening() -> data.Screening:
    return data.screening_data(seed=SEED)


@pytest.fixture(scope="module")
def screening_run(screening: data.Screening) -> tuple[keras.Model, dict[str, list[float]]]:
    return data.train_screening_model(screening, seed=SEED)


@pytest.fixture(scope="module")
def scores(screening: data.Screening, screening_run: tuple) -> dict[str, np.ndarray]:
    model = screening_run[0]
    return {
        name: model.predict(getattr(screening, name)[0], verbose=0).ravel()
        for name in ("train", "val", "test")
    }


@pytest.fixture(scope="module")
def digits_cnn() -> tuple[data.Split, data.Run]:
    split = data.digit_split()
    return split, data.train_cnn(split, seed=SEED)


def keras_pr(labels: object, predictions: object, **options: object) -> tuple[float, float]:
    precision, recall = keras.metrics.Precision(**options), keras.metrics.Recall(**options)
    precision.update_state(labels, predictions)
    recall.update_state(labels, predictions)
    return float(precision.result()), float(recall.result())


# --- Exercise 1 ------------------------------------------------------------------------------


def test_reference_precision_recall_f1_passes() -> None:
    check.precision_recall_f1(precision_recall_f1)
    check.precision_recall_f1(
        precision_recall_f1,
        [([[3, 1, 0, 0], [2, 9, 1, 0], [0, 0, 7, 3], [1, 0, 2, 11]], 3), ([[90, 10], [30, 70]], 1)],
    )


def _swapped(cm: np.ndarray, positive: int) -> tuple[float, float, float]:
    p, r, f = precision_recall_f1(cm, positive)
    return r, p, f


def _arithmetic_f1(cm: np.ndarray, positive: int) -> tuple[float, float, float]:
    p, r, _ = precision_recall_f1(cm, positive)
    return p, r, (p + r) / 2


WRONG_PRF: dict[str, tuple[Callable, str]] = {
    "precision and recall swapped": (_swapped, "swapped"),
    "matrix read transposed": (lambda cm, k: precision_recall_f1(cm.T, k), "swapped"),
    "F1 as arithmetic mean": (_arithmetic_f1, "harmonic"),
    "percentages": (lambda cm, k: tuple(100 * v for v in precision_recall_f1(cm, k)), "percent"),
    "ignores positive": (lambda cm, k: precision_recall_f1(cm, 0), "another class"),
    "accuracy for all three": (
        lambda cm, k: (np.trace(cm) / cm.sum(),) * 3,
        "not right",
    ),
    "returns None": (lambda cm, k: None, "three numbers"),
    "two numbers": (lambda cm, k: precision_recall_f1(cm, k)[:2], "three numbers"),
    "strings": (lambda cm, k: tuple(f"{v:.3f}" for v in precision_recall_f1(cm, k)), "number"),
    "claims to equal anything": (lambda cm, k: (AlwaysEqual(0),) * 3, "number"),
}


@pytest.mark.parametrize("name", WRONG_PRF)
def test_wrong_precision_recall_f1_fails(name: str) -> None:
    func, words = WRONG_PRF[name]
    with pytest.raises(CheckFailed, match=words):
        check.precision_recall_f1(func)


# --- Exercise 2 ------------------------------------------------------------------------------


def test_reference_threshold_passes(screening: data.Screening, scores: dict) -> None:
    y_val = screening.val[1]
    chosen = threshold_for_recall(y_val, scores["val"], RECALL_TARGET)
    check.recall_threshold(threshold_for_recall, chosen, y_val, scores["val"], RECALL_TARGET)
    labels = (1, 1, 0, 1, 0, 1, 0, 0, 1, 1)
    values = (0.2, 0.9, 0.1, 0.65, 0.3, 0.5, 0.7, 0.05, 0.4, 0.8)
    check.recall_threshold_function(
        threshold_for_recall,
        [(labels, values, 1.0), (labels, values, 0.6), ((0, 1, 0, 1), (0.3, 0.6, 0.8, 0.9), 0.5)],
    )


def test_a_threshold_between_scores_passes(screening: data.Screening, scores: dict) -> None:
    """Any threshold that flags the same patients as the highest one is right."""
    y_val, p_val = screening.val[1], scores["val"]
    best = threshold_for_recall(y_val, p_val, RECALL_TARGET)
    below = p_val[p_val < best].max()
    check.recall_threshold(threshold_for_recall, (best + below) / 2, y_val, p_val, RECALL_TARGET)


def test_threshold_chosen_on_training_data_fails(screening: data.Screening, scores: dict) -> None:
    y_train, y_val = screening.train[1], screening.val[1]
    on_train = threshold_for_recall(y_train, scores["train"], RECALL_TARGET)
    assert on_train != threshold_for_recall(y_val, scores["val"], RECALL_TARGET)
    with pytest.raises(CheckFailed, match="validation"):
        check.recall_threshold(threshold_for_recall, on_train, y_val, scores["val"], RECALL_TARGET)


@pytest.mark.parametrize(
    ("threshold", "words"),
    [(0.5, "short of"), (0.0, "higher threshold"), (RECALL_TARGET, "short of"), ("0.2", "number")],
)
def test_wrong_threshold_value_fails(
    screening: data.Screening, scores: dict, threshold: object, words: str
) -> None:
    with pytest.raises(CheckFailed, match=words):
        check.recall_threshold(
            threshold_for_recall, threshold, screening.val[1], scores["val"], RECALL_TARGET
        )


def test_threshold_just_above_the_right_one_fails(screening: data.Screening, scores: dict) -> None:
    y_val, p_val = screening.val[1], scores["val"]
    best = threshold_for_recall(y_val, p_val, RECALL_TARGET)
    with pytest.raises(CheckFailed, match="short of"):
        check.recall_threshold(
            threshold_for_recall, float(np.nextafter(best, 1.0)), y_val, p_val, RECALL_TARGET
        )


def _strictly_above(y_true: np.ndarray, scores: np.ndarray, target: float) -> float:
    """Off by one: thinks of the rule as ``score > t`` and returns the next score below."""
    positive_scores = np.sort(scores[y_true == 1])[::-1]
    needed = max(1, int(np.ceil(target * len(positive_scores) - 1e-9)))
    return float(positive_scores[min(needed, len(positive_scores) - 1)])


WRONG_THRESHOLD_FUNCTIONS: dict[str, Callable] = {
    "always 0.5": lambda y, s, t: 0.5,
    "the target itself": lambda y, s, t: t,
    "lowest positive score": lambda y, s, t: float(s[y == 1].min()),
    "off by one": _strictly_above,
    "quantile of all scores": lambda y, s, t: float(np.quantile(s, 1 - t)),
    "claims to equal anything": lambda y, s, t: AlwaysEqual(0.5),
}


@pytest.mark.parametrize("name", WRONG_THRESHOLD_FUNCTIONS)
def test_wrong_threshold_function_fails(name: str) -> None:
    with pytest.raises(CheckFailed):
        check.recall_threshold_function(WRONG_THRESHOLD_FUNCTIONS[name])


# --- Exercise 3 ------------------------------------------------------------------------------


def test_reference_diagnosis_passes() -> None:
    check.diagnosis(DIAGNOSIS)
    check.diagnosis({k: v.upper().replace(" ", "_") for k, v in DIAGNOSIS.items()})
    check.diagnosis({k: f"  {v.replace(' ', '-')} " for k, v in DIAGNOSIS.items()})


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"C": "ready"}, "1 of 6"),
        ({"F": "ready"}, "1 of 6"),
        ({"A": "underfits", "D": "overfits"}, "2 of 6"),
        ({"B": "overfits"}, "1 of 6"),
        ({"E": "ready"}, "1 of 6"),
        ({"C": "production ready"}, "not one of the verdicts"),
        ({"C": False}, "str"),
        ({"A": AlwaysEqual(0)}, "str"),
    ],
)
def test_wrong_diagnosis_fails(change: dict, words: str) -> None:
    with pytest.raises(CheckFailed, match=words):
        check.diagnosis({**DIAGNOSIS, **change})


@pytest.mark.parametrize(
    "answer",
    [
        dict.fromkeys(DIAGNOSIS, "ready"),
        {k: v for k, v in DIAGNOSIS.items() if k != "E"},
        {**DIAGNOSIS, "G": "ready"},
        list(DIAGNOSIS.values()),
        None,
    ],
)
def test_malformed_diagnosis_fails(answer: object) -> None:
    with pytest.raises(CheckFailed):
        check.diagnosis(answer)


def test_verdicts_are_not_in_the_module_in_plain_text() -> None:
    source = open(check.__file__, encoding="utf-8").read()  # noqa: SIM115
    assert '"C": "misses positives"' not in source and '"A": "overfits"' not in source


# --- Claims of the lesson ----------------------------------------------------------------------


def test_screening_losses_fall_and_end_close(screening_run: tuple) -> None:
    history = screening_run[1]
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_loss"][-1] < history["val_loss"][0]
    assert abs(history["val_loss"][-1] - history["loss"][-1]) < 0.05


def test_seed_confusion_matrix(cats_dogs: tuple) -> None:
    y_true, y_pred = cats_dogs
    cm = tf.math.confusion_matrix(y_true, y_pred).numpy()
    np.testing.assert_array_equal(cm, [[45, 5], [7, 43]])
    np.testing.assert_array_equal(tf.math.confusion_matrix(y_pred, y_true).numpy(), cm.T)
    np.testing.assert_array_equal(
        tf.math.confusion_matrix(1 - y_true, 1 - y_pred).numpy(), [[43, 7], [5, 45]]
    )
    p, r, _ = precision_recall_f1(cm, CAT)
    assert round(p, 3) == 0.865 and round(r, 3) == 0.900


def test_keras_precision_recall_score_label_one(cats_dogs: tuple) -> None:
    y_true, y_pred = cats_dogs
    assert np.allclose(keras_pr(y_true == CAT, y_pred == CAT), (45 / 52, 45 / 50), atol=1e-6)
    assert np.allclose(keras_pr(y_true, y_pred), (43 / 48, 43 / 50), atol=1e-6)


def test_threshold_sweep(screening: data.Screening, scores: dict) -> None:
    y_val, p_val = screening.val[1], scores["val"]
    thresholds = np.linspace(0.0, 1.0, 201)[1:-1].tolist()
    precision = np.array(keras.metrics.Precision(thresholds=thresholds)(y_val, p_val))
    recall = np.array(keras.metrics.Recall(thresholds=thresholds)(y_val, p_val))
    assert np.all(np.diff(recall) <= 0), "recall can only fall as the threshold rises"
    flagged = precision[recall > 0]
    assert flagged[-1] > flagged[0] and np.mean(np.diff(flagged) >= 0) > 0.5
    assert recall[thresholds.index(0.5)] < 1 - 0.1, "the default threshold misses >1 tumour in 10"


def test_screening_threshold_on_the_test_set(screening: data.Screening, scores: dict) -> None:
    chosen = threshold_for_recall(screening.val[1], scores["val"], RECALL_TARGET)
    assert chosen < 0.5
    y_test, p_test = screening.test[1], scores["test"]
    low, default = p_test >= chosen, p_test >= 0.5
    assert keras_pr(y_test, low)[1] > keras_pr(y_test, default)[1]
    assert np.sum(low & (y_test == 0)) > np.sum(default & (y_test == 0))


def test_accuracy_paradox() -> None:
    fraud_true, flagged = data.fraud_case()
    assert fraud_true.mean() == pytest.approx(0.02)
    for predictions, recall in [(flagged, 0.12), (np.zeros_like(fraud_true), 0.0)]:
        accuracy = keras.metrics.BinaryAccuracy()
        accuracy.update_state(fraud_true, predictions)
        assert round(float(accuracy.result()), 2) == 0.98
        assert keras_pr(fraud_true, predictions)[1] == pytest.approx(recall)
    assert np.sum((fraud_true == 1) & (flagged == 0)) == 176


def test_training_metrics_alone_mislead(digits_cnn: tuple) -> None:
    split, run = digits_cnn
    assert run.final("accuracy") >= 0.99
    assert data.accuracy(run.model, split.x_train, split.y_train) >= 0.99
    assert run.final("val_accuracy") <= run.final("accuracy") - 0.1
    assert run.final("val_loss") > 10 * run.final("loss")


def test_precision_and_recall_on_logits_are_silently_wrong(
    screening: data.Screening, screening_run: tuple, scores: dict
) -> None:
    y_val, p_val = screening.val[1], scores["val"]
    logits = data.logit_model(screening_run[0]).predict(screening.val[0], verbose=0).ravel()
    np.testing.assert_allclose(tf.sigmoid(logits), p_val, atol=1e-5)
    right = keras_pr(y_val, p_val)
    assert keras_pr(y_val, logits) != pytest.approx(right)
    assert keras_pr(y_val, logits, thresholds=0.0) == pytest.approx(right)
    assert keras_pr(y_val, tf.sigmoid(logits)) == pytest.approx(right)


def test_sparse_labels_traps(digits_cnn: tuple) -> None:
    split, run = digits_cnn
    probs = run.model.predict(split.x_val, verbose=0)
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


def test_compile_accuracy_string_reads_sparse_labels(digits_cnn: tuple) -> None:
    split, run = digits_cnn
    model = keras.models.clone_model(run.model)
    model.set_weights(run.model.get_weights())
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, accuracy = model.evaluate(split.x_val, split.y_val, verbose=0)
    assert accuracy == pytest.approx(data.accuracy(run.model, split.x_val, split.y_val), abs=1e-6)


def test_keras_thresholds(screening: data.Screening, scores: dict) -> None:
    """Keras flags ``score > threshold`` (0.5 by default) and reports precision 0 when nothing
    is flagged."""
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


def test_compiled_metrics_on_logits_are_silently_wrong(
    screening: data.Screening, screening_run: tuple
) -> None:
    x_val, y_val = screening.val
    logit_model = data.logit_model(screening_run[0])
    logit_model.compile(
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.Precision(), keras.metrics.Recall()],
    )
    _, precision, recall = logit_model.evaluate(x_val, y_val, verbose=0)
    logits = logit_model.predict(x_val, verbose=0).ravel()
    assert (precision, recall) == pytest.approx(keras_pr(y_val, logits), abs=1e-6)
    assert (precision, recall) != pytest.approx(keras_pr(y_val, tf.sigmoid(logits)), abs=1e-3)
