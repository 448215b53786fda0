"""Pixel rules used as floors in every comparison."""
from __future__ import annotations

import numpy as np

from . import register_method


@register_method("average", family="pixel", cite="pixelwise mean of the two sources", params={})
def average(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """F = (A + B) / 2."""
    s = a + b
    if isinstance(s, np.ndarray) and s.dtype.kind == "f":
        s *= 0.5  # in place: the same values as 0.5 * (a + b), one image-sized array less
        return s
    return 0.5 * s


@register_method("max", family="pixel", cite="pixelwise maximum of the two sources", params={})
def maximum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """F = max(A, B)."""
    return np.maximum(a, b)
