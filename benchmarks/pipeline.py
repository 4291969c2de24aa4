"""Images per second of four tf.data augmentation pipelines, side by side in one run.

    python benchmarks/pipeline.py                      # defaults: 9,000 digits of 32×32×3
    python benchmarks/pipeline.py --images 20000 --json results.json

The pipelines read the same in-memory images and augment them with the course's layers
(horizontal flip, rotation up to 20% of a turn, zoom by up to 10%):

- no augmentation:              batch, prefetch (the ceiling);
- map per element:              map(augment one image), then batch; sequential;
- parallel map per element:     the same with ``num_parallel_calls=AUTOTUNE``;
- batch, then map + prefetch:   batch, map(augment the whole batch) in parallel, prefetch
                                (what the course recommends).

Each pipeline runs one warm-up pass, then ``--repeats`` timed passes; the best pass counts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grader import runtime  # noqa: E402

runtime.quiet()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from grader.images import digit_batch  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE
NAIVE = "map per element"
RECOMMENDED = "batch, then map + prefetch"


def augmenter(seed: int) -> keras.Sequential:
    """The course's augmentation: horizontal flip, rotation up to ±20% of a turn, zoom ±10%."""
    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(0.2, seed=seed),
            keras.layers.RandomZoom(0.1, seed=seed),
        ]
    )


def pipelines(
    images: np.ndarray, labels: np.ndarray, batch: int, seed: int
) -> dict[str, tf.data.Dataset]:
    """The four pipelines, each built from the same arrays with its own augmenter."""

    def source() -> tf.data.Dataset:
        return tf.data.Dataset.from_tensor_slices((images, labels))

    def augment(layer: keras.Sequential) -> Callable:
        return lambda x, y: (layer(x, training=True), y)

    return {
        "no augmentation": source().batch(batch).prefetch(AUTOTUNE),
        NAIVE: source().map(augment(augmenter(seed))).batch(batch),
        "parallel map per element": source()
        .map(augment(augmenter(seed)), num_parallel_calls=AUTOTUNE)
        .batch(batch),
        RECOMMENDED: source()
        .batch(batch)
        .map(augment(augmenter(seed)), num_parallel_calls=AUTOTUNE)
        .prefetch(AUTOTUNE),
    }


def images_per_second(dataset: tf.data.Dataset, count: int, repeats: int) -> float:
    """The best of ``repeats`` timed passes over ``dataset``, after one warm-up pass."""
    for _ in dataset:
        pass
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in dataset:
            pass
        best = min(best, time.perf_counter() - start)
    return count / best


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=9000, help="images per pass (9000)")
    parser.add_argument("--size", type=int, default=32, help="height and width in pixels (32)")
    parser.add_argument("--batch", type=int, default=64, help="batch size (64)")
    parser.add_argument("--repeats", type=int, default=2, help="timed passes per pipeline (2)")
    parser.add_argument("--seed", type=int, default=runtime.SEED, help="seed of the layers")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print a table, and return (and optionally write) the results."""
    args = parse_args(argv)
    runtime.seed_everything(args.seed)
    images, labels = digit_batch(args.images, args.size)
    rates = {
        name: images_per_second(dataset, args.images, args.repeats)
        for name, dataset in pipelines(images, labels, args.batch, args.seed).items()
    }
    naive = rates[NAIVE]
    print(f"{args.images} images of {args.size}×{args.size}×3, batch {args.batch}, "
          f"{os.cpu_count()} CPU cores, TensorFlow {tf.__version__}")
    print(f"{'pipeline':<30}{'images/s':>12}{'× naive':>10}")
    for name, rate in rates.items():
        print(f"{name:<30}{rate:>12,.0f}{rate / naive:>10.1f}")
    result = {
        "images": args.images,
        "size": args.size,
        "batch": args.batch,
        "cpu_count": os.cpu_count(),
        "tensorflow": tf.__version__,
        "images_per_second": {name: round(rate, 1) for name, rate in rates.items()},
        "speedup_recommended_vs_naive": round(rates[RECOMMENDED] / naive, 2),
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
