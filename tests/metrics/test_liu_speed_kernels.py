"""The compiled (numba) paths of Q_S, Q_W, Q_C, Q_Y, Q_G, Q_M and VIFF (``liu_kernels``) against the
NumPy array expressions they replaced, which stay in the metric modules as the reference (each
module falls back to them when ``kernels()`` gives ``None``; the tests force that by patching).

Compared at the float64 tolerance of ``tests/tolerance.py`` (Q_CB and Q_CV, whose FFTs run in
float32 since session 21, at its float32 tolerance), on random images (integer and
non-integer values, odd and even sizes) and on degenerate ones (constant, zero, identical
sources, flat patches), where the NaN results of the reference (0/0 windows of Q_C / Q_Y) must
be NaN on both paths.
"""
from __future__ import annotations

import importlib
import math

import numpy as np
import pytest

from tolerance import assert_close

from mutualfuse.metrics import _common as C
from mutualfuse.metrics import liu_gradient as G
from mutualfuse.metrics import liu_kernels as L
from mutualfuse.metrics import liu_structural as S

V = importlib.import_module("mutualfuse.metrics.viff")  # the package re-exports a function `viff`

METRICS = [("Qs", S, S.qs), ("Qw", S, S.qw), ("Qc", S, S.qc), ("Qy", S, S.qy), ("Qg", G, G.qg),
           ("VIFF", V, V.viff), ("Qm", G, G.qm)]


def _numpy_value(monkeypatch, module, fn, a, b, f) -> float:
    with monkeypatch.context() as m:
        m.setattr(module, "kernels", lambda: None)
        return fn(a, b, f)


def _same(got: float, ref: float, what: str, dtype=None) -> None:
    if math.isnan(ref):
        assert math.isnan(got), f"{what}: NumPy path NaN, compiled {got!r}"
    else:
        assert_close(got, ref, dtype=dtype, msg=what)


def black_background_triple():
    """Two discs of random values in exactly black backgrounds (the CT/MR case) and their
    maximum: Q_CB's ratio of two near-zero filtered images is decided by FFT round-off there."""
    rng = np.random.default_rng(2)
    yy, xx = np.mgrid[0:128, 0:144]
    a = np.where((yy - 64) ** 2 + (xx - 72) ** 2 < 30**2, rng.integers(40, 256, yy.shape), 0)
    b = np.where((yy - 60) ** 2 + (xx - 80) ** 2 < 25**2, rng.integers(40, 256, yy.shape), 0)
    return a, b, np.maximum(a, b)


def _random_triples():
    rng = np.random.default_rng(20261202)
    out = []
    for shape in [(96, 128), (83, 101)]:
        a = rng.integers(0, 256, shape).astype(np.uint8)
        b = rng.integers(0, 256, shape).astype(np.uint8)
        f = ((a.astype(float) + b) / 2).round().astype(np.uint8)
        out.append((f"uint8 {shape}", a, b, f))
    shape = (90, 85)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    base = 127 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0)
    a = base + rng.normal(0, 7, shape)
    b = 255 - base + rng.normal(0, 7, shape)
    f = 0.6 * a + 0.4 * b + rng.normal(0, 2, shape)
    out.append(("smooth float", a, b, f))
    return out


def _degenerate_triples():
    shape = (84, 90)
    rng = np.random.default_rng(5)
    noise = rng.integers(0, 256, shape).astype(float)
    const = np.full(shape, 77.0)
    zero = np.zeros(shape)
    patchy_a = noise.copy()
    patchy_a[0:40, 0:45] = 80.0
    patchy_b = rng.integers(0, 256, shape).astype(float)
    patchy_b[40:84, 30:90] = 200.0
    return [
        ("constant", const, const, const),
        ("constant sources, noisy F", const, np.full(shape, 120.0), noise),
        ("zero", zero, zero, zero),
        ("zero F", noise, patchy_b, zero),
        ("A = B = F", noise, noise, noise),
        ("F = A", noise, patchy_b, noise),
        ("flat patches", patchy_a, patchy_b, np.round((patchy_a + patchy_b) / 2)),
    ]


