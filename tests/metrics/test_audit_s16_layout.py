"""Registered metrics called from a notebook (audit s16): memory layout, read-only inputs,
empty images and the sign of a zero entropy."""
from __future__ import annotations

import math

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import ImageTooSmallError
from textured import textured_triple

KEYS = [e.name for e in M.METRICS]


_triple = textured_triple


def _same(x: float, y: float) -> bool:
    return (math.isnan(x) and math.isnan(y)) or x == y


@pytest.mark.parametrize("key", KEYS)
def test_memory_layout_and_read_only_inputs_give_identical_values(key):
    """Fortran-ordered arrays and transposed views gave values a few ulp off the C-ordered ones
    for SD@rfn-nest, SD@vifb, SCD@rfn-nest, Nabf@rfn-nest and AG@vifb (e.g.
    ``METRICS.get("SD@vifb")(*map(np.asfortranarray, (a, b, f)))`` = 50.9389702389599 vs
    50.93897023895989): as255 kept the input's memory order and NumPy's pairwise sums follow it.
    Read-only arrays and strided views must work too, and no input may be modified."""
    fn = M.METRICS.get(key)
    a, b, f = _triple()
    ref = fn(a, b, f)
    fort = tuple(np.asfortranarray(x) for x in (a, b, f))
    assert _same(fn(*fort), ref)
    big = []
    for x in (a, b, f):
        y = np.zeros((2 * x.shape[0], 2 * x.shape[1]))
        y[::2, ::2] = x
        big.append(y[::2, ::2])  # strided views
    assert _same(fn(*big), ref)
    neg = tuple(np.ascontiguousarray(x[::-1, ::-1])[::-1, ::-1] for x in (a, b, f))  # negative strides
    assert _same(fn(*neg), ref)
    ro = tuple(x.copy() for x in (a, b, f))
    for x in ro:
        x.setflags(write=False)
    assert _same(fn(*ro), ref)
    assert all(np.array_equal(x, y) for x, y in zip(ro, (a, b, f)))
    at, bt, ft = (x[:, :176] for x in (a, b, f))  # square, so that MS_SSIM@wang fits either way
    assert _same(fn(at.T, bt.T, ft.T), fn(*(np.ascontiguousarray(x.T) for x in (at, bt, ft))))


@pytest.mark.parametrize("key", ["EN@rfn-nest", "EN@vifb", "MI@rfn-nest", "SD@rfn-nest", "SD@vifb",
                                 "SF@vifb", "EI@vifb"])
def test_an_empty_image_is_image_too_small(key):
    """An empty (0×W) image gave EN = -0.0, SD@rfn-nest = 0.0, SD/SF/EI = NaN (metrics of F
    alone have no minimum size) instead of an error."""
    a, b, f = (x[:0] for x in _triple(8, 8))
    with pytest.raises(ImageTooSmallError, match="empty image") as ei:
        M.METRICS.get(key)(a, b, f)
    assert ei.value.min_side == 1
    with pytest.raises(ImageTooSmallError) as ei:  # metrics of A, B and F: at least 2 per side, as before
        M.METRICS.get("Qabf@vifb")(a, b, f)
    assert ei.value.min_side == 2


@pytest.mark.parametrize("key", ["EN@rfn-nest", "EN@vifb", "MI@rfn-nest"])
def test_entropy_of_a_constant_image_is_plus_zero(key):
    """EN of a constant image was -0.0 (printed '-0.0' in a notebook)."""
    f = np.full((8, 8), 100.0)
    v = M.METRICS.get(key)(f, f, f)
    assert v == 0 and math.copysign(1.0, v) == 1.0
