"""Structural and perceptual metrics: SSIM, MEF-SSIM ("MS_SSIM" of rfn-nest), Wang MS-SSIM,
SCD, Qcb (Chen–Blum) and Qcv (Chen–Varshney)."""
from __future__ import annotations

import functools
import math

import numpy as np
import scipy.fft
from scipy import ndimage
from scipy.signal import fftconvolve

from ._common import (
    EPS,
    _as255,
    box_sum_valid,
    check_same_shape,
    correlate,
    gaussian_1d,
    prep3,
    round_half_away,
    sep_correlate_valid,
    to_gray,
    unknown_convention,
)
from .liu_kernels import kernels
from ..errors import ImageTooSmallError

# --------------------------------------------------------------------------------------------
# SSIM
# --------------------------------------------------------------------------------------------


def _gauss_replicate(x: np.ndarray, g1: np.ndarray) -> np.ndarray:
    """``imfilter(x, fspecial('gaussian', 11, 1.5), 'conv', 'replicate')`` computed separably."""
    y = ndimage.correlate1d(x, g1, axis=0, mode="nearest")
    return ndimage.correlate1d(y, g1, axis=1, mode="nearest")


def _ssim_mean(x: np.ndarray, y: np.ndarray, filt, C1: float, C2: float) -> float:
    """Mean SSIM map from local statistics by ``filt`` (weighted, biased estimates)."""
    mx = filt(x)
    my = filt(y)
    mxy, mx2, my2 = mx * my, mx * mx, my * my
    sx2 = filt(x * x) - mx2
    sy2 = filt(y * y) - my2
    sxy = filt(x * y) - mxy
    m = ((2 * mxy + C1) * (2 * sxy + C2)) / ((mx2 + my2 + C1) * (sx2 + sy2 + C2))
    return float(np.mean(m))


def _ssim_ipt(x: np.ndarray, y: np.ndarray) -> float:
    """MATLAB IPT ``ssim(x, y)`` defaults on double data: L = 1, Gaussian σ 1.5 (11×11),
    ``imfilter(...,'conv','replicate')``, K = [0.01 0.03], mean of the full map."""
    g = gaussian_1d(11, 1.5)
    return _ssim_mean(x, y, lambda z: _gauss_replicate(z, g), 0.01**2, 0.03**2)


def _ssim_vifb(x: np.ndarray, y: np.ndarray) -> float:
    """VIFB's own SSIM: Gaussian 11×11 σ 1.5, L = 255, ``filter2(...,'valid')``, mean of the map."""
    g = gaussian_1d(11, 1.5)
    return _ssim_mean(x, y, lambda z: sep_correlate_valid(z, g), (0.01 * 255) ** 2, (0.03 * 255) ** 2)


def ssim(a, b, f, convention: str = "nestfuse") -> float:
    """SSIM of the fused image against both sources.

    Reference: Wang, Bovik, Sheikh & Simoncelli, IEEE TIP 13(4):600–612 (2004).

    * ``nestfuse`` (``analysis_metrics_7.m``): (ssim(F,A) + ssim(F,B))/2 with MATLAB IPT ``ssim``
      on ``im2double`` images: dynamic range 1, Gaussian σ 1.5 (11×11) applied with
      ``imfilter(...,'conv','replicate')``, K = [0.01 0.03], mean of the full-size map.
      Range up to 1.
    * ``vifb`` (``metricsSsim.m``): SSIM(VI,F) + SSIM(IR,F), a **sum** (range up to 2), with
      VIFB's own SSIM: Gaussian 11×11 σ 1.5, L = 255 on the 0–255 data, K = 0.01/0.03,
      ``filter2(...,'valid')`` (no border), mean of the valid map. Needs images of at least
      11 pixels per side (:class:`~mutualfuse.errors.ImageTooSmallError`; the reference's
      valid map is empty there and its mean NaN).

    Higher is better.

    Example (random 8-bit images):

    >>> import numpy as np
    >>> from mutualfuse.metrics import ssim
    >>> a, b = np.random.default_rng(0).integers(0, 256, (2, 32, 32), dtype=np.uint8)
    >>> round(ssim(a, a, a), 3), round(ssim(a, a, a, convention="vifb"), 3)  # a mean vs a sum
    (1.0, 2.0)
    >>> round(ssim(a, b, a), 3), round(ssim(a, b, b), 3)  # F = either source: (1 + SSIM(A, B))/2
    (0.491, 0.491)
    """
    A, B, F = prep3(a, b, f)
    if convention == "nestfuse":
        return (ssim_af(a, b, f) + ssim_bf(a, b, f)) / 2.0
    if convention == "vifb":
        if min(F.shape) < 11:  # the 'valid' map of an 11×11 window is empty: mean([]) = NaN
            raise ImageTooSmallError("SSIM (VIFB, 11×11 'valid' windows) needs images of at least 11 pixels "
                                     f"per side, got {F.shape[1]}×{F.shape[0]}", 11)
        return _ssim_vifb(B, F) + _ssim_vifb(A, F)
    raise unknown_convention("SSIM", convention, ('nestfuse', 'vifb'))


def ssim_af(a, b, f) -> float:
    """IPT ssim(F, A): the A term that nestfuse averages into SSIM@nestfuse.

    Formula: the mean over the full-size map of (2μ_Fμ_A + C1)(2σ_FA + C2) /
    ((μ_F² + μ_A² + C1)(σ_F² + σ_A² + C2)), C1 = 0.01², C2 = 0.03² (dynamic range 1), local
    statistics by a Gaussian 11×11 σ 1.5 with replicated borders.
    Reference: Wang, Bovik, Sheikh & Simoncelli, IEEE TIP 13(4):600–612 (2004); code nestfuse
    ``analysis_metrics_7.m`` (MATLAB IPT ``ssim`` defaults on ``im2double`` data, see :func:`ssim`).
    Higher is better.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255, fused by the mean rule):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import ssim, ssim_af, ssim_bf
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> f = (a + b) / 2
    >>> round(ssim_af(a, b, f), 3), round(ssim_bf(a, b, f), 3), round(ssim(a, b, f), 3)  # ssim = their mean
    (0.776, 0.781, 0.778)
    """
    A, _, F = prep3(a, b, f)
    return _ssim_ipt(F / 255.0, A / 255.0)


