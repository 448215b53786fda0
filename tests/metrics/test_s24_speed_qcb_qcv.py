"""Session 24's faster Q_CB / Q_CV kernels give the values of the expressions they replace, bit for bit.

* ``qcb_pool``: one division per Q_XF (min/max) where that is the reference's quotient, the
  reference expression ``(p/q)·m + (q/p)·(1 − m)`` on any row with a 0, NaN, ∞ or a ratio near
  overflow; ``out`` may be ``t`` (it was: the aliasing kept the old loop scalar).
* ``unwrap_same2``: the three border corrections of the float32 path in one call, equal to the
  three ``unwrap_same`` calls it replaces.
* ``normalize1`` into float32 (Q_CB's and Q_CV's FFT inputs), NaN of a constant image included,
  and the largest |value| that ``_normalize1_into`` returns (255 without a pass over the image).
"""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.metrics import liu_kernels as L
from mutualfuse.metrics import structural as ST


def _pool_reference(c1, c2, cf):
    """``structural._qcb_numpy``'s pooling expressions, per pixel (NumPy, float64)."""
    with np.errstate(all="ignore"):
        mask = (c1 < cf).astype(np.float64)
        q1 = (c1 / cf) * mask + (cf / c1) * (1 - mask)
        mask = (c2 < cf).astype(np.float64)
        q2 = (c2 / cf) * mask + (cf / c2) * (1 - mask)
        den = c1 * c1 + c2 * c2
        return (c1 * c1) / den * q1 + (c2 * c2) / den * q2


@pytest.mark.parametrize("specials", [False, True])
def test_qcb_pool_equals_the_reference_expression_bit_for_bit(specials):
    K = L.kernels()
    rng = np.random.default_rng(24)
    m, n = 67, 129
    c = rng.random((3, m, n)) * 10.0 ** rng.uniform(-30, 5, (3, m, n))
    if specials:  # zeros, NaN, ∞, subnormals and ratios beyond 1e300 in some rows
        sp = np.array([0.0, -0.0, np.nan, np.inf, 5e-324, 1e-310, 1e-250, 1e102, 1.0])
        mask = rng.random((3, m, n)) < 0.02
        c[mask] = rng.choice(sp, int(mask.sum()))
    t = rng.random((m, n)) * 2.0
    t[rng.random((m, n)) < 0.01] = np.nan
    ref = _pool_reference(c[0], c[1], c[2])
    want_risk = float(np.sum(np.where(t < 1.0, t, 1.0)))
    out = np.empty((m, n))
    risk = K["qcb_pool"](c[0], c[1], c[2], t, out)
    assert np.array_equal(out, ref, equal_nan=True)
    assert abs(risk - want_risk) <= 1e-12 * want_risk
    t2 = t.copy()  # out = t, as structural.qcb calls it
    assert K["qcb_pool"](c[0], c[1], c[2], t2, t2) == risk
    assert np.array_equal(t2, ref, equal_nan=True)


@pytest.mark.parametrize("shape", [(31, 31), (40, 77), (96, 33)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unwrap_same2_equals_the_three_unwrap_same_calls(shape, dtype):
    K = L.kernels()
    rng = np.random.default_rng(shape[0] * shape[1])
    idx = np.arange(-15, 16, dtype=np.float64)
    g2, g4 = np.exp(-(idx * idx) / 8.0), np.exp(-(idx * idx) / 32.0)
    s2, s4 = 1 / (8 * np.pi), 1 / (32 * np.pi)
    x = (rng.random(shape) * 255).astype(dtype)
    d, b4 = (rng.normal(0, 50, shape).astype(dtype) for _ in range(2))
    d1, b41 = d.copy(), b4.copy()
    K["unwrap_same"](x, g2, s2, d1)
    K["unwrap_same"](x, g4, -s4, d1)
    K["unwrap_same"](x, g4, s4, b41)
    K["unwrap_same2"](x, g2, s2, g4, s4, d, b4)
    assert np.array_equal(d, d1) and np.array_equal(b4, b41)


def test_normalize1_into_float32_equals_the_numpy_normalize1_and_gives_its_largest_value():
    K = L.kernels()
    rng = np.random.default_rng(3)
    huge = rng.normal(0, 1, (31, 33))
    huge[0, 0], huge[1, 1] = 1.5e308, -1.5e308  # hi − lo overflows: NaN where x − lo does too
    for x in (rng.normal(0, 1e3, (33, 45)), np.full((20, 31), 7.0), np.zeros((5, 6)), huge,
              -rng.random((8, 9)), rng.integers(0, 256, (31, 40)).astype(np.float64)):
        for dtype in (np.float32, np.float64):
            out = np.empty(x.shape, dtype=dtype)
            with np.errstate(all="ignore"):
                amax = ST._normalize1_into(K, x, out)
                ref = ST._normalize1(x)
            assert np.array_equal(out, ref.astype(dtype), equal_nan=True)
            assert not np.signbit(out[out == 0]).any()  # +0 as round_half_away gives
            # the largest |value| (Q_CB's round-off scale), as NumPy gives it from the image
            want = max(abs(float(out.max())), abs(float(out.min())))
            assert amax == want or (np.isnan(amax) and np.isnan(want))
