"""The graded test's question bank, public part: questions, options, and each student's draw.

Nothing here says which option is right. The right options, their explanations and the mistake
behind each wrong option live in the answer key, a file read by the grader only (the lesson's
``key`` in course.yml, under ``solutions/``).

**The draw.** Each student answers :data:`PLAN` (3 easy, 4 medium, 3 hard questions). Which
questions, in which order, and in which order each question's options are shown, all follow from
the student's id and the bank version the notebook was released with, through SHA-256 (never
Python's ``hash`` or a random generator whose stream may change): the same on every run, machine
and Python. A question carries the version it was ``added`` in (and may be ``retired`` in a later
one); a notebook that pins version *v* draws from the questions of version *v* only, so adding a
question never changes the test of a student whose notebook was released earlier.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

LETTERS = ("A", "B", "C", "D")
LEVELS = ("easy", "medium", "hard")
PLAN = (("easy", 3), ("medium", 4), ("hard", 3))  # slots t01-t03 easy, t04-t07 medium, t08-t10 hard
VERSION = 1  # the newest bank version; a notebook pins the one it was released with
SALT = "augcourse graded test"  # part of every digest of the draw: never change it
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9._@+-]{0,63}")


class DrawError(ValueError):
    """An id or a bank version from which no test can be drawn; the message says why."""


@dataclass(frozen=True)
class Question:
    """One question of the bank: its text and its four options in canonical order (A-D)."""

    qid: str
    level: str
    topic: str
    stem: str
    options: tuple[str, str, str, str]
    snippet: str = ""  # code shown with the question
    code_options: bool = False  # the options are Python code (shown as code, run by the tests)
    added: int = 1
    retired: int | None = None

    def in_version(self, version: int) -> bool:
        """Whether a notebook released with bank ``version`` may draw this question."""
        return self.added <= version and (self.retired is None or version < self.retired)


@dataclass(frozen=True)
class Slot:
    """One question of a student's test: the question, and which canonical option each shown letter is."""

    number: int  # 1-10
    question: Question
    order: tuple[str, str, str, str]  # order[i]: the canonical letter shown as LETTERS[i]

    @property
    def name(self) -> str:
        """The answer's variable name and grade id: ``t01`` ... ``t10``."""
        return f"t{self.number:02d}"

    def canonical(self, shown: str) -> str:
        """The canonical letter of the option shown as ``shown``."""
        return self.order[LETTERS.index(shown)]

    def shown(self, canonical: str) -> str:
        """The letter under which the canonical option ``canonical`` is shown."""
        return LETTERS[self.order.index(canonical)]


def canonical_id(student: object) -> str:
    """A student id in the form the draw uses (stripped, lower case), or a DrawError that says why."""
    if type(student) is not str:  # a str subclass could claim to be anything
        raise DrawError('a student id is text in quotes, such as "jdoe"')
    text = unicodedata.normalize("NFKC", student).strip().lower()
    if not ID_PATTERN.fullmatch(text):
        raise DrawError(
            f"{student[:70]!r} is not a valid student id: use the id your course gave you "
            "(letters, digits and . _ @ + -, starting with a letter or digit, up to 64 characters)"
        )
    return text


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join((SALT, *parts)).encode()).hexdigest()


def check_version(version: object) -> int:
    """The bank version as an int, or a DrawError for anything this bank does not know."""
    if type(version) is not int or not 1 <= version <= VERSION:
        raise DrawError(f"bank version {version!r} is unknown here (this bank knows 1 to {VERSION})")
    return version


def draw(student: object, version: object, questions: tuple[Question, ...] | None = None) -> list[Slot]:
    """The test of ``student`` for a notebook released with bank ``version``: ten slots in order."""
    sid = canonical_id(student)
    version = check_version(version)
    pool = [q for q in (QUESTIONS if questions is None else questions) if q.in_version(version)]
    slots: list[Slot] = []
    for level, count in PLAN:
        group = sorted((q for q in pool if q.level == level), key=lambda q: (_digest(sid, q.qid), q.qid))
        if len(group) < count:
            raise DrawError(f"bank version {version} has only {len(group)} {level} questions")
        for question in group[:count]:
            order = sorted(LETTERS, key=lambda letter, q=question: _digest(sid, q.qid, letter))
            slots.append(Slot(len(slots) + 1, question, tuple(order)))  # type: ignore[arg-type]
    return slots


