"""Checks of lesson 02, augmentation in a tf.data pipeline.

The checks hand the student's functions small images whose labels are their positions, and a
probe augmenter (a horizontal RandomFlip that notes the rank of what it is traced with). Reading
a few epochs then shows, by behaviour, whether the training set is augmented, shuffled and
freshly augmented every epoch, and whether the validation set is left alone. The order of the
transformations (a parallel map, prefetch at the end) is read from the dataset's own graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from augcourse.checks.feedback import expect, fail, passed

EPOCHS = 3


def probe_augmenter(seed: int | None = 0) -> Any:
    """A horizontal ``RandomFlip`` that records the rank of the inputs it is traced with."""
    import keras

    class ProbeFlip(keras.layers.RandomFlip):
        """RandomFlip('horizontal') that keeps ``ranks``: 3 for single images, 4 for batches."""

        def __init__(self, seed: int | None) -> None:
            super().__init__("horizontal", seed=seed)
            self.ranks: list[int] = []

        def call(self, data: Any, training: bool = True) -> Any:
            self.ranks.append(len(data.shape))
            return super().call(data, training=training)

    return ProbeFlip(seed)


def sample_data(
    count: int = 42, shape: tuple[int, ...] = (6, 7, 1), seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct asymmetric images in [0, 1], labelled by their position."""
    rng = np.random.default_rng(seed)
    return rng.random((count, *shape), dtype=np.float32), np.arange(count, dtype="int32")


def dataset_ops(dataset: Any) -> list[str]:
    """The transformations of a tf.data pipeline, source first (e.g. ``['TensorSlice', 'Map']``)."""
    import tensorflow as tf

    graph = tf.raw_ops.DatasetToGraphV2(
        input_dataset=dataset._variant_tensor,
        external_state_policy=1,  # 1: ignore state
    )
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph.numpy())
    nodes = {node.name: node for node in graph_def.node}
    node = next(node for node in graph_def.node if node.op == "_Retval")
    chain = []
    while node.input:
        node = nodes[node.input[0].lstrip("^").split(":")[0]]
        if "Dataset" in node.op:
            chain.append(node.op.split("Dataset")[0])
    return chain[::-1]


