"""Regenerate the sample submissions in examples/submissions/ from notebooks/ and solutions/.

Run ``python examples/make_submissions.py``; tests check that the committed samples match it.
Each sample is a student version of a lesson as a student would hand it in (nbgrader's
``<student>/<lesson>/<lesson>.ipynb`` layout, with nbgrader's ``timestamp.txt``), and
``EXPECTED`` says what grading must give. Together they show every part of the reports: every
lesson graded, typical wrong answers counted per question, a late submission and its penalty,
a planted near-copy (erin's lesson 3, from alice's) that the similarity report must find, and
independent right answers (carol's) that it must not.
"""

from __future__ import annotations

import sys
from pathlib import Path
from textwrap import dedent

import nbformat
import yaml

from augcourse import bank
from grader.answers import fill, reference_answers

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "examples" / "submissions"
L1, L2, L3, L4 = (
    "01_augmentation_layers",
    "02_augmentation_pipeline",
    "03_metrics_evaluation",
    "04_augmentation_experiment",
)
QUIZ, TEST = "05_practice_quiz", "06_graded_test"
REFERENCE = "reference"  # the lesson's reference answers

# (student, lesson) -> (expected score, expected status); the quiz samples come first.
EXPECTED = {
    ("alice", QUIZ): (6.0, "graded"),  # every answer right
    ("bob", QUIZ): (0.0, "graded"),  # the student version, untouched
    ("carol", QUIZ): (3.0, "graded"),  # three right (in odd spellings), three wrong
    ("dave", QUIZ): (0.0, "invalid"),  # a file cut short: not valid JSON
    ("alice", L1): (3.0, "graded"),  # the reference answers, on time
    ("bob", L1): (0.0, "graded"),  # typical wrong answers
    ("carol", L1): (3.0, "graded"),  # right answers in other styles, handed in two days late
    ("alice", L2): (2.0, "graded"),
    ("bob", L2): (0.0, "graded"),  # a per-image map; a cache after the augmenting map
    ("alice", L3): (3.0, "graded"),
    ("bob", L3): (0.0, "graded"),  # precision and recall swapped; the target as threshold; no verdicts
    ("carol", L3): (3.0, "graded"),  # right, written independently (loops): not flagged
    ("erin", L3): (3.0, "graded"),  # alice's answers renamed, reordered, recommented: flagged
    ("alice", L4): (4.0, "graded"),
    ("bob", L4): (0.0, "graded"),  # a flip that breaks digits; population spread; training=True; none
    ("alice", TEST): (10.0, "graded"),  # her own test, every answer right
    ("bob", TEST): (5.0, "graded"),  # his own test, the first five right
}
# The quiz samples alone, as student -> (lesson, expected score, expected status): a quick set to grade.
QUIZ_EXPECTED = {
    student: (lesson, *expected) for (student, lesson), expected in EXPECTED.items() if lesson == QUIZ
}
# When each sample was handed in (nbgrader's timestamp.txt); course.yml gives the due dates.
SUBMITTED = {
    ("alice", L1): "2025-10-06 18:02:11.000000 UTC",
    ("bob", L1): "2025-10-06 23:40:05.000000 UTC",
    ("carol", L1): "2025-10-08 09:30:00.000000 UTC",  # 33.5 hours after the due date: two late days
    ("erin", L3): "2025-10-20 20:15:00.000000 UTC",
}
LATE = {("carol", L1): 0.6}  # late samples and their penalty (course.yml: 10% of the points a day)
ALIKE = [(L3, "alice", "erin")]  # the pairs the similarity report must flag

CAROL = {
    "q1_answer": 'q1 = "c"',
    "q2_answer": 'q2 = "C"',
    "q3_answer": 'q3 = " a "',
    "q4_answer": 'q4 = "A"',
    "q5_answer": 'q5 = "B"',
    "q6_answer": 'q6 = "A"',
}


def _code(text: str) -> str:
    return dedent(text).strip("\n") + "\n"