@pytest.mark.parametrize("name,module,fn", METRICS, ids=[m[0] for m in METRICS])
def test_compiled_equals_numpy_on_random_images(monkeypatch, name, module, fn):
    assert L.kernels() is not None
    for label, a, b, f in _random_triples():
        ref = _numpy_value(monkeypatch, module, fn, a, b, f)
        assert math.isfinite(ref)
        _same(fn(a, b, f), ref, f"{name} {label}")


@pytest.mark.parametrize("name,module,fn", METRICS, ids=[m[0] for m in METRICS])
def test_compiled_equals_numpy_on_degenerate_images(monkeypatch, name, module, fn):
    for label, a, b, f in _degenerate_triples():
        with np.errstate(all="ignore"):
            ref = _numpy_value(monkeypatch, module, fn, a, b, f)
            got = fn(a, b, f)
        _same(got, ref, f"{name} {label}")


@pytest.mark.parametrize("shape", [(2, 3), (5, 7), (32, 9), (33, 40), (70, 31)])
def test_compiled_qg_on_small_and_block_edge_sizes(monkeypatch, shape):
    """Q_G runs in blocks of ``liu_gradient._QG_BLOCK`` rows: images smaller than a block, of
    exactly one block and with a partial last block (the Sobel filter needs the rows around
    every block)."""
    rng = np.random.default_rng(sum(shape))
    a, b = rng.integers(0, 256, shape), rng.integers(0, 256, shape)
    f = (a + b) // 2
    f[: shape[0] // 2] = 0
    _same(G.qg(a, b, f), _numpy_value(monkeypatch, G, G.qg, a, b, f), f"Qg {shape}")


@pytest.mark.parametrize("shape", [(4, 4), (5, 7), (6, 10), (9, 15), (30, 31)])
def test_compiled_qm_on_small_and_odd_sizes(monkeypatch, shape):
    """Q_M's one-pass kernel (``liu_kernels._pww_py``) keeps two rows of level-1 lolo values and
    drops odd rows/columns at each level as ``corrDn`` does: sizes with odd block counts."""
    rng = np.random.default_rng(sum(shape))
    a, b = rng.integers(0, 256, shape).astype(float), rng.uniform(0, 255, shape)
    f = np.round((a + b) / 2)
    _same(G.qm(a, b, f), _numpy_value(monkeypatch, G, G.qm, a, b, f), f"Qm {shape}")


def test_degenerate_cases_cover_nan_and_exact_values():
    """The degenerate set reaches the reference's special values (so the test above checks them)."""
    const = np.full((84, 90), 77.0)
    zero = np.zeros((84, 90))
    with np.errstate(all="ignore"):
        assert S.qs(const, const, const) == 1.0
        assert math.isnan(S.qc(zero, zero, zero))
        assert math.isnan(S.qy(zero, zero, zero))
        assert V.viff(const, const, const) == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("rel", [np.inf, 1e-8, -1.0])
def test_compiled_octave_rounding_path_equals_numpy(monkeypatch, rel):
    """Q_C / Q_Y: with every window recomputed in Octave's order (threshold ∞) the compiled
    double-double FMA emulation (``liu_kernels._filter2_at_py``) gives what the NumPy one
    (``liu_structural.filter2_valid_at``) gives; also with the default and with no window."""
    monkeypatch.setattr(S, "_NOISE_REL", rel)
    for label, a, b, f in _degenerate_triples()[-2:] + _random_triples()[:1]:
        for fn in (S.qc, S.qy):
            with np.errstate(all="ignore"):
                ref = _numpy_value(monkeypatch, S, fn, a, b, f)
                got = fn(a, b, f)
            _same(got, ref, f"{fn.__name__} {label} rel={rel}")


def test_compiled_filter2_at_equals_numpy_everywhere():
    """Every 'valid' position of a 40×45 image (rows both in OpenBLAS's fused part and in its
    unfused tail) for all nine Yang quantities."""
    L.kernels()
    rng = np.random.default_rng(1)
    a = rng.integers(0, 256, (40, 45)).astype(float)
    b = rng.uniform(-300, 300, (40, 45))
    f = np.round(a * 0.37 + rng.normal(0, 3, a.shape), 2)
    a[:15, :20] = 80.0
    imgs = np.stack([a, b, f])
    ii, jj = (x.ravel() for x in np.meshgrid(np.arange(34), np.arange(39), indexing="ij"))
    E = np.zeros((9, 34, 39))
    w = S._yang_window()
    L.kernels()["filter2_at"](*imgs, w, ii, jj, E)
    for q in range(9):
        x = imgs[L.TRIPLE_PI[q]]
        src = x if L.TRIPLE_PJ[q] < 0 else x * imgs[L.TRIPLE_PJ[q]]
        assert_close(E[q], S.filter2_valid_at(src, w, ii, jj).reshape(34, 39), msg=f"quantity {q}")


def test_compiled_fma_is_correctly_rounded():
    """The compiled FMA emulation equals the exactly rounded a·w + c (an exact equality: correct
    rounding has one answer), including cases where two roundings differ from one."""
    from fractions import Fraction

    L.kernels()
    fma = L._fma
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.integers(0, 65026, 1500).astype(float), rng.uniform(-300, 300, 1500)])
    c = np.concatenate([rng.uniform(0, 300, 1500), rng.uniform(-1e3, 1e3, 1500)])
    c[::7] = -np.round(x[::7] * 0.0123, 3)
    w = 0.012345678901234567
    bits = np.empty(1)
    got = np.array([fma(xi, w, ci, bits) for xi, ci in zip(x, c)])
    exact = np.array([float(Fraction(xi) * Fraction(w) + Fraction(ci)) for xi, ci in zip(x, c)])
    assert np.array_equal(got, exact)
    assert not np.array_equal(x * w + c, exact)