def _first_line(error: Exception) -> str:
    """The first non-empty line of an error message, shortened."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return (lines[0] if lines else "")[:300]


def cached_after_map(ops: list[str]) -> bool:
    """Whether a ``Cache`` step follows a map step: after a random map it freezes augmentation."""
    maps = [i for i, op in enumerate(ops) if "Map" in op]
    return bool(maps) and "Cache" in ops[maps[0] :]


@dataclass
class Epoch:
    """One pass over a dataset: images and labels in the order they came, and batch sizes."""

    images: np.ndarray
    labels: np.ndarray
    batch_sizes: list[int] = field(default_factory=list)


def read_epoch(dataset: Any, name: str) -> Epoch:
    """Read one full pass; fail with a message when its elements are not ``(images, labels)``."""
    __tracebackhide__ = True
    try:
        elements = list(dataset)
    except Exception as error:  # an error in a map shows up when reading
        fail(f"reading {name} raised {type(error).__name__}: {_first_line(error)}")
    xs, ys, sizes = [], [], []
    for element in elements:
        expect(
            isinstance(element, tuple) and len(element) == 2,
            f"{name} must yield (images, labels) pairs; it yields {type(element).__name__}.",
        )
        x, y = (np.asarray(part) for part in element)
        expect(
            x.ndim == 4,
            f"{name} yields images of shape {x.shape}: batch it, so that each element is a "
            "batch of shape (batch_size, height, width, channels).",
        )
        xs.append(x)
        ys.append(y)
        sizes.append(len(x))
    expect(bool(xs), f"{name} is empty.")
    return Epoch(np.concatenate(xs), np.concatenate(ys), sizes)


def flipped(epoch: Epoch, images: np.ndarray, name: str) -> np.ndarray:
    """For each image of ``epoch``, whether it is the original (False) or mirrored (True)."""
    __tracebackhide__ = True
    count = len(images)
    expect(
        sorted(epoch.labels.tolist()) == list(range(count)),
        f"one pass over {name} should hold each of the {count} images exactly once; it held "
        f"{len(epoch.labels)} images with {len(set(epoch.labels.tolist()))} different labels. "
        "Do not repeat, take or drop elements.",
    )
    mirrored = []
    for x, y in zip(epoch.images, epoch.labels, strict=True):
        original = images[y]
        if np.allclose(x, original):
            mirrored.append(False)
        elif np.allclose(x, original[:, ::-1]):
            mirrored.append(True)
        else:
            fail(
                f"in {name}, an image no longer belongs to its label (or was changed by something "
                "other than the augmenter passed in): build the dataset from (images, labels) "
                "together and augment with the `augmenter` argument."
            )
    return np.array(mirrored)


def _call(make: Callable[..., Any], name: str, *args: Any, **kwargs: Any) -> Any:
    __tracebackhide__ = True
    import tensorflow as tf

    try:
        dataset = make(*args, **kwargs)
    except NotImplementedError:
        fail(f"{name}() is not written yet: replace `raise NotImplementedError()` with your code.")
    except Exception as error:  # any error is the student's to read
        fail(f"{name}() raised {type(error).__name__}: {_first_line(error)}")
    expect(
        isinstance(dataset, tf.data.Dataset),
        f"{name}() must return a tf.data.Dataset; it returned {type(dataset).__name__}.",
    )
    expect(
        dataset.cardinality() != tf.data.INFINITE_CARDINALITY,
        f"{name}() returns an endless dataset: leave out .repeat(); fit() runs the epochs.",
    )
    return dataset


def _check_batches(epoch: Epoch, batch_size: int, name: str) -> None:
    __tracebackhide__ = True
    expect(
        all(size == batch_size for size in epoch.batch_sizes[:-1]) and epoch.batch_sizes[-1] <= batch_size,
        f"{name} yields batches of {sorted(set(epoch.batch_sizes))} images; "
        f"use batch_size={batch_size} as given.",
    )


def _check_training(
    make_train_ds: Callable[..., Any],
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    function: str = "make_train_ds",
) -> tuple[Any, Any]:
    """The training set: augmented anew every epoch, shuffled. Returns the probe and dataset."""
    __tracebackhide__ = True
    name = f"{function}()"
    augmenter = probe_augmenter(seed=1)
    dataset = _call(make_train_ds, function, images, labels, augmenter, batch_size)
    epochs = [read_epoch(dataset, name) for _ in range(EPOCHS)]
    flips = [flipped(epoch, images, name) for epoch in epochs]
    expect(
        bool(augmenter.ranks),
        f"{name} never calls the `augmenter` it is given: map it over the training images.",
    )
    expect(
        any(f.any() for f in flips),
        f"{name} is not augmented: no image was changed in {EPOCHS} epochs. Call the augmenter "
        "with training=True in a map over the training set.",
    )
    by_label = [f[np.argsort(e.labels)] for f, e in zip(flips, epochs, strict=True)]
    expect(
        not all(np.array_equal(by_label[0], f) for f in by_label[1:]),
        f"{name} gives every image the same augmentation in every epoch: a .cache() after the "
        "random map stores epoch 0's augmented images and replays them. Cache before augmenting "
        "(or not at all).",
    )
    expect(
        not all(np.array_equal(epochs[0].labels, e.labels) for e in epochs[1:]),
        f"{name} yields the images in the same order every epoch: shuffle the training set "
        "(before batching) so that every epoch has a new order.",
    )
    expect(
        len({_batch_groups(epoch) for epoch in epochs}) > 1,
        f"{name} puts the same images together in a batch every epoch, only the order of the "
        "batches changes: shuffle the images before batching, not the batches after.",
    )
    _check_batches(epochs[0], batch_size, name)
    return augmenter, dataset


def _batch_groups(epoch: Epoch) -> frozenset[frozenset[int]]:
    """Which labels travel together in each batch of an epoch."""
    ends = np.cumsum(epoch.batch_sizes)
    return frozenset(
        frozenset(epoch.labels[end - size : end].tolist())
        for end, size in zip(ends, epoch.batch_sizes, strict=True)
    )


def _check_validation(
    make_val_ds: Callable[..., Any], images: np.ndarray, labels: np.ndarray, batch_size: int
) -> None:
    """The validation set: batched, complete, every image exactly as it was."""
    __tracebackhide__ = True
    name = "make_val_ds()"
    dataset = _call(make_val_ds, "make_val_ds", images, labels, batch_size)
    for _ in range(2):
        epoch = read_epoch(dataset, name)
        _check_batches(epoch, batch_size, name)
        expect(
            sorted(epoch.labels.tolist()) == list(range(len(images))),
            f"one pass over {name} should hold each validation image exactly once.",
        )
        pairs = zip(epoch.images, epoch.labels, strict=True)
        changed = [not np.allclose(x, images[y]) for x, y in pairs]
        expect(
            not any(changed),
            f"{name} changes {sum(changed)} of {len(changed)} validation images: validation data "
            "must not be augmented, or the metrics describe augmented images instead of real ones.",
        )


def train_and_val(
    make_train_ds: Callable[..., Any],
    make_val_ds: Callable[..., Any],
    count: int = 42,
    batch_size: int = 8,
    seed: int = 0,
) -> None:
    """Exercise 1: augment the training set only, afresh each epoch; leave validation alone."""
    __tracebackhide__ = True
    images, labels = sample_data(count, seed=seed)
    _check_training(make_train_ds, images, labels, batch_size)
    _check_validation(make_val_ds, images, labels, batch_size)
    passed(
        "make_train_ds() shuffles and augments the training set anew every epoch, and "
        "make_val_ds() leaves every validation image as it is."
    )


def images_per_second(dataset: Any, count: int) -> float:
    """Images per second of one full pass over ``dataset``, after a warm-up pass."""
    for _ in dataset:
        pass
    start = time.perf_counter()
    for _ in dataset:
        pass
    return count / (time.perf_counter() - start)


def _speed(fast_train_ds: Callable[..., Any], slow_train_ds: Callable[..., Any]) -> str:
    """Both pipelines timed on 512 digits of 32 × 32, turned and shifted at random."""
    import keras

    from augcourse.images import digit_batch

    def augmenter() -> Any:
        return keras.Sequential(
            [
                keras.layers.RandomRotation(0.05, fill_mode="constant"),
                keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
            ]
        )

    images, labels = digit_batch(512, 32, channels=1)
    try:
        slow = images_per_second(slow_train_ds(images, labels, augmenter(), 64), len(images))
    except Exception:  # an edited slow_train_ds: there is nothing to compare with
        return ""
    fast = images_per_second(fast_train_ds(images, labels, augmenter(), 64), len(images))
    return f" Measured here: {slow:,.0f} → {fast:,.0f} images/s ({fast / slow:.1f}×)."


def fast_pipeline(
    fast_train_ds: Callable[..., Any],
    slow_train_ds: Callable[..., Any] | None = None,
    count: int = 42,
    batch_size: int = 8,
    seed: int = 0,
) -> None:
    """Exercise 2: the same training set as the slow pipeline, vectorised, parallel, prefetched."""
    __tracebackhide__ = True
    name = "fast_train_ds()"
    images, labels = sample_data(count, seed=seed)
    augmenter, dataset = _check_training(fast_train_ds, images, labels, batch_size, function="fast_train_ds")
    expect(
        min(augmenter.ranks) == 4,
        f"{name} calls the augmenter on one image at a time (rank-3 tensors). Batch first, "
        "then map: one call then augments a whole batch at once.",
    )
    ops = dataset_ops(dataset)
    maps = [op for op in ops if "Map" in op]
    expect(
        all(op.startswith("Parallel") for op in maps),
        f"{name} maps sequentially ({' → '.join(ops)}): give the map "
        "num_parallel_calls=tf.data.AUTOTUNE so that it uses every core.",
    )
    expect(
        ops[-1] == "Prefetch",
        f"{name} ends with {ops[-1]} ({' → '.join(ops)}): end with .prefetch(tf.data.AUTOTUNE) "
        "so that the next batch is prepared while the model trains on this one.",
    )
    speed = _speed(fast_train_ds, slow_train_ds) if slow_train_ds else ""
    passed(f"{name} batches first, augments whole batches in a parallel map and prefetches.{speed}")
