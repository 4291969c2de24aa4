"""The practice quiz: one :class:`Question` per item, and the check the notebook calls.

Right letters are stored as digests so that neither the student notebook nor this module shows them
in plain text (this is a practice quiz: a student may test any letter, and is meant to). A wrong
option gets the hint written for it, which addresses the mistake behind that option without saying
which option is right; a question's explanation is shown once the answer is right.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

from augcourse.checks.exercise import PRACTICE_SEED, Exercise, plain
from augcourse.checks.feedback import fail

LETTERS = ("A", "B", "C", "D")


def digest(qid: str, letter: str) -> str:
    """The stored form of a right answer."""
    return hashlib.sha256(f"course-quiz:{qid}:{letter}".encode()).hexdigest()


@dataclass(frozen=True)
class Question:
    """One multiple-choice question: how to check it and what to tell the student."""

    qid: str
    topic: str
    answer_digest: str
    hints: dict[str, str]  # per wrong option: what to reconsider, without naming the right option
    explanation: str
    mistakes: dict[str, str] = field(default_factory=dict)  # per wrong option, for the class report
    code: dict[str, str] = field(default_factory=dict)

    def is_right(self, letter: str) -> bool:
        """Whether a normalised letter is the right option."""
        return digest(self.qid, letter) == self.answer_digest


QUESTIONS: dict[str, Question] = {
    q.qid: q
    for q in [
        Question(
            qid="q1",
            topic="Purpose of data augmentation",
            answer_digest="4be461df687a0c0b484f5f4c97411c461dc84e22a0d9c00ed99795d901b989b0",
            hints={
                "A": "Does augmentation leave any image out of an epoch? Follow one image on its way to the "
                "model.",
                "B": "Count the images before and after a random flip or turn: does augmentation remove any?",
                "D": "Grayscale is the same fixed change for every image, every time. Is augmentation fixed?",
            },
            explanation="Augmentation applies random, label-preserving changes (flips, small "
            "rotations, zooms) to training images as they are fed to the model, so that the model "
            "sees more varied examples, generalises better and overfits less. It does not shrink "
            "the data, skip images or convert colours.",
            mistakes={
                "A": "Thinks augmentation speeds training up by skipping images.",
                "B": "Thinks augmentation reduces the size of the training set.",
                "D": "Confuses augmentation with a fixed preprocessing step such as grayscale.",
            },
        ),
        Question(
            qid="q2",
            topic="Adding a random horizontal flip",
            answer_digest="c0e632049f1f227ed7dddd326fe63822e7821b7effad7625bab28e6a861554fb",
            hints={
                "B": "Check the class name: is there a `FlipRandom` in `tf.keras.layers`? Try building it.",
                "C": "`mode` is RandomFlip's real keyword. Which way does 'vertical' flip, and which way is "
                "asked?",
                "D": "Does Keras reject a mode it does not know? Build RandomFlip('diagonal'), call it a few"
                " times, and look at what it does to an image.",
            },
            explanation="`RandomFlip('horizontal')` is the layer and mode asked for. "
            "`FlipRandom` does not exist (AttributeError). `RandomFlip(mode='vertical')` is valid "
            "Keras (`mode` is the real keyword) and does flip, but top to bottom, not left to right: "
            "that is why the question asks for a horizontal flip, or two options would be right. "
            "`RandomFlip('diagonal')` is the trap: Keras 3 accepts the unknown mode without any "
            "error and then never flips, so a typo silently turns augmentation off.",
            mistakes={
                "B": "Misremembers the layer's name (FlipRandom does not exist).",
                "C": "Picks a valid layer that flips the wrong axis (vertical, not horizontal).",
                "D": "Trusts that an invalid mode would raise; 'diagonal' silently never flips.",
            },
            code={
                "A": "tf.keras.Sequential([tf.keras.layers.RandomFlip('horizontal')])",
                "B": "tf.keras.Sequential([tf.keras.layers.FlipRandom('horizontal')])",
                "C": "tf.keras.Sequential([tf.keras.layers.RandomFlip(mode='vertical')])",
                "D": "tf.keras.Sequential([tf.keras.layers.RandomFlip('diagonal')])",
            },
        ),
        Question(
            qid="q3",
            topic="Output shape of augmentation layers",
            answer_digest="2224b914053691db134dbd109647d8b5cfaa53c0c44e8848051fb8c6854bef97",
            hints={
                "B": "What does the first axis of the input, the 1, stand for? Does an augmentation layer "
                "remove it?",
                "C": "Does turning an image inside its frame make the frame larger? Think about what fills "
                "the corners.",
                "D": "What is the last axis of the input, and why would a flip or a turn remove it?",
            },
            explanation="Input `(1, 128, 128, 3)` is a batch of one 128×128 RGB image. RandomFlip "
            "and RandomRotation move pixels inside the frame (rotation fills the corners, by "
            "default by reflection) and never resize, drop the batch axis or drop channels, so "
            "the output is `(1, 128, 128, 3)`, in training and in inference alike.",
            mistakes={
                "B": "Forgets the batch axis.",
                "C": "Thinks rotation enlarges the image to fit the corners.",
                "D": "Thinks augmentation drops the colour channels.",
            },
            code={
                "A": "aug = tf.keras.Sequential([\n"
                "  tf.keras.layers.RandomFlip('horizontal'),\n"
                "  tf.keras.layers.RandomRotation(0.1)\n"
                "])\n"
                "input_image = tf.random.uniform([1, 128, 128, 3])\n"
                "output_image = aug(input_image)\n"
                "print(output_image.shape)",
            },
        ),
        Question(
            qid="q4",
            topic="Arguments of RandomRotation",
            answer_digest="3fcc404fc90a64f84f181cdbbab14bbb00f8d98843ad9159d4fff97d9ad2e65c",
            hints={
                "A": "Does a Sequential need an input shape before it is called? Think about when Keras "
                "builds its layers.",
                "B": "List RandomFlip's modes (see lesson 1's table): is 'horizontal' among them?",
                "C": "Lesson 1 builds its augmentation pipelines as Sequential models. Could it, if this "
                "were true?",
            },
            explanation="`RandomRotation(0.2, 0.3)` passes 0.3 as the second positional argument, "
            "which is `fill_mode`, so Keras raises `NotImplementedError: Unknown fill_mode 0.3`. "
            "A range of rotation is one tuple: `RandomRotation((0.2, 0.3))`. RandomFlip accepts "
            "'horizontal', a Sequential holds augmentation layers (they have no weights, and need "
            "none), and it needs no input shape: it builds its layers on its first call.",
            mistakes={
                "A": "Thinks a Sequential model needs an input shape before it is called.",
                "B": "Thinks 'horizontal' is not a valid RandomFlip mode.",
                "C": "Thinks a Sequential holds only layers with weights, not augmentation layers.",
            },
            code={
                "D": "aug = tf.keras.Sequential([\n"
                "  tf.keras.layers.RandomFlip('horizontal'),\n"
                "  tf.keras.layers.RandomRotation(0.2, 0.3)\n"
                "])",
                "fix": "aug = tf.keras.Sequential([\n"
                "  tf.keras.layers.RandomFlip('horizontal'),\n"
                "  tf.keras.layers.RandomRotation((0.2, 0.3))\n"
                "])",
            },
        ),
        Question(
            qid="q5",
            topic="Building the flip + rotation + zoom pipeline",
            answer_digest="a6ff4bef951ed79d41b9cfb02b5c6bbe0f9482a5ee33784161786b2f40d5de2a",
            hints={
                "A": "A pair (low, high) is a range of zoom factors, and a positive factor zooms out. Does "
                "(0.1, 0.2) ever zoom in, and by how much does it zoom out?",
                "C": "Is RandomZoom(10) a valid zoom? Zoom factors are fractions of the image size, in (-1, "
                "1]; and how far does RandomRotation(0.02) turn?",
                "D": "Which way does 'vertical' flip? And in what unit is RandomRotation's factor: would 20 "
                "be valid?",
            },
            explanation="`RandomRotation(0.2)` rotates by up to ±20% of a full turn (±72°) and "
            "`RandomZoom(0.1)` zooms in or out by up to 10%. A's `RandomZoom((0.1, 0.2))` is valid "
            "but only zooms out, by 10–20% (a positive factor zooms out). C's `RandomRotation(0.02)` "
            "is only ±7.2° and `RandomZoom(10)` raises ValueError. D flips the wrong axis and "
            "`RandomRotation(20)` raises ValueError: the factor is not in degrees.",
            mistakes={
                "A": "Reads a (min, max) zoom range as 'zoom by 10%'; it only zooms out, 10–20%.",
                "C": "Uses percent-style numbers: RandomZoom(10) is out of range.",
                "D": "Gives rotation in degrees and flips the wrong axis.",
            },
            code={
                "A": "tf.keras.Sequential([ tf.keras.layers.RandomFlip('horizontal'), "
                "tf.keras.layers.RandomRotation(0.2), tf.keras.layers.RandomZoom((0.1, 0.2)) ])",
                "B": "tf.keras.Sequential([ tf.keras.layers.RandomFlip('horizontal'), "
                "tf.keras.layers.RandomRotation(0.2), tf.keras.layers.RandomZoom(0.1) ])",
                "C": "tf.keras.Sequential([ tf.keras.layers.RandomFlip('horizontal'), "
                "tf.keras.layers.RandomRotation(0.02), tf.keras.layers.RandomZoom(10) ])",
                "D": "tf.keras.Sequential([ tf.keras.layers.RandomFlip('vertical'), "
                "tf.keras.layers.RandomRotation(20), tf.keras.layers.RandomZoom((0.1, 0.1)) ])",
            },
        ),
        Question(
            qid="q6",
            topic="Self check: accuracy vs recall on rare fraud",
            answer_digest="4e5a83a3c2a49c23339d37bf3fce95a4c246a06415b3e2cf38f804a65f5143e1",
            hints={
                "A": "If only 2% of transactions are fraud, what accuracy does a model get that never flags "
                "anything?",
                "C": "Precision says how many flagged transactions are fraud. Which number says how many "
                "frauds are caught, and what is it here?",
                "D": "What shows overfitting: accuracy on its own, or training compared with validation?",
            },
            explanation="No. Recall on fraud is 12%: the model misses 88 of every 100 frauds. "
            "Accuracy is dominated by the many legitimate transactions (a model that never flags "
            "fraud scores about 98% when 2% are fraud), so it hides the failure: the accuracy "
            "paradox. For fraud, recall on the positive class (with precision beside it) decides.",
            mistakes={
                "A": "Trusts accuracy on imbalanced data (the accuracy paradox).",
                "C": "Thinks high precision makes up for missing most positive cases.",
                "D": "Reads high accuracy as overfitting; only training vs validation shows that.",
            },
        ),
    ]
}


def letter_of(qid: str, data: object) -> str:
    """The letter in a probe's description of an answer (see :func:`plain`); fails on anything else."""
    __tracebackhide__ = True
    example = f'{qid} = "B"'
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        fail(f"{qid} could not be read.", "malformed")
    value = data.get("value")
    if data["type"] == "NoneType" or data["type"] == "ellipsis":
        fail(f"{qid} is not answered yet: set it to one letter in quotes, e.g. {example}.", "not answered")
    if data["type"] != "str" or not isinstance(value, str):
        fail(
            f"{qid} must be a letter in quotes (a str), e.g. {example}; "
            f"got a value of type {data['type'][:60]}.",
            "not a str",
        )
    letter = value.strip().upper()
    if letter not in LETTERS:
        fail(f"{qid} must be one of A, B, C or D, e.g. {example}; got {value[:40]!r}.", "not a letter")
    return letter