@pytest.mark.parametrize("n,step", [(11, 1), (33, 1), (17, 2), (5, 2)])
def test_compiled_separable_filter_equals_scipy(n, step):
    """``liu_kernels._sep_valid1_py`` (every ``step``-th output: VIFF's decimation) against
    ``_common.sep_correlate_valid`` (scipy ``correlate1d``)."""
    rng = np.random.default_rng(n)
    x = rng.uniform(0, 255, (61, 74))
    g = C.gaussian_1d(n, n / 5.0)
    rows, cols = 61 - n + 1, 74 - n + 1
    out = np.empty(((rows + step - 1) // step, (cols + step - 1) // step))
    L.kernels()["sep_valid1"](x, g, step, out)
    assert_close(out, C.sep_correlate_valid(x, g)[::step, ::step])


@pytest.mark.parametrize("n,nq", [(7, 9), (11, 8), (33, 8)])
def test_compiled_fused_triple_filter_equals_scipy(n, nq):
    """``liu_kernels._sep_valid3_py`` (the vertical pass of all sums of A, B, F in one loop, as
    the Q_S/Q_W, Q_C/Q_Y and VIFF kernels filter) against ``_common.sep_correlate_valid``."""
    rng = np.random.default_rng(100 + n)
    imgs = rng.uniform(0, 255, (3, 52, 67))
    imgs[1, :20, :30] = 3.0
    g = C.gaussian_1d(n, n / 5.0)
    out = np.empty((nq, 52 - n + 1, 67 - n + 1))
    L.kernels()["sep_valid3"](*imgs, g, out)
    for q in range(nq):
        x = imgs[L.TRIPLE_PI[q]]
        src = x if L.TRIPLE_PJ[q] < 0 else x * imgs[L.TRIPLE_PJ[q]]
        assert_close(out[q], C.sep_correlate_valid(src, g), msg=f"quantity {q}")


# ---- Q_CB and Q_CV (structural.qcb / structural.qcv): real FFTs and compiled loops ----------

from mutualfuse.metrics import structural as ST  # noqa: E402

CB_CV = [("Qcb", ST.qcb), ("Qcv", ST.qcv)]


@pytest.mark.parametrize("name,fn", CB_CV, ids=[m[0] for m in CB_CV])
def test_compiled_qcb_qcv_equal_numpy_on_random_and_degenerate_images(monkeypatch, name, fn):
    """The compiled path against the complex NumPy one (``_qcb_numpy`` / ``_qcv_numpy``, MATLAB's
    operations), including the NaN of constant and zero images."""
    assert L.kernels() is not None
    for label, a, b, f in _random_triples() + _degenerate_triples():
        with np.errstate(all="ignore"):
            ref = _numpy_value(monkeypatch, ST, fn, a, b, f)
            got = fn(a, b, f)
        _same(got, ref, f"{name} {label}", dtype=np.float32)


@pytest.mark.parametrize("shape", [(31, 31), (31, 40), (47, 33), (64, 97), (30, 50), (12, 20)])
@pytest.mark.parametrize("name,fn", CB_CV, ids=[m[0] for m in CB_CV])
def test_compiled_qcb_qcv_on_small_and_odd_sizes(monkeypatch, name, fn, shape):
    """Sizes at the edge of Q_CB's border correction (31 = the Gaussians' size; smaller images
    take the NumPy path), odd sizes (odd-length real FFTs) and partial 16×16 blocks of Q_CV."""
    rng = np.random.default_rng(sum(shape))
    a, b = rng.integers(0, 256, shape), rng.integers(0, 256, shape)
    f = (a + 2 * b) // 3
    ref = _numpy_value(monkeypatch, ST, fn, a, b, f)
    _same(fn(a, b, f), ref, f"{name} {shape}", dtype=np.float32)


@pytest.mark.parametrize("shape", [(31, 31), (40, 77), (65, 32)])
def test_unwrap_same_equals_zero_padded_filter(shape):
    """``liu_kernels._unwrap_same_py`` turns a circular correlation into MATLAB's
    ``filter2(G, x, 'same')`` (zero padding), here against ``scipy.ndimage.correlate``."""
    from scipy import ndimage

    L.kernels()
    rng = np.random.default_rng(shape[1])
    x = rng.normal(0, 50, shape)
    idx = np.arange(-15, 16, dtype=float)
    for sigma in (2.0, 4.0):
        g = np.exp(-(idx * idx) / (2 * sigma * sigma))
        s = 1 / (2 * np.pi * sigma * sigma)
        G = s * np.outer(g, g)
        w = np.zeros(shape)
        w[np.ix_(idx.astype(int) % shape[0], idx.astype(int) % shape[1])] = G
        circ = np.fft.irfft2(np.fft.rfft2(x) * np.fft.rfft2(w).real, s=shape)
        assert_close(circ, ndimage.correlate(x, G, mode="wrap"))
        L.kernels()["unwrap_same"](x, g, s, circ)
        assert_close(circ, ndimage.correlate(x, G, mode="constant"), msg=f"sigma {sigma}")


def test_qcv_block_kernels_equal_numpy():
    """Q_CV's λ (Sobel magnitude⁵ per 16×16 block) and D (block mean of squares) against the
    NumPy expressions of ``_qcv_numpy``, with partial blocks on both axes."""
    from mutualfuse.metrics._common import correlate

    K = L.kernels()
    rng = np.random.default_rng(7)
    x = rng.integers(0, 256, (37, 50)).astype(float)
    flt1 = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    g = np.sqrt(correlate(x, flt1, "zero") ** 2 + correlate(x, flt1.T.copy(), "zero") ** 2)
    lam = np.empty((3, 4))
    K["qcv_saliency"](x, 16, lam)
    assert_close(lam, np.sum(ST._blocks(g, 16) ** 5, axis=(2, 3)))
    d = rng.normal(0, 30, (37, 50))
    D = np.empty((3, 4))
    K["block_mean_sq"](d, 16, D)
    assert_close(D, np.sum(ST._blocks(d, 16) ** 2, axis=(2, 3)) / 256)


def test_qcb_compiled_path_runs_on_natural_images_and_hands_over_on_black_backgrounds():
    """``structural._qcb_compiled`` gives a value on the random triples (so the comparisons above
    exercise it), and ``None`` on objects in exactly black backgrounds, where Q_CB's ratio of
    two near-zero filtered images is decided by FFT round-off (here the two FFT paths differ by
    ~1e-3): ``qcb`` then returns the NumPy path's value exactly."""
    K = L.kernels()
    for label, a, b, f in _random_triples():
        assert ST._qcb_compiled(K, *C.prep3(a, b, f)) is not None, label
    a, b, f = black_background_triple()
    A, B, F = C.prep3(a, b, f)
    assert ST._qcb_compiled(K, A, B, F) is None
    assert ST.qcb(a, b, f) == ST._qcb_numpy(A, B, F)


# ---- Q_P: metricZhao's masked local correlations (liu_phase._corr_coefficient) ---------------


@pytest.mark.parametrize("shape", [(11, 12), (40, 57), (83, 64)])
def test_compiled_zhao_correlation_equals_numpy(shape):
    """``liu_kernels._zhao_corr_py`` (zero-padded 'valid' = ``filter2 'same'``, r per pixel,
    maximum of three) against ``liu_phase._corr_coefficient_numpy``, with partial masks, a
    constant patch and an exactly zero fused map."""
    from mutualfuse.metrics import liu_phase as P

    rng = np.random.default_rng(shape[0])
    f1, f2, ff = (rng.uniform(0, 1, shape) for _ in range(3))
    f1[: shape[0] // 3] = 0.25
    fmax = np.maximum(f1, f2)
    m1, m2, m3 = f1 > 0.3, f2 > 0.3, fmax > 0.3
    for fused in (ff, np.zeros(shape)):
        ref = P._corr_coefficient_numpy(f1, f2, fmax, fused, m1, m2, m3)
        _same(P._corr_coefficient(f1, f2, fmax, fused, m1, m2, m3), ref, f"Qp corr {shape}")


@pytest.mark.parametrize("n", [5, 11])
def test_compiled_xy_filter_equals_the_triple_filter(n):
    """``liu_kernels._sep_rows_xy_py`` (E[X], E[X²], E[X·Y] only, for Q_P's max map) gives the
    quantities 0, 3 and 6 of ``_sep_rows3_py`` bit for bit, and scipy's values."""
    K = L.kernels()
    rng = np.random.default_rng(200 + n)
    x, y = rng.uniform(0, 1, (2, 40, 53))
    x[:15, :20] = 0.25
    g = C.gaussian_1d(n, 1.5)
    ho, wo = 40 - n + 1, 53 - n + 1
    triple = np.empty((8, ho, wo))
    K["sep_valid3"](x, x, y, g, triple)
    got = np.empty((3, ho, wo))
    t, row = np.empty((9, 53)), np.empty((3, wo))
    for i in range(ho):
        L._sep_rows_xy(x, y, g, i, t, row)
        got[:, i] = row
    assert np.array_equal(got, triple[[0, 3, 6]])
    for q, src in enumerate((x, x * x, x * y)):
        assert_close(got[q], C.sep_correlate_valid(src, g), msg=f"quantity {q}")


@pytest.mark.parametrize("shape", [(48, 64), (37, 51), (1, 1), (2, 1), (3, 7)])
def test_phase_congruency_median_equals_numpy(shape):
    """``liu_phase._median`` (radix selection of the middle elements, for the noise threshold)
    against ``np.median``: even and odd sizes, ties, a constant array, zeros with +inf, and the
    arrays it hands to ``np.median`` (a NaN, a negative value, −0)."""
    from mutualfuse.metrics import liu_phase as P

    K = P._kernels()
    rng = np.random.default_rng(sum(shape))
    rayleigh = rng.normal(0, 3, shape) ** 2 + rng.normal(0, 3, shape) ** 2
    cases = {
        "rayleigh": rayleigh,
        "ties": np.round(rayleigh),
        "constant": np.full(shape, 7.25),
        "zeros and inf": np.where(rng.uniform(size=shape) < 0.4, 0.0, np.inf),
        "tiny and huge": rayleigh * np.where(rng.uniform(size=shape) < 0.5, 1e-300, 1e300),
    }
    nan = rayleigh.copy()
    nan.flat[-1] = np.nan
    neg = rayleigh.copy()
    neg.flat[0] = -1.0
    mzero = rayleigh.copy()
    mzero.flat[0] = -0.0
    cases.update({"NaN": nan, "negative": neg, "-0": mzero})
    for label, x in cases.items():
        want = np.median(x)
        got = P._median(K, x.copy())
        assert (math.isnan(got) and math.isnan(want)) or got == want, f"{label}: {got!r} != {want!r}"
