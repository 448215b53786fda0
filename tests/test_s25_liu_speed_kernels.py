"""Session 25's faster Q_CB / Q_CV kernels (issue 15) give the values of the loops they replace, bit for bit.

* ``normalize1`` of a uint8 image by a 256-entry table (``liu_kernels._normalize1_u8_py``):
  the values of the general kernel on the image's float64 copy and of ``structural._normalize1``
  (NaN of a constant image included), into float64 and float32.
* ``_shift_taps`` / ``_row_taps``: four filter taps per pass over the accumulator, each
  element's products still added one at a time in tap order, so equal to the plain double loop.
* ``_unwrap_terms`` (Q_CB's border terms, built on those two) against a NumPy transcription of
  the plain loops it had before (the same operations per element, in the same order).
"""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.metrics import liu_kernels as L
from mutualfuse.metrics import structural as ST


def _bits(a: np.ndarray) -> np.ndarray:
    """The bit patterns of a float array (NaN == NaN, -0 != +0)."""
    return a.view(np.int64 if a.dtype == np.float64 else np.int32)


def _u8_images():
    rng = np.random.default_rng(25)
    full = rng.integers(0, 256, (37, 53)).astype(np.uint8)
    narrow = rng.integers(90, 101, (31, 40)).astype(np.uint8)
    two = np.where(rng.random((33, 35)) < 0.5, 3, 250).astype(np.uint8)
    const = np.full((32, 33), 7, np.uint8)  # hi = lo: (x − lo)/0 = NaN everywhere
    return [full, narrow, two, const]


@pytest.mark.parametrize("k", range(4))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normalize1_of_uint8_by_table_equals_the_float64_computation(k, dtype):
    K = L.kernels()
    x = _u8_images()[k]
    lo, hi = float(x.min()), float(x.max())
    got = np.empty(x.shape, dtype)
    K["normalize1"](x, lo, hi, got)                      # uint8: the table
    want = np.empty(x.shape, dtype)
    K["normalize1"](x.astype(np.float64), lo, hi, want)  # float64: the per-pixel kernel
    assert np.array_equal(_bits(got), _bits(want)), f"image {k}: table and per-pixel kernel differ"
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = ST._normalize1(x.astype(np.float64)).astype(dtype)
    nan = np.isnan(ref)  # (the NaN of 0/0: its sign bit differs between NumPy and the kernels)
    assert np.array_equal(nan, np.isnan(got)), f"image {k}: NaN elsewhere than structural._normalize1"
    assert np.array_equal(_bits(got[~nan]), _bits(ref[~nan])), f"image {k}: differs from structural._normalize1"


def test_normalize1_table_with_bounds_not_taken_from_the_image():
    """Every table entry, also values outside [lo, hi] (negative and > 255 before rounding, halves)."""
    K = L.kernels()
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    for lo, hi in [(3.5, 200.25), (0.0, 255.0), (17.0, 18.0), (100.0, 100.5), (-7.0, 3.0)]:
        got = np.empty(x.shape)
        K["normalize1"](x, lo, hi, got)
        want = np.empty(x.shape)
        K["normalize1"](x.astype(np.float64), lo, hi, want)
        assert np.array_equal(_bits(got), _bits(want)), (lo, hi)


def _taps_plain(acc, rows, g):
    """``acc += g[t] * rows[t]`` for t in order (NumPy: per element, the plain loop's operations)."""
    acc = acc.copy()
    for t in range(g.shape[0]):
        acc += g[t] * rows[t]
    return acc


@pytest.mark.parametrize("nt", [1, 2, 3, 4, 5, 7, 8, 9, 31])
def test_tap_helpers_equal_the_plain_loop_bit_for_bit(nt):
    L.kernels()
    rng = np.random.default_rng(nt)
    n = 67
    g = rng.normal(size=nt) * 10.0 ** rng.uniform(-3, 3, nt)
    acc0 = rng.normal(size=n) * 1e3
    # shift taps: acc[j] += g[t]·src[t + j]
    src = rng.normal(size=n + nt + 3) * 255
    got = acc0.copy()
    L._shift_taps(got, src, g, n)
    want = _taps_plain(acc0, [src[t:t + n] for t in range(nt)], g)
    assert np.array_equal(_bits(got), _bits(want))
    # row taps: acc[j] += g[t0 + t]·U[r0 + t, j] (rows of U longer than n, as in _unwrap_terms)
    U = rng.normal(size=(nt + 5, n + 4)) * 255
    g2 = np.concatenate([rng.normal(size=2), g])
    got = acc0.copy()
    L._row_taps(got, U, 3, g2, 2, nt, n)
    want = _taps_plain(acc0, [U[3 + t, :n] for t in range(nt)], g)
    assert np.array_equal(_bits(got), _bits(want))


def _unwrap_terms_plain(x, g):
    """The border terms of ``liu_kernels._unwrap_terms_py`` as its plain loops computed them
    before session 25 (NumPy over the contiguous axis: per element the same operations in the
    same order)."""
    n = g.shape[0]
    h = n // 2
    M, N = x.shape
    rows = np.zeros((2 * h, N))
    cols = np.zeros((2 * h, M))
    u = np.zeros((2 * h, N))
    for r in range(2 * h):
        xr = (x[r] if r < h else x[M - 2 * h + r]).astype(np.float64)
        xe = np.concatenate([xr[N - h:], xr, xr[:h]])
        for d in range(-h, h + 1):
            u[r] += g[d + h] * xe[d + h:d + h + N]
    for r in range(2 * h):
        i = r if r < h else M - 2 * h + r
        ds = range(-h, -i) if i < h else range(M - i, h + 1)
        for d in ds:
            rows[r] += g[d + h] * (u[2 * h + i + d] if i < h else u[i + d - M])
    xt = np.concatenate([x[:, :h].T, x[:, N - h:].T]).astype(np.float64)
    v = np.zeros((2 * h, M + 2 * h))
    for c in range(h):
        for d in range(-h, -c):
            v[c, h:h + M] += g[d + h] * xt[h + c + d + h]
        for d in range(h - c, h + 1):
            v[h + c, h:h + M] += g[d + h] * xt[c + d - h]
    for c in range(2 * h):
        for d in range(-h, h + 1):
            cols[c] += g[d + h] * v[c, d + h:d + h + M]
    return rows, cols


@pytest.mark.parametrize("shape,taps,dtype", [((31, 31), 31, np.float64), ((40, 77), 31, np.float32),
                                              ((65, 32), 31, np.float64), ((9, 12), 7, np.float32),
                                              ((120, 160), 31, np.float32)])
def test_unwrap_terms_equal_the_plain_loops_bit_for_bit(shape, taps, dtype):
    L.kernels()
    rng = np.random.default_rng(shape[0] * 1000 + shape[1])
    x = (rng.normal(0, 60, shape)).astype(dtype)
    idx = np.arange(-(taps // 2), taps // 2 + 1, dtype=np.float64)
    for sigma in (2.0, 4.0):
        g = np.exp(-(idx * idx) / (2 * sigma * sigma))
        h = taps // 2
        rows = np.empty((2 * h, shape[1]))
        cols = np.empty((2 * h, shape[0]))
        L._unwrap_terms(x, g, rows, cols)
        want_rows, want_cols = _unwrap_terms_plain(x, g)
        assert np.array_equal(_bits(rows), _bits(want_rows)), f"rows, sigma {sigma}"
        assert np.array_equal(_bits(cols), _bits(want_cols)), f"cols, sigma {sigma}"