def normalize(qid: str, answer: object) -> str:
    """The answer as one of A–D; ``"c"`` and ``" C "`` count as ``"C"``.

    Anything else fails with a message that says what is expected. Only a plain ``str`` is
    accepted: an object that merely claims to equal a letter is not an answer.
    """
    __tracebackhide__ = True
    return letter_of(qid, plain(answer))


def is_right(qid: str, answer: object) -> bool:
    """Whether ``answer`` is the right option (False for anything that is not a valid letter)."""
    return EXERCISES_BY_ID[qid].decide(plain(answer), PRACTICE_SEED).passed


def _probe(seed: int, answer: object) -> dict:
    """The answer, described without trusting it."""
    return plain(answer)


def _judge(qid: str) -> Callable[[object, int], str]:
    def judge(data: object, seed: int) -> str:
        __tracebackhide__ = True
        question = QUESTIONS[qid]
        letter = letter_of(qid, data)
        if not question.is_right(letter):
            mistake = f"option {letter}: {question.mistakes.get(letter, '')}".rstrip(": ")
            fail(f"{qid} = {letter!r} is not right yet. Hint: {question.hints[letter]}", mistake)
        mistakes = "".join(f"\n  - {text}" for text in question.mistakes.values())
        return f"{qid} = {letter!r} is right.\n\nWhy: {question.explanation}\n\nCommon mistakes:{mistakes}"

    return judge


EXERCISES = [
    Exercise(qid, f"Question {qid[1:]}: {question.topic}", (qid,), _probe, _judge(qid))
    for qid, question in QUESTIONS.items()
]
EXERCISES_BY_ID = {exercise.grade_id: exercise for exercise in EXERCISES}


def check(qid: str, answer: object) -> None:
    """Immediate feedback: the explanation when right; otherwise the hint, and a failure."""
    __tracebackhide__ = True
    EXERCISES_BY_ID[qid](answer)


def summary(namespace: dict[str, object]) -> int:
    """Print, per question, whether the answer in ``namespace`` is right; return how many are."""
    right = 0
    for qid, question in QUESTIONS.items():
        answer = namespace.get(qid)
        if answer is None:
            status = "· not answered"
        elif is_right(qid, answer):
            status, right = "✅ right", right + 1
        else:
            status = "❌ not right yet"
        print(f"{qid}  {status:18} {question.topic}")
    print(f"\n{right} of {len(QUESTIONS)} questions right.")
    return right
