"""Pixel rules used as floors in every comparison."""
from __future__ import annotations

import numpy as np

from . import register_method


@register_method("average", family="pixel", cite="pixelwise mean of the two sources", params={})
def average(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """F = (A + B) / 2."""
    return 0.5 * (a + b)


@register_method("max", family="pixel", cite="pixelwise maximum of the two sources", params={})
def maximum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """F = max(A, B)."""
    return np.maximum(a, b)
