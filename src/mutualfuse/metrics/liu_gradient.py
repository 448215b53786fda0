"""Gradient, wavelet and spatial-frequency fusion metrics of Z. Liu et al.'s
``imageFusionMetrics``: Q_G (Xydeas–Petrović as coded by Liu), Q_M (P.-W. Wang's Haar-wavelet
edge metric) and Q_SF (Zheng's ratio of spatial-frequency error).

Reference code: ``zhengliu6699/imageFusionMetrics@d6f7f1a`` (``metricXydeas.m``,
``metricPWW.m`` with matlabPyrTools ``buildWpyr(.., 2, 'haar')``, ``metricZheng.m``).
All three work on the raw 0–255 gray values (no normalisation).
"""
from __future__ import annotations

import numpy as np

from ._common import correlate, prep3
from .liu_kernels import kernels
from .structural import _float64_images, _prep3_keep_uint8
from ..errors import ImageTooSmallError

_SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
_SOBEL_Y = np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]])
_QG_BLOCK = 32  # image rows per block of the compiled Q_G


def _sobel(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strength sqrt(gx² + gy²) and angle atan(gy/gx) (gx = 0 → 1e-5), ``filter2 'same'``."""
    gx = correlate(x, _SOBEL_X, "zero")
    gy = correlate(x, _SOBEL_Y, "zero")
    g = np.sqrt(gx * gx + gy * gy)
    gx = gx + (gx == 0) * 0.00001
    return g, np.arctan(gy / gx)


def qg(a, b, f) -> float:
    """Q_G, Xydeas & Petrović's gradient-based metric as coded in Liu's ``metricXydeas.m``.

    Formula: per pixel, G_XF = min(g_X, g_F)/max(g_X, g_F) (strength, 1e-5 added where a
    strength is 0), A_XF = | |α_X − α_F| − π/2 |·2/π (orientation), Q_XF = 1/(1+e^(−10(G−0.5)))
    · 1/(1+e^(−20(A−0.75))); Q_G = mean over pixels of (Q_AF·g_A + Q_BF·g_B)/(g_A + g_B).
    Reference: C. S. Xydeas, V. Petrović, "Objective pixel-level image fusion performance
    measure", Proc. SPIE 4051:89–98 (2000); code ``metricXydeas.m``.
    Conventions: raw 0–255 values; Sobel x = [-1 0 1; -2 0 2; -1 0 1], y = its transpose, by
    ``filter2 'same'`` (zero padding, so the border has artificial edges); α = atan(g_y/g_x)
    with g_x = 0 replaced by 1e-5 (a flat pixel has angle 0, so the metric is not exactly
    transposition-invariant). **Quirk reproduced:** the normalised weighted average is taken
    per pixel and then averaged (``mean2``), not Σ(Q·w)/Σw; flat pixels count as much as edges.
    The 1e-5 substitutions are applied in the reference's order (F's zero strengths are
    replaced after the A-side ratio, before the B side). Both sigmoids have Γ = 1, so the
    maximum per pixel is 0.98666. Higher is better.
    Computation: one compiled pass over the image rows (numba, ``liu_kernels._xydeas_fused_py``;
    uint8 images are read as they are when all three are uint8, so no float64 copies): the Sobel
    sums in ``ndimage.correlate``'s order (strengths bit for bit), the ratios G with the 1e-5
    substitutions in the reference's order, the orientation term from the two gradient vectors
    u = (g_x, g_y) (| |α_X − α_F| − π/2 | = arctan(|u_X·u_F| / |u_X × u_F|), the same value in exact
    arithmetic, so two arctangents per pixel instead of three), Cephes' ``atan`` and ``exp``
    written branch-free so that the loop vectorises (``_atan_pq_py``, ``_exp_sig_py``), and
    the per-pixel map with one division; each row is summed in the kernel and the row sums by
    NumPy. Q_G differs from the NumPy version ``_qg_numpy`` (the tests' reference) by rounding only
    (a few ulp per pixel; at most 3.3e-16 relative on the tests' images). Where the pass's products
    could under- or overflow (gradients below ~1e-140 or above ~1e140, not on 0–255 images) it
    hands over to :func:`_qg_blocks` (three per-stage kernels and NumPy's ``exp``).

    Example (random 8-bit images):

    >>> import numpy as np
    >>> from mutualfuse.metrics import qg
    >>> a, b = np.random.default_rng(0).integers(0, 256, (2, 64, 64))
    >>> round(qg(a, a, a), 3), round(qg(a, b, (a + b) / 2), 3)  # A = B = F: the maximum 0.98666
    (0.987, 0.327)
    """
    ims = _prep3_keep_uint8(a, b, f)  # uint8 images stay uint8 if all three are: the pass reads them
    K = kernels()
    if K is None:                # pragma: no cover - numba is a dependency
        return _qg_numpy(*_float64_images(ims))
    if not all(x.dtype == np.uint8 for x in ims):
        ims = _float64_images(ims)
    A, B, F = (np.ascontiguousarray(x) for x in ims)
    H, W = A.shape
    rowsum = np.empty(H)
    if K["xydeas_fused"](A, B, F, np.empty((3, 3, W + 2)), np.empty(W), rowsum) == 0:
        return float(np.sum(rowsum) / A.size)
    return _qg_blocks(K, *_float64_images((A, B, F)))  # products under- or overflowed somewhere


def _qg_blocks(K, A, B, F) -> float:
    """:func:`qg` as the three per-stage kernels in blocks of ``_QG_BLOCK`` rows and NumPy's
    ``exp`` (the reference's operations and three ``arctan``; float64 images): the fallback of
    the one-pass kernel where its shortcuts could lose accuracy (tiny or huge gradients)."""
    # blocks of _QG_BLOCK rows: the per-block temporaries stay in cache
    H, W = A.shape
    nb = min(_QG_BLOCK, H)
    g, ang, e = np.empty((3, nb, W)), np.empty((3, nb, W)), np.empty((4, nb, W))
    out = np.empty(A.shape)
    for r0 in range(0, H, nb):
        n = min(nb, H - r0)
        gb, ab, eb = g[:, :n], ang[:, :n], e[:, :n]
        K["xydeas_grad"](A, B, F, r0, gb, ab)  # strengths and angles (arctan in the kernel)
        K["xydeas_exponents"](gb, ab, eb)
        np.exp(eb, out=eb)
        K["xydeas_map"](gb, eb, out[r0 : r0 + n])
    return float(np.mean(out))


def _qg_numpy(A, B, F) -> float:
    """:func:`qg` as NumPy array expressions (the reference of the compiled path)."""
    gf, af = _sobel(F)
    ga, aa = _sobel(A)
    gb, ab = _sobel(B)

    def side(gx, ax, gf):
        bimap = gx > gf
        gx = gx + (gx == 0) * 0.00001
        buf1 = gf / gx
        gf = gf + (gf == 0) * 0.00001
        buf2 = gx / gf
        G = np.where(bimap, buf1, buf2)
        Ao = np.abs(np.abs(ax - af) - np.pi / 2) * 2 / np.pi
        q = (1.0 / (1 + np.exp(-10 * (G - 0.5)))) * (1.0 / (1 + np.exp(-20 * (Ao - 0.75))))
        return q, gx, gf

    qaf, wa, gf = side(ga, aa, gf)
    qbf, wb, gf = side(gb, ab, gf)
    return float(np.mean((qaf * wa + qbf * wb) / (wa + wb)))


_HAAR = 1.0 / np.sqrt(2.0)


def _haar_step(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """One matlabPyrTools ``corrDn`` Haar step along ``axis``: filter [1 1]/√2 (origin at the
    second tap), sampled from the second sample with step 2, so pairs (0,1), (2,3), ...; an odd
    last sample is dropped. High-pass ``modulateFlip`` = [−1 1]/√2."""
    n = x.shape[axis] // 2 * 2
    x0 = np.take(x, np.arange(0, n, 2), axis=axis)
    x1 = np.take(x, np.arange(1, n, 2), axis=axis)
    return _HAAR * x0 + _HAAR * x1, -_HAAR * x0 + _HAAR * x1


def haar_bands(x: np.ndarray, levels: int = 2) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The three detail bands per level (finest first) of ``buildWpyr(x, levels, 'haar')``."""
    out = []
    for _ in range(levels):
        lo, hi = _haar_step(x, 0)
        lolo, hilo = _haar_step(lo, 1)
        lohi, hihi = _haar_step(hi, 1)
        out.append((lohi, hilo, hihi))
        x = lolo
    return out


def qm(a, b, f) -> float:
    """Q_M, P.-W. Wang & B. Liu's multiscale (Haar wavelet) edge-preservation metric, Liu's
    ``metricPWW.m``.

    Formula: per level l of a 2-level Haar decomposition with detail bands H, V, D:
    W_X = H_X² + V_X² + D_X², EP_X = e^(−|H_X−H_F|) + e^(−|V_X−V_F|) + e^(−|D_X−D_F|),
    Q_l = Σ(EP_A·W_A + EP_B·W_B)/Σ(W_A + W_B); Q_M = Q_1^(2/3)·Q_2^(1/3) (finest level first).
    Reference: P.-W. Wang, B. Liu, "A novel image fusion metric based on multi-scale analysis",
    Proc. ICSP 2008, 965–968; code ``metricPWW.m`` with matlabPyrTools ``buildWpyr(im, 2, 'haar')``.
    Conventions: raw 0–255 values; orthonormal Haar filter [1 1]/√2 (differences in raw gray
    units of the coefficients); odd sizes drop the last row/column at each level, as ``corrDn``
    does. **Quirk reproduced:** EP is a *sum* of three exponentials, so Q_M ∈ (0, 3] and
    A = B = F gives 3 (to rounding; divide by 3 for a 0–1 score). Higher is better.
    Computation: one compiled pass over the image (numba, ``liu_kernels._pww_py``, no
    ``fastmath``; uint8 images are read as they are when all three are uint8): per 2×2 block the
    Haar coefficients of A, B, F with the operations of :func:`haar_bands`, W and EP as below;
    level 2 from the level-1 lolo values of two block rows. No band images, so no full-size
    temporaries. Each block row's terms go to a row buffer, so that the loop vectorises, with
    Cephes' ``exp`` written branch-free (``liu_kernels._exp_floor_py``, FMA contraction; within
    2 ulp of NumPy's), and are summed in eight partial sums per row. It differs from the NumPy
    version (``_qm_numpy``, the tests' reference) only in how the sums are added and in ``exp``
    (~1e-15 relative in practice). Where a band difference exceeds 708 (float images only: its
    e^−d would be floored at e^−708) the previous pass (``_pww_scalar_py``, libm's ``exp``) is used.

    Example (random 8-bit images):

    >>> import numpy as np
    >>> from mutualfuse.metrics import qm
    >>> a, b = np.random.default_rng(0).integers(0, 256, (2, 64, 64))
    >>> print(round(qm(a, a, a), 3), round(qm(a, b, (a + b) / 2), 3))  # A = B = F: 3 (a sum of three exps)
    3.0 0.042
    """
    ims = _prep3_keep_uint8(a, b, f)  # uint8 images stay uint8 if all three are: the pass reads them
    if min(ims[0].shape) < 4:
        raise ImageTooSmallError(f"Q_M needs images of at least 4 pixels per side, "
                                 f"got {ims[0].shape[1]}×{ims[0].shape[0]}", 4)
    K = kernels()
    if K is None:                # pragma: no cover - numba is a dependency
        return _qm_numpy(*_float64_images(ims))
    if not all(x.dtype == np.uint8 for x in ims):
        ims = _float64_images(ims)
    A, B, F = (np.ascontiguousarray(x) for x in ims)
    sums = np.empty((2, 2))
    if K["pww"](A, B, F, _HAAR, sums) > 0:  # a band difference beyond 708: libm's exp per term
        K["pww_scalar"](*_float64_images((A, B, F)), _HAAR, sums)
    q1, q2 = sums[0, 0] / sums[0, 1], sums[1, 0] / sums[1, 1]
    return float(q1 ** (2.0 / 3.0) * q2 ** (1.0 / 3.0))  # a Python float, as every metric returns


def _qm_numpy(A, B, F) -> float:
    """:func:`qm` as NumPy array expressions on the band images (the reference of the compiled
    path)."""
    pa, pb, pf = haar_bands(A), haar_bands(B), haar_bands(F)
    q = []
    for la, lb, lf in zip(pa, pb, pf):
        wa = sum(x * x for x in la)
        wb = sum(x * x for x in lb)
        epa = sum(np.exp(-np.abs(x - y)) for x, y in zip(la, lf))
        epb = sum(np.exp(-np.abs(x - y)) for x, y in zip(lb, lf))
        q.append(float(np.sum(epa * wa + epb * wb) / np.sum(wa + wb)))
    return q[0] ** (2.0 / 3.0) * q[1] ** (1.0 / 3.0)


_WD = np.sqrt(2.0) / 2.0


def _diffs(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row, column, main- and anti-diagonal neighbour differences."""
    return (x[:, :-1] - x[:, 1:], x[:-1, :] - x[1:, :], x[1:, 1:] - x[:-1, :-1], x[1:, :-1] - x[:-1, 1:])


def qsf(a, b, f) -> float:
    """Q_SF, Zheng et al.'s ratio of spatial-frequency error, Liu's ``metricZheng.m``.

    Formula: with N = M·W pixels, RF² = Σ(Δ_row F)²/N, CF² = Σ(Δ_col F)²/N, MDF² = w_d·Σ(Δ_md F)²/N,
    SDF² = w_d·Σ(Δ_sd F)²/N (w_d = √2/2) and SF_F = sqrt(RF² + CF² + MDF² + SDF²); the reference
    SF_R uses per pixel and direction max(|Δ A|, |Δ B|) instead of Δ F; Q_SF = (SF_F − SF_R)/SF_R.
    Reference: Y. Zheng, E. A. Essock, B. C. Hansen, A. M. Haun, "A new metric based on extended
    spatial frequency and its application to DWT based fusion algorithms", Information Fusion
    8(2):177–192 (2007); code ``metricZheng.m`` (Liu's modified equations (7)–(8)).
    Conventions: raw 0–255 values; each sum of squares divided by the pixel count M·W (not the
    number of differences); the diagonal weight √2/2 is inside the square root. Ideal 0
    (A = B = F gives 0); negative values mean lost detail, positive ones added detail (noise,
    ringing). Closer to 0 is better: registered with ``direction`` ``"zero"``
    (``higher_is_better`` None; :func:`mutualfuse.metrics.goodness` ranks by −|Q_SF|).
    Undefined where A and B are both flat (SF_R = 0; MATLAB divides by zero too): NaN when F is
    flat as well, +inf when it is not.

    Example (random images):

    >>> import numpy as np
    >>> from mutualfuse.metrics import qsf
    >>> a, b = np.random.default_rng(0).integers(0, 256, (2, 64, 64))
    >>> round(qsf(a, a, a), 3), round(qsf(a, b, (a + b) / 2), 3)  # ideal 0; the mean loses detail
    (0.0, -0.441)
    """
    A, B, F = prep3(a, b, f)
    n = float(A.size)
    w = (1.0, 1.0, _WD, _WD)
    df = _diffs(F)
    da, db = _diffs(A), _diffs(B)
    sf_f = np.sqrt(sum(wk * float(np.sum(d * d)) / n for wk, d in zip(w, df)))
    sf_r = np.sqrt(sum(wk * float(np.sum(np.maximum(np.abs(x), np.abs(y)) ** 2)) / n
                       for wk, x, y in zip(w, da, db)))
    with np.errstate(divide="ignore", invalid="ignore"):  # flat sources: NaN or +inf, documented above
        return float((sf_f - sf_r) / sf_r)
