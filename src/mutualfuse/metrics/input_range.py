"""The input-range guard of the registered metrics.

Every registered metric takes gray images on the 0–255 scale (uint8 as read, or floats holding
0–255 values). A float image whose values all lie in [0, 1] with fractional values is an image
on the 0–1 scale: scored as 0–255 it gives wrong values silently (entropy near 0, gradients 255×
too small), so it is refused with a one-line :class:`~mutualfuse.errors.InputError`.
So is one that spills over 0–1 by less than 0.5 (values in [−0.5, 1.5], not all whole
numbers: a network's unclipped 0–1 output, [−0.02, 1.03]), which as 0–255 values would be a black
image. Integer-valued float images (0/1 masks, a black image, float copies of uint8 data) pass. A float
image with values far outside 0–255 (above 510 = 2·255 or below −255: 16-bit or 12-bit data as
floats, a signed difference image) would likewise be scored as 0–255 silently and is refused;
an overshoot of a fused image by less than that (a network's unclipped output) passes.

Integer images other than ``uint8`` and ``uint16`` (``int32`` from Pillow's mode ``"I"``, ``int64``
from Python lists, ``int8``...) are taken as 0–255 values; one holding a value outside 0–255 (a
16-bit or 12-bit image, a signed difference image) would be scored as 0–255 silently (EI, SD, SF
16× too large for 12-bit data), so it is refused with a one-line :class:`InputError` too.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from ..errors import InputError
from ._common import as_array, layout_hint


def check_255_scale(x, name: str) -> None:
    """Raise :class:`InputError` when ``x`` is a float image on the 0–1 scale or far outside 0–255,
    or an integer image (not uint8/uint16) with values outside 0–255 (see the module doc)."""
    arr = as_array(x, name)
    if arr.size == 0:
        return
    if np.issubdtype(arr.dtype, np.integer) and arr.dtype not in (np.uint8, np.uint16):
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 255:
            raise InputError(f"{name}: {arr.dtype} image with values in [{lo}, {hi}]: integer images other than "
                             "uint16 (scaled by 255/65535) must hold 0-255 values (convert it to uint8, "
                             "to uint16, or to floats on the 0-255 scale)")
        return
    if not np.issubdtype(arr.dtype, np.floating):
        return
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        return
    lo, hi = float(finite.min()), float(finite.max())
    if lo >= -ZERO_ONE_SLACK and hi <= 1.0 + ZERO_ONE_SLACK and not np.array_equal(finite, np.round(finite)):
        if lo >= 0.0 and hi <= 1.0:
            raise InputError(f"{name}: float image with values in [{lo:.4g}, {hi:.4g}]: the fusion metrics take "
                             "images on the 0-255 scale (multiply by 255, or pass uint8)")
        raise InputError(f"{name}: float image with values in [{lo:.4g}, {hi:.4g}]: a 0-1 image that spills over "
                         "0-1 (an unclipped network output?); the fusion metrics take images on the 0-255 scale "
                         "(multiply by 255, e.g. np.clip(x, 0, 1) * 255)")
    if hi > FLOAT_MAX or lo < FLOAT_MIN:
        raise InputError(f"{name}: float image with values in [{lo:.6g}, {hi:.6g}]: the fusion metrics take "
                         "images on the 0-255 scale (16-bit data: pass uint16, which is scaled by 255/65535, "
                         "or x * 255 / 65535)")


#: float images beyond these are not 0-255 images with an overshoot (module doc)
FLOAT_MAX, FLOAT_MIN = 2 * 255.0, -255.0
#: a float image with fractions whose values all lie within this of [0, 1] is a 0-1 image (module doc)
ZERO_ONE_SLACK = 0.5


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise :class:`InputError` naming ``name`` when the float array ``arr`` holds NaN or ±inf."""
    if np.issubdtype(arr.dtype, np.floating):
        finite = np.isfinite(arr)
        if not finite.all():
            raise InputError(f"{name}: image contains NaN or infinite values ({arr.size - np.count_nonzero(finite)} "
                             f"of {arr.size} values)")


def check_layout(arr: np.ndarray, name: str) -> None:
    """Raise :class:`InputError` naming ``name`` unless ``arr`` is gray (H×W, H×W×1) or colour
    (H×W×3, H×W×4): the layouts :func:`~._common.to_gray` converts."""
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))):
        raise InputError(f"{name}: expected a gray (H×W) or colour (H×W×3) image, got shape {arr.shape}"
                         + layout_hint(arr.shape))


def range_checked(fn: Callable[..., float], key: str, uses_sources: bool = True) -> Callable[..., float]:
    """``fn(a, b, f)`` on the inputs' samples (:func:`~._common.as_array`: PIL images and torch
    tensors read once), each checked by :func:`check_255_scale` first and the images it uses by
    :func:`check_layout` and :func:`check_finite` (a metric of F alone, ``uses_sources=False``,
    ignores ``a`` and ``b``: they may be ``None``, or hold NaN). An :class:`InputError` that ``fn``
    raises (:class:`~mutualfuse.errors.ImageTooSmallError`, :class:`~mutualfuse.errors.MetricUndefinedError`,
    images of different sizes) starts with ``key`` (``"VIFF@han: VIFF needs images of at least 81
    pixels per side, got 64×64"``), as the guard's own errors do; its type and attributes are kept.

    The returned function's ``unchecked`` attribute is ``fn`` itself, without these checks, for
    callers whose images are gray and on the 0–255 scale by construction: ``evaluate`` scores the
    images :func:`mutualfuse.evaluation.read_gray` returns (uint8, uint16, or float64 0–255 values
    of a normalised or DICOM source), where a dark normalised source (all values below 1) is a dark
    image, not a 0–1 one."""

    @functools.wraps(fn)
    def wrapped(a, b, f, *args, **kw):
        arrs = []
        for x, n, used in ((a, "a", uses_sources), (b, "b", uses_sources), (f, "fused", True)):
            name = f"{key}: {n}"
            if used and x is None:
                raise InputError(f"{name}: expected a gray (H×W) or colour (H×W×3) image, got None"
                                 + (" (this metric uses the sources a and b)" if n != "fused" else ""))
            arr = as_array(x, name)
            if used:
                check_layout(arr, name)
                check_finite(arr, name)
            check_255_scale(arr, name)
            arrs.append(arr if used else x)
        try:
            return fn(*arrs, *args, **kw)
        except InputError as e:  # "VIFF needs images of ...", "images differ in size": which metric said it
            if e.args and isinstance(e.args[0], str) and not e.args[0].startswith(f"{key}: "):
                e.args = (f"{key}: {e.args[0]}",) + e.args[1:]  # same exception (type, min_side) kept
            raise

    wrapped.unchecked = fn  # type: ignore[attr-defined]
    return wrapped
