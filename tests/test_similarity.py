"""Does the similarity report find planted near-copies, and leave independent right answers alone?

Each lesson below has an original answer, a near-copy of it made the way a copier disguises one
(variables renamed, independent lines put in another order, comments rewritten), and right
answers written independently in other styles. The copy must be flagged; no pair of independent
answers may be.
"""

from __future__ import annotations

import csv
import itertools
from textwrap import dedent

import pytest

from grader.report import write_class_report
from grader.similarity import (
    THRESHOLD,
    Pair,
    is_code,
    lesson_pairs,
    similar_pairs,
    starter_cells,
    write_similarity,
)
from tests.conftest import ROOT
from tests.test_gradebook import quiz_result

L1, L2, L3, L4 = (
    "01_augmentation_layers",
    "02_augmentation_pipeline",
    "03_metrics_evaluation",
    "04_augmentation_experiment",
)


def code(text: str) -> str:
    return dedent(text).strip("\n") + "\n"


def starter(lesson: str) -> dict[str, str]:
    return starter_cells(ROOT / "notebooks" / lesson / f"{lesson}.ipynb")


# lesson -> {name: {grade id: source}}: "original", "copy" (of the original), and independent answers.
CASES: dict[str, dict[str, dict[str, str]]] = {
    L1: {
        "original": {
            "ex1_answer": code('''
                def build_augmenter(seed=None):
                    """Horizontal flip, rotation up to ±20% of a turn, zoom in or out by up to 10%."""
                    flip = keras.layers.RandomFlip("horizontal", seed=seed)
                    turn = keras.layers.RandomRotation(0.2, fill_mode="reflect", seed=seed)
                    zoom = keras.layers.RandomZoom(0.1, fill_mode="reflect", seed=seed)
                    return keras.Sequential([flip, turn, zoom])
            '''),
            "ex2_answer": code('''
                def is_augmenting(run, images, calls=5):
                    """Whether any of ``calls`` calls of ``run(images)`` changes the images."""
                    original = np.asarray(images, dtype="float32")
                    for attempt in range(calls):
                        out = np.asarray(run(images), dtype="float32")
                        if out.shape != original.shape or np.abs(out - original).max() > 1e-6:
                            return True
                    return False
            '''),
        },
        "copy": {
            "ex1_answer": code('''
                def build_augmenter(seed=None):
                    """Horizontal flip, rotation up to ±20% of a turn, zoom in or out by up to 10%."""
                    # the three random layers
                    zoomer = keras.layers.RandomZoom(0.1, fill_mode="reflect", seed=seed)
                    mirror = keras.layers.RandomFlip("horizontal", seed=seed)
                    rotate = keras.layers.RandomRotation(0.2, fill_mode="reflect", seed=seed)
                    return keras.Sequential([mirror, rotate, zoomer])
            '''),
            "ex2_answer": code('''
                def is_augmenting(run, images, calls=5):
                    """Whether any of ``calls`` calls of ``run(images)`` changes the images."""
                    before = np.asarray(images, dtype="float32")  # what went in
                    for i in range(calls):
                        after = np.asarray(run(images), dtype="float32")
                        if after.shape != before.shape or np.abs(after - before).max() > 1e-6:
                            return True  # changed
                    return False
            '''),
        },
        "tf.keras, keywords and tuples": {
            "ex1_answer": code("""
                def build_augmenter(seed=None):
                    return tf.keras.Sequential([
                        tf.keras.layers.RandomFlip(mode="horizontal", seed=seed),
                        tf.keras.layers.RandomRotation(factor=(-0.2, 0.2), seed=seed),
                        tf.keras.layers.RandomZoom(height_factor=(-0.1, 0.1), width_factor=None, seed=seed),
                    ])
            """),
            "ex2_answer": code("""
                def is_augmenting(run, images, calls=5):
                    x = tf.cast(images, tf.float32)
                    outs = [tf.cast(run(images), tf.float32) for _ in range(calls)]
                    changes = [tf.reduce_max(tf.abs(out - x)) for out in outs]
                    return bool(tf.reduce_max(tf.stack(changes)) > 1e-5)
            """),
        },
        "an Input layer and add() in a loop": {
            "ex1_answer": code("""
                def build_augmenter(seed=None):
                    model = keras.Sequential([keras.Input(shape=(None, None, 3))])
                    for layer in (keras.layers.RandomFlip('horizontal', seed=seed),
                                  keras.layers.RandomZoom(0.1, fill_mode='constant', seed=seed),
                                  keras.layers.RandomRotation(0.2, fill_mode='nearest', seed=seed)):
                        model.add(layer)
                    return model
            """),
            "ex2_answer": code("""
                def is_augmenting(run, images, calls=5):
                    outs = np.stack([np.asarray(run(images), dtype='float64') for _ in range(calls)])
                    return np.any(~np.isclose(outs, np.asarray(images)[None]))
            """),
        },
    },
    L2: {
        "original": {
            "ex1_answer": code('''
                def fast_train_ds(images, labels, augmenter, batch_size=32):
                    """Shuffled, batched, augmented a batch at a time in a parallel map, prefetched."""
                    ds = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images))
                    ds = ds.batch(batch_size)
                    ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=AUTOTUNE)
                    return ds.prefetch(AUTOTUNE)
            '''),
            "ex2_answer": code('''
                def make_train_ds(images, labels, augmenter, batch_size=32):
                    """Shuffled, batched, augmented anew every epoch in a parallel map, prefetched."""
                    ds = tf.data.Dataset.from_tensor_slices((images, labels)).cache()
                    ds = ds.shuffle(len(images)).batch(batch_size)
                    ds = ds.map(lambda x, y: (augmenter(x, training=True), y), num_parallel_calls=AUTOTUNE)
                    return ds.prefetch(AUTOTUNE)
                def make_val_ds(images, labels, batch_size=32):
                    """The validation images, batched, never augmented."""
                    ds = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size).cache()
                    return ds.prefetch(AUTOTUNE)
            '''),
        },
        "copy": {
            "ex1_answer": code('''
                def fast_train_ds(images, labels, augmenter, batch_size=32):
                    """Shuffled, batched, augmented a batch at a time in a parallel map, prefetched."""
                    data = tf.data.Dataset.from_tensor_slices((images, labels)).shuffle(len(images))
                    data = data.batch(batch_size)  # batch first!
                    data = data.map(lambda a, b: (augmenter(a, training=True), b),
                                    num_parallel_calls=AUTOTUNE)
                    return data.prefetch(AUTOTUNE)
            '''),
            "ex2_answer": code('''
                def make_val_ds(images, labels, batch_size=32):
                    """The validation images, batched, never augmented."""
                    v = tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size).cache()
                    return v.prefetch(AUTOTUNE)
                def make_train_ds(images, labels, augmenter, batch_size=32):
                    """Shuffled, batched, augmented anew every epoch in a parallel map, prefetched."""
                    t = tf.data.Dataset.from_tensor_slices((images, labels)).cache()  # raw images only
                    t = t.shuffle(len(images)).batch(batch_size)
                    t = t.map(lambda a, b: (augmenter(a, training=True), b), num_parallel_calls=AUTOTUNE)
                    return t.prefetch(AUTOTUNE)
            '''),
        },
        "a named map function, chained": {
            "ex1_answer": code("""
                def fast_train_ds(images, labels, augmenter, batch_size=32):
                    def augment(batch, label):
                        return augmenter(batch, training=True), label
                    return (tf.data.Dataset.from_tensor_slices((images, labels))
                            .shuffle(buffer_size=len(images), reshuffle_each_iteration=True)
                            .batch(batch_size, drop_remainder=False)
                            .map(augment, num_parallel_calls=tf.data.AUTOTUNE)
                            .prefetch(buffer_size=tf.data.AUTOTUNE))
            """),
            "ex2_answer": code("""
                def make_train_ds(images, labels, augmenter, batch_size=32):
                    def augment(batch, label):
                        return augmenter(batch, training=True), label
                    source = tf.data.Dataset.from_tensor_slices((images, labels))
                    shuffled = source.shuffle(buffer_size=len(images))
                    batches = shuffled.batch(batch_size)
                    return batches.map(augment, num_parallel_calls=tf.data.AUTOTUNE).prefetch(1)
                def make_val_ds(images, labels, batch_size=32):
                    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size).prefetch(1)
            """),
        },
        "a generator of NumPy batches": {
            "ex1_answer": code("""
                def fast_train_ds(images, labels, augmenter, batch_size=32):
                    count = len(images)
                    ds = tf.data.Dataset.range(count).shuffle(count)
                    ds = ds.batch(batch_size).map(
                        lambda i: (augmenter(tf.gather(images, i), training=True), tf.gather(labels, i)),
                        num_parallel_calls=tf.data.AUTOTUNE,
                    )
                    return ds.prefetch(2)
            """),
        },
    },
    L3: {
        "original": {
            "ex1_answer": code('''
                def precision_recall_f1(cm, positive):
                    """Precision, recall and F1 of class `positive`; rows of `cm` are true labels."""
                    cm = np.asarray(cm, dtype=float)
                    tp = cm[positive, positive]
                    precision = tp / cm[:, positive].sum()
                    recall = tp / cm[positive, :].sum()
                    f1 = 2 * precision * recall / (precision + recall)
                    return float(precision), float(recall), float(f1)
            '''),
            "ex2_answer": code('''
                RECALL_TARGET = 0.9


                def threshold_for_recall(y_true, scores, target):
                    """The highest t such that `scores >= t` catches at least `target` of the positives."""
                    y_true, scores = np.asarray(y_true), np.asarray(scores)
                    positive_scores = np.sort(scores[y_true == 1])[::-1]  # highest first
                    needed = max(1, int(np.ceil(target * len(positive_scores) - 1e-9)))
                    return float(positive_scores[needed - 1])
                screening_threshold = threshold_for_recall(y_val, p_val, RECALL_TARGET)
                print(screening_threshold)
            '''),
        },
        "copy": {
            "ex1_answer": code('''
                def precision_recall_f1(cm, positive):
                    """Precision, recall and F1 of class `positive`; rows of `cm` are true labels."""
                    cm = np.asarray(cm, dtype=float)
                    # diagonal = correct
                    hits = cm[positive, positive]
                    rec = hits / cm[positive, :].sum()
                    prec = hits / cm[:, positive].sum()
                    f = 2 * prec * rec / (prec + rec)
                    return float(prec), float(rec), float(f)
            '''),
            "ex2_answer": code('''
                RECALL_TARGET = 0.9


                def threshold_for_recall(y_true, scores, target):
                    """The highest t such that `scores >= t` catches at least `target` of the positives."""
                    y_true, scores = np.asarray(y_true), np.asarray(scores)
                    ranked = np.sort(scores[y_true == 1])[::-1]  # sort descending
                    k = max(1, int(np.ceil(target * len(ranked) - 1e-9)))
                    return float(ranked[k - 1])
                screening_threshold = threshold_for_recall(y_val, p_val, RECALL_TARGET)
                print(screening_threshold)
            '''),
        },
        "loops over plain lists": {
            "ex1_answer": code("""
                def precision_recall_f1(cm, positive):
                    rows = [list(map(int, row)) for row in cm]
                    tp = rows[positive][positive]
                    predicted = 0
                    for row in rows:
                        predicted += row[positive]
                    actual = sum(rows[positive])
                    p, r = tp / predicted, tp / actual
                    return [p, r, 2 * p * r / (p + r)]
            """),
            "ex2_answer": code("""
                def threshold_for_recall(y_true, scores, target):
                    positives = sum(1 for y in y_true if y == 1)
                    for t in sorted(set(scores), reverse=True):
                        caught = sum(1 for y, s in zip(y_true, scores) if y == 1 and s >= t)
                        if caught / positives >= target:
                            return t
                screening_threshold = threshold_for_recall(y_val, p_val, 0.9)
            """),
        },
        "scikit-learn": {
            "ex1_answer": code("""
                from sklearn.metrics import f1_score, precision_score, recall_score
                def precision_recall_f1(cm, positive):
                    cm = np.asarray(cm)
                    true, pred = np.nonzero(np.ones_like(cm))
                    y_true, y_pred = np.repeat(true, cm.ravel()), np.repeat(pred, cm.ravel())
                    y_true, y_pred = y_true == positive, y_pred == positive
                    scores = (precision_score, recall_score, f1_score)
                    return tuple(score(y_true, y_pred) for score in scores)
            """),
            "ex2_answer": code("""
                from sklearn.metrics import roc_curve
                def threshold_for_recall(y_true, scores, target):
                    _, tpr, thresholds = roc_curve(y_true, scores, drop_intermediate=False)
                    return float(thresholds[np.argmax(tpr >= target)])
                screening_threshold = threshold_for_recall(y_val, p_val, RECALL_TARGET)
            """),
        },
    },
    L4: {
        "original": {
            "ex2_answer": code('''
                def paired_effect(with_aug, without_aug):
                    """Mean and sample standard deviation of the per-seed differences (with minus without)."""
                    differences = np.asarray(with_aug, dtype=float) - np.asarray(without_aug, dtype=float)
                    return float(differences.mean()), float(differences.std(ddof=1))
                effect = paired_effect(val_with, val_without)
            '''),
            "ex3_answer": code('''
                def clean_accuracy(model, x, y):
                    """Accuracy of `model` on images `x` with labels `y`, augmentation switched off."""
                    predicted = model.predict(x, verbose=0).argmax(axis=1)
                    return float(np.mean(predicted == y))
            '''),
        },
        "copy": {
            "ex3_answer": code('''
                def clean_accuracy(model, x, y):
                    """Accuracy of `model` on images `x` with labels `y`, augmentation switched off."""
                    guesses = model.predict(x, verbose=0).argmax(axis=1)  # predict: no augmentation
                    return float(np.mean(guesses == y))
            '''),
            "ex2_answer": code('''
                def paired_effect(with_aug, without_aug):
                    """Mean and sample standard deviation of the per-seed differences (with minus without)."""
                    gaps = np.asarray(with_aug, dtype=float) - np.asarray(without_aug, dtype=float)
                    return float(gaps.mean()), float(gaps.std(ddof=1))
                effect = paired_effect(val_with, val_without)
            '''),
        },
        "statistics and a loop": {
            "ex2_answer": code("""
                import statistics
                def paired_effect(with_aug, without_aug):
                    gains = [a - b for a, b in zip(with_aug, without_aug)]
                    return statistics.mean(gains), statistics.stdev(gains)
                effect = paired_effect(val_with, val_without)
            """),
            "ex3_answer": code("""
                def clean_accuracy(model, x, y):
                    right = 0
                    for image, label in zip(x, y):
                        right += int(np.argmax(model(image[None], training=False)) == label)
                    return right / len(y)
            """),
        },
        "Keras evaluate": {
            "ex2_answer": code("""
                def paired_effect(with_aug, without_aug):
                    d = np.subtract(with_aug, without_aug)
                    return d.mean(), np.sqrt(((d - d.mean()) ** 2).sum() / (len(d) - 1))
                effect = paired_effect(val_with, val_without)
            """),
            "ex3_answer": code("""
                def clean_accuracy(model, x, y):
                    logits = model(x, training=False)
                    return float(keras.metrics.SparseCategoricalAccuracy()(y, logits))
            """),
        },
    },
}