def ssim_bf(a, b, f) -> float:
    """IPT ssim(F, B): the B term that nestfuse averages into SSIM@nestfuse.

    Formula: the mean over the full-size map of (2μ_Fμ_B + C1)(2σ_FB + C2) /
    ((μ_F² + μ_B² + C1)(σ_F² + σ_B² + C2)), C1 = 0.01², C2 = 0.03² (dynamic range 1), local
    statistics by a Gaussian 11×11 σ 1.5 with replicated borders.
    Reference: Wang, Bovik, Sheikh & Simoncelli, IEEE TIP 13(4):600–612 (2004); code nestfuse
    ``analysis_metrics_7.m`` (MATLAB IPT ``ssim`` defaults on ``im2double`` data, see :func:`ssim`).
    Higher is better.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import ssim_bf
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(ssim_bf(a, b, b), 3), round(ssim_bf(a, b, (a + b) / 2), 3)  # F = B gives 1
    (1.0, 0.781)
    """
    _, B, F = prep3(a, b, f)
    return _ssim_ipt(F / 255.0, B / 255.0)


# --------------------------------------------------------------------------------------------
# MEF-SSIM (rfn-nest's "MS_SSIM")
# --------------------------------------------------------------------------------------------


def _down2(x: np.ndarray) -> np.ndarray:
    """``imfilter(x, ones(2)/4, 'symmetric', 'same')`` then every second pixel from the first."""
    p = np.pad(x, ((0, 1), (0, 1)), mode="edge")
    y = (p[:-1, :-1] + p[1:, :-1] + p[:-1, 1:] + p[1:, 1:]) / 4.0
    return y[::2, ::2]


