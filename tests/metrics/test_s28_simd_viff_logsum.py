"""Session 28 (simd): VIFF sums log10 of its VID/VIND arguments as the log10 of a product
(``liu_kernels._log10_prod_py``: one multiplication per window instead of one ``log10``,
renormalised by ``frexp``), falling back to NumPy's ``log10`` where a value is outside
[1, 2¹⁰⁰). Checked: the sum against NumPy's at the float64 tolerance (``tests/tolerance.py``),
the renormalisation, the fallback flag, and VIFF against its NumPy version."""
from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

from tolerance import assert_close

from mutualfuse.metrics import liu_kernels as L

V = importlib.import_module("mutualfuse.metrics.viff")


def _prod_sum(rows):
    L.kernels()
    acc = np.array([1.0, 0.0, 0.0])
    for r in rows:
        L._log10_prod(np.ascontiguousarray(r), acc)
    return acc


@pytest.mark.parametrize("hi", [1.5, 1e3, 1e25])
def test_log10_of_product_equals_sum_of_log10(hi):
    rng = np.random.default_rng(int(math.log10(hi)) + 1)
    x = np.exp(rng.uniform(0, math.log(hi), (300, 200)))  # 6e4 values, products far past 2**900
    acc = _prod_sum(x)
    assert acc[2] == 0
    got = math.log10(acc[0]) + acc[1] * math.log10(2.0)
    assert_close(got, float(np.sum(np.log10(x))))
    if hi > 2:
        assert acc[1] > 900  # renormalised at least once


@pytest.mark.parametrize("bad", [0.5, 0.0, -1.0, np.nan, np.inf, 2.0**101])
def test_log10_product_flags_values_outside_its_range(bad):
    x = np.full((3, 8), 2.0)
    x[1, 5] = bad
    assert _prod_sum(x)[2] == 1


def test_viff_scale_kernel_maps_and_logs_agree():
    """The kernel's product state gives the sum of NumPy's log10 over the maps it writes."""
    from mutualfuse.metrics._common import gaussian_1d

    K = L.kernels()
    rng = np.random.default_rng(9)
    A, B = rng.integers(0, 256, (2, 60, 70)).astype(float)
    F = np.round((A + B) / 2)
    g = gaussian_1d(17, 17 / 5.0)
    z, m = np.empty((44, 54)), np.empty((44, 54))
    logs = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    K["viff_scale"](A, B, F, g, 0.005 * 255 * 255, z, m, logs)
    for k, x in enumerate((z, m)):
        assert logs[k, 2] == 0
        assert_close(math.log10(logs[k, 0]) + logs[k, 1] * math.log10(2.0), float(np.sum(np.log10(x))))


def test_viff_equals_numpy_version_on_integer_and_float_images():
    rng = np.random.default_rng(28)
    for shape in [(96, 128), (81, 81), (120, 97)]:
        a = rng.integers(0, 256, shape).astype(float)
        b = rng.uniform(0, 255, shape)
        f = 0.5 * a + 0.5 * b + rng.normal(0, 4, shape)
        A, B, F = (np.asarray(x, dtype=float) for x in (a, b, f))
        assert_close(V.viff(a, b, f), V._viff_numpy(A, B, F), msg=str(shape))
