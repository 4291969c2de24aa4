"""Images per second of four tf.data augmentation pipelines, side by side in one run.

    python benchmarks/pipeline.py                          # 8,192 digits at 16×16 and 32×32
    python benchmarks/pipeline.py --sizes 8 16 32 64 --json results.json

The pipelines read the same in-memory images (scikit-learn's digits, enlarged) and augment them
with lesson 02's layers (a turn of up to ±5% of a full turn and a shift of up to ±10%, black
fill):

- no augmentation:             batch, prefetch (the ceiling);
- map per image:               map(augment one image), then batch; sequential (the naive one);
- parallel map per image:      the same with ``num_parallel_calls=AUTOTUNE``;
- batch, then map + prefetch:  batch, map(augment a whole batch) in parallel, prefetch (what the
                               course recommends).

Each pipeline runs one warm-up pass, then ``--repeats`` timed passes in rounds that interleave the
pipelines; the fastest pass of each counts. The per-image pipelines pay a fixed cost for every
call, the batched one pays it once per batch, so the gap between them is widest for small images.
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

from augcourse import runtime

runtime.quiet()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from augcourse.images import digit_batch  # noqa: E402

AUTOTUNE = tf.data.AUTOTUNE
NAIVE = "map per image"
RECOMMENDED = "batch, then map + prefetch"


def augmenter(seed: int) -> keras.Sequential:
    """Lesson 02's augmentation for digits: small turns and shifts, black fill."""
    return keras.Sequential(
        [
            keras.layers.RandomRotation(0.05, fill_mode="constant", seed=seed),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed),
        ]
    )


def pipelines(images: np.ndarray, labels: np.ndarray, batch: int, seed: int) -> dict[str, tf.data.Dataset]:
    """The four pipelines, each built from the same arrays with its own augmenter."""

    def source() -> tf.data.Dataset:
        return tf.data.Dataset.from_tensor_slices((images, labels))

    def augment(layer: keras.Sequential) -> Callable:
        return lambda x, y: (layer(x, training=True), y)

    return {
        "no augmentation": source().batch(batch).prefetch(AUTOTUNE),
        NAIVE: source().map(augment(augmenter(seed))).batch(batch),
        "parallel map per image": source()
        .map(augment(augmenter(seed)), num_parallel_calls=AUTOTUNE)
        .batch(batch),
        RECOMMENDED: source()
        .batch(batch)
        .map(augment(augmenter(seed)), num_parallel_calls=AUTOTUNE)
        .prefetch(AUTOTUNE),
    }


def seconds_per_pass(dataset: tf.data.Dataset) -> float:
    """Wall-clock seconds of one full pass over ``dataset``."""
    start = time.perf_counter()
    for _ in dataset:
        pass
    return time.perf_counter() - start


def images_per_second(datasets: dict[str, tf.data.Dataset], count: int, repeats: int) -> dict:
    """Best images per second of each pipeline over ``repeats`` rounds, after a warm-up pass.

    The rounds interleave the pipelines, so that a burst of load from elsewhere on the machine
    slows one round of every pipeline rather than all the passes of one of them.
    """
    best = {name: seconds_per_pass(dataset) for name, dataset in datasets.items()}
    for _ in range(repeats):
        for name, dataset in datasets.items():
            best[name] = min(best[name], seconds_per_pass(dataset))
    return {name: count / seconds for name, seconds in best.items()}


def measure(size: int, args: argparse.Namespace) -> dict:
    """Images per second of every pipeline on ``args.images`` digits of ``size`` × ``size``."""
    images, labels = digit_batch(args.images, size, channels=1)
    datasets = pipelines(images, labels, args.batch, args.seed)
    rates = images_per_second(datasets, args.images, args.repeats)
    return {
        "size": size,
        "images_per_second": {name: round(rate, 1) for name, rate in rates.items()},
        "speedup_recommended_vs_naive": round(rates[RECOMMENDED] / rates[NAIVE], 2),
    }


def print_table(results: list[dict]) -> None:
    """One row per pipeline, one column per image size: images per second and × naive."""
    names = list(results[0]["images_per_second"])
    header = "".join(f"{'{0}×{0}'.format(result['size']):>24}" for result in results)
    print(f"{'pipeline':<28}{header}")
    for name in names:
        cells = ""
        for result in results:
            rate = result["images_per_second"][name]
            naive = result["images_per_second"][NAIVE]
            cells += f"{rate:>14,.0f} ({rate / naive:5.1f}×)"
        print(f"{name:<28}{cells}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8192, help="images per pass (8192)")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[16, 32], help="image sizes in pixels (16 32)"
    )
    parser.add_argument("--batch", type=int, default=128, help="batch size (128)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes per pipeline (3)")
    parser.add_argument("--seed", type=int, default=runtime.SEED, help="seed of the layers")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark, print a table, and return (and optionally write) the results."""
    args = parse_args(argv)
    runtime.seed_everything(args.seed)
    results = [measure(size, args) for size in args.sizes]
    print(
        f"{args.images:,} digit images (1 channel) per pass, batch {args.batch}, best of "
        f"{args.repeats}; {os.cpu_count()} CPU cores, TensorFlow {tf.__version__}"
    )
    print_table(results)
    report = {
        "images": args.images,
        "batch": args.batch,
        "repeats": args.repeats,
        "cpu_count": os.cpu_count(),
        "tensorflow": tf.__version__,
        "results": results,
    }
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
