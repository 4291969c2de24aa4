"""Images that ship inside installed packages, ready for the lessons: float32 in [0, 1], small.

Nothing here downloads anything: the cat is scikit-image's ``data.chelsea()`` and the digits are
scikit-learn's ``load_digits()``, both bundled in their wheels.
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def _chelsea() -> np.ndarray:
    from skimage import data

    return data.chelsea()


def cat(height: int = 96) -> np.ndarray:
    """Chelsea the cat, shape ``(height, ~1.5 * height, 3)``, float32 in [0, 1]."""
    from skimage.transform import resize

    photo = _chelsea()
    width = round(photo.shape[1] * height / photo.shape[0])
    small = resize(photo, (height, width), anti_aliasing=True)  # floats in [0, 1]
    return small.astype("float32")


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images / 16.0).astype("float32")[..., np.newaxis]
    return images, bunch.target.astype("int32")


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 handwritten digits: images ``(n, 8, 8, 1)`` in [0, 1] and labels 0–9."""
    images, labels = _digits()
    return images.copy(), labels.copy()


def digit_batch(count: int, size: int = 32, channels: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``count`` digits enlarged to ``size`` × ``size``, repeating the 1,797 if more are asked for.

    Enlarging is by whole pixels (each digit pixel becomes a block), so it is fast and exact.
    """
    images, labels = _digits()
    index = np.arange(count) % len(images)
    scale = -(-size // images.shape[1])  # ceiling division
    big = np.repeat(np.repeat(images[index], scale, axis=1), scale, axis=2)[:, :size, :size]
    return np.repeat(big, channels, axis=-1), labels[index].copy()
