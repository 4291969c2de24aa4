"""Checks of lesson 02, augmentation in a tf.data pipeline: one probe and one judge per exercise.

The *probe* (in the student's kernel) hands the student's functions small random images whose
labels are their positions, drawn from the seed, and a probe augmenter of its own: a horizontal
``RandomFlip`` that notes the shape of every input it is called on and the ``training`` flag. It
ships what the judge needs as plain data: the steps of the returned dataset, read from its own
graph (``Shuffle``, ``Batch``, ``ParallelMap``, ``Cache``, ``Prefetch``, with their arguments), the
contents of two epochs (images and labels, batch by batch), the augmenter's calls, and any error
in full.

The *judge* (no TensorFlow) regenerates the images from the seed and decides by behaviour first:
each image once per epoch and still paired with its label, mirrored or not, new flips and a new
order every epoch, validation images untouched (in any order). The graph names the cause of what
went wrong (a ``.cache()`` after the random map or after the shuffle,
``reshuffle_each_iteration=False``) and shows whether the pipeline is fast: the augmenter called
on whole batches, every map of batches parallel, ``prefetch`` at the end.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from augcourse.checks.exercise import Exercise, plain
from augcourse.checks.feedback import fail

IMAGE_SHAPE = (6, 7, 1)
EPOCHS = 2
BATCH_SIZES = (4, 5, 6, 8)
MAX_TEXT = 3000  # characters of an error message shipped to the judge
BATCH_OPS = ("Batch", "ParallelBatch", "PaddedBatch")
TOLERANCE = 1e-5


# ---- inputs, shared by probe and judge --------------------------------------------------------


def inputs(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Images, labels (their positions) and a batch size, drawn from ``seed``.

    The count is never a multiple of the batch size, so that a pass ends with a smaller batch.
    """
    rng = np.random.default_rng(seed)
    batch_size = int(rng.choice(BATCH_SIZES))
    count = batch_size * int(rng.integers(5, 8)) + int(rng.integers(1, batch_size))
    images = rng.random((count, *IMAGE_SHAPE), dtype=np.float32)
    return images, np.arange(count, dtype=np.int32), batch_size


# ---- what the lesson's demonstrations use (TensorFlow imported lazily) -------------------------


def dataset_steps(dataset: Any) -> list[dict[str, Any]]:
    """The transformations of a tf.data pipeline, source first, read from the dataset's graph.

    Each step is ``{"op": "Shuffle", "args": [...], "rank": 3, ...}``: ``op`` the kernel's name
    without ``Dataset`` and version (``ParallelMap``), ``args`` its scalar constant inputs
    (``Shuffle``: buffer size and seeds; ``Batch``: batch size and ``drop_remainder``), ``rank`` the
    rank of the first component of its elements, and ``reshuffle`` for a shuffle.
    """
    import tensorflow as tf

    graph = tf.raw_ops.DatasetToGraphV2(
        input_dataset=dataset._variant_tensor,
        external_state_policy=1,  # 1: ignore state
    )
    graph_def = tf.compat.v1.GraphDef()
    graph_def.ParseFromString(graph.numpy())
    nodes = {node.name: node for node in graph_def.node}

    def scalar(name: str) -> Any:
        node = nodes.get(name.lstrip("^").split(":")[0])
        if node is None or node.op != "Const" or node.attr["value"].tensor.dtype == tf.resource:
            return None
        tensor = node.attr["value"].tensor
        if len(tensor.tensor_shape.dim) != 0:
            return None
        value = tf.make_ndarray(tensor)
        return value.item() if value.dtype.kind in "biuf" else None

    node = next(node for node in graph_def.node if node.op == "_Retval")
    chain = []
    while node.input:
        node = nodes[node.input[0].lstrip("^").split(":")[0]]
        if "Dataset" not in node.op:
            continue
        step: dict[str, Any] = {
            "op": node.op.split("Dataset")[0],
            "args": [scalar(i) for i in node.input[1:]],
        }
        shapes = node.attr["output_shapes"].list.shape
        step["rank"] = None if not shapes or shapes[0].unknown_rank else len(shapes[0].dim)
        if "reshuffle_each_iteration" in node.attr:
            step["reshuffle"] = bool(node.attr["reshuffle_each_iteration"].b)
        chain.append(step)
    return chain[::-1]


