"""Structural-similarity and human-perception fusion metrics of Z. Liu et al.'s
``imageFusionMetrics``: Q_S and Q_W (Piella), Q_C (Cvejic), Q_Y (Yang), Q_CB (Chen–Blum) and
Q_CV (Chen–Varshney).

Reference code: ``zhengliu6699/imageFusionMetrics@d6f7f1a`` (``metricPeilla.m`` +
``ssim_index.m``, ``metricCvejic.m``, ``metricYang.m``, ``metricChenBlum.m``, ``metricChen.m``).
All work on the raw 0–255 gray values except Q_CB and Q_CV, which ``normalize1`` first.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ._common import EPS, gaussian_1d, prep3, sep_correlate_valid
from .liu_kernels import kernels
from .structural import qcb as _qcb_vifb
from .structural import qcv as _qcv_vifb
from ..errors import ImageTooSmallError


def _local_stats(x: np.ndarray, y: np.ndarray, g: np.ndarray):
    """Gaussian-weighted 'valid' means, variances and covariance (``filter2(w, ., 'valid')``)."""
    mx = sep_correlate_valid(x, g)
    my = sep_correlate_valid(y, g)
    sx = sep_correlate_valid(x * x, g) - mx * mx
    sy = sep_correlate_valid(y * y, g) - my * my
    sxy = sep_correlate_valid(x * y, g) - mx * my
    return mx, my, sx, sy, sxy


def _ssim_map(stats, C1: float, C2: float) -> np.ndarray:
    mx, my, sx, sy, sxy = stats
    return ((2 * mx * my + C1) * (2 * sxy + C2)) / ((mx * mx + my * my + C1) * (sx + sy + C2))



def _piella_terms(A, B, F):
    """λ, SSIM(F,A) map, SSIM(F,B) map, σ_A², σ_B² of ``metricPeilla.m`` (Wang's ``ssim_index``:
    Gaussian 11×11 σ 1.5, 'valid', K = [0.01 0.03], L = 255), as NumPy array expressions."""
    g = gaussian_1d(11, 1.5)
    C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    _, _, s1, s2, _ = _local_stats(A, B, g)
    test = (s1 + s2 == 0) * 0.5
    s1, s2 = s1 + test, s2 + test
    lam = s1 / (s1 + s2)
    m1 = _ssim_map(_local_stats(F, A, g), C1, C2)
    m2 = _ssim_map(_local_stats(F, B, g), C1, C2)
    return lam, m1, m2, s1, s2


def _piella_maps_numpy(A, B, F):
    """Per window: λ·SSIM(F,A) + (1−λ)·SSIM(F,B) and max(σ_A², σ_B²), by :func:`_piella_terms`
    (the reference of the compiled path)."""
    lam, m1, m2, s1, s2 = _piella_terms(A, B, F)
    return lam * m1 + (1 - lam) * m2, np.maximum(s1, s2)


def _piella_maps(a, b, f, compiled: bool = True):
    """:func:`_piella_maps_numpy`'s two maps, by default from one compiled loop over the output
    rows (``liu_kernels._piella_py``: the eight local sums E[A], E[B], E[F], E[A²], E[B²], E[F²],
    E[FA], E[FB] filtered in scipy's summation order, then the same per-window operations), equal
    to the NumPy maps bit for bit."""
    A, B, F = prep3(a, b, f)
    if min(A.shape) < 11:
        raise ImageTooSmallError(f"Q_S / Q_W need images of at least 11 pixels per side, got {A.shape[1]}×{A.shape[0]}", 11)
    K = kernels() if compiled else None
    if K is None:
        return _piella_maps_numpy(A, B, F)
    shape = (A.shape[0] - 10, A.shape[1] - 10)
    val, cw = np.empty(shape), np.empty(shape)
    C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    K["piella"](A, B, F, gaussian_1d(11, 1.5), C1, C2, val, cw)
    return val, cw


def qs(a, b, f) -> float:
    """Q_S, Piella & Heijmans' fusion quality index (Liu's ``metricPeilla(A,B,F,1)``).

    Formula: Q_S = mean over windows w of λ(w)·SSIM(F,A|w) + (1−λ(w))·SSIM(F,B|w), with
    λ = σ_A²/(σ_A² + σ_B²) (0.5 added to both variances where their sum is exactly 0).
    Reference: G. Piella, H. Heijmans, "A new quality metric for image fusion", Proc. ICIP 2003,
    vol. 3, 173–176; code ``metricPeilla.m`` + Z. Wang's ``ssim_index.m``.
    Conventions: raw 0–255 values; SSIM with Gaussian 11×11 σ 1.5 windows, ``filter2 'valid'``
    (map (M−10)×(W−10)), K = [0.01 0.03], L = 255; variances from the same windows. A = B = F
    gives 1. Higher is better.
    Computation: one compiled loop over the output rows (numba, ``liu_kernels._piella_py``)
    filters the eight local sums in scipy's summation order and applies the per-window formula
    with the NumPy expressions' operations, so the maps are those of ``_piella_maps_numpy``
    (kept as the tests' reference) without its 15 full-image filter passes and temporaries.

    Example (random 8-bit images):

    >>> import numpy as np
    >>> from mutualfuse.metrics import qs
    >>> a, b = np.random.default_rng(0).integers(0, 256, (2, 64, 64))
    >>> round(qs(a, a, a), 3), round(qs(a, b, (a + b) / 2), 3)  # A = B = F gives 1
    (1.0, 0.66)
    """
    val, _ = _piella_maps(a, b, f)
    return float(np.mean(val))


def qw(a, b, f) -> float:
    """Q_W, Piella & Heijmans' weighted fusion quality index (Liu's ``metricPeilla(A,B,F,2)``).

    Formula: Q_W = Σ_w c(w)·[λ(w)·SSIM(F,A|w) + (1−λ(w))·SSIM(F,B|w)], with
    c(w) = max(σ_A², σ_B²)/Σ_w max(σ_A², σ_B²) and λ as in :func:`qs`.
    Reference: Piella & Heijmans, ICIP 2003; code ``metricPeilla.m`` (sw = 2).
    Conventions: as :func:`qs`. (Piella's edge-dependent Q_E, sw = 3, fails in the reference
    code with "'Q' undefined" and is not provided.) Higher is better. Computation: the compiled
    maps of :func:`qs`.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255, fused by the mean rule):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import qs, qw
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(qw(a, a, a), 3), round(qw(a, b, (a + b) / 2), 3), round(qs(a, b, (a + b) / 2), 3)
    (1.0, 0.711, 0.804)
    """
    val, cw = _piella_maps(a, b, f)
    cw /= np.sum(cw)  # in place (fresh maps): the same values as c/Σc, c·val without temporaries
    cw *= val
    return float(np.sum(cw))


def _colmajor_sum(h: np.ndarray) -> float:
    """MATLAB ``sum(h(:))``: a sequential sum in column-major order (not numpy's pairwise sum)."""
    s = 0.0
    for v in h.T.ravel():
        s += float(v)
    return s


@lru_cache(maxsize=None)
def _yang_window() -> np.ndarray:
    """``fspecial('gaussian', 7, 1.5)`` divided once more by its sum, as ``ssim_yang`` does, with
    libm ``exp`` and MATLAB's sequential sums (so the weights are the reference's to the bit,
    barring libm differences)."""
    r = 3.0
    h = np.array([[math.exp(-((j - r) ** 2 + (i - r) ** 2) / (2 * 1.5 * 1.5)) for j in range(7)]
                  for i in range(7)])
    h[h < EPS * h.max()] = 0
    h = h / _colmajor_sum(h)
    return h / _colmajor_sum(h)


# ---- ssim_yang (Q_C, Q_Y): Octave's conv2 rounding, reproduced where it decides the result ----
#
# ``filter2(w, x, 'valid')`` in Octave is liboctave's ``dconv2i``: for every output column, one
# BLAS ``daxpy`` per kernel tap (kernel columns last to first, rows last to first), accumulating
# into a zeroed column. With OpenBLAS (which Debian's Octave installs) on an FMA-capable CPU,
# ``daxpy`` computes y + a·x with a fused multiply-add (one rounding) except on the last
# ``n mod 16`` elements (see :func:`filter2_valid_at`). ``ssim_yang``'s C = 2e-16
# turns the rounding noise of that sum into the result wherever a 7×7 window is flat (0/0, or
# weights that are ratios of noise, or the sign of a noise covariance deciding a 0/1 clip), so
# there, and only there, we recompute the sums in exactly that order with a correctly rounded
# fused multiply-add (:func:`_fma`). Everywhere else a fast separable filter is used: the values
# it gives differ from Octave's by rounding only (~1e-15 relative), which the result does not
# amplify there. numpy has no FMA ufunc, hence the emulation. The compiled path (``liu_kernels``)
# runs the same emulation element by element (``_fma_py``, no fastmath, so no operation is fused
# or reordered by the compiler) and the same threshold test; :func:`filter2_valid_at` and
# :func:`_yang_filtered` here are the NumPy reference the tests compare it with.

_SPLITTER = 134217729.0  # 2**27 + 1 (Veltkamp/Dekker splitting of a double into two 26-bit halves)
#: a local statistic is "noise-sensitive" when |value| <= _NOISE_REL * (E[x²] + E[y²]) of its window
_NOISE_REL = 1e-8


def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fma(xh, xl, x, wh, wl, w, acc):
    """Correctly rounded ``acc + x*w`` (one rounding, as a hardware FMA), elementwise.

    Boldo & Melquiond's emulation ("Emulation of FMA and correctly rounded sums: proved
    algorithms using rounding to odd", IEEE Trans. Computers 57(4), 2008): exact product
    (Dekker, from the pre-split halves ``xh + xl = x``, ``wh + wl = w``), exact 2Sum with ``acc``,
    the two error terms added with rounding to odd, then one final rounding to nearest. Exact
    for finite doubles without overflow/underflow (our values are 0–65025 times weights ~1e-3).
    """
    p = x * w
    e = ((xh * wh - p) + xh * wl + xl * wh) + xl * wl
    s, t = _two_sum(acc, p)
    v, r = _two_sum(t, e)
    # round v to odd: if t + e was inexact and v's last mantissa bit is 0, step one ulp towards r
    fix = (r != 0) & ((v.view(np.int64) & 1) == 0)
    if fix.any():
        v[fix] = np.nextafter(v[fix], np.where(r[fix] > 0, np.inf, -np.inf))
    return s + v


def filter2_valid_at(x: np.ndarray, w: np.ndarray, ii: np.ndarray, jj: np.ndarray) -> np.ndarray:
    """``filter2(w, x, 'valid')`` at the output positions (ii, jj), bit for bit as Octave's ``conv2``
    on OpenBLAS: kernel columns last to first, rows last to first, one ``daxpy`` per tap over each
    output column, starting from 0. OpenBLAS's x86-64 ``daxpy`` runs its FMA kernel on the first
    ``n & -16`` elements of the column and a plain ``y[i] += a*x[i]`` (two roundings) on the rest,
    so output rows from ``(H & -16)`` on (H = output rows) are summed without fusing.

    The Dekker halves of the pixels are taken from the whole image at once when more pixel
    reads than pixels are needed, else from the gathered pixels only (the same values: the split
    is elementwise)."""
    m, n = w.shape
    whole = ii.size * m * n >= x.size
    if whole:
        xh, xl = _split(x)
    H = x.shape[0] - m + 1
    fused = ii < (H & -16)
    fi, fj = ii[fused], jj[fused]
    ti, tj = ii[~fused], jj[~fused]
    acc = np.zeros(fi.shape)
    tail = np.zeros(ti.shape)
    for q in range(n - 1, -1, -1):
        for p in range(m - 1, -1, -1):
            r, c = fi + p, fj + q
            wh, wl = _split(np.float64(w[p, q]))
            v = x[r, c]
            vh, vl = (xh[r, c], xl[r, c]) if whole else _split(v)
            acc = _fma(vh, vl, v, wh, wl, w[p, q], acc)
            tail = tail + x[ti + p, tj + q] * w[p, q]
    out = np.empty(ii.shape)
    out[fused] = acc
    out[~fused] = tail
    return out


def _yang_filtered(images: dict[str, np.ndarray], pairs, extra_sensitive=None):
    """Local 'valid' sums of ``ssim_yang`` for the named images and pairs.

    Returns ``E[name]`` (mean), ``E[name+name]`` (of x²) and ``E[x+y]`` (of x·y) for each pair, as
    Octave's ``filter2`` gives them wherever they are noise-sensitive (see the block comment):
    first with a separable filter, then, at every output position where a variance or covariance
    of a pair (or a value from ``extra_sensitive(E)``) is within ``_NOISE_REL`` of zero relative
    to its window's E[x²] + E[y²], recomputed in Octave's order with FMA.
    """
    g = gaussian_1d(7, 1.5)
    w = _yang_window()
    src: dict[str, np.ndarray] = {}
    for k, x in images.items():
        src[k] = x
        src[k + k] = x * x
    for a, b in pairs:
        src[a + b] = images[a] * images[b]
    E = {k: sep_correlate_valid(v, g) for k, v in src.items()}
    tests = []
    for a, b in pairs:
        scale = E[a + a] + E[b + b]
        for s in (E[a + a] - E[a] * E[a], E[b + b] - E[b] * E[b], E[a + b] - E[a] * E[b]):
            tests.append(np.abs(s) <= _NOISE_REL * scale)
    if extra_sensitive is not None:
        tests.extend(extra_sensitive(E))
    ii, jj = np.nonzero(np.logical_or.reduce(tests))
    if ii.size:
        for k, v in src.items():
            E[k][ii, jj] = filter2_valid_at(v, w, ii, jj)
    return E


def _yang_compiled(K, A, B, F, qy: bool) -> np.ndarray:
    """Q_C's (``qy`` false) or Q_Y's score map, compiled (``liu_kernels._yang_py``): per window the
    sums E[A], E[B], E[F], E[A²], E[B²], E[F²], E[AF], E[BF] (and E[AB] for Q_Y) by a separable
    filter in scipy's summation order (the values of :func:`sep_correlate_valid`), the
    noise-sensitivity test of :func:`_yang_filtered` (threshold :data:`_NOISE_REL`, with Q_C's
    μ-denominator test), the marked windows' sums recomputed in Octave's order by the same
    double-double FMA emulation as :func:`filter2_valid_at` (run per element), then the score
    with the NumPy formulas' operations."""
    out = np.empty((A.shape[0] - 6, A.shape[1] - 6))
    K["yang"](A, B, F, gaussian_1d(7, 1.5), _yang_window(), 9 if qy else 8, not qy,
              float(_NOISE_REL), qy, out)
    return out


def _ssim_yang(E, a: str, b: str):
    """``ssim_yang(img1, img2)`` from the filtered sums: (map, σ1², σ2², σ12), Octave's operations."""
    mu1, mu2 = E[a], E[b]
    mu1_sq = mu1 * mu1
    mu2_sq = mu2 * mu2
    mu1_mu2 = mu1 * mu2
    sigma1_sq = E[a + a] - mu1_sq
    sigma2_sq = E[b + b] - mu2_sq
    sigma12 = E[a + b] - mu1_mu2
    C = 2e-16
    m = ((2 * mu1_mu2 + C) * (2 * sigma12 + C)) / ((mu1_sq + mu2_sq + C) * (sigma1_sq + sigma2_sq + C))
    return m, sigma1_sq, sigma2_sq, sigma12


def _check_yang(A):
    if min(A.shape) < 11:
        raise ImageTooSmallError(f"Q_C / Q_Y need images of at least 11 pixels per side, got {A.shape[1]}×{A.shape[0]}", 11)


def qc(a, b, f) -> float:
    """Q_C, Cvejic et al.'s similarity metric (Liu's ``metricCvejic(A,B,F,2)``).

    Formula: per 7×7 window, μ = σ_AF/(σ_AF + σ_BF) and s = μ·UIQI(A,F) + (1−μ)·UIQI(B,F);
    s is set to 0 where μ < 0 and to 1 where μ > 1 (the score is clipped, not μ); Q_C = mean s.
    Reference: N. Cvejic, A. Łoza, D. Bull, N. Canagarajah, "A similarity metric for
    assessment of image fusion algorithms", Int. J. Signal Processing 2(3):178–182 (2005);
    code ``metricCvejic.m`` (sw = 2; sw = 1 is unfinished there and returns 0).
    Conventions: raw 0–255 values; local statistics with a Gaussian 7×7 σ 1.5 window,
    ``filter2 'valid'``; SSIM constants C1 = C2 = 2e-16, so in windows where the images are
    constant the weights are ratios of rounding noise. The result is NaN when some window
    gives 0/0 (e.g. F ≡ 0 or A ≡ B ≡ 0 over 7×7 pixels), as in the reference. Those windows'
    values are reproduced by summing them as Octave's ``conv2`` on OpenBLAS does (fused
    multiply-adds, emulated: numpy has none), so all 49 reference rows match to ≤ 3e-13
    (docs/metrics.md); with another BLAS the reference itself would differ there. Higher is better.
    Computation: compiled (numba, ``liu_kernels``): the nine local sums in one pass in scipy's
    summation order, the noise-sensitivity test, the Octave-order recomputation with the same
    double-double FMA emulation run per element (``_fma_py``; checked against exact rational
    arithmetic in the tests), and the per-window formula with the NumPy operations; the NumPy
    version (``_qc_numpy``) stays as the tests' reference.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import qc
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(qc(a, a, a), 3), round(qc(a, b, (a + b) / 2), 3)  # A = B = F gives 1
    (1.0, 0.618)
    """
    A, B, F = prep3(a, b, f)
    _check_yang(A)
    K = kernels()
    if K is None:                # pragma: no cover - numba is a dependency
        return _qc_numpy(A, B, F)
    return float(np.mean(_yang_compiled(K, A, B, F, qy=False)))


def _qc_numpy(A, B, F) -> float:
    """:func:`qc` as NumPy array expressions (the reference of the compiled path)."""
    def mu_denominator(E):  # σ_AF + σ_BF near 0: μ is a ratio of rounding noise there
        s = (E["AF"] - E["A"] * E["F"]) + (E["BF"] - E["B"] * E["F"])
        return [np.abs(s) <= _NOISE_REL * (E["AA"] + E["BB"] + E["FF"])]

    with np.errstate(divide="ignore", invalid="ignore"):
        E = _yang_filtered({"A": A, "B": B, "F": F}, [("A", "F"), ("B", "F")], mu_denominator)
        m2, _, _, s_af = _ssim_yang(E, "A", "F")
        m3, _, _, s_bf = _ssim_yang(E, "B", "F")
        mu = s_af / (s_af + s_bf)
        sim = mu * m2 + (1 - mu) * m3
    sim[mu < 0] = 0.0
    sim[mu > 1] = 1.0
    return float(np.mean(sim))


def qy(a, b, f) -> float:
    """Q_Y, Yang et al.'s SSIM-based fusion metric (Liu's ``metricYang.m``).

    Formula: per 7×7 window, with λ = σ_A²/(σ_A² + σ_B²):
    Q = λ·UIQI(A,F) + (1−λ)·UIQI(B,F) where UIQI(A,B) ≥ 0.75, else max(UIQI(A,F), UIQI(B,F));
    Q_Y = mean Q.
    Reference: C. Yang, J.-Q. Zhang, X.-R. Wang, X. Liu, "A novel similarity based quality metric
    for image fusion", Information Fusion 9(2):156–160 (2008); code ``metricYang.m``.
    Conventions: raw 0–255 values; ``ssim_yang`` as in :func:`qc` (Gaussian 7×7 σ 1.5, 'valid',
    C1 = C2 = 2e-16). The max ignores NaN (MATLAB ``max``), but a NaN λ makes the result NaN, as
    in the reference: 0/0 where A and B are both flat over a window and both local variances
    come out exactly 0 (measured: flat at 0, 1 or 128; flat at 37, 100 or 255 the variances are
    rounding noise, not 0, and the value is finite). Because of the max branch, "F = one
    source" already scores ≈ 1. Higher is better. Computation: compiled as :func:`qc`
    (``_qy_numpy`` is the NumPy reference).

    Example (random 8-bit images):

    >>> import numpy as np
    >>> from mutualfuse.metrics import qy
    >>> a, b = np.random.default_rng(0).integers(0, 256, (2, 64, 64))
    >>> round(qy(a, b, a), 3), round(qy(a, b, (a + b) / 2), 3)  # F = one source already scores 1
    (1.0, 0.678)
    """
    A, B, F = prep3(a, b, f)
    _check_yang(A)
    K = kernels()
    if K is None:                # pragma: no cover - numba is a dependency
        return _qy_numpy(A, B, F)
    return float(np.mean(_yang_compiled(K, A, B, F, qy=True)))


def _qy_numpy(A, B, F) -> float:
    """:func:`qy` as NumPy array expressions (the reference of the compiled path)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        E = _yang_filtered({"A": A, "B": B, "F": F}, [("A", "B"), ("A", "F"), ("B", "F")])
        m1, s1, s2, _ = _ssim_yang(E, "A", "B")
        m2, _, _, _ = _ssim_yang(E, "A", "F")
        m3, _, _, _ = _ssim_yang(E, "B", "F")
        binmap = m1 >= 0.75
        lam = s1 / (s1 + s2)
        q1 = (lam * m2 + (1 - lam) * m3) * binmap
        q2 = np.fmax(m2, m3) * (~binmap)
    return float(np.mean(q1 + q2))


def qcb(a, b, f) -> float:
    """Q_CB, Chen & Blum's perceptual metric (Liu's ``metricChenBlum.m``).

    Formula: contrast C = |G_2 * I / G_4 * I − 1| of the CSF-filtered image, masked
    C' = C³/(C² + 1e-4); Q_XF = min/max of C'_X, C'_F; λ_A = C'_A²/(C'_A² + C'_B²);
    Q_CB = mean(λ_A·Q_AF + λ_B·Q_BF).
    Reference: Y. Chen, R. S. Blum, "A new automated quality assessment algorithm for image
    fusion", Image and Vision Computing 27(10):1421–1432 (2009); code ``metricChenBlum.m``.
    Conventions: ``im2double`` (identity on 0–255 doubles) then normalize1; CSF
    S(r) = e^(−(r/15.3870)²) − 0.7622·e^(−(r/1.3456)²) in the DFT domain, r from ``freqspace``
    scaled by (W/30, M/30); unnormalised 31×31 Gaussians σ = 2, 4 by ``filter2 'same'``. VIFB's
    ``metricsQcb.m`` is this code behind a wrapper, so this is :func:`mutualfuse.metrics.qcb`
    (symmetric in A and B; its FFTs run in float32 where that cannot decide the value: within
    6.1e-6 of float64 on the conformance images, see there). Higher is better.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse import metrics
    >>> from mutualfuse.metrics import liu_structural
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> f = (a + b) / 2
    >>> liu_structural.qcb(a, b, f) == metrics.qcb(a, b, f), round(liu_structural.qcb(a, b, f), 3)
    (True, 0.562)
    """
    return _qcb_vifb(a, b, f)


def qcv(a, b, f) -> float:
    """Q_CV, Chen & Varshney's human-perception metric (Liu's ``metricChen.m``).

    Formula: λ_X = Σ g_X⁵ per 16×16 block (Sobel magnitude); D_X = block mean of the squared
    CSF-filtered difference X − F; Q_CV = Σ(λ_A D_A + λ_B D_B)/Σ(λ_A + λ_B).
    Reference: H. Chen, P. K. Varshney, "A human perception inspired quality metric for image
    fusion based on regional information", Information Fusion 8(2):193–207 (2007); code
    ``metricChen.m``.
    Conventions: normalize1 on all three; Mannos–Sakrison CSF 2.6(0.0192+0.144r)e^(−(0.144r)^1.1)
    in the DFT domain with r scaled by (W/8, M/8); ``blkproc`` zero-pads partial blocks and the
    block mean still divides by 256. VIFB's ``metricsQcv.m`` is this code (bit-identical in all
    49 common reference rows), so this is :func:`mutualfuse.metrics.qcv` (float32 FFTs: within
    2.2e-7 of float64 on the conformance images). A = B = F gives 0. Lower is better.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse import metrics
    >>> from mutualfuse.metrics import liu_structural
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> f = (a + b) / 2
    >>> liu_structural.qcv(a, b, f) == metrics.qcv(a, b, f), round(liu_structural.qcv(a, a, a), 3)
    (True, 0.0)
    """
    return _qcv_vifb(a, b, f)