def scores(lesson: str) -> dict[frozenset[str], float]:
    pairs = lesson_pairs(lesson, CASES[lesson], starter(lesson), threshold=0.0)
    return {frozenset((p.student, p.other)): p.score for p in pairs}


@pytest.mark.parametrize("lesson", CASES)
def test_a_planted_near_copy_is_flagged(lesson):
    flagged = lesson_pairs(lesson, CASES[lesson], starter(lesson))
    assert [(p.student, p.other) for p in flagged] == [("copy", "original")]
    assert flagged[0].score >= THRESHOLD


@pytest.mark.parametrize("lesson", CASES)
def test_independent_right_answers_are_not_flagged(lesson):
    found = scores(lesson)
    independent = [name for name in CASES[lesson] if name not in ("original", "copy")]
    for a, b in itertools.combinations([*independent, "original"], 2):
        assert found.get(frozenset((a, b)), 0.0) < THRESHOLD, (a, b)
    for name in independent:
        assert found.get(frozenset((name, "copy")), 0.0) < THRESHOLD, name


def test_untouched_starter_code_and_multiple_choice_answers_are_never_alike():
    stub = starter(L3)
    verdicts = {"ex3_answer": 'diagnosis = {"A": "overfits", "B": "ready", "C": "misses positives"}\n'}
    answers = {"stub 1": dict(stub), "stub 2": dict(stub), "choice 1": verdicts, "choice 2": dict(verdicts)}
    assert lesson_pairs(L3, answers, stub, threshold=0.0) == []
    assert not is_code('t01 = "B"') and not is_code(verdicts["ex3_answer"])
    assert is_code("x = f(1)") and is_code("def f():\n    pass") and is_code("this is not python (")