def dataset_ops(dataset: Any) -> list[str]:
    """The transformations of a tf.data pipeline, source first (e.g. ``['TensorSlice', 'Map']``)."""
    return [step["op"] for step in dataset_steps(dataset)]


def images_per_second(dataset: Any, count: int) -> float:
    """Images per second of one full pass over ``dataset``, after a warm-up pass."""
    for _ in dataset:
        pass
    start = time.perf_counter()
    for _ in dataset:
        pass
    return count / (time.perf_counter() - start)


# ---- the probe: runs in the student's kernel --------------------------------------------------


def probe_augmenter() -> Any:
    """A horizontal ``RandomFlip`` that keeps ``calls``: each input's shape and ``training`` flag."""
    import keras

    class ProbeFlip(keras.layers.RandomFlip):
        """RandomFlip('horizontal') that notes what it is called with (once per trace in a map)."""

        def __init__(self) -> None:
            super().__init__("horizontal")
            self.calls: list[tuple[list[int] | None, bool | None]] = []

        def call(self, data: Any, training: Any = True) -> Any:
            shape = getattr(data, "shape", None)
            known = shape is not None and getattr(shape, "rank", 0) is not None
            dims = [-1 if d is None else int(d) for d in shape] if known else None
            self.calls.append((dims, training if isinstance(training, bool) else None))
            return super().call(data, training=training)

    return ProbeFlip()


def _error(error: BaseException) -> dict[str, Any]:
    """An error as data: its type, its message, and whether tf.data was tracing a mapped function."""
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    traced = any("structured_function" in frame.filename for frame in frames)
    return {"raised": type(error).__name__, "text": str(error)[:MAX_TEXT], "in_map": traced}


def _array(value: Any) -> np.ndarray | None:
    try:
        array = np.asarray(value)
    except Exception:
        return None
    return array if array.dtype.kind in "biuf" else None


def _read_epoch(dataset: Any, count: int) -> dict[str, Any]:
    """One pass: each element as ``{"x": images, "y": labels}``; stops once it is far too long."""
    batches: list[dict[str, Any]] = []
    seen = 0
    try:
        for element in dataset:
            if not (type(element) is tuple and len(element) == 2):
                size = len(element) if isinstance(element, tuple | list | dict) else None
                return {"structure": type(element).__name__, "size": size, "batches": []}
            x, y = (_array(part) for part in element)
            if x is None or y is None:
                return {"structure": "non-numeric", "batches": []}
            shape = list(x.shape)
            if tuple(shape[-3:]) == IMAGE_SHAPE and x.ndim in (3, 4):
                batches.append({"x": x.astype(np.float32), "y": y})
            else:  # not images of the given shape: the shape says enough
                batches.append({"shape": shape, "y": y})
            seen += len(x) if x.ndim == 4 else 1
            if seen > 3 * count or len(batches) > 3 * count:
                return {"structure": "pair", "batches": batches, "truncated": True}
    except Exception as error:  # an error in a map shows up when reading
        return {"structure": "pair", "batches": batches, **_error(error)}
    return {"structure": "pair", "batches": batches}


def probe_pipeline(make: Any, seed: int, *, augmented: bool) -> dict[str, Any]:
    """Build a pipeline from the seed's data, describe it and read two epochs of it."""
    import tensorflow as tf

    images, labels, batch_size = inputs(seed)
    if not callable(make):
        return {"not_callable": plain(make)["type"]}
    augmenter = probe_augmenter() if augmented else None
    args = (images.copy(), labels.copy(), augmenter) if augmented else (images.copy(), labels.copy())
    try:
        dataset = make(*args, batch_size)
    except Exception as error:  # the student's error is data for the judge
        return _error(error)
    data: dict[str, Any] = {
        "type": plain(dataset)["type"],
        "is_dataset": isinstance(dataset, tf.data.Dataset),
    }
    if not data["is_dataset"]:
        return data
    data["cardinality"] = int(dataset.cardinality())
    try:
        data["steps"] = dataset_steps(dataset)
    except Exception as error:
        data["steps_error"] = f"{type(error).__name__}: {str(error)[:200]}"
    if data["cardinality"] != tf.data.INFINITE_CARDINALITY:
        data["epochs"] = [_read_epoch(dataset, len(images)) for _ in range(EPOCHS)]
    if augmenter is not None:
        data["calls"] = [{"shape": dims, "training": training} for dims, training in augmenter.calls]
    return data


