"""Offline data, small models and the augmentation experiment of lessons 3 and 4.

Everything here runs on data that ships inside scikit-learn, so the lessons, their checks and their
tests compute each result in one place and never download anything. Importing this module does not
import TensorFlow: the data and the NumPy models are what the checks' judges rebuild, in a process
without TensorFlow; the functions that build or train Keras models import it when called (call
:func:`augcourse.runtime.quiet` first, in a notebook).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

if TYPE_CHECKING:
    import keras
    import tensorflow as tf

DIGIT_SIZE = 16  # the 8×8 digits are enlarged so that small rotations and zooms stay readable
SEEDS = (0, 1, 2)
EPOCHS = 80
BATCH_SIZE = 25
N_TRAIN = 50  # five images of each digit: a training set small enough to overfit
SPLIT_SEED = 0
VAL_EVERY = 8  # validate every 8th epoch: evaluating 1,747 images costs more than 20 steps


@dataclass(frozen=True)
class Split:
    """Training and validation arrays."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


# --- Lesson 3: a screening model on the breast-cancer data -------------------------------------


SCREENING_FEATURES = ("mean texture", "worst smoothness", "mean symmetry")


@dataclass(frozen=True)
class Screening:
    """Standardised breast-cancer measurements; label 1 = malignant (the class to catch)."""

    train: tuple[np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray]
    test: tuple[np.ndarray, np.ndarray]
    features: tuple[str, ...]


def screening_data(seed: int = 42, features: tuple[str, ...] = SCREENING_FEATURES) -> Screening:
    """A 60/20/20 stratified split of a few measurements, scaled with training statistics only.

    With only three weak measurements (not the 30 of the data set) the model is a cheap,
    imperfect first test, so that precision and recall have to be traded against each other.
    """
    cancer = load_breast_cancer()
    names = list(cancer.feature_names)
    x = cancer.data[:, [names.index(name) for name in features]].astype("float32")
    y = (cancer.target == 0).astype("int32")  # scikit-learn codes malignant as 0; we make it 1
    x_train, x_rest, y_train, y_rest = train_test_split(x, y, test_size=0.4, stratify=y, random_state=seed)
    x_val, x_test, y_val, y_test = train_test_split(
        x_rest, y_rest, test_size=0.5, stratify=y_rest, random_state=seed
    )
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    train, val, test = ((a - mean) / std for a in (x_train, x_val, x_test))
    return Screening((train, y_train), (val, y_val), (test, y_test), tuple(features))


def screening_model(n_features: int = len(SCREENING_FEATURES)) -> keras.Model:
    """A small dense classifier: Dense(1) gives a logit, a separate sigmoid the probability."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, name="logit"),
            keras.layers.Activation("sigmoid", name="probability"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss="binary_crossentropy",
        metrics=[
            "accuracy",
            keras.metrics.Precision(name="precision"),
            keras.metrics.Recall(name="recall"),
        ],
    )
    return model


def train_screening_model(
    screening: Screening, seed: int = 42, epochs: int = 15
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Train :func:`screening_model` with ``model.fit``; return it and its history."""
    import keras

    keras.utils.set_random_seed(seed)
    model = screening_model(screening.train[0].shape[1])
    history = model.fit(
        *screening.train, validation_data=screening.val, epochs=epochs, batch_size=32, verbose=0
    )
    return model, history.history


def logit_model(model: keras.Model) -> keras.Model:
    """The same network without its final sigmoid: it outputs logits."""
    import keras

    return keras.Model(model.inputs, model.get_layer("logit").output)


