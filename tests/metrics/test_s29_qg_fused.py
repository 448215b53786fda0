"""Session 29 (qg): Q_G in one compiled pass (``liu_kernels._xydeas_fused_py``): per pixel the
Sobel sums, strengths, the orientation term from the two gradient vectors (two arctangents
instead of three, ``_atan_pq_py``), the sigmoids with a branch-free exp (``_exp_sig_py``) and
one division for the map; uint8 images are read as uint8. Checked against the NumPy reference
``liu_gradient._qg_numpy`` at the float64 tolerance of ``tests/tolerance.py`` (random, flat,
zero and identical images, uint8 and float64 inputs, sizes down to 2×2), the two scalar helpers
against NumPy's ``exp`` and ``arctan2``, and the fallback to the per-stage kernels where the
pass's products under- or overflow (images scaled by 1e-200 and 1e200)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tolerance import assert_close

from mutualfuse.metrics import liu_gradient as G
from mutualfuse.metrics import liu_kernels as L


def _fused(a, b, f):
    """(bad-pixel count, Q_G from the row sums) of the one-pass kernel."""
    K = L.kernels()
    H, W = a.shape
    rowsum = np.empty(H)
    bad = K["xydeas_fused"](a, b, f, np.empty((3, 3, W + 2)), np.empty(W), rowsum)
    return bad, float(np.sum(rowsum) / a.size)


def _ref(a, b, f):
    with np.errstate(all="ignore"):
        return G._qg_numpy(*(np.asarray(x, dtype=np.float64) for x in (a, b, f)))


def test_exp_sig_equals_numpy_exp():
    K = L.kernels()
    rng = np.random.default_rng(29)
    x = np.concatenate([rng.uniform(-40, 15, 30000), np.linspace(-40, 15, 30001)[:30000],
                        [0.0, -0.0, 1.0, -1.0, 0.5 * math.log(2), -0.5 * math.log(2), 15.0, -40.0]])
    x = x.reshape(2, -1)
    out = np.empty_like(x)
    K["exp_sig_rows"](x, out)
    assert_close(out, np.exp(x))
    # below the floor: e^-40 (1 + e^x rounds to 1.0 either way); NaN stays NaN
    y = np.array([[-41.0, -745.0, -1e300, -np.inf, np.nan]])
    out = np.empty_like(y)
    K["exp_sig_rows"](y, out)
    assert_close(out[0, :4], np.full(4, math.exp(-40.0)))
    assert np.all(1.0 + out[0, :4] == 1.0) and np.all(1.0 + np.exp(y[0, :4]) == 1.0)
    assert math.isnan(out[0, 4])


def test_atan_pq_equals_numpy_arctan2():
    K = L.kernels()
    rng = np.random.default_rng(2929)
    p = np.concatenate([rng.uniform(0, 3, 20000), np.exp(rng.uniform(-30, 30, 20000)),
                        [0.0, 1.0, 0.0, 5.0, 0.66, 2.41421356237309504880, 1e-300]])
    q = np.concatenate([rng.uniform(0, 3, 20000), np.exp(rng.uniform(-30, 30, 20000)),
                        [1.0, 0.0, 3.0, 5.0, 1.0, 1.0, 1e-300]])
    p, q = p.reshape(1, -1), q.reshape(1, -1)
    out = np.empty_like(p)
    K["atan_pq_rows"](p, q, out)
    assert_close(out, np.arctan2(p, q))
    assert out[0, -7] == 0.0 and out[0, -6] == pytest.approx(math.pi / 2, rel=1e-15)


def _triples():
    rng = np.random.default_rng(20261207)
    out = []
    for shape in [(2, 2), (2, 3), (3, 2), (5, 7), (37, 53), (96, 128)]:
        a, b = rng.integers(0, 256, (2,) + shape)
        f = (a + b) // 2
        out.append((f"random {shape}", a, b, f))
    a, b = rng.integers(0, 256, (2, 40, 45))
    f = np.maximum(a, b)
    a[:20] = 0                        # zero strengths on A's half: the 1e-5 substitutions
    b[:, :15] = 77                    # flat B
    f[30:] = 0
    out.append(("flat and zero parts", a, b, f))
    out.append(("all zero", *np.zeros((3, 8, 9), dtype=np.int64)))
    out.append(("A = B = F", a, a, a))
    out.append(("F = A", a, b, a))
    x = rng.uniform(0, 255, (3, 33, 41))
    out.append(("non-integer", x[0], x[1], x[2]))
    out.append(("transposed", x[0].T, x[1].T, x[2].T))
    return out


@pytest.mark.parametrize("dtype", [np.uint8, np.float64])
def test_fused_kernel_equals_numpy_reference(dtype):
    for label, a, b, f in _triples():
        if dtype == np.uint8 and label in ("non-integer", "transposed"):
            continue
        a, b, f = (np.ascontiguousarray(x, dtype=dtype) for x in (a, b, f))
        bad, got = _fused(a, b, f)
        assert bad == 0, label
        assert_close(got, _ref(a, b, f), msg=f"{label} {np.dtype(dtype).name}")


def test_qg_takes_the_one_pass_kernel_and_matches_the_reference(monkeypatch):
    def no_fallback(*args):
        raise AssertionError("the fallback ran")

    monkeypatch.setattr(G, "_qg_blocks", no_fallback)
    for label, a, b, f in _triples():
        for conv in (lambda x: np.asarray(x, np.uint8) if label not in ("non-integer", "transposed") else x,
                     lambda x: np.asarray(x, np.float64)):
            a2, b2, f2 = conv(a), conv(b), conv(f)
            assert_close(G.qg(a2, b2, f2), _ref(a2, b2, f2), msg=label)
    # mixed dtypes (uint8 and float64 inputs): read as float64, the same value
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 256, (2, 30, 31)).astype(np.uint8)
    f = (a.astype(float) + b) / 2
    assert_close(G.qg(a, b, f), _ref(a, b, f))
    # colour images go through MATLAB's rgb2gray first, as before
    c = rng.integers(0, 256, (3, 20, 24, 3)).astype(np.uint8)
    assert_close(G.qg(*c), G._qg_numpy(*(G.prep3(*c))))


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_products_out_of_range_fall_back_to_the_stage_kernels(scale):
    rng = np.random.default_rng(7)
    a, b = rng.integers(0, 256, (2, 20, 23)).astype(float)
    f = (a + b) / 2
    a, b, f = a * scale, b * scale, f * scale
    bad, _ = _fused(a, b, f)
    assert bad > 0
    with np.errstate(all="ignore"):
        want = G._qg_numpy(a, b, f)
        got = G.qg(a, b, f)
        blocks = G._qg_blocks(L.kernels(), a, b, f)
    assert got == blocks or (math.isnan(got) and math.isnan(blocks))  # the fallback's value
    if math.isnan(want):
        assert math.isnan(got)
    else:
        assert_close(got, want)
