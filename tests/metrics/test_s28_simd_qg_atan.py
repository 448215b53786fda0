"""Session 28 (simd): Q_G's Sobel kernel reads zero-padded row copies (no bounds tests in the
loop) and computes the angles with a branch-free Cephes arctan (``liu_kernels._atan_py``) that
vectorises. Checked: the arctan against NumPy's (float64 tolerance of ``tests/tolerance.py``,
special values exactly), and the kernel's strengths and angles against ``liu_gradient._sobel``
(the NumPy reference), at the image borders and for sizes down to 2×2."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tolerance import assert_close

from mutualfuse.metrics import liu_gradient as G
from mutualfuse.metrics import liu_kernels as L


def test_atan_equals_numpy_arctan():
    K = L.kernels()
    rng = np.random.default_rng(28)
    x = np.concatenate([rng.uniform(-1, 1, 20000), rng.uniform(-3, 3, 20000),
                        np.exp(rng.uniform(-40, 40, 20000)) * rng.choice([-1.0, 1.0], 20000),
                        [0.66, -0.66, 2.41421356237309504880, 1e-300, 1e300, -1e5]]).reshape(3, -1)
    out = np.empty_like(x)
    K["atan_rows"](x, out)
    assert_close(out, np.arctan(x))


def test_atan_special_values():
    K = L.kernels()
    x = np.array([[0.0, -0.0, np.inf, -np.inf, np.nan]])
    out = np.empty_like(x)
    K["atan_rows"](x, out)
    assert out[0, 0] == 0.0 and math.copysign(1.0, out[0, 0]) == 1.0
    assert out[0, 1] == 0.0 and math.copysign(1.0, out[0, 1]) == -1.0
    assert out[0, 2] == pytest.approx(math.pi / 2, rel=1e-15)
    assert out[0, 3] == pytest.approx(-math.pi / 2, rel=1e-15)
    assert math.isnan(out[0, 4])


@pytest.mark.parametrize("shape", [(2, 2), (3, 5), (17, 40)])
def test_sobel_kernel_equals_numpy_sobel(shape):
    K = L.kernels()
    rng = np.random.default_rng(sum(shape))
    imgs = rng.integers(0, 256, (3,) + shape).astype(float)
    imgs[2, : shape[0] // 2] = 0.0  # zero gradients: the 1e-5 substitution
    g, ang = np.empty((3,) + shape), np.empty((3,) + shape)
    K["xydeas_grad"](*imgs, 0, g, ang)
    for k in range(3):
        gw, aw = G._sobel(imgs[k])
        assert np.array_equal(g[k], gw), k  # the same sums in the same order: bit for bit
        assert_close(ang[k], aw, msg=str(k))