def fraud_case(
    n: int = 10_000, frauds: int = 200, caught: int = 24, false_alarms: int = 20, seed: int = 42
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and predictions of a fraud detector (1 = fraud) that catches few frauds.

    The defaults give the self-check's model: about 98% accuracy and 12% recall.
    """
    y_true = np.zeros(n, dtype="int32")
    y_pred = np.zeros(n, dtype="int32")
    y_true[:frauds] = 1
    y_pred[:caught] = 1  # frauds it catches
    y_pred[frauds : frauds + false_alarms] = 1  # legitimate transactions it flags
    order = np.random.default_rng(seed).permutation(n)
    return y_true[order], y_pred[order]


# --- Lesson 3: an exact screening model, the same on every machine ------------------------------

SCREENING_L2 = 1.0  # ridge penalty on the weights (not the bias): makes the optimum unique


@dataclass(frozen=True)
class Logistic:
    """A logistic regression: probability = sigmoid(x @ weights + bias)."""

    weights: np.ndarray
    bias: float

    def logits(self, x: np.ndarray) -> np.ndarray:
        """The scores before the sigmoid, in float64."""
        return np.asarray(x, dtype="float64") @ self.weights + self.bias

    def scores(self, x: np.ndarray) -> np.ndarray:
        """The probabilities of the positive class, in float64."""
        return 1.0 / (1.0 + np.exp(-self.logits(x)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = SCREENING_L2, steps: int = 30) -> Logistic:
    """Fit a logistic regression exactly, by Newton's method, in NumPy.

    It minimises the summed binary cross-entropy plus ``l2 / 2`` times the squared weights: the
    loss ``model.fit`` minimises for a ``Dense(1)`` unit with a sigmoid (up to the penalty's
    scale). The problem has one optimum and Newton's method reaches it to machine precision, so
    the weights, and every score and threshold derived from them, are the same on every machine.
    """
    features = np.hstack([np.asarray(x, dtype="float64"), np.ones((len(x), 1))])
    target = np.asarray(y, dtype="float64")
    penalty = np.full(features.shape[1], float(l2))
    penalty[-1] = 0.0  # the bias is not penalised
    w = np.zeros(features.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-features @ w))
        gradient = features.T @ (p - target) + penalty * w
        hessian = (features * (p * (1 - p))[:, None]).T @ features + np.diag(penalty)
        w = w - np.linalg.solve(hessian, gradient)
    return Logistic(w[:-1].copy(), float(w[-1]))


def fit_screening(screening: Screening) -> Logistic:
    """The screening model: a logistic regression fitted on the training patients."""
    return fit_logistic(*screening.train)


def screening_classifier(fitted: Logistic) -> keras.Model:
    """``fitted`` as a Keras model: ``Dense(1)`` gives the logit, a separate sigmoid the probability."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((len(fitted.weights),)),
            keras.layers.Dense(1, name="logit"),
            keras.layers.Activation("sigmoid", name="probability"),
        ]
    )
    model.get_layer("logit").set_weights(
        [fitted.weights.reshape(-1, 1).astype("float32"), np.array([fitted.bias], dtype="float32")]
    )
    model.compile(
        loss="binary_crossentropy",
        metrics=[
            "accuracy",
            keras.metrics.Precision(name="precision"),
            keras.metrics.Recall(name="recall"),
        ],
    )
    return model


def highest_threshold(y_true: np.ndarray, scores: np.ndarray, target: float) -> float:
    """The highest t such that ``scores >= t`` catches at least ``target`` of the positives (label 1)."""
    positives = np.sort(np.asarray(scores, dtype="float64")[np.asarray(y_true) == 1])[::-1]
    needed = max(1, int(np.ceil(target * len(positives) - 1e-9)))
    return float(positives[needed - 1])


# --- Lesson 3: imbalanced data and its remedies ---------------------------------------------------


def transactions(n: int = 12_000, fraud: float = 0.02, seed: int = 0) -> Split:
    """A synthetic table of card transactions (10 features, 1 = fraud), split half and half.

    scikit-learn's ``make_classification`` generates it from ``seed``: the same on every machine.
    """
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=n,
        n_features=10,
        n_informative=4,
        n_redundant=2,
        weights=[1 - fraud],
        flip_y=0,
        class_sep=1.0,
        random_state=seed,
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x.astype("float32"), y.astype("int32"), test_size=0.5, stratify=y, random_state=seed
    )
    return Split(x_train, y_train, x_val, y_val)


def class_weights(y: np.ndarray) -> dict[int, float]:
    """Weights that make both classes count alike in the loss: ``n / (2 * count of the class)``."""
    y = np.asarray(y)
    return {label: len(y) / (2 * float(np.sum(y == label))) for label in (0, 1)}


