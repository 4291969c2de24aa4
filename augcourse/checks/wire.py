"""Probe data on the wire: JSON with NumPy arrays, decoded without ever running code.

A probe's data travels from the kernel (untrusted) to the judge as one JSON document. Arrays are
tagged objects holding their dtype, shape and base64 bytes; only numeric and boolean dtypes are
read back, and sizes are checked, so decoding forged data can fail but never execute anything.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import numpy as np

ARRAY = "__ndarray__"
DTYPES = ("bool", "uint8", "int32", "int64", "float16", "float32", "float64")
MAX_BYTES = 32 * 2**20  # a probe's whole document
MAX_DEPTH = 32


class WireError(ValueError):
    """Probe data that is not what a probe writes."""


def encode(value: Any) -> Any:
    """``value`` as JSON-safe data: arrays and NumPy scalars tagged, tuples as lists."""
    if isinstance(value, np.ndarray):
        array = np.array(value, order="C", copy=True)
        if array.dtype.name not in DTYPES:
            array = array.astype(np.float64)
        return {ARRAY: [array.dtype.name, list(array.shape), base64.b64encode(array.tobytes()).decode()]}
    if isinstance(value, np.generic):
        return encode(value.item())
    if isinstance(value, dict):
        return {str(key): encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [encode(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return {"__float__": repr(value)}
    if value is None or type(value) in (bool, int, float, str):
        return value
    return {"__repr__": repr(value)[:200]}


def _array(tag: Any) -> np.ndarray:
    if not (isinstance(tag, list) and len(tag) == 3):
        raise WireError("malformed array")
    dtype, shape, data = tag
    if dtype not in DTYPES or not isinstance(shape, list) or not isinstance(data, str):
        raise WireError("malformed array")
    if not all(type(n) is int and n >= 0 for n in shape):
        raise WireError("malformed array shape")
    raw = base64.b64decode(data, validate=True)
    if len(raw) != math.prod(shape) * np.dtype(dtype).itemsize:
        raise WireError("array bytes do not match its shape")
    return np.frombuffer(raw, dtype=dtype).reshape(tuple(shape)).copy()


def decode(value: Any, depth: int = 0) -> Any:
    """The inverse of :func:`encode` on parsed JSON; raises :class:`WireError` on anything else."""
    if depth > MAX_DEPTH:
        raise WireError("data nested too deeply")
    if isinstance(value, dict):
        if set(value) == {ARRAY}:
            return _array(value[ARRAY])
        if set(value) == {"__float__"} and value["__float__"] in ("nan", "inf", "-inf"):
            return float(value["__float__"])
        return {key: decode(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [decode(item, depth + 1) for item in value]
    if value is None or type(value) in (bool, int, float, str):
        return value
    raise WireError(f"unexpected {type(value).__name__}")


def dumps(value: Any) -> str:
    """Encode and serialise; raises :class:`WireError` when the document is too large."""
    text = json.dumps(encode(value), allow_nan=False)
    if len(text) > MAX_BYTES:
        raise WireError(f"probe data of {len(text)} bytes is over the limit of {MAX_BYTES}")
    return text


def loads(text: str | bytes) -> Any:
    """Parse and decode a document written by :func:`dumps`."""
    if len(text) > MAX_BYTES:
        raise WireError("probe data over the size limit")
    try:
        return decode(json.loads(text))
    except (json.JSONDecodeError, ValueError, TypeError) as error:
        raise WireError(str(error)) from None