def test_only_graded_submissions_of_one_lesson_are_compared():
    alike = {"ex1_answer": CASES[L3]["original"]["ex1_answer"]}
    results = []
    for student, lesson, status in [
        ("a", L3, "graded"),
        ("b", L3, "graded"),
        ("c", L3, "invalid"),
        ("d", L1, "graded"),
    ]:
        result = quiz_result(student, 0, lesson=L3 if lesson == L3 else L1)
        result.answers, result.status = alike, status
        results.append(result)
    pairs = similar_pairs(results, {L3: starter(L3), L1: starter(L1)})
    assert [(p.lesson, p.student, p.other) for p in pairs] == [(L3, "a", "b")]


def test_similarity_csv_lists_the_most_alike_first(tmp_path):
    pairs = [Pair(L1, "a", "b", 0.61), Pair(L3, "c", "d", 0.93), Pair(L2, "e", "f", 0.75)]
    write_similarity(pairs, tmp_path / "similarity.csv")
    with (tmp_path / "similarity.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["lesson", "student", "other_student", "score"],
        [L3, "c", "d", "0.930"],
        [L2, "e", "f", "0.750"],
        [L1, "a", "b", "0.610"],
    ]


def test_the_class_report_shows_the_two_answers_side_by_side(course, tmp_path):
    results = [quiz_result(name, 0, lesson=L3) for name in ("original", "copy")]
    for result in results:
        result.answers = CASES[L3][result.student]
    pairs = similar_pairs(results, {L3: starter(L3)})
    assert len(pairs) == 1
    page = write_class_report(course, results, tmp_path, similar=pairs).read_text()
    assert "Unusually alike answers" in page and "% alike" in page
    assert page.count('<div class="pair">') == 2  # ex1 and ex2, each side by side
    assert "hits / cm[positive, :].sum()" in page and "tp / cm[:, positive].sum()" in page
    assert "&lt;" not in CASES[L3]["copy"]["ex1_answer"]  # the answers are escaped, not injected
    results[0].answers = {"ex1_answer": "<script>alert(1)</script>\n" + CASES[L3]["original"]["ex1_answer"]}
    pairs = similar_pairs(results, {L3: starter(L3)})
    page = write_class_report(course, results, tmp_path, similar=pairs).read_text()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
