"""Session 29 (qg): Q_M's compiled pass (``liu_kernels._pww_py``) now vectorises: each block row's
terms go to row buffers with a branch-free exp (``_exp_floor_py``, floor −708) and are summed in
eight partial sums; uint8 images are read as uint8. Checked against the NumPy reference
``liu_gradient._qm_numpy`` at the float64 tolerance of ``tests/tolerance.py`` (uint8, float64 and
mixed inputs, odd sizes), the exp against NumPy's on [−708, 0], and the hand-over to the previous
pass (``_pww_scalar_py``, libm's exp) where a band difference exceeds 708."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tolerance import assert_close

from mutualfuse.metrics import liu_gradient as G
from mutualfuse.metrics import liu_kernels as L


def test_exp_floor_equals_numpy_exp():
    K = L.kernels()
    rng = np.random.default_rng(708)
    x = np.concatenate([rng.uniform(-708, 0, 20000), rng.uniform(-5, 0, 20000),
                        [0.0, -0.0, -1e-300, -708.0, -707.9]]).reshape(1, -1)
    out = np.empty_like(x)
    K["exp_floor_rows"](x, -708.0, out)
    assert_close(out, np.exp(x))
    y = np.array([[-709.0, -1e300, -np.inf, np.nan]])
    out = np.empty_like(y)
    K["exp_floor_rows"](y, -708.0, out)
    assert_close(out[0, :3], np.full(3, math.exp(-708.0)))
    assert math.isnan(out[0, 3])


def _pww(a, b, f):
    K = L.kernels()
    sums = np.empty((2, 2))
    unsafe = K["pww"](a, b, f, G._HAAR, sums)
    return unsafe, (sums[0, 0] / sums[0, 1]) ** (2.0 / 3.0) * (sums[1, 0] / sums[1, 1]) ** (1.0 / 3.0)


@pytest.mark.parametrize("shape", [(4, 4), (5, 7), (9, 15), (30, 31), (64, 96), (67, 130)])
@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_vectorised_pass_equals_numpy_reference(shape, dtype):
    rng = np.random.default_rng(sum(shape))
    a, b = rng.integers(0, 256, (2,) + shape)
    f = (a + b) // 2
    f[: shape[0] // 3] = 0
    a, b, f = (np.ascontiguousarray(x, dtype=dtype) for x in (a, b, f))
    unsafe, got = _pww(a, b, f)
    assert unsafe == 0
    want = G._qm_numpy(*(x.astype(np.float64) for x in (a, b, f)))
    assert_close(got, want)
    assert_close(G.qm(a, b, f), want)


def test_qm_mixed_and_non_integer_inputs():
    rng = np.random.default_rng(29)
    x = rng.uniform(0, 255, (3, 41, 58))
    assert _pww(*x)[0] == 0           # non-integer 0-255 images take the vectorised pass too
    assert_close(G.qm(*x), G._qm_numpy(*x))
    a = rng.integers(0, 256, (41, 58)).astype(np.uint8)
    assert_close(G.qm(a, x[1], x[2]), G._qm_numpy(a.astype(float), x[1], x[2]))


def test_band_differences_beyond_708_use_the_previous_pass():
    rng = np.random.default_rng(9)
    a, b = rng.integers(0, 256, (2, 24, 30)).astype(float)
    f = np.zeros_like(a)
    a, b = a * 20.0, b * 20.0          # Haar differences up to ~10 000: e^-d below e^-708
    unsafe, _ = _pww(a, b, f)
    assert unsafe > 0
    K = L.kernels()
    sums = np.empty((2, 2))
    K["pww_scalar"](a, b, f, G._HAAR, sums)
    want = (sums[0, 0] / sums[0, 1]) ** (2.0 / 3.0) * (sums[1, 0] / sums[1, 1]) ** (1.0 / 3.0)
    assert G.qm(a, b, f) == want
    assert_close(want, G._qm_numpy(a, b, f))
