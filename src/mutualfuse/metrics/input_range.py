"""The input-range guard of the registered metrics.

Every registered metric takes gray images on the 0–255 scale (uint8 as read, or floats holding
0–255 values). A float image whose values all lie in [0, 1] with fractional values is an image
on the 0–1 scale: scored as 0–255 it gives wrong values silently (entropy near 0, gradients 255×
too small), so it is refused with a one-line :class:`~mutualfuse.errors.InputError`.
Integer-valued float images (0/1 masks, a black image, float copies of uint8 data) pass.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from ..errors import InputError


def check_255_scale(x, name: str) -> None:
    """Raise :class:`InputError` when ``x`` is a float image on the 0–1 scale (see the module doc)."""
    arr = np.asarray(x)
    if not np.issubdtype(arr.dtype, np.floating) or arr.size == 0:
        return
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return
    lo, hi = float(finite.min()), float(finite.max())
    if lo >= 0.0 and hi <= 1.0 and not np.array_equal(finite, np.round(finite)):
        raise InputError(f"{name}: float image with values in [{lo:.4g}, {hi:.4g}]: the fusion metrics take "
                         "images on the 0-255 scale (multiply by 255, or pass uint8)")


def range_checked(fn: Callable[..., float], key: str) -> Callable[..., float]:
    """``fn(a, b, f)`` with :func:`check_255_scale` applied to each input first."""

    @functools.wraps(fn)
    def wrapped(a, b, f, *args, **kw):
        for x, n in ((a, "a"), (b, "b"), (f, "fused")):
            check_255_scale(x, f"{key}: {n}")
        return fn(a, b, f, *args, **kw)

    return wrapped