def _mef_ssim_scale(seq: list[np.ndarray], f: np.ndarray, K: float = 0.03, ws: int = 11) -> float:
    n2 = float(ws * ws)
    g1 = gaussian_1d(ws, 1.5)
    # Box statistics over ws×ws windows (exact for the dyadic-rational data used here).
    S1 = [box_sum_valid(x, ws) for x in seq]
    # ||patch - mean||^2 = S2 - S1^2/n
    ed = []
    dnorm = []
    for x, s1 in zip(seq, S1):
        ss = np.maximum(box_sum_valid(x * x, ws) - s1 * s1 / n2, 0.0)
        dnorm.append(np.sqrt(ss))
        ed.append(np.sqrt(ss) + 0.001)
    tot = sum(seq)
    st = box_sum_valid(tot, ws)
    num = np.sqrt(np.maximum(box_sum_valid(tot * tot, ws) - st * st / n2, 0.0))
    den = sum(dnorm)
    R = (num + EPS) / (den + EPS)
    R[R > 1] = 1 - EPS
    R[R < 0] = 0 + EPS
    p = np.tan(np.pi / 2 * R)
    p[p > 10] = 10
    w = [(e / ws) ** p + EPS for e in ed]
    wsum = sum(w)
    w = [x / wsum for x in w]
    max_ed = np.maximum.reduce(ed)
    coef = [wk / ek for wk, ek in zip(w, ed)]  # a_k = w_k / ed_k

    # Desired patch r = s·Σ a_k (X_k − mu_k); its squared norm over the ws×ws box:
    # Σ_k Σ_l a_k a_l [B(X_k X_l) − B(X_k)B(X_l)/n]
    k = len(seq)
    box_cov = {}
    gcov = {}
    gm = [sep_correlate_valid(x, g1) for x in seq]
    for i in range(k):
        for j in range(i, k):
            box_cov[i, j] = box_sum_valid(seq[i] * seq[j], ws) - S1[i] * S1[j] / n2
            gcov[i, j] = sep_correlate_valid(seq[i] * seq[j], g1) - gm[i] * gm[j]
    norm2 = np.zeros_like(R)
    var_r = np.zeros_like(R)
    for i in range(k):
        for j in range(i, k):
            m = 1.0 if i == j else 2.0
            norm2 += m * coef[i] * coef[j] * box_cov[i, j]
            var_r += m * coef[i] * coef[j] * gcov[i, j]
    norm = np.sqrt(np.maximum(norm2, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(norm > 0, max_ed / norm, 0.0)
    gf = sep_correlate_valid(f, g1)
    sig2 = sep_correlate_valid(f * f, g1) - gf * gf
    cov_rf = np.zeros_like(R)
    for i in range(k):
        cov_rf += coef[i] * (sep_correlate_valid(seq[i] * f, g1) - gm[i] * gf)
    sig1 = s * s * var_r
    sig12 = s * cov_rf
    C = (K * 255) ** 2
    q = (2 * sig12 + C) / (sig1 + sig2 + C)
    return float(np.mean(q))


def mef_ssim(a, b, f, levels: int = 3) -> float:
    """MEF-SSIM of Ma, Zeng & Wang — what rfn-nest (and the paper) call "MS_SSIM".

    Reference: K. Ma, K. Zeng, Z. Wang, "Perceptual quality assessment for multi-exposure image
    fusion", IEEE TIP 24(11):3345–3356 (2015); code rfn-nest ``analysis_matlab/analysis_ms_ssim.m``
    (= ``mef_ms_ssim.m`` + ``mef_ssim.m``), called by ``analysis_Reference.m`` with the raw
    0–255 sources stacked and the raw 0–255 fused image.

    Conventions: K = 0.03, C = (0.03·255)²; 11×11 Gaussian window σ 1.5; 3 scales with weights
    [0.0448 0.2856 0.3001]/sum, result Π Q_l^{w_l}. Downsampling: ``imfilter`` with a 2×2 mean
    kernel, ``'symmetric'``, ``'same'``, then every second pixel. At every scale only the
    'valid' positions (5-pixel border dropped) are scored. Per position: local mean and signal
    strength ‖x−μ‖ + 0.001 from an 11×11 box; structure consistency
    R = ‖Σ_k x_k − mean‖ / Σ_k ‖x_k − μ_k‖ gives p = tan(πR/2) (capped at 10); weights
    (ed_k/11)^p; the desired patch is the weighted sum of the normalised source structures
    rescaled to the largest source strength; score (2σ_rf + C)/(σ_r² + σ_f² + C) with
    Gaussian-weighted statistics; Q_l = mean of the map.

    Vectorised: the per-pixel loops are rewritten as sums of box/Gaussian-filtered products
    (σ_r², σ_rf expand into covariances of the sources), O(N) per scale. Higher is better.

    ``levels``: the number of scales, 1, 2 or 3 (the reference's three weights, the first
    ``levels`` of them renormalised; 3 = the reference and the registered metric); images need
    11·2^(levels−1) pixels per side (44 for 3).

    Example (the bundled TNO infrared/visible pair, scaled to 0–255; it rates the mean rule
    above the max rule here):

    >>> from importlib.resources import files
    >>> import numpy as np
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import mef_ssim
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(mef_ssim(a, b, (a + b) / 2), 3), round(mef_ssim(a, b, np.maximum(a, b)), 3)
    (0.87, 0.775)
    """
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or not 1 <= levels <= 3:
        from ..errors import ParameterError

        raise ParameterError(f"MEF-SSIM: levels must be 1, 2 or 3 (the reference has three scale weights), "
                             f"got {levels!r}")
    A, B, F = prep3(a, b, f)
    if min(A.shape) / 2 ** (levels - 1) < 11:
        raise ImageTooSmallError(f"MS_SSIM (MEF-SSIM) needs images of at least {11 * 2 ** (levels - 1)} pixels per side, "
                                 f"got {A.shape[1]}×{A.shape[0]}",
                                 11 * 2 ** (levels - 1))
    w = np.array([0.0448, 0.2856, 0.3001])[:levels]
    w = w / w.sum()
    seq = [A, B]
    qs = []
    for lev in range(levels):
        qs.append(_mef_ssim_scale(seq, F))
        if lev < levels - 1:
            seq = [_down2(x) for x in seq]
            F = _down2(F)
    return float(np.prod(np.array(qs) ** w))


def ms_ssim(a, b, f, convention: str = "rfn-nest") -> float:
    """MS-SSIM by convention.

    * ``rfn-nest``: the rfn-nest/paper "MS_SSIM", which is **MEF-SSIM** — see :func:`mef_ssim`.
    * ``wang``: extra, Wang's standard multi-scale SSIM, averaged over the two sources — see
      :func:`ms_ssim_wang`. Not checked by the conformance set.
    """
    if convention in ("rfn-nest", "mef"):
        return mef_ssim(a, b, f)
    if convention == "wang":
        return ms_ssim_wang(a, b, f)
    raise unknown_convention("MS_SSIM", convention, ('rfn-nest', 'mef', 'wang'))


_WANG_W = np.array([0.0448, 0.2856, 0.3001, 0.2363, 0.1333])


def _ms_ssim_wang_pair(x: np.ndarray, y: np.ndarray) -> float:
    g = gaussian_1d(11, 1.5)
    C1, C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mcs = []
    for lev in range(5):
        mx, my = sep_correlate_valid(x, g), sep_correlate_valid(y, g)
        sx = sep_correlate_valid(x * x, g) - mx * mx
        sy = sep_correlate_valid(y * y, g) - my * my
        sxy = sep_correlate_valid(x * y, g) - mx * my
        cs = (2 * sxy + C2) / (sx + sy + C2)
        mcs.append(max(float(np.mean(cs)), 0.0))
        if lev == 4:
            lum = float(np.mean((2 * mx * my + C1) / (mx * mx + my * my + C1)))
        else:
            x, y = _down2(x), _down2(y)
    vals = np.array(mcs)
    vals[-1] *= max(lum, 0.0)
    return float(np.prod(vals**_WANG_W))


def ms_ssim_wang(a, b, f) -> float:
    """Extra: Wang's standard MS-SSIM, [MS-SSIM(A,F) + MS-SSIM(B,F)]/2.

    Reference: Wang, Simoncelli & Bovik, "Multi-scale structural similarity for image quality
    assessment", Asilomar 2003 (reference ``msssim.m``): 5 scales, weights
    [0.0448 0.2856 0.3001 0.2363 0.1333], Gaussian 11×11 σ 1.5 'valid', K = [0.01 0.03],
    L = 255 on 0–255 data, 2×2 mean downsampling with symmetric border; contrast-structure
    terms at every scale, luminance only at the coarsest; negative per-scale means are clipped
    to 0 (the reference would return a complex/NaN value). Needs ≥ 176 pixels per side.
    This is *not* what rfn-nest or the paper call MS_SSIM (that is :func:`mef_ssim`), and it is
    not checked by the conformance set. Higher is better.

    Example (the bundled TNO infrared/visible pair, 360×270, scaled to 0–255):

    >>> from importlib.resources import files
    >>> import numpy as np
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import ms_ssim_wang
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(ms_ssim_wang(a, a, a), 3), round(ms_ssim_wang(a, b, (a + b) / 2), 3)
    (1.0, 0.674)
    """
    A, B, F = prep3(a, b, f)
    if min(A.shape) < 11 * 16:
        raise ImageTooSmallError(f"MS-SSIM (Wang) needs images of at least 176 pixels per side, "
                                 f"got {A.shape[1]}×{A.shape[0]}", 176)
    return (_ms_ssim_wang_pair(A, F) + _ms_ssim_wang_pair(B, F)) / 2.0


# --------------------------------------------------------------------------------------------
# SCD
# --------------------------------------------------------------------------------------------


def _corr2(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    return float(np.sum(x * y) / np.sqrt(np.sum(x * x) * np.sum(y * y)))


def scd(a, b, f, convention: str = "rfn-nest") -> float:
    """Sum of the correlations of differences, SCD = corr2(F−B, A) + corr2(F−A, B).

    Reference: Aslantas & Bendes, AEU Int. J. Electron. Commun. 69(12):1890–1896 (2015);
    code rfn-nest ``analysis_SCD.m`` on ``im2double`` images (scale-invariant; Pearson
    correlation over all pixels, MATLAB ``corr2``). Higher is better.

    Example (random images; F = A + B is SCD's ideal, the mean scores lower):

    >>> import numpy as np
    >>> from mutualfuse.metrics import scd
    >>> a, b = np.random.default_rng(0).integers(0, 256, (2, 64, 64))
    >>> round(scd(a, b, a + b), 3), round(scd(a, b, (a + b) / 2), 3)  # F = A + B: F−B = A, F−A = B
    (2.0, 1.421)
    """
    if convention not in ("rfn-nest", "nestfuse"):
        raise unknown_convention("SCD", convention, ('rfn-nest', 'nestfuse'))
    A, B, F = (x / 255.0 for x in prep3(a, b, f))
    return _corr2(F - B, A) + _corr2(F - A, B)


# --------------------------------------------------------------------------------------------
# Qcb, Qcv (VIFB; Z. Liu's imageFusionMetrics)
# --------------------------------------------------------------------------------------------


def _prep3_keep_uint8(a, b, f) -> list[np.ndarray]:
    """:func:`prep3` for Q_CB and Q_CV, except that an image whose gray (``to_gray``) is uint8 is
    returned as that uint8 array, not as its float64 copy: their compiled paths read the images
    only through :func:`_normalize1_into`, whose kernel computes in float64 from either dtype
    (uint8 − float64 is float64: the same values as from the float64 copy, bit for bit). The
    same conversions, checks and errors, in the same order, as :func:`prep3`; a uint8 image goes
    through :func:`_float64_images` before the NumPy or float64 paths, which need float64."""
    ims = []
    for x, name in ((a, "a"), (b, "b"), (f, "f")):
        g = to_gray(x, name)
        ims.append(g if g.dtype == np.uint8 else _as255(g, name))
    check_same_shape(*ims)
    return ims


def _float64_images(ims) -> list[np.ndarray]:
    """The images of :func:`_prep3_keep_uint8` as :func:`prep3` returns them (uint8 ones as their
    0–255 float64 copies, the others unchanged)."""
    return [_as255(x) if x.dtype == np.uint8 else x for x in ims]


def _normalize1(x: np.ndarray) -> np.ndarray:
    hi, lo = x.max(), x.min()
    if hi == 0 and lo == 0:
        return x
    return round_half_away((x - lo) / (hi - lo) * 255)


def _normalize1_into(K, x: np.ndarray, out: np.ndarray) -> float:
    """:func:`_normalize1` of ``x`` written into ``out`` by the compiled kernel (same values;
    ``x`` float64, or uint8: the kernel computes in float64 from it, the same values as from its
    float64 copy).
    Returns the largest |value| written (NaN if any is NaN), as ``max(abs(out.max()),
    abs(out.min()))`` gives it: 255 wherever hi − lo is finite and positive (x = hi gives
    exactly 255, x = lo 0, and nothing lies outside [0, 255]), else computed from ``out``."""
    hi, lo = float(x.max()), float(x.min())
    if hi == 0 and lo == 0:
        out[...] = x
        return 0.0
    K["normalize1"](np.ascontiguousarray(x), lo, hi, out)
    if 0 < hi - lo < math.inf:
        return 255.0
    return max(abs(float(out.max())), abs(float(out.min())))


def _freq_radius(shape, su: float, sv: float) -> np.ndarray:
    """MATLAB ``freqspace([m n], 'meshgrid')`` scaled: u·su (columns), v·sv (rows), radius."""
    m, n = shape
    f1 = (np.arange(n) - n // 2) * (2.0 / n)
    f2 = (np.arange(m) - m // 2) * (2.0 / m)
    u, v = np.meshgrid(f1 * su, f2 * sv)
    return np.sqrt(u * u + v * v)


def _fft_filter(x: np.ndarray, H: np.ndarray) -> np.ndarray:
    """``ifft2(ifftshift(fftshift(fft2(x)) .* H))`` (complex, as in MATLAB)."""
    return np.fft.ifft2(np.fft.ifftshift(np.fft.fftshift(np.fft.fft2(x)) * H))


def _gauss31(sigma: float) -> np.ndarray:
    x, y = np.meshgrid(np.arange(-15, 16), np.arange(-15, 16))
    return np.exp(-(x * x + y * y) / (2 * sigma * sigma)) / (2 * np.pi * sigma * sigma)


@functools.lru_cache(maxsize=2)
def _qcb_filters(m: int, n: int) -> np.ndarray:
    """The image-independent half spectra of Q_CB for an m×n image, (3, m, n//2 + 1): the CSF
    S (``ifftshift``-ed, as :func:`_fft_filter` applies it), and S times the DFT of the σ = 2 and
    σ = 4 kernels of :func:`_gauss31` wrapped around the m×n grid (circular correlation; the
    kernels are symmetric, so their DFTs are real). Read-only; cached for two sizes."""
    r = _freq_radius((m, n), n / 30.0, m / 30.0)
    Sd = np.exp(-((r / 15.3870) ** 2)) - 0.7622 * np.exp(-((r / 1.3456) ** 2))
    k = n // 2 + 1
    out = np.empty((3, m, k))
    out[0] = np.fft.ifftshift(Sd)[:, :k]
    idx = np.arange(-15, 16)
    for q, sigma in ((1, 2.0), (2, 4.0)):
        w = np.zeros((m, n))
        w[np.ix_(idx % m, idx % n)] = _gauss31(sigma)
        out[q] = out[0] * scipy.fft.rfft2(w, workers=1).real
    out.setflags(write=False)
    return out


def _irfft2_inplace(Y: np.ndarray, n: int) -> np.ndarray:
    """``scipy.fft.irfft2(Y, s=(m, n))`` of a C-contiguous half spectrum Y (m, n//2 + 1) as
    its two 1-D passes: the inverse complex FFT along axis 0 *in place in Y* (Y is destroyed),
    then the inverse real FFT along axis 1 (scaled by 1/m and 1/n in turn, not 1/(m·n) once: the
    same values to ~1 ulp). pocketfft's 2-D ``c2r`` instead allocates a complex temporary of
    Y's size on every call, and on this machine its page faults cost more than the transform
    (640×480: ~1200 faults, 3–4 ms of system time per call; the two passes: none, 2.3 ms).
    A complex64 Y gives a float32 result."""
    Z = scipy.fft.ifft(Y, axis=0, workers=1, overwrite_x=True)  # (Y itself, written in place)
    return scipy.fft.irfft(Z, n=n, axis=1, workers=1)


#: FFT round-off in Q_CB's filtered images, absolute, per unit of the image's largest value (an
#: upper estimate: pocketfft's and FFTW's errors on the conformance images are ~2e-16)
_QCB_FFT_ROUNDOFF = 1e-14
#: mean over pixels of the estimated relative change of Q_CB's pixel values (``liu_kernels.
#: _qcb_contrast_py``) above which the compiled path hands over to :func:`_qcb_numpy`, whose round-off
#: is the one checked against Octave's. On the 77 conformance triples the compiled value was
#: within 2e-14 of the NumPy one wherever this estimate was ≤ 1.2e-8 (every TNO and Lytro
#: triple: ≤ 4e-9) and at most 6e-3 times the estimate above it (medical images, black
#: backgrounds: 3.9e-5 … 1e-2, up to 4e-5 apart)
_QCB_MAX_RISK = 1e-7


#: float32 FFT round-off in Q_CB's filtered images (:func:`_qcb_compiled32`), absolute, per unit
#: of the image's largest value: an upper estimate (measured on TNO, Lytro and medical conformance
#: images, b_σ4 and b_σ2 − b_σ4 of the float32 path against the float64 one: at most 1.2e-7)
_QCB_FFT32_ROUNDOFF = 1e-6
#: :data:`_QCB_MAX_RISK` for the float32 path (the same estimate with :data:`_QCB_FFT32_ROUNDOFF`):
#: above it :func:`qcb` takes the float64 path. On the 77 conformance triples the estimate was
#: 0.006–0.046 on every TNO and Lytro triple (value within 1.2e-6 of the float64 one) and on 4
#: medical ones (within 6.1e-6; the largest ratio error/estimate was 1.4e-4), 0.12–0.41 on the
#: other 12 medical ones (black backgrounds; 11 of them already hand over to the NumPy path)
_QCB_MAX_RISK32 = 0.06


@functools.lru_cache(maxsize=2)
def _qcb_filters32(m: int, n: int) -> np.ndarray:
    """:func:`_qcb_filters` for the float32 path, float32: S, S·(DFT(G_2) − DFT(G_4)) (the
    difference of the two Gaussians: b_σ2 − b_σ4 filtered directly) and S·DFT(G_4)."""
    H = _qcb_filters(m, n)
    out = np.empty(H.shape, dtype=np.float32)
    out[0] = H[0]
    out[1] = H[1] - H[2]
    out[2] = H[2]
    out.setflags(write=False)
    return out


def _qcb_inputs(K, A: np.ndarray, B: np.ndarray, F: np.ndarray):
    """What both compiled Q_CB paths start from: the three images ``normalize1``-ed in VIFB's
    order (img1 = VI = b, img2 = IR = a, then F), as a (3, M, N) float64 array, and the 31-tap
    Gaussians of σ = 2 and σ = 4 with their 1/(2πσ²) scales, ``[(g2, s2), (g4, s4)]``."""
    m, n = F.shape
    ims = np.empty((3, m, n))
    for k, x in enumerate((B, A, F)):
        _normalize1_into(K, x, ims[k])
    idx = np.arange(-15, 16, dtype=np.float64)
    gs = [(np.exp(-(idx * idx) / (2 * sigma * sigma)), 1.0 / (2 * np.pi * sigma * sigma))
          for sigma in (2.0, 4.0)]
    return ims, gs


def _qcb_compiled32(K, A: np.ndarray, B: np.ndarray, F: np.ndarray) -> float | None:
    """:func:`_qcb_compiled` with float32 FFTs (complex64 spectra), or ``None`` where the float32
    round-off could decide the value (estimate above :data:`_QCB_MAX_RISK32`) or the value is not
    finite (an exact float32 zero of b_σ2 − b_σ4 gives the reference formula's 0/0; a NaN of the
    reference itself, e.g. a constant image, is recomputed by the float64 path too). Per image
    (``normalize1``-ed straight into float32: integers 0–255, exact): one forward and three
    inverse float32 FFTs give x, d = b_σ2 − b_σ4 and b_σ4 (circular, then 'same' by
    ``unwrap_same2``: the border terms of each Gaussian once, subtracted twice from d, once
    from b_σ4); the per-pixel work is float64. A, B, F are read only by :func:`_normalize1_into`
    (and F's shape): float64 or uint8 images (:func:`_prep3_keep_uint8`)."""
    m, n = F.shape
    H = _qcb_filters32(m, n)
    idx = np.arange(-15, 16, dtype=np.float64)
    g2, g4 = (np.exp(-(idx * idx) / (2 * sigma * sigma)) for sigma in (2.0, 4.0))
    s2, s4 = (1.0 / (2 * np.pi * sigma * sigma) for sigma in (2.0, 4.0))
    Y = np.empty((3, m, n // 2 + 1), dtype=np.complex64)
    cp = np.empty((3, m, n))  # C' of img1 = VI = b, img2 = IR = a, F (VIFB's order)
    t = np.empty((m, n))
    im32 = np.empty((m, n), dtype=np.float32)
    for k, img in enumerate((B, A, F)):
        e = _QCB_FFT32_ROUNDOFF * _normalize1_into(K, img, im32)  # (its largest |value|)
        K["scale_spectrum3"](scipy.fft.rfft2(im32, workers=1), H, Y)
        x = _irfft2_inplace(Y[0], n)
        d = _irfft2_inplace(Y[1], n)
        b4 = _irfft2_inplace(Y[2], n)
        K["unwrap_same2"](x, g2, s2, g4, s4, d, b4)
        del x
        K["qcb_contrast32"](d, b4, e, k == 0, cp[k], t)
        del d, b4
    risk = K["qcb_pool"](cp[0], cp[1], cp[2], t, t)  # Q replaces the estimate
    if not risk <= _QCB_MAX_RISK32 * m * n:
        return None
    v = float(np.mean(t))
    return v if math.isfinite(v) else None


def _qcb_compiled(K, A: np.ndarray, B: np.ndarray, F: np.ndarray) -> float | None:
    """:func:`qcb` with real FFTs and compiled per-pixel loops, or ``None`` where the value is
    decided by round-off (see :func:`qcb`)."""
    m, n = F.shape
    ims, gs = _qcb_inputs(K, A, B, F)
    H = _qcb_filters(m, n)
    Y = np.empty((3, m, n // 2 + 1), dtype=np.complex128)
    t = np.empty((m, n))
    for k in range(3):  # one image at a time (the FFT outputs are freed before the next one)
        im = ims[k]
        e = _QCB_FFT_ROUNDOFF * max(abs(im.max()), abs(im.min()))
        K["scale_spectrum3"](scipy.fft.rfft2(im, workers=1), H, Y)
        # the CSF-filtered image and its circular correlations with G_σ2, G_σ4 (one inverse
        # each, :func:`_irfft2_inplace`), then the 'same' filters from those
        x = _irfft2_inplace(Y[0], n)
        b = []
        for q in (1, 2):
            b.append(_irfft2_inplace(Y[q], n))
            K["unwrap_same"](x, gs[q - 1][0], gs[q - 1][1], b[-1])
        del x
        K["qcb_contrast"](b[0], b[1], e, k == 0, im, t)  # C' replaces the image (memory)
        del b
    risk = K["qcb_pool"](ims[0], ims[1], ims[2], t, t)  # Q replaces the estimate
    if risk > _QCB_MAX_RISK * m * n:
        return None  # decided by round-off (black backgrounds): the caller takes _qcb_numpy
    return float(np.mean(t))


def qcb(a, b, f, convention: str = "vifb") -> float:
    """Chen–Blum metric Q_CB, VIFB ``metricsQcb.m`` (Z. Liu's ``metricChenBlum.m``).

    Reference: Y. Chen & R. S. Blum, "A new automated quality assessment algorithm for image
    fusion", Image and Vision Computing 27:1421–1432 (2009).

    Conventions (VIFB): each image goes through ``normalize1`` (min-max to 0–255, rounded half
    away). Contrast-sensitivity filtering in the DFT domain with
    S(r) = exp(−(r/15.3870)²) − 0.7622·exp(−(r/1.3456)²), r from ``freqspace`` scaled by
    (cols/30, rows/30). Local contrast C = |G_2 * I / G_4 * I − 1| with 31×31 unnormalised
    Gaussians σ = 2, 4 (the helper ignores its size arguments), ``filter2 'same'`` (zero
    padding; computed here by FFT convolution). Masking C' = C³/(C² + 1e−4). Preservation
    Q_XF = min/max of C'_X, C'_F; saliency λ_A = C'_A²/(C'_A² + C'_B²); Q_CB = mean of
    λ_A Q_AF + λ_B Q_BF. The complex ``ifft2`` output is kept through the filtering (|·| is its
    modulus), as MATLAB does. Higher is better.

    Computation (``liu_kernels``, compiled; images of at least 31×31): the CSF and both
    Gaussians are linear, so one real FFT per image (``scipy.fft.rfft2``) and three inverse
    ones give the CSF-filtered image x and its *circular* correlations with the Gaussians (the
    spectra multiplied by S·DFT(G), :func:`_qcb_filters`); the 'same' zero-padded filters then
    differ from those only by the taps that wrap around the border, which
    ``liu_kernels._unwrap_same_py`` subtracts (15-pixel strips, separable). The ratio, masking
    and pooling run per pixel in one compiled loop. MATLAB's imaginary parts (rounding noise
    of a real, even filter: ~1e-16 relative) are not carried, and C³ is C·C·C.

    **The FFTs run in float32** (complex64 spectra, :func:`_qcb_compiled32`; everything else in
    float64): the inverse transforms give x, b_σ4 and b_σ2 − b_σ4 (filtered directly with
    the difference of the Gaussians, so that C is not the difference of two rounded float32
    values). Measured on the 77 conformance triples, where this path answers: within 1.2e-6
    relative of the float64 value on TNO and Lytro, 6.1e-6 on medical images (the tests check
    1e-5 on the bundled samples; against Octave every row stays within 1e-4). The float32 path
    hands over to the float64 one (:func:`_qcb_compiled`, the previous path, equal to the NumPy
    array version :func:`_qcb_numpy` to ~1e-14 relative) where its round-off could decide the
    value: an estimate of how far that round-off can move the pixels, summed by the compiled
    loop, above ``_QCB_MAX_RISK32``, or a value that is not finite (an exact float32 zero of
    b_σ2 − b_σ4 gives the reference formula's 0/0; seen on 2 of the 77 triples). That happens
    where b_σ4 (or C) is near 0 over large areas (exactly black backgrounds, e.g. CT/MR
    images: 12 of the 16 medical triples), where the ratio amplifies FFT round-off (Octave's
    FFTW and pocketfft already differ by up to 7e-5 there; see docs/metrics.md, Conformance).
    The float64 path sums the same estimate with its own round-off, and above
    ``_QCB_MAX_RISK`` the NumPy version is computed instead (its FFTs are the ones checked
    against Octave), so such images get exactly the previous value (at the previous cost plus
    the float32 attempt). Smaller images and a missing numba take the NumPy version.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import qcb
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(qcb(a, a, a), 3), round(qcb(a, b, (a + b) / 2), 3)  # A = B = F gives 1
    (1.0, 0.562)
    """
    if convention != "vifb":
        raise unknown_convention("Qcb", convention, ('vifb',))
    ims = _prep3_keep_uint8(a, b, f)  # (uint8 images stay uint8: the float32 path reads them)
    K = kernels()
    v = None
    if K is not None and min(ims[2].shape) >= 31:
        v = _qcb_compiled32(K, *ims)
        if v is None:  # float32 round-off may decide the value: the float64 path (then NumPy)
            ims = _float64_images(ims)
            v = _qcb_compiled(K, *ims)
    return _qcb_numpy(*_float64_images(ims)) if v is None else v


def _qcb_numpy(A: np.ndarray, B: np.ndarray, F: np.ndarray) -> float:
    """:func:`qcb` as NumPy array expressions, complex as in MATLAB (the compiled path's
    reference)."""
    ims = [_normalize1(x) for x in (B, A, F)]  # VIFB order: img1 = VI = b, img2 = IR = a
    m, n = F.shape
    r = _freq_radius((m, n), n / 30.0, m / 30.0)
    Sd = np.exp(-((r / 15.3870) ** 2)) - 0.7622 * np.exp(-((r / 1.3456) ** 2))
    G1, G2 = _gauss31(2.0), _gauss31(4.0)

    def cp(im):
        x = _fft_filter(im, Sd)
        b1 = fftconvolve(x, G1[::-1, ::-1], mode="same")
        b2 = fftconvolve(x, G2[::-1, ::-1], mode="same")
        c = np.abs(b1 / b2 - 1)
        return c**3 / (c**2 + 0.0001)

    C1P, C2P, CfP = (cp(x) for x in ims)
    with np.errstate(divide="ignore", invalid="ignore"):
        mask = (C1P < CfP).astype(np.float64)
        Q1F = (C1P / CfP) * mask + (CfP / C1P) * (1 - mask)
        mask = (C2P < CfP).astype(np.float64)
        Q2F = (C2P / CfP) * mask + (CfP / C2P) * (1 - mask)
        den = C1P * C1P + C2P * C2P
        Q = (C1P * C1P) / den * Q1F + (C2P * C2P) / den * Q2F
    return float(np.mean(Q))


def _blocks(x: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad to a multiple of ``size`` and return an array of blocks (bh, bw, size, size)."""
    m, n = x.shape
    pm, pn = (-m) % size, (-n) % size
    p = np.pad(x, ((0, pm), (0, pn)))
    M, N = p.shape
    return p.reshape(M // size, size, N // size, size).swapaxes(1, 2)


@functools.lru_cache(maxsize=2)
def _qcv_filter(m: int, n: int) -> np.ndarray:
    """Q_CV's CSF for an m×n image as a real full spectrum (``ifftshift``-ed, as
    :func:`_fft_filter` applies it; even: H[k, l] = H[−k, −l]), float32 (computed in float64,
    then rounded), each value twice: (m, 2n), to multiply :func:`_qcv_compiled`'s complex64
    spectrum viewed as float32 (real, imaginary) pairs. Read-only; cached for two sizes."""
    r = _freq_radius((m, n), n / 8.0, m / 8.0)
    theta = 2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1))
    out = np.repeat(np.fft.ifftshift(theta).astype(np.float32), 2, axis=1)
    out.setflags(write=False)
    return out


def _qcv_balance(s1: float, s2: float) -> int:
    """The exponent e for which 2^e·(B − F) has about the norm of A − F (within √2), given their
    sums of squares s1 and s2: ``round(log2(√(s1/s2)))``, clamped to ±60; 0 where either sum is 0
    or not finite (nothing to balance: see :func:`_qcv_compiled`)."""
    if not (0 < s1 < math.inf and 0 < s2 < math.inf):
        return 0
    return max(-60, min(60, round(0.5 * (math.log2(s1) - math.log2(s2)))))  # (s1/s2 may overflow)


def _comes_before(x: np.ndarray, y: np.ndarray) -> bool:
    """Whether image ``x`` comes before ``y`` in row-major lexicographic order of their values
    (False for equal images, or where the first difference involves a NaN). :func:`_qcv_compiled`
    packs A − F and B − F into one complex FFT, whose round-off differs with which part is real:
    taking the two images in this order makes ``qcv(a, b, f)`` equal ``qcv(b, a, f)`` exactly,
    as with separate transforms (1.6e-8 apart otherwise). Reads rows until the first that
    differs: usually one."""
    for i in range(x.shape[0]):
        ne = np.flatnonzero(x[i] != y[i])
        if ne.size:
            j = ne[0]
            return bool(x[i, j] < y[i, j])
    return False


def _qcv_compiled(K, A: np.ndarray, B: np.ndarray, F: np.ndarray) -> float:
    """:func:`qcv` with one complex64 FFT and compiled passes (the value of :func:`_qcv_numpy` to
    ~1e-7 relative; see :func:`qcv`). A, B, F are read only by :func:`_normalize1_into` (and F's
    shape): float64 or uint8 images.

    The two filtered differences are the real and imaginary parts of one complex image:
    z = (A − F) + i·2^e·(B − F), one in-place ``fft2``, the real, even CSF (so H·Z is the
    spectrum of H∗(A − F) + i·2^e·H∗(B − F), both real), one in-place ``ifft2``. The power of two
    2^e (exact in float32) gives both parts about the same norm (:func:`_qcv_balance`), so that
    the round-off the transforms spread from one part into the other stays of the size of each
    part's own (without it, where F ≈ A and λ_B = 0 the value moved by 3e-2). A difference that
    is exactly 0 has D = 0 exactly, as with separate transforms."""
    if _comes_before(A, B):  # Q_CV is symmetric in A and B: one order for both calls (see there)
        A, B = B, A
    m, n = F.shape
    ws = 16
    # normalize1 gives integers in [0, 255] (or NaN): exact in float32, and so are the
    # differences, in [−255, 255], that the float32 FFT reads
    ims = np.empty((3, m, n), dtype=np.float32)
    for k, x in enumerate((B, A, F)):  # im1 = b, im2 = a, fu = f
        _normalize1_into(K, x, ims[k])
    nb = (-(-m // ws), -(-n // ws))
    lam = np.empty((2,) + nb)
    D = np.empty((2,) + nb)
    z = np.empty((m, n), dtype=np.complex64)
    s1, s2 = K["qcv_front"](ims, ws, lam, z.view(np.float32))  # λ, and z = (A − F) + i(B − F)
    e = _qcv_balance(s1, s2)
    if e:
        z.imag *= np.float32(2.0**e)
    z = scipy.fft.fft2(z, workers=1, overwrite_x=True)  # (in place: no temporaries)
    zf = z.view(np.float32)  # (m, 2n): real and imaginary parts
    zf *= _qcv_filter(m, n)
    z = scipy.fft.ifft2(z, workers=1, overwrite_x=True)
    K["qcv_block_mean_sq2"](z.view(np.float32), ws, D)
    if e:
        D[1] *= 2.0 ** (-2 * e)  # (exact: a power of two)
    for k, s in enumerate((s1, s2)):
        if s == 0:
            D[k] = 0.0  # A − F (or B − F) is 0: its filtered image is 0, D too
    return float(np.sum(lam[0] * D[0] + lam[1] * D[1]) / np.sum(lam[0] + lam[1]))


def qcv(a, b, f, convention: str = "vifb") -> float:
    """Chen–Varshney metric Q_CV, VIFB ``metricsQcv.m`` (Z. Liu's ``metricChen.m``).

    Reference: H. Chen & P. K. Varshney, "A human perception inspired quality metric for image
    fusion based on regional information", Information Fusion 8(2):193–207 (2007).

    Conventions (VIFB): ``normalize1`` (min-max to 0–255, rounded) on all three images. Edge
    strength g = sqrt(gx² + gy²) with Sobel kernels by ``filter2 'same'`` (zero padding).
    Saliency λ_X = Σ g_X^5 per 16×16 block (``blkproc``, partial blocks zero-padded).
    The differences A−F and B−F are filtered in the DFT domain with the Mannos–Sakrison CSF
    2.6(0.0192 + 0.144r)·exp(−(0.144r)^1.1), r from ``freqspace`` scaled by (cols/8, rows/8).
    D_X = mean over each zero-padded 16×16 block of the squared filtered difference (the
    complex square, as MATLAB; real part taken at the end). Q_CV = Σ(λ_A D_A + λ_B D_B)/Σ(λ_A + λ_B).
    Lower is better.

    Computation (``liu_kernels``, compiled): ``normalize1``; one pass for the Sobel gradients
    with their block sums of g⁵ (as s²·√s, s = g_x² + g_y²) and the two differences; one pass
    for the block means of the squared filtered differences. The CSF is real and even, so the
    filtered differences are real (MATLAB's imaginary parts are rounding noise, ~1e-16
    relative, and only enter as their squares), and both are filtered by *one* complex FFT and
    its inverse (``scipy.fft``, in place): the real and imaginary parts of
    (A − F) + i·2^e·(B − F), with the power of two 2^e that gives both parts about the same
    norm (see :func:`_qcv_compiled`). **The FFTs run in float32** (complex64; the differences
    are integers, exact in float32; the squares and sums are float64): the value is the NumPy
    array version's (:func:`_qcv_numpy`, float64, kept as the tests' reference) to ~1e-7
    relative (≤ 2.2e-7 on the 77 conformance triples with two separate real FFTs, before
    2026-12-07's session 30; measured again for this path in docs/metrics.md, Liu "Speed").

    Example (random 8-bit images; lower is better):

    >>> import numpy as np
    >>> from mutualfuse.metrics import qcv
    >>> a, b = np.random.default_rng(0).integers(0, 256, (2, 64, 64), dtype=np.uint8)
    >>> round(qcv(a, a, a), 3), qcv(a, b, a) < qcv(a, b, 255 - a)  # F = A beats F = inverted A
    (0.0, True)
    """
    if convention != "vifb":
        raise unknown_convention("Qcv", convention, ('vifb',))
    ims = _prep3_keep_uint8(a, b, f)  # (uint8 images stay uint8: the compiled path reads them)
    K = kernels()
    if K is None:
        return _qcv_numpy(*_float64_images(ims))
    return _qcv_compiled(K, *ims)


def _qcv_numpy(A: np.ndarray, B: np.ndarray, F: np.ndarray) -> float:
    """:func:`qcv` as NumPy array expressions, complex as in MATLAB (the compiled path's
    reference)."""
    im1, im2, fu = (_normalize1(x) for x in (B, A, F))
    flt1 = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    flt2 = flt1.T.copy()
    ws = 16

    def grad(x):
        gx = correlate(x, flt1, "zero")
        gy = correlate(x, flt2, "zero")
        return np.sqrt(gx * gx + gy * gy)

    lam1 = np.sum(_blocks(grad(im1), ws) ** 5, axis=(2, 3))
    lam2 = np.sum(_blocks(grad(im2), ws) ** 5, axis=(2, 3))
    m, n = F.shape
    r = _freq_radius((m, n), n / 8.0, m / 8.0)
    theta = 2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1))
    D = []
    for x in (im1 - fu, im2 - fu):
        df = _fft_filter(x, theta)
        D.append(np.sum(_blocks(df, ws) ** 2, axis=(2, 3)) / (ws * ws))
    Q = np.sum(lam1 * D[0] + lam2 * D[1]) / np.sum(lam1 + lam2)
    return float(np.real(Q))