def _probe_fast(seed: int, fast_train_ds: Any) -> dict[str, Any]:
    return {"train": probe_pipeline(fast_train_ds, seed, augmented=True)}


def _probe_train_and_val(seed: int, make_train_ds: Any, make_val_ds: Any) -> dict[str, Any]:
    return {
        "train": probe_pipeline(make_train_ds, seed, augmented=True),
        "val": probe_pipeline(make_val_ds, seed, augmented=False),
    }


# ---- the judge: pure numpy, run by the grader -------------------------------------------------


def _malformed(what: str) -> None:
    fail(f"the answer's data could not be read ({what}): run the check again.", "malformed data")


def _get(mapping: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(mapping, dict) or not isinstance(mapping.get(key), kind):
        _malformed(what)
    return mapping[key]


ERROR_LINE = re.compile(r"^\s*(\w+(?:Error|Exception)):\s*(.+)$")
INSIDE_MAP = ("singleton tf.Variables", "tf.Variable is only created once", "created outside tf.function")


def _explain(raised: str, text: str) -> str:
    """The line of an error message worth showing: under ``in user code:``, the error's own line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    own = [m for m in (ERROR_LINE.match(line) for line in lines) if m]
    if own:
        raised, line = own[-1].group(1), own[-1].group(2)
    else:
        boring = ("in user code:", "File ", "Exception encountered when calling")
        line = next((line for line in lines if not line.startswith(boring)), "")
    line = re.sub(r"\x1b\[[0-9;]*m", "", line)
    return f"{raised}: {line[:240]}" if line else raised


def _check_built(part: Any, name: str, *, augmented: bool) -> dict[str, Any]:
    """Fail unless the function returned a finite tf.data.Dataset; returns the part."""
    if not isinstance(part, dict):
        _malformed(f"{name} is not described")
    function = name.removesuffix("()")
    if "not_callable" in part:
        fail(
            f"`{function}` must be a function (def {function}(...): ...); it is a "
            f"{str(part['not_callable'])[:60]}.",
            "not a function",
        )
    if "raised" in part:
        raised, text = str(part["raised"]), str(part.get("text", ""))
        if raised == "NotImplementedError":
            fail(
                f"{name} is not written yet: replace `raise NotImplementedError()` with your code.",
                "not written",
            )
        if any(marker in text for marker in INSIDE_MAP):
            fail(
                f"{name} raised {raised} while tf.data traced the function given to `map`: a layer "
                "(anything with random state) is created inside the mapped function, and tf.data "
                "cannot create variables there. Create the layer outside `map`"
                + (" (here: use the `augmenter` argument)" if augmented else "")
                + " and only call it inside.",
                "layer created inside map",
            )
        if raised == "TypeError" and re.search(r"positional arguments? but \d+ (was|were) given", text):
            fail(
                f"{name} raised {_explain(raised, text)}. The function given to `map` is called "
                "with the parts of each element, images and labels, as two arguments, and must "
                "return both.",
                "map function arguments",
            )
        traced = part.get("in_map") is True or "in user code:" in text
        where = " (while tf.data traced the function given to `map`)" if traced else ""
        fail(f"{name} raised {_explain(raised, text)}{where}", "raises an error")
    if part.get("is_dataset") is not True:
        kind = str(part.get("type", "?"))[:80]
        fail(
            f"{name} must return a tf.data.Dataset; it returned {'None' if kind == 'NoneType' else kind}"
            + (": is a `return` missing?" if kind == "NoneType" else "."),
            "not a dataset",
        )
    cardinality = part.get("cardinality")
    if type(cardinality) is not int:
        _malformed(f"the length of {name}")
    if cardinality == -1 or (isinstance(part.get("steps"), list) and "Repeat" in _ops(part)):
        endless = "an endless dataset" if cardinality == -1 else "a dataset that repeats the data"
        fail(
            f"{name} returns {endless} (.repeat()): leave out .repeat(); fit() runs the epochs, "
            "one pass over the dataset each.",
            "repeat",
        )
    return part


def _ops(part: dict[str, Any]) -> list[str]:
    steps = part.get("steps")
    if not isinstance(steps, list):
        return []
    return [str(step.get("op")) if isinstance(step, dict) else "?" for step in steps]


def _steps(part: dict[str, Any], name: str) -> list[dict[str, Any]]:
    steps = part.get("steps")
    if (
        not isinstance(steps, list)
        or not steps
        or not all(isinstance(step, dict) and isinstance(step.get("op"), str) for step in steps)
    ):
        _malformed(f"the steps of {name} are missing")
    return [step for step in steps if step["op"] != "Options"]  # with_options(): a setting, no step


def _after(ops: list[str], first: Callable[[str], bool], then: str) -> bool:
    """Whether ``then`` comes after the first op for which ``first`` holds."""
    starts = [i for i, op in enumerate(ops) if first(op)]
    return bool(starts) and then in ops[starts[0] + 1 :]


def _is_map(op: str) -> bool:
    return "Map" in op


def _is_shuffle(op: str) -> bool:
    return op == "Shuffle"


class Epoch:
    """One pass, checked: labels in the order they came, batch sizes, and each image's state."""

    def __init__(self, labels: list[int], sizes: list[int], states: list[str]) -> None:
        self.labels = np.array(labels, dtype=np.int64)
        self.sizes = sizes
        self.states = states

    @property
    def flips_by_label(self) -> np.ndarray:
        """Whether each image (by label) came mirrored."""
        flips = np.zeros(len(self.labels), dtype=bool)
        flips[self.labels] = [state == "mirrored" for state in self.states]
        return flips

    @property
    def groups(self) -> frozenset[frozenset[int]]:
        """Which labels travel together in each batch."""
        ends = np.cumsum(self.sizes)
        return frozenset(
            frozenset(self.labels[end - size : end].tolist())
            for end, size in zip(ends, self.sizes, strict=True)
        )


def _state(x: np.ndarray, label: int, images: np.ndarray) -> str:
    """How an image read from a pipeline relates to the image its label names."""
    original = images[label].astype(np.float64)
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        return "changed"
    if np.allclose(x, original, atol=TOLERANCE):
        return "same"
    if np.allclose(x, original[:, ::-1], atol=TOLERANCE):
        return "mirrored"
    scale = float(np.sum(x * original) / max(float(np.sum(original * original)), 1e-12))
    if abs(scale - 1) > 1e-3 and np.allclose(x, original * scale, atol=TOLERANCE):
        return "rescaled"
    flat = images.reshape(len(images), -1)
    for candidate in (x, x[:, ::-1]):
        if np.any(np.all(np.abs(flat - candidate.reshape(-1)) <= TOLERANCE, axis=1)):
            return "another image"
    return "changed"


def _read(epoch: Any, name: str, images: np.ndarray, batch_size: int, steps: list[dict[str, Any]]) -> Epoch:
    """Check one pass's form and contents; every image once, each with its state."""
    count = len(images)
    if not isinstance(epoch, dict):
        _malformed(f"an epoch of {name} is missing")
    if "raised" in epoch:
        fail(
            f"reading {name} raised {_explain(str(epoch['raised']), str(epoch.get('text', '')))}",
            "error when read",
        )
    structure = epoch.get("structure")
    if not isinstance(structure, str):
        _malformed(f"the elements of {name}")
    if structure != "pair":
        size = epoch.get("size")
        if structure == "non-numeric":
            what = "a pair, but not of numbers"
        elif isinstance(size, int):
            what = f"a {structure[:40]} of {size}"
        else:
            what = "a single tensor, without its label" if "Tensor" in structure else structure[:40]
        fail(
            f"{name} must yield (images, labels) pairs, like from_tensor_slices((images, labels)); "
            f"each element is {what}.",
            "not (images, labels) pairs",
        )
    batches = _get(epoch, "batches", list, f"the batches of {name}")
    if not batches:
        fail(f"{name} is empty: one pass yielded nothing.", "empty")
    labels: list[int] = []
    sizes: list[int] = []
    states: list[str] = []
    for batch in batches:
        y = _get(batch, "y", np.ndarray, f"labels of {name}")
        if "shape" in batch:
            shape = tuple(int(n) for n in _get(batch, "shape", list, f"a shape in {name}"))
            fail(
                f"{name} yields images of shape {shape} from images of shape {IMAGE_SHAPE}: "
                "keep each image's shape as it is (no resizing, no reshaping).",
                "images reshaped",
            )
        x = _get(batch, "x", np.ndarray, f"images of {name}")
        if x.ndim == 3:
            fail(
                f"{name} yields single images of shape {tuple(x.shape)}: batch it, so that each "
                f"element is a batch of shape (batch_size, {', '.join(map(str, IMAGE_SHAPE))}).",
                "not batched",
            )
        if x.ndim != 4 or tuple(x.shape[1:]) != IMAGE_SHAPE or x.dtype.kind != "f":
            _malformed(f"images of {name}")
        if y.shape != (len(x),) or y.dtype.kind not in "iu" or np.any((y < 0) | (y >= count)):
            fail(
                f"{name} yields labels of shape {tuple(y.shape)} and type {y.dtype.name} with the "
                f"images: keep the labels as given, one integer per image.",
                "labels changed",
            )
        labels += y.tolist()
        sizes.append(len(x))
        states += [_state(image, int(label), images) for image, label in zip(x, y, strict=True)]
    if epoch.get("truncated") is True or sorted(labels) != list(range(count)):
        _lost(name, labels, count, batch_size, steps)
    smaller = [size for size in sizes if size != batch_size]
    if len(smaller) > 1 or not all(0 < size < batch_size for size in smaller):
        fail(
            f"{name} yields batches of {sorted(set(sizes))} images; use batch_size={batch_size}, "
            "the argument it is given.",
            "wrong batch size",
        )
    return Epoch(labels, sizes, states)


def _lost(name: str, labels: list[int], count: int, batch_size: int, steps: list[dict[str, Any]]) -> None:
    drops = any(
        step.get("op") in BATCH_OPS and len(step.get("args", [])) > 1 and step["args"][1] is True
        for step in steps
        if isinstance(step.get("args"), list)
    )
    if drops and len(set(labels)) == len(labels) == count - count % batch_size:
        fail(
            f"one pass over {name} held {len(labels)} of the {count} images: drop_remainder=True "
            "drops the last, smaller batch. Keep every image.",
            "drop remainder",
        )
    fail(
        f"one pass over {name} should hold each of the {count} images exactly once; it held "
        f"{len(labels)} images with {len(set(labels))} different labels. Do not repeat, take, "
        "filter or drop elements.",
        "images lost or repeated",
    )


def _check_pairs(epochs: list[Epoch], name: str, calls: list[dict[str, Any]]) -> None:
    states = [state for epoch in epochs for state in epoch.states]
    if "another image" in states:
        fail(
            f"in {name} some images come with the label of another image: build the dataset from "
            "(images, labels) together, so that each image stays with its label through every step.",
            "labels apart from images",
        )
    if "rescaled" in states:
        fail(
            f"{name} rescales the images: they are already in [0, 1]. Change them only with the "
            "`augmenter` argument.",
            "images rescaled",
        )
    if "changed" in states:
        if not calls:
            fail(
                f"{name} changes the images with something other than the `augmenter` it is given, "
                "which it never calls: augment with the `augmenter` argument, not another layer.",
                "augmenter not used",
            )
        fail(
            f"in {name} some images are changed by something other than the `augmenter` passed in "
            "(the check's augmenter only mirrors them): augment with that argument alone.",
            "changed by another step",
        )


def _check_buffer(steps: list[dict[str, Any]], count: int, name: str) -> None:
    """Fail when a shuffle's buffer (read from the graph) holds fewer elements than the images."""
    buffers = [
        step["args"][0]
        for step in steps
        if step["op"] == "Shuffle" and isinstance(step.get("args"), list) and step["args"]
    ]
    small = [size for size in buffers if type(size) is int and 0 < size < count]
    if small:
        fail(
            f"{name} shuffles with a buffer size of {small[0]} for {count} images: an image "
            "can only move a few places, and the first batch can only hold images from the start "
            "of the data. Give the shuffle a buffer that holds the whole training set.",
            "small shuffle buffer",
        )


def _check_training(part: Any, seed: int, name: str) -> list[str]:
    """Everything a training pipeline must do, fast; returns its ops."""
    images, _, batch_size = inputs(seed)
    _check_built(part, name, augmented=True)
    steps = _steps(part, name)
    ops = [step["op"] for step in steps]
    chain = " → ".join(ops)
    calls = part.get("calls", [])
    if not isinstance(calls, list) or not all(isinstance(call, dict) for call in calls):
        _malformed(f"the augmenter's calls in {name}")
    epochs_data = _get(part, "epochs", list, f"the epochs of {name}")
    if len(epochs_data) != EPOCHS:
        _malformed(f"{name} was read {len(epochs_data)} times")
    epochs = [_read(epoch, name, images, batch_size, steps) for epoch in epochs_data]
    _check_pairs(epochs, name, calls)

    if not any("mirrored" in epoch.states for epoch in epochs):
        if not calls:
            fail(
                f"{name} never calls the `augmenter` it is given: map it over the training "
                "batches, in training mode.",
                "not augmented",
            )
        if all(call.get("training") is False for call in calls):
            fail(
                f"{name} calls the augmenter with training=False: in inference mode it changes "
                f"nothing. The training set needs it in training mode.",
                "training=False",
            )
        fail(f"{name} augments no image in {EPOCHS} epochs.", "not augmented")

    flips = [epoch.flips_by_label for epoch in epochs]
    if all(np.array_equal(flips[0], other) for other in flips[1:]):
        if _after(ops, _is_map, "Cache"):
            fail(
                f"{name} gives every image the same augmentation in every epoch ({chain}): the "
                ".cache() after the random map stores epoch 0's augmented images and replays them. "
                "Cache only what comes before the augmentation (or do not cache).",
                "cache after map",
            )
        fail(
            f"{name} gives every image the same augmentation in every epoch: the augmentation is "
            "drawn once, not anew each epoch. Augment in a `map` of the dataset, so that every "
            "pass draws new augmentations.",
            "augmented once",
        )

    orders = [epoch.labels for epoch in epochs]
    if all(np.array_equal(orders[0], other) for other in orders[1:]):
        identity = np.array_equal(orders[0], np.sort(orders[0]))
        if _after(ops, _is_shuffle, "Cache"):
            fail(
                f"{name} yields the images in the same order every epoch ({chain}): the .cache() "
                "after the shuffle stores epoch 0's order and replays it, so the shuffle never runs "
                "again. Cache only what comes before the shuffle.",
                "cache after shuffle",
            )
        if any(step["op"] == "Shuffle" and step.get("reshuffle") is False for step in steps):
            fail(
                f"{name} yields the images in the same order every epoch: "
                "reshuffle_each_iteration=False makes the shuffle draw one order and keep it. "
                "Leave that option at its default.",
                "reshuffle_each_iteration=False",
            )
        if identity and "Shuffle" not in ops:
            fail(
                f"{name} yields the images in their original order every epoch ({chain}): "
                "shuffle the training set, so that each epoch sees them in a new order.",
                "not shuffled",
            )
        _check_buffer(steps, len(images), name)
        fail(
            f"{name} yields the images in the same order every epoch ({chain}): shuffle so that "
            "each epoch draws a new order.",
            "same order every epoch",
        )
    if len({epoch.groups for epoch in epochs}) == 1:
        fail(
            f"{name} puts the same images together in a batch every epoch, only the order of the "
            f"batches changes ({chain}): shuffle the images before batching, not the batches after.",
            "shuffles batches",
        )
    _check_buffer(steps, len(images), name)

    shapes = [call.get("shape") for call in calls]
    if not all(s is None or (isinstance(s, list) and all(type(n) is int for n in s)) for s in shapes):
        _malformed(f"the augmenter's calls in {name}")
    per_image = [s for s in shapes if not (isinstance(s, list) and len(s) == 4 and s[0] != 1)]
    if per_image:
        fail(
            f"{name} calls the augmenter on one image at a time (shape "
            f"{tuple(per_image[0]) if isinstance(per_image[0], list) else '?'}): every call pays a "
            "fixed cost, once per image. Batch first, then map: one call then augments a whole batch.",
            "map per image",
        )
    batched = next((i for i, op in enumerate(ops) if "Batch" in op), len(ops))
    sequential = [op for op in ops[batched:] if _is_map(op) and not op.startswith("Parallel")]
    if sequential:
        fail(
            f"{name} maps sequentially ({chain}): give the map num_parallel_calls=tf.data.AUTOTUNE "
            "so that it uses every core.",
            "sequential map",
        )
    if ops[-1] != "Prefetch":
        fail(
            f"{name} ends with {ops[-1]} ({chain}): end with .prefetch(tf.data.AUTOTUNE) so that "
            "the next batch is prepared while the model trains on this one.",
            "prefetch not last" if "Prefetch" in ops else "no prefetch",
        )
    return ops


def _check_validation(part: Any, seed: int) -> None:
    """The validation set: batched, complete, every image exactly as it was, in any order."""
    name = "make_val_ds()"
    images, _, batch_size = inputs(seed)
    _check_built(part, name, augmented=False)
    steps = _steps(part, name)
    epochs_data = _get(part, "epochs", list, f"the epochs of {name}")
    if len(epochs_data) != EPOCHS:
        _malformed(f"{name} was read {len(epochs_data)} times")
    epochs = [_read(epoch, name, images, batch_size, steps) for epoch in epochs_data]
    states = [state for epoch in epochs for state in epoch.states]
    if "another image" in states:
        fail(
            f"in {name} some images come with the label of another image: keep each validation "
            "image with its label.",
            "validation mislabelled",
        )
    if "rescaled" in states:
        fail(
            f"{name} rescales the validation images: they are already in [0, 1], the same scale "
            "as the training images. Leave them exactly as they are.",
            "validation rescaled",
        )
    changed = sum(state != "same" for state in states)
    if changed:
        fail(
            f"{name} changes {changed} of {len(states)} validation images (over {EPOCHS} passes): "
            "validation data must not be augmented, or the metrics describe augmented images "
            "instead of real ones.",
            "validation augmented",
        )


def _judge_fast(data: Any, seed: int) -> str:
    ops = _check_training(_get(data, "train", dict, "fast_train_ds()"), seed, "fast_train_ds()")
    return (
        "fast_train_ds() shuffles, batches first, augments whole batches in a parallel map anew "
        f"every epoch, and prefetches: {' → '.join(ops)}."
    )


def _judge_train_and_val(data: Any, seed: int) -> str:
    ops = _check_training(_get(data, "train", dict, "make_train_ds()"), seed, "make_train_ds()")
    _check_validation(_get(data, "val", dict, "make_val_ds()"), seed)
    return (
        f"make_train_ds() shuffles and augments the training set anew every epoch, fast "
        f"({' → '.join(ops)}), and make_val_ds() leaves every validation image as it is."
    )


ex1 = Exercise("ex1_check", "Speed up a slow pipeline", ("fast_train_ds",), _probe_fast, _judge_fast)
ex2 = Exercise(
    "ex2_check",
    "A training set and a validation set",
    ("make_train_ds", "make_val_ds"),
    _probe_train_and_val,
    _judge_train_and_val,
)
EXERCISES = [ex1, ex2]
