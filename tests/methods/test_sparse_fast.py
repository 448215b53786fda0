"""The fast ASR and CSR paths (issue 14) against the straightforward ones they replaced.

``asr`` (block-wise patches, :func:`omp_l1_recon`) must give what ``asr_reference`` (all patches
at once, dense codes from :func:`batch_omp`) gives: the same arithmetic up to float64 rounding
(Gram-Schmidt instead of an inverse Cholesky factor, updated instead of recomputed
correlations), so the comparison uses the float64 tolerance of tests/tolerance.py. ``csr``'s
solver :func:`cbpdn_fast` (Sherman-Morrison X-step rewritten to one map, the synthesis spectra
carried instead of recomputed, sparse scatter, compiled pass) and its torch fallback
:func:`cbpdn_torch` must be as close to the float64 solution as the old float32 solver
:func:`cbpdn`.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.methods.classical import sparse as sp
from tolerance import assert_close


def _gray(samples, pair, key):
    return np.asarray(Image.open(samples / pair / f"{key}.png").convert("L"), dtype=np.float64) / 255.0


def _patches(img, step):
    P = np.lib.stride_tricks.sliding_window_view(img, (8, 8))[::step, ::step].reshape(-1, 64).T
    return P - P.mean(axis=0)


def _omp_numpy(D, X, tol, max_atoms):
    return sp.omp_l1_recon(D, X, tol, max_atoms, chunk=64)   # several chunks and compactions


def _omp_compiled(D, X, tol, max_atoms):
    pytest.importorskip("numba")
    return sp.omp_l1_recon_compiled(D, X, tol, max_atoms)


@pytest.mark.parametrize("omp", [_omp_numpy, _omp_compiled], ids=["numpy", "compiled"])
@pytest.mark.parametrize("tol,max_atoms", [(0.1 / 255, 64), (0.02, 64), (0.1 / 255, 12)])
def test_omp_l1_recon_equals_batch_omp(samples, tol, max_atoms, omp):
    """The fast OMPs of ``asr`` (numpy, and the compiled per-signal one it uses with numba)
    against the straightforward :func:`batch_omp`."""
    d0, dn = sp.load_asr_dictionaries()
    img = _gray(samples, "ct-mr-c01", "b")
    X = _patches(img[60:124, 60:124], 3)
    X[:, :3] = 0.0                              # zero signals are skipped by both
    for D in (d0, dn[2]):
        g = sp.batch_omp(D, X, tol, max_atoms)
        l1, rec = omp(D, X, tol, max_atoms)
        assert_close(rec, D @ g, dtype=np.float64)
        # codes of near-dependent supports are ill-conditioned: compare their L1 norms relative
        # to the scale of the codes (the fused image only uses which norm is larger)
        ref = np.abs(g).sum(axis=0)
        assert_close(l1 / ref.max(), ref / ref.max(), dtype=np.float64)
        np.testing.assert_array_equal(l1[:3], 0.0)


def test_argmax_abs_equals_numpy():
    """The two-pass ``argmax |c|`` of omp_l1_recon, ties between +v and -v included."""
    c = np.array([[1.0, -1.0, 0.5], [-2.0, 2.0, 1.0], [0.1, -0.3, 0.3], [0.0, 0.0, 0.0],
                  [-0.5, 0.2, -0.5], [0.25, -0.75, 0.5]])
    rng = np.random.default_rng(3)
    c2 = rng.standard_normal((200, 256))
    v = np.abs(c2[:20]).max(axis=1) + 1.0
    c2[:20, 7], c2[:20, 3] = v, -v                                  # exact +v / -v ties
    for m in (c, c2, -c2):
        np.testing.assert_array_equal(sp._argmax_abs(m), np.argmax(np.abs(m), axis=1))


def test_asr_fast_equals_reference(samples):
    a = _gray(samples, "ct-mr-c01", "a")[100:140, 90:133]   # 40x43: odd width, 1188 patches
    b = _gray(samples, "ct-mr-c01", "b")[100:140, 90:133]
    ref = sp.asr_reference(a, b)
    assert_close(sp._asr_fast(a, b, 0.1 / 255, 1, 64, block=500), ref, dtype=np.float64)  # 3 blocks
    assert_close(sp.asr(a, b, stride=3), sp.asr_reference(a, b, stride=3), dtype=np.float64)


FAST_CBPDN = [sp.cbpdn_fast, sp.cbpdn_torch]


@pytest.mark.parametrize("solver", FAST_CBPDN, ids=lambda f: f.__name__)
def test_csr_fast_solver_equals_scipy_solver(samples, solver):
    """cbpdn_fast (compiled, carried spectra) and cbpdn_torch against cbpdn (numpy/scipy), the
    only part of ``csr`` that changed. Both run float32 ADMM, whose rounding errors grow over the
    iterations (about 2e-5 of the coefficients' scale after 30), so instead of a fixed tolerance
    at the edge of float32 the fast path must be as close to the float64 solution as the old
    float32 path is (within a factor 4). Fixed iterations and fixed rho: no data-dependent branch
    (stopping test, rho adaptation) and no decision map, so float32 rounding cannot flip a
    discrete choice on any CPU."""
    a = _gray(samples, "tno-01", "a")[100:148, 150:214]
    D = sp.load_csr_dictionary()
    S = (a - a.mean()).astype(np.float32)
    for lam in (0.01, 0.05):
        kw = dict(max_iter=30, rho=100 * lam + 0.5, rel_tol=0.0, auto_rho=False)
        exact = sp.cbpdn(D, S, lam, dtype=np.float64, **kw)
        scale = float(np.abs(exact).max())
        err_fast = float(np.abs(np.asarray(solver(D, S, lam, **kw)) - exact).max()) / scale
        err_old = float(np.abs(sp.cbpdn(D, S, lam, **kw) - exact).max()) / scale
        assert err_old < 1e-3 and err_fast <= 4 * err_old + 1e-6, (lam, err_fast, err_old)


@pytest.mark.parametrize("solver", FAST_CBPDN, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape,relax", [((37, 29), 1.8), ((13, 20), 1.0), ((9, 8), 1.8)])
def test_csr_solver_odd_and_small_sizes(samples, solver, shape, relax):
    """Odd sizes (irfft2 of an odd width) and images barely larger than the 8x8 filters, where
    the circular correlation and the scatter of the synthesis wrap around both borders (9x8:
    the padding of the scatter is almost as large as the image); relax = 1 as well. Same
    criterion as above: as close to the float64 solution as the old float32 solver."""
    h, w = shape
    a = _gray(samples, "tno-01", "a")[120:120 + h, 170:170 + w]
    D = sp.load_csr_dictionary()
    S = (a - a.mean()).astype(np.float32)
    kw = dict(max_iter=25, rho=1.5, rel_tol=0.0, auto_rho=False, relax=relax)
    exact = sp.cbpdn(D, S, 0.01, dtype=np.float64, **kw)
    scale = float(np.abs(exact).max())
    err_fast = float(np.abs(solver(D, S, 0.01, **kw) - exact).max()) / scale
    err_old = float(np.abs(sp.cbpdn(D, S, 0.01, **kw) - exact).max()) / scale
    assert err_old < 1e-3 and err_fast <= 4 * err_old + 1e-6, (err_fast, err_old)


def test_csr_fast_solver_adaptive_rho_and_stopping(samples):
    """The authors' settings (adaptive rho, stopping rule): cbpdn_fast against the float64 run of
    cbpdn, with the same criterion. The stopping test is data-dependent, so the two float32
    solvers may stop an iteration apart; the bound (4x the old float32 solver's error, plus
    the change of one late iteration, below 1e-4 of the coefficients' scale) covers that."""
    a = _gray(samples, "tno-01", "a")[100:148, 150:214]
    D = sp.load_csr_dictionary()
    low, S = sp.tikhonov_lowpass(a, 5.0, 16)
    kw = dict(rho=100 * 0.01 + 0.5)
    exact = sp.cbpdn(D, S, 0.01, dtype=np.float64, **kw)
    scale = float(np.abs(exact).max())
    err_fast = float(np.abs(sp.cbpdn_fast(D, S, 0.01, **kw) - exact).max()) / scale
    err_old = float(np.abs(sp.cbpdn(D, S, 0.01, **kw) - exact).max()) / scale
    assert err_old < 1e-3 and err_fast <= 4 * err_old + 1e-4, (err_fast, err_old)


def test_csr_equals_csr_reference(samples):
    """The whole method, fast path against the straightforward one, on a real crop at the
    authors' settings (both fusion rules). The decision map compares window sums of the code's
    L1 norms; away from ties it is the same map, and the fused images agree to 1e-4 (measured
    2.2e-7 on this crop: the two float32 solvers' rounding), far below the 1/255 of an 8-bit
    level."""
    a = _gray(samples, "tno-01", "a")[100:148, 150:214]
    b = _gray(samples, "tno-01", "b")[100:148, 150:214]
    for mf in (True, False):
        new, old = sp.csr(a, b, multifocus=mf), sp.csr_reference(a, b, multifocus=mf)
        assert float(np.abs(new - old).max()) < 1e-4, mf


def test_orientation_class_fast_equals_reference(samples):
    """The chunked classifier of the fast ASR path gives the same classes as orientation_class
    (an exact equality: same elementwise operations in the same order, zero taps skipped), on
    real patches of both sample pairs, flat and constant patches included, with a chunk size
    that does not divide the count."""
    P = [np.lib.stride_tricks.sliding_window_view(_gray(samples, pair, k), (8, 8))[::2, ::2].reshape(-1, 8, 8)
         for pair in ("ct-mr-c01", "tno-01") for k in ("a", "b")]
    P = np.concatenate(P + [np.zeros((3, 8, 8)), np.full((2, 8, 8), 0.5)])
    for n_orient in (6, 4):
        np.testing.assert_array_equal(sp.orientation_class_fast(P, n_orient, chunk=777),
                                      sp.orientation_class(P, n_orient))


def test_omp_l1_recon_compiled_atom_count_not_multiple_of_8(samples):
    """The compiled kernel keeps max |c| as eight interleaved partial maxima with a remainder
    loop for the last ``K % 8`` atoms; the ASR dictionaries have 256 atoms (no remainder), so
    check a dictionary of 203 atoms (remainder 3) against :func:`batch_omp`, same criteria as
    above."""
    pytest.importorskip("numba")
    d0, _ = sp.load_asr_dictionaries()
    rng = np.random.default_rng(5)
    D = np.concatenate([d0[:, :200], rng.standard_normal((64, 3))], axis=1)
    D /= np.linalg.norm(D, axis=0)
    img = _gray(samples, "ct-mr-c01", "b")
    X = _patches(img[60:124, 60:124], 3)
    X[:, :40] += 0.05 * D[:, 200:203] @ rng.standard_normal((3, 40))   # remainder atoms matter
    for tol, max_atoms in [(0.1 / 255, 64), (0.02, 64)]:
        g = sp.batch_omp(D, X, tol, max_atoms)
        assert np.abs(g[200:]).sum() > 0                              # remainder atoms selected
        l1, rec = sp.omp_l1_recon_compiled(D, X, tol, max_atoms)
        assert_close(rec, D @ g, dtype=np.float64)
        ref = np.abs(g).sum(axis=0)
        assert_close(l1 / ref.max(), ref / ref.max(), dtype=np.float64)