ANSWERS: dict[tuple[str, str], dict[str, str]] = {
    ("bob", L1): {
        "ex1_answer": _code('''
            def build_augmenter(seed=None):
                """Horizontal flip, rotation up to ±20% of a turn, zoom in or out by up to 10%."""
                model = keras.Sequential()
                model.add(keras.layers.RandomFlip("horizontal", seed=seed))
                model.add(keras.layers.RandomRotation(20, seed=seed))  # 20 degrees either way
                model.add(keras.layers.RandomZoom(0.1, seed=seed))
                return model
        '''),
        "ex2_answer": _code('''
            def is_augmenting(run, images, calls=5):
                """Whether any of ``calls`` calls of ``run(images)`` changes the images."""
                return run(images) is not images
        '''),
        "ex3_answer": _code('''
            def build_digit_augmenter(seed=None):
                """Label-preserving augmentation for 8 × 8 digits in [0, 1]."""
                flips = keras.layers.RandomFlip("horizontal_and_vertical", seed=seed)
                return keras.Sequential([flips, keras.layers.RandomRotation(0.5, seed=seed)])
        '''),
    },
    ("carol", L1): {
        "ex1_answer": _code('''
            def build_augmenter(seed=None):
                """Horizontal flip, rotation up to ±20% of a turn, zoom in or out by up to 10%."""
                return tf.keras.Sequential([
                    tf.keras.layers.RandomFlip(mode="horizontal", seed=seed),
                    tf.keras.layers.RandomRotation(factor=(-0.2, 0.2), seed=seed),
                    tf.keras.layers.RandomZoom(height_factor=(-0.1, 0.1), width_factor=None, seed=seed),
                ])
        '''),
        "ex2_answer": _code('''
            def is_augmenting(run, images, calls=5):
                """Whether any of ``calls`` calls of ``run(images)`` changes the images."""
                for _ in range(calls):
                    if not np.allclose(run(images), images, atol=1e-6):
                        return True
                return False
        '''),
        "ex3_answer": _code('''
            def build_digit_augmenter(seed=None):
                """Label-preserving augmentation for 8 × 8 digits in [0, 1]."""
                return tf.keras.Sequential([
                    tf.keras.layers.RandomRotation(
                        (-0.05, 0.05), fill_mode='constant', fill_value=0.0, seed=seed),
                    tf.keras.layers.RandomTranslation(
                        (-0.2, 0.2), (-0.2, 0.2), fill_mode='constant', seed=seed),
                ])
        '''),
    },
    ("bob", L2): {
        "ex1_answer": _code('''
            def fast_train_ds(images, labels, augmenter, batch_size=32):
                """Shuffled, batched, augmented a batch at a time in a parallel map, prefetched."""
                def augment(image, label):
                    return augmenter(image, training=True), label

                pairs = tf.data.Dataset.from_tensor_slices((images, labels))
                return (pairs.shuffle(1000).map(augment, num_parallel_calls=AUTOTUNE)
                        .batch(batch_size).prefetch(AUTOTUNE))
        '''),
        "ex2_answer": _code('''
            def make_train_ds(images, labels, augmenter, batch_size=32):
                """Shuffled, batched, augmented anew every epoch in a parallel map, prefetched.

                A cache is optional; if there is one, it holds the un-augmented data, before the shuffle.
                """
                def augment(batch, label):
                    return augmenter(batch, training=True), label

                pairs = tf.data.Dataset.from_tensor_slices((images, labels))
                batches = pairs.shuffle(1000).batch(batch_size).map(augment, num_parallel_calls=AUTOTUNE)
                return batches.cache().prefetch(AUTOTUNE)  # cache last, for speed


            def make_val_ds(images, labels, batch_size=32):
                """The validation images, batched, never augmented."""
                return tf.data.Dataset.from_tensor_slices((images, labels)).batch(batch_size)
        '''),
    },
    ("bob", L3): {
        "ex1_answer": _code('''
            def precision_recall_f1(cm, positive):
                """Precision, recall and F1 of class `positive`; rows of `cm` are true labels."""
                cm = np.asarray(cm, dtype=float)
                correct = np.diag(cm)[positive]
                p = correct / np.sum(cm, axis=1)[positive]  # the row total
                r = correct / np.sum(cm, axis=0)[positive]  # the column total
                return p, r, 2 / (1 / p + 1 / r)
        '''),
        "ex2_answer": _code('''
            RECALL_TARGET = 0.9


            def threshold_for_recall(y_true, scores, target):
                """The highest t such that `scores >= t` catches at least `target` of the positives."""
                y_true, scores = np.asarray(y_true), np.asarray(scores)
                return target


            screening_threshold = None
            screening_threshold = threshold_for_recall(y_val, p_val, RECALL_TARGET)
            print(screening_threshold)
        '''),
    },
    ("carol", L3): {
        "ex1_answer": _code('''
            def precision_recall_f1(cm, positive):
                """Precision, recall and F1 of class `positive`; rows of `cm` are true labels."""
                cm = np.asarray(cm, dtype=float)
                rows = [list(map(int, row)) for row in cm]
                hit = rows[positive][positive]
                flagged = 0
                for row in rows:
                    flagged += row[positive]
                truly = sum(rows[positive])
                p, r = hit / flagged, hit / truly
                return [p, r, 2 * p * r / (p + r)]
        '''),
        "ex2_answer": _code('''
            RECALL_TARGET = 0.9


            def threshold_for_recall(y_true, scores, target):
                """The highest t such that `scores >= t` catches at least `target` of the positives."""
                y_true, scores = np.asarray(y_true), np.asarray(scores)
                positives = sum(1 for y in y_true if y == 1)
                for t in sorted(set(scores.tolist()), reverse=True):
                    caught = sum(1 for y, s in zip(y_true, scores) if y == 1 and s >= t)
                    if caught / positives >= target:
                        return t


            screening_threshold = threshold_for_recall(y_val, p_val, RECALL_TARGET)
            print(screening_threshold)
        '''),
    },
    ("erin", L3): {
        "ex1_answer": _code('''
            def precision_recall_f1(cm, positive):
                """Precision, recall and F1 of class `positive`; rows of `cm` are true labels."""
                cm = np.asarray(cm, dtype=float)
                # the diagonal cell: correctly found
                hits = cm[positive, positive]
                rec = hits / cm[positive, :].sum()  # over the row: all truly positive
                prec = hits / cm[:, positive].sum()  # over the column: all predicted positive
                f = 2 * prec * rec / (prec + rec)
                return float(prec), float(rec), float(f)
        '''),
        "ex2_answer": _code('''
            RECALL_TARGET = 0.9


            def threshold_for_recall(y_true, scores, target):
                """The highest t such that `scores >= t` catches at least `target` of the positives."""
                y_true, scores = np.asarray(y_true), np.asarray(scores)
                ranked = np.sort(scores[y_true == 1])[::-1]  # best scores first
                k = max(1, int(np.ceil(target * len(ranked) - 1e-9)))  # how many we must catch
                return float(ranked[k - 1])
            screening_threshold = None
            screening_threshold = threshold_for_recall(y_val, p_val, RECALL_TARGET)
            print(screening_threshold)
        '''),
    },
    ("bob", L4): {
        "ex1_answer": _code('''
            def digit_augmentation():
                """A random, label-preserving augmentation for 16×16 digit images in [0, 1]."""
                model = keras.Sequential()
                for layer in (keras.layers.RandomFlip("horizontal"), keras.layers.RandomZoom(0.1)):
                    model.add(layer)
                return model
        '''),
        "ex2_answer": _code('''
            import statistics


            def paired_effect(with_aug, without_aug):
                """Mean and sample standard deviation of the per-seed differences (with minus without)."""
                gains = [a - b for a, b in zip(with_aug, without_aug)]
                return statistics.mean(gains), statistics.pstdev(gains)


            effect = paired_effect(val_with, val_without)
        '''),
        "ex3_answer": _code('''
            def clean_accuracy(model, x, y):
                """Accuracy of `model` on images `x` with labels `y`, augmentation switched off."""
                right = 0
                for image, label in zip(x, y):
                    scores = model(image[None], training=True)
                    right += int(np.argmax(scores) == label)
                return right / len(y)
        '''),
    },
}
# carol's diagnosis in lesson 3 is the reference one (six verdicts have one right spelling each).
SAME_AS_REFERENCE = {("carol", L3): ["ex3_answer"], ("erin", L3): ["ex3_answer"]}


