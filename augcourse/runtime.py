"""Set up a lesson's runtime: TensorFlow quiet on stderr, and one seed for everything."""

from __future__ import annotations

import logging
import os
import warnings

SEED = 42  # the course's one seed; tests check it equals course.yml's
CELL_TIMEOUT = 120  # seconds per cell when validating, grading or checking progress


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


def seed_everything(seed: int = SEED) -> int:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``) and return the seed.

    Called after ``import tensorflow``, it also lowers TensorFlow's Python logger to errors: inside
    a Jupyter kernel the import resets it to INFO (``model.export`` would then log to stderr).
    """
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    keras.utils.set_random_seed(seed)
    return seed