def oversample(x: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Draw the positives (label 1) with replacement until there are as many as negatives; shuffle."""
    rng = np.random.default_rng(seed)
    positives, negatives = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    order = np.concatenate([negatives, rng.choice(positives, len(negatives))])
    rng.shuffle(order)
    return x[order], y[order]


def fraud_classifier(n_features: int) -> keras.Model:
    """A small dense classifier of transactions: one hidden layer, a sigmoid output."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    return model


def train_fraud_classifier(
    x: np.ndarray,
    y: np.ndarray,
    class_weight: dict[int, float] | None = None,
    *,
    seed: int = 0,
    epochs: int = 10,
) -> keras.Model:
    """Train :func:`fraud_classifier` with ``model.fit``, with per-class loss weights if given."""
    import keras

    keras.utils.set_random_seed(seed)
    model = fraud_classifier(x.shape[1])
    model.fit(x, y, epochs=epochs, batch_size=256, class_weight=class_weight, verbose=0)
    return model


# --- Lesson 4: digits, a small CNN, with and without augmentation ------------------------------


def digit_images(size: int = DIGIT_SIZE) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 handwritten digits as ``(n, size, size, 1)`` floats in [0, 1]."""
    from skimage.transform import resize

    digits = load_digits()
    images = digits.images.astype("float32") / 16.0
    if size != images.shape[1]:
        images = resize(images, (len(images), size, size), order=1, anti_aliasing=False)
    return images[..., None].astype("float32"), digits.target.astype("int32")


def digit_split(n_train: int = N_TRAIN, seed: int = SPLIT_SEED) -> Split:
    """A stratified split: ``n_train`` training images, every other image for validation."""
    x, y = digit_images()
    x_train, x_val, y_train, y_val = train_test_split(x, y, train_size=n_train, stratify=y, random_state=seed)
    return Split(x_train, y_train, x_val, y_val)


def augmentation(strength: float = 1.0, *, flips: bool = False) -> keras.Sequential:
    """Random rotation, zoom and shift, scaled by ``strength``; ``flips`` adds label-breaking flips.

    At strength 1: rotation up to ±0.05 of a turn (±18°), zoom and shift up to 10%.
    """
    import keras

    layers: list[keras.Layer] = []
    if flips:
        layers.append(keras.layers.RandomFlip("horizontal_and_vertical"))
    if strength > 0:
        shift = min(0.1 * strength, 0.9)
        layers += [
            keras.layers.RandomRotation(min(0.05 * strength, 1.0), fill_mode="constant"),
            keras.layers.RandomZoom(min(0.1 * strength, 0.9), fill_mode="constant"),
            keras.layers.RandomTranslation(shift, shift, fill_mode="constant"),
        ]
    return keras.Sequential(layers, name="augmentation")


def small_cnn(augment: keras.Layer | None = None, size: int = DIGIT_SIZE) -> keras.Model:
    """Two conv blocks and a dense head; ``augment`` (if any) runs first, in training only."""
    import keras

    layers: list[keras.Layer] = [keras.Input((size, size, 1))]
    if augment is not None:
        layers.append(augment)
    layers += [
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ]
    return keras.Sequential(layers)


@dataclass
class Run:
    """One training run: its settings, per-epoch history and the trained model."""

    name: str
    seed: int
    history: dict[str, list[float]]
    model: keras.Model
    val_epochs: list[int] = field(default_factory=list)

    def final(self, key: str) -> float:
        """The last recorded value of a history key, e.g. ``"val_accuracy"``."""
        return self.history[key][-1]

    def record(self, loss_and_accuracy: np.ndarray, val_epoch: int | None = None) -> None:
        """Append an epoch's training numbers, or (with ``val_epoch``) its validation numbers."""
        prefix = "" if val_epoch is None else "val_"
        self.history[prefix + "loss"].append(float(loss_and_accuracy[0]))
        self.history[prefix + "accuracy"].append(float(loss_and_accuracy[1]))
        if val_epoch is not None:
            self.val_epochs.append(val_epoch)


def _steps(model: keras.Model, optimizer: keras.Optimizer) -> tuple[Callable, Callable]:
    """Compiled training and evaluation steps that return (summed loss, number right)."""
    import keras
    import tensorflow as tf

    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction="sum")

    def scores(x: tf.Tensor, y: tf.Tensor, training: bool) -> tuple[tf.Tensor, tf.Tensor]:
        probs = model(x, training=training)
        hits = tf.argmax(probs, axis=1, output_type=tf.int32) == y
        return loss_fn(y, probs), tf.reduce_sum(tf.cast(hits, "float32"))

    @tf.function(reduce_retracing=True)
    def train_step(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        with tf.GradientTape() as tape:
            loss, right = scores(x, y, True)
            mean_loss = loss / tf.cast(tf.shape(x)[0], "float32")
        grads = tape.gradient(mean_loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss, right

    def eval_step(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        return scores(x, y, False)  # eager: a few large ops, not worth tracing

    return train_step, eval_step


def train_cnn(
    split: Split,
    augment: Callable[[], keras.Layer] | None = None,
    *,
    seed: int = 0,
    epochs: int = EPOCHS,
    val_every: int = VAL_EVERY,
    name: str = "",
) -> Run:
    """Train :func:`small_cnn` with Adam (cosine-decayed learning rate) from ``seed``.

    ``augment`` is a function that builds the augmentation layer (such as
    ``lambda: augmentation(2.0)``): built after seeding, its random draws are fixed by ``seed`` too.
    The history has the keys ``model.fit`` writes, with the same meaning: ``loss`` and
    ``accuracy`` average over each epoch's training batches, which pass through ``augment``;
    ``val_loss`` and ``val_accuracy`` are measured on the clean validation set, as with
    ``fit(validation_freq=val_every)``, at the epochs listed in ``Run.val_epochs`` (always
    including the last). A plain loop is used for speed: on tiny data, ``fit``'s fixed cost per
    epoch dominates. The model is returned compiled, so ``evaluate`` and ``predict`` work.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    model = small_cnn(augment() if augment is not None else None)
    n = len(split.x_train)
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, epochs * -(-n // BATCH_SIZE))
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    train_step, eval_step = _steps(model, model.optimizer)
    x, y = tf.constant(split.x_train), tf.constant(split.y_train)
    x_val, y_val = tf.constant(split.x_val), tf.constant(split.y_val)
    rng = np.random.default_rng(seed)
    run = Run(name or ("with" if augment is not None else "without"), seed, _empty(), model)
    for epoch in range(1, epochs + 1):
        totals = np.zeros(2)
        for batch in np.array_split(rng.permutation(n), -(-n // BATCH_SIZE)):
            index = tf.constant(batch)
            totals += [float(v) for v in train_step(tf.gather(x, index), tf.gather(y, index))]
        run.record(totals / n)
        if epoch % val_every == 0 or epoch == epochs:
            run.record(np.array([float(v) for v in eval_step(x_val, y_val)]) / len(y_val), epoch)
    return run


def _empty() -> dict[str, list[float]]:
    return {key: [] for key in ("loss", "accuracy", "val_loss", "val_accuracy")}


def predict_classes(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Predicted digits, augmentation off (an eager call: no retracing across many models)."""
    import tensorflow as tf

    return np.asarray(model(tf.constant(x), training=False)).argmax(axis=1)


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy with augmentation off, as ``model.evaluate`` or ``model.predict`` measure it."""
    return float(np.mean(predict_classes(model, x) == y))


def confusion(model: keras.Model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The 10×10 confusion matrix of ``model`` on clean images (rows: true digits)."""
    import tensorflow as tf

    return tf.math.confusion_matrix(y, predict_classes(model, x), num_classes=10).numpy()


# --- Lesson 4: the experiments -------------------------------------------------------------


def augmentation_experiment(
    split: Split | None = None, seeds: tuple[int, ...] = SEEDS, strength: float = 1.0
) -> dict[str, list[Run]]:
    """The same CNN trained without and with augmentation, once per seed."""
    split = split or digit_split()
    return {
        "without": [train_cnn(split, None, seed=seed) for seed in seeds],
        "with": [train_cnn(split, partial(augmentation, strength), seed=seed) for seed in seeds],
    }


def paired_effect(with_aug: np.ndarray, without_aug: np.ndarray) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of the per-seed differences."""
    differences = np.asarray(with_aug, dtype=float) - np.asarray(without_aug, dtype=float)
    return float(differences.mean()), float(differences.std(ddof=1))


def strength_sweep(
    split: Split | None = None, strengths: tuple[float, ...] = (0.5, 2.0, 3.0), seed: int = 0
) -> list[Run]:
    """One run per augmentation strength, all from the same seed."""
    split = split or digit_split()
    return [train_cnn(split, partial(augmentation, s), seed=seed, name=f"strength {s:g}") for s in strengths]


@dataclass
class Leakage:
    """Augmenting before the split: what validation reports, and what is true on new digits."""

    run: Run
    shared: float  # share of validation images whose original also has a copy in training
    reported: float  # validation accuracy on the leaky split
    fresh: float  # accuracy on new digits, augmented the same way


LEAK_POOL = 100  # original images that are augmented before the split
LEAK_COPIES = 4
LEAK_STRENGTH = 0.5


def leakage_experiment(seed: int = 0) -> Leakage:
    """Augment 100 digits into 4 copies each, then split the copies at random, as a leak does."""
    import keras

    x, y = digit_images()
    pool, rest = train_test_split(
        np.arange(len(y)), train_size=LEAK_POOL, stratify=y, random_state=SPLIT_SEED + 1
    )
    keras.utils.set_random_seed(seed)
    augment = augmentation(LEAK_STRENGTH)
    copies = np.concatenate([augment(x[pool], training=True) for _ in range(LEAK_COPIES)])
    sources = np.tile(pool, LEAK_COPIES)
    x_train, x_val, src_train, src_val = train_test_split(copies, sources, test_size=0.5, random_state=seed)
    leaky = Split(x_train, y[src_train], x_val, y[src_val])
    run = train_cnn(leaky, None, seed=seed, epochs=40, name="augmented before the split")
    fresh_images = np.asarray(augment(x[rest], training=True))
    return Leakage(
        run=run,
        shared=float(np.isin(src_val, src_train).mean()),
        reported=run.final("val_accuracy"),
        fresh=accuracy(run.model, fresh_images, y[rest]),
    )


def augmented_validation(
    model: keras.Model, split: Split, augment: keras.Layer, draws: int = 10
) -> np.ndarray:
    """Validation accuracy measured ``draws`` times on freshly augmented validation images."""
    return np.array(
        [accuracy(model, np.asarray(augment(split.x_val, training=True)), split.y_val) for _ in range(draws)]
    )
