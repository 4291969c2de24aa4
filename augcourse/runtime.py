"""Set up a lesson's runtime: TensorFlow quiet on stderr, one seed for everything, and a word to the
student whose TensorFlow or Keras is outside the releases the course is tested on."""

from __future__ import annotations

import logging
import os
import re
import warnings
from typing import NamedTuple

SEED = 42  # the course's one seed; tests check it equals course.yml's


class Release(NamedTuple):
    """A TensorFlow release and the Keras release installed with it."""

    tensorflow: str
    keras: str


# The releases every claim test and every solution notebook pass on (`make test-matrix` runs them
# all; the last one is the pinned runtime of course.yml). Colab ships its own TensorFlow and Keras,
# so students meet the older ones too. The tested range below is derived from this list alone.
TESTED_RELEASES: tuple[Release, ...] = (
    Release("2.18.1", "3.8.0"),
    Release("2.19.1", "3.10.0"),
    Release("2.20.0", "3.15.1"),
    Release("2.21.0", "3.15.1"),
)


def quiet() -> None:
    """Keep TensorFlow, absl and Python warnings off stderr (nbgrader zeroes a cell that writes there).

    Call it before ``import tensorflow``.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    warnings.filterwarnings("ignore")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        import absl.logging
    except ImportError:  # absl comes with TensorFlow; without it there is nothing to quiet
        return
    absl.logging.set_verbosity(absl.logging.ERROR)


def minor(version: str) -> tuple[int, int] | None:
    """``(major, minor)`` of a version string such as ``"2.19.1"`` or ``"2.20.0-rc1"``; None if unreadable."""
    found = re.match(r"\s*(\d+)\.(\d+)", str(version))
    return (int(found[1]), int(found[2])) if found else None


def tested_range(package: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """The oldest and newest ``(major, minor)`` of ``package`` ("tensorflow" or "keras") tested."""
    versions = sorted(minor(getattr(release, package)) for release in TESTED_RELEASES)
    return versions[0], versions[-1]


def _span(package: str) -> str:
    (low_major, low_minor), (high_major, high_minor) = tested_range(package)
    return f"{low_major}.{low_minor}–{high_major}.{high_minor}"


def version_note(tensorflow: str, keras: str) -> str | None:
    """One line for a student whose TensorFlow or Keras is outside the tested range; None inside it."""
    outside = []
    for package, version in (("tensorflow", tensorflow), ("keras", keras)):
        low, high = tested_range(package)
        found = minor(version)
        if found is None or not low <= found <= high:
            outside.append(package)
    if not outside:
        return None
    return (
        f"Note: this course is tested on TensorFlow {_span('tensorflow')} with Keras {_span('keras')}; "
        f"you have TensorFlow {tensorflow} with Keras {keras}. The lessons should still run, but where "
        "an output differs from the text, trust what your runtime shows."
    )


def seed_everything(seed: int = SEED) -> int:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``) and return the seed.

    Called after ``import tensorflow``, it also lowers TensorFlow's Python logger to errors: inside
    a Jupyter kernel the import resets it to INFO (``model.export`` would then log to stderr). Where
    TensorFlow or Keras is outside the tested releases it prints one line saying so (on stdout:
    nbgrader zeroes a cell that writes to stderr) and goes on.
    """
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    keras.utils.set_random_seed(seed)
    note = version_note(tf.__version__, keras.__version__)
    if note:
        print(note)
    return seed