def render(slot: Slot) -> str:
    """A slot as Markdown: the question, its code, and its options under the student's letters."""
    question = slot.question
    lines = [f"**{slot.name}** · {question.level} · {question.topic}", "", question.stem]
    if question.snippet:
        lines += ["", "```python", question.snippet, "```"]
    lines.append("")
    for shown, canonical in zip(LETTERS, slot.order, strict=True):
        text = question.options[LETTERS.index(canonical)]
        lines.append(f"- **{shown}.** " + (f"`{text}`" if question.code_options else text))
    return "\n".join(lines)


QUESTIONS: tuple[Question, ...] = (
    # ---- easy ------------------------------------------------------------------------------
    Question(
        qid="purpose",
        level="easy",
        topic="Why a pipeline augments",
        stem="A training pipeline passes every training image through random augmentation layers "
        "before the model sees it. What is this for?",
        options=(
            "To shorten each epoch by leaving out some of the training images",
            "To shrink the training set so that it takes up less memory",
            "To show the model new random variants of its images, so it generalises",
            "To convert every image to grayscale, which the model learns faster",
        ),
    ),
    Question(
        qid="flip_mode",
        level="easy",
        topic="A left-to-right flip",
        stem="Which line creates a layer that mirrors images **left to right** at random? "
        "(`keras` is Keras 3.)",
        options=(
            'keras.layers.RandomFlip(mode="vertical")',
            'keras.layers.RandomFlip("horizontal")',
            'keras.layers.FlipRandom("horizontal")',
            'keras.layers.RandomFlip("mirror")',
        ),
        code_options=True,
    ),
    Question(
        qid="active_calls",
        level="easy",
        topic="When augmentation runs",
        stem="A Keras model begins with `RandomFlip` and `RandomRotation` layers. Which of "
        "`model.fit`, `model.evaluate` and `model.predict` run those layers in training mode, so "
        "that they transform the images?",
        options=(
            "`fit` only; `evaluate` and `predict` pass the images through unchanged",
            "`fit` and `evaluate`; only `predict` passes the images through unchanged",
            "All three of them, since the layers are part of the model",
            "None of them; the layers transform images in direct calls only",
        ),
    ),
    Question(
        qid="always_negative",
        level="easy",
        topic="A model that never flags anyone",
        stem="A test set holds 950 healthy patients and 50 sick ones. A model answers "
        '"healthy" for every patient. What are its accuracy, and its recall on the sick?',
        options=(
            "Accuracy 50%, recall 0%",
            "Accuracy 95%, recall 95%",
            "Accuracy 5%, recall 100%",
            "Accuracy 95%, recall 0%",
        ),
    ),
    Question(
        qid="augment_which_split",
        level="easy",
        topic="Which images to augment",
        stem="You train, validate and test an image classifier. Which images should the random "
        "augmentation layers transform?",
        options=(
            "All of them, before the data is split into the three sets",
            "The training images only, with new random changes every epoch",
            "The training and validation images, so that the two sets match",
            "The validation and test images, to make the evaluation harder",
        ),
    ),
    Question(
        qid="precision_matrix",
        level="easy",
        topic="Precision from a confusion matrix",
        stem="A cats-and-dogs classifier is scored on 200 validation images:\n\n"
        "|          | predicted cat | predicted dog |\n"
        "|----------|--------------:|--------------:|\n"
        "| true cat | 80            | 20            |\n"
        "| true dog | 10            | 90            |\n\n"
        "What is the precision for **cat**?",
        options=("0.800", "0.850", "0.889", "0.818"),
    ),
    # ---- medium ----------------------------------------------------------------------------
    Question(
        qid="output_shape",
        level="medium",
        topic="The shape after augmentation",
        stem="What does the last line print?",
        snippet="aug = keras.Sequential([\n"
        "    keras.layers.RandomRotation(0.15),\n"
        "    keras.layers.RandomZoom(0.1),\n"
        "])\n"
        'batch = np.random.rand(4, 64, 64, 3).astype("float32")\n'
        "print(aug(batch).shape)",
        options=("`(64, 64, 3)`", "`(4, 64, 64)`", "`(4, 80, 80, 3)`", "`(4, 64, 64, 3)`"),
    ),
    Question(
        qid="rotation_two_floats",
        level="medium",
        topic="Two numbers for RandomRotation",
        stem="What happens when this code runs in Keras 3?",
        snippet="aug = keras.Sequential([\n"
        '    keras.layers.RandomFlip("horizontal"),\n'
        "    keras.layers.RandomRotation(0.1, 0.25),\n"
        "])",
        options=(
            "It raises an error: `0.25` goes to the next parameter, `fill_mode`",
            "It builds a layer that turns images by 0.1 to 0.25 of a full turn",
            "It raises an error: a `Sequential` needs an `Input` before its layers",
            'It builds, but `RandomFlip` ignores its unknown mode `"horizontal"`',
        ),
    ),
    Question(
        qid="rare_positive",
        level="medium",
        topic="Accuracy against recall on a rare class",
        stem="A screening model for a disease that 3% of patients have reaches 97% accuracy and "
        "10% recall on the sick, on validation data. Is it ready for use?",
        options=(
            "Yes: it is right about 97 of every 100 patients it sees",
            "No: an accuracy that high on validation data is a sign of overfitting",
            'No: it misses 90% of the sick, and "all healthy" scores 97% too',
            "Yes, as long as its precision on the sick is high as well",
        ),
    ),
    Question(
        qid="direct_call",
        level="medium",
        topic="Calling an augmenter directly",
        stem="`val_images` is a batch of validation images. What is `out`?",
        snippet="aug = keras.Sequential([\n"
        '    keras.layers.RandomFlip("horizontal"),\n'
        "    keras.layers.RandomRotation(0.1),\n"
        "])\n"
        "out = aug(val_images)",
        options=(
            "The images unchanged: augmentation layers transform only inside `fit`",
            "Randomly flipped and turned images: a direct call runs in training mode",
            "The images unchanged, because no `seed` was passed to the layers",
            "An error, because the `Sequential` was never given an input shape",
        ),
    ),
    Question(
        qid="recall_tf_matrix",
        level="medium",
        topic="Recall from tf.math.confusion_matrix",
        stem="`labels` and `predictions` hold the classes 0 and 1. What is the recall of class 1?",
        snippet="cm = tf.math.confusion_matrix(labels, predictions)\n"
        "print(cm.numpy())\n"
        "# [[50 10]\n"
        "#  [ 5 35]]",
        options=("0.778", "0.833", "0.850", "0.875"),
    ),
    Question(
        qid="threshold_split",
        level="medium",
        topic="Where to choose a threshold",
        stem="A screening model must reach 90% recall, so you will lower its decision threshold "
        "below 0.5. On which data do you choose the new threshold?",
        options=(
            "On the validation data; the test set then measures it once",
            "On the training data, whose scores the model knows best",
            "On the test set, because it gives the final, honest number",
            "On no data: Keras metrics only work at a threshold of 0.5",
        ),
    ),
    Question(
        qid="layer_in_map",
        level="medium",
        topic="A layer created inside map",
        stem="What happens when this code runs?",
        snippet="def augment(image, label):\n"
        '    flip = keras.layers.RandomFlip("horizontal")\n'
        "    return flip(image, training=True), label\n"
        "\n"
        "train_ds = train_ds.map(augment)",
        options=(
            "It works, and flips about half of the images anew every epoch",
            "It works but never flips: each call builds a fresh, unseeded layer",
            "`map` raises an error while it traces `augment` into a graph",
            "It works but runs slowly, since a layer is built for every image",
        ),
    ),
    Question(
        qid="brightness_range",
        level="medium",
        topic="Brightness on images in [0, 1]",
        stem="What values can `out` hold?",
        snippet='images = np.random.rand(8, 32, 32, 3).astype("float32")  # values in [0, 1]\n'
        "out = keras.layers.RandomBrightness(0.2)(images)",
        options=(
            "Values in [0, 1], each image up to 20% lighter or darker",
            "Values from 0 up to about 52: the shift is 20% of the range 0-255",
            "Exactly the input values: brightness acts on integer images only, not floats",
            "None: the layer raises an error for float images in [0, 1]",
        ),
    ),
    Question(
        qid="threshold_lower",
        level="medium",
        topic="Lowering the threshold",
        stem="A classifier flags a sample as positive when its score is at least `t`. On the same "
        "validation data you lower `t` from 0.5 to 0.3. What happens?",
        options=(
            "Recall rises or stays the same; precision usually falls",
            "Precision and recall both rise, since more samples are flagged",
            "Recall falls and precision rises, since fewer samples are flagged",
            "Nothing changes: the model and its weights are still the same",
        ),
    ),
    # ---- hard ------------------------------------------------------------------------------
    Question(
        qid="build_pipeline",
        level="hard",
        topic="Building flip + rotation + zoom",
        stem="Which pipeline flips images left to right at random, rotates them by up to 10% of a "
        "full turn either way, and zooms in or out by up to 20%?",
        options=(
            'keras.Sequential([keras.layers.RandomFlip("horizontal"), '
            "keras.layers.RandomRotation(36), keras.layers.RandomZoom(0.2)])",
            'keras.Sequential([keras.layers.RandomFlip("horizontal"), '
            "keras.layers.RandomRotation(0.1), keras.layers.RandomZoom((0.2, 0.2))])",
            'keras.Sequential([keras.layers.RandomFlip("horizontal"), '
            "keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.2)])",
            'keras.Sequential([keras.layers.RandomFlip("horizontal_and_vertical"), '
            "keras.layers.RandomRotation(0.1), keras.layers.RandomZoom(0.2)])",
        ),
        code_options=True,
    ),
    Question(
        qid="pipeline_order",
        level="hard",
        topic="The order of a tf.data pipeline",
        stem="`augment(image, label)` applies an augmentation layer, created once outside it, in "
        "training mode, and `AUTOTUNE = tf.data.AUTOTUNE`. Which pipeline augments afresh every "
        "epoch, augments whole batches at once, and prepares the next batch while the model "
        "trains?",
        options=(
            "train.shuffle(1000).map(augment, num_parallel_calls=AUTOTUNE).batch(64).prefetch(AUTOTUNE)",
            "train.shuffle(1000).batch(64).map(augment, num_parallel_calls=AUTOTUNE).cache()"
            ".prefetch(AUTOTUNE)",
            "train.prefetch(AUTOTUNE).shuffle(1000).batch(64).map(augment)",
            "train.shuffle(1000).batch(64).map(augment, num_parallel_calls=AUTOTUNE).prefetch(AUTOTUNE)",
        ),
        code_options=True,
    ),
    Question(
        qid="cache_after_map",
        level="hard",
        topic="cache() after a random map",
        stem="`augment` turns each batch by a random angle (training mode). What does the model "
        "train on in epochs 2 to 10?",
        snippet="train = ds.batch(32).map(augment, num_parallel_calls=tf.data.AUTOTUNE).cache()\n"
        "model.fit(train, epochs=10)",
        options=(
            "The original images, since `cache()` stores what goes into the `map` call",
            "The same augmented images as in epoch 1, replayed from the cache",
            "Newly augmented images every epoch, just as without `cache()`",
            "Nothing: `cache()` after a random `map` raises an error",
        ),
    ),
    Question(
        qid="export_augments",
        level="hard",
        topic="Exporting a model that augments",
        stem="How do `served.serve(images)` and `model.predict(images)` compare?",
        snippet="model = keras.Sequential([\n"
        "    keras.Input((32, 32, 3)),\n"
        '    keras.layers.RandomFlip("horizontal"),\n'
        "    keras.layers.RandomRotation(0.1),\n"
        "    keras.layers.Flatten(),\n"
        "    keras.layers.Dense(2),\n"
        "])\n"
        'model.export("served")\n'
        'served = tf.saved_model.load("served")',
        options=(
            "They differ: the serving function flips and turns every request at random",
            "They agree: the export runs the random layers in inference mode",
            "They agree: `model.export` leaves the random layers out",
            "Neither runs: random layers cannot be exported, so `export` raises",
        ),
    ),
    Question(
        qid="leak_before_split",
        level="hard",
        topic="Augmenting before the split",
        stem="You make 5 randomly augmented copies of each of 1,000 images, shuffle the 5,000 "
        "copies, and split them 80/20 into training and validation. How does the validation "
        "accuracy compare with the accuracy on new images?",
        options=(
            "The same: a random split is fair, whatever was done to the data before it",
            "Lower: augmented validation images are harder than real ones",
            "The same: augmentation changes the training speed, not accuracy",
            "Higher: near-copies of training images sit in the validation set",
        ),
    ),
    Question(
        qid="logits_precision",
        level="hard",
        topic="Precision on logits",
        stem="A binary model's last layer has no sigmoid: it outputs logits, where 0 means 50/50. "
        "You score it with `keras.metrics.Precision()`. What does the metric do?",
        options=(
            "It applies a sigmoid to the logits first, then cuts at 0.5",
            "It raises an error, since the predictions are not probabilities",
            "It cuts the logits at 0.5, a probability of about 0.62, silently",
            "It cuts the logits at 0, which matches a probability of exactly 0.5",
        ),
    ),
)

BY_ID = {question.qid: question for question in QUESTIONS}