def graded_test_answers(student: str, right: int) -> dict[str, str]:
    """The graded test of ``student``, id written, the first ``right`` answers right, the rest wrong."""
    key = yaml.safe_load((ROOT / "solutions" / TEST / "bank.yml").read_text(encoding="utf-8"))["questions"]
    answers = {"student_id": f'# Your student id, in quotes.\nstudent_id = "{student}"\n'}
    for slot in bank.draw(student, bank.VERSION):
        letter = slot.shown(key[slot.question.qid]["answer"])
        if slot.number > right:
            letter = next(x for x in bank.LETTERS if x != letter)
        answers[f"{slot.name}_answer"] = (
            f'# Your answer: one letter in quotes, "A", "B", "C" or "D".\n{slot.name} = "{letter}"\n'
        )
    return answers


def _notebook(lesson: str, answers: dict[str, str] | str | None) -> str:
    student = ROOT / "notebooks" / lesson / f"{lesson}.ipynb"
    if answers is None:
        return student.read_text(encoding="utf-8")
    if answers == REFERENCE:
        answers = reference_answers(ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    return nbformat.writes(fill(student, answers)) + "\n"


def samples() -> dict[str, str]:
    """Every sample's file text, keyed by its path relative to examples/submissions/."""
    texts = {
        ("alice", QUIZ): _notebook(QUIZ, REFERENCE),
        ("bob", QUIZ): _notebook(QUIZ, None),
        ("carol", QUIZ): _notebook(QUIZ, CAROL),
    }
    texts[("dave", QUIZ)] = texts[("carol", QUIZ)][: len(texts[("carol", QUIZ)]) // 2]
    for lesson in (L1, L2, L3, L4):
        reference = reference_answers(ROOT / "solutions" / lesson / f"{lesson}.ipynb")
        for (student, each), _ in EXPECTED.items():
            if each != lesson:
                continue
            answers = ANSWERS.get((student, lesson), reference if student == "alice" else {})
            answers = {**{k: reference[k] for k in SAME_AS_REFERENCE.get((student, lesson), [])}, **answers}
            texts[(student, lesson)] = _notebook(lesson, answers)
    texts[("alice", TEST)] = _notebook(TEST, graded_test_answers("alice", 10))
    texts[("bob", TEST)] = _notebook(TEST, graded_test_answers("bob", 5))
    files = {f"{student}/{lesson}/{lesson}.ipynb": text for (student, lesson), text in texts.items()}
    for (student, lesson), stamp in SUBMITTED.items():
        files[f"{student}/{lesson}/timestamp.txt"] = stamp + "\n"
    return files


def main() -> int:
    """Write the samples."""
    for relative, text in samples().items():
        path = OUT / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
