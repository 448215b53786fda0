"""Visual information fidelity (Sheikh & Bovik ``vifvec``) with its steerable pyramid.

The pyramid is matlabPyrTools' ``buildSpyr(im, 4, 'sp5Filters', 'reflect1')``
(``LabForComputationalVision/matlabPyrTools@f02ab05``): sp5 filters (6 orientations), a
high-pass residual, 4 band-pass levels and a low-pass residual, every ``corrDn`` with
'reflect1' edges (mirror about the edge pixel, which is not repeated).
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.signal import fftconvolve

from ._common import as_array, prep3, unknown_convention
from ..errors import ImageTooSmallError, InputError

# ---- sp5Filters taps (Simoncelli's published 5th-order steerable filters, 8 decimals) ----

_HI0_Q = [  # upper-left 5×5 quadrant of the symmetric 9×9 hi0filt
    [-0.00033429, -0.00113093, -0.00171484, -0.00133542, -0.00080639],
    [-0.00113093, -0.00350017, -0.00243812, 0.00631653, 0.01261227],
    [-0.00171484, -0.00243812, -0.00290081, -0.00673482, -0.00981051],
    [-0.00133542, 0.00631653, -0.00673482, -0.07027679, -0.11435863],
    [-0.00080639, 0.01261227, -0.00981051, -0.11435863, 0.81380200],
]
_LO0_Q = [
    [0.00341614, -0.01551246, -0.03848215],
    [-0.01551246, 0.05586982, 0.15925570],
    [-0.03848215, 0.15925570, 0.40304148],
]
_LO_Q = [  # lofilt = 2 × this (symmetric 9×9)
    [0.00085404, -0.00244917, -0.00387812, -0.00944432, -0.00962054],
    [-0.00244917, -0.00523281, -0.00661117, 0.00410600, 0.01002988],
    [-0.00387812, -0.00661117, 0.01396746, 0.03277038, 0.03981393],
    [-0.00944432, 0.00410600, 0.03277038, 0.06426333, 0.08169618],
    [-0.00962054, 0.01002988, 0.03981393, 0.08169618, 0.10096540],
]
# bfilts: 6 columns of 49 taps (MATLAB column-major 7×7 filters)
_BFILTS = np.array(
    [
        [0.00277643, 0.00496194, 0.01026699, 0.01455399, 0.01026699, 0.00496194, 0.00277643,
         -0.00986904, -0.00893064, 0.01189859, 0.02755155, 0.01189859, -0.00893064, -0.00986904,
         -0.01021852, -0.03075356, -0.08226445, -0.11732297, -0.08226445, -0.03075356, -0.01021852,
         0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
         0.01021852, 0.03075356, 0.08226445, 0.11732297, 0.08226445, 0.03075356, 0.01021852,
         0.00986904, 0.00893064, -0.01189859, -0.02755155, -0.01189859, 0.00893064, 0.00986904,
         -0.00277643, -0.00496194, -0.01026699, -0.01455399, -0.01026699, -0.00496194, -0.00277643],
        [-0.00343249, -0.00640815, -0.00073141, 0.01124321, 0.00182078, 0.00285723, 0.01166982,
         -0.00358461, -0.01977507, -0.04084211, -0.00228219, 0.03930573, 0.01161195, 0.00128000,
         0.01047717, 0.01486305, -0.04819057, -0.12227230, -0.05394139, 0.00853965, -0.00459034,
         0.00790407, 0.04435647, 0.09454202, -0.0, -0.09454202, -0.04435647, -0.00790407,
         0.00459034, -0.00853965, 0.05394139, 0.12227230, 0.04819057, -0.01486305, -0.01047717,
         -0.00128000, -0.01161195, -0.03930573, 0.00228219, 0.04084211, 0.01977507, 0.00358461,
         -0.01166982, -0.00285723, -0.00182078, -0.01124321, 0.00073141, 0.00640815, 0.00343249],
        [0.00343249, 0.00358461, -0.01047717, -0.00790407, -0.00459034, 0.00128000, 0.01166982,
         0.00640815, 0.01977507, -0.01486305, -0.04435647, 0.00853965, 0.01161195, 0.00285723,
         0.00073141, 0.04084211, 0.04819057, -0.09454202, -0.05394139, 0.03930573, 0.00182078,
         -0.01124321, 0.00228219, 0.12227230, -0.0, -0.12227230, -0.00228219, 0.01124321,
         -0.00182078, -0.03930573, 0.05394139, 0.09454202, -0.04819057, -0.04084211, -0.00073141,
         -0.00285723, -0.01161195, -0.00853965, 0.04435647, 0.01486305, -0.01977507, -0.00640815,
         -0.01166982, -0.00128000, 0.00459034, 0.00790407, 0.01047717, -0.00358461, -0.00343249],
        [-0.00277643, 0.00986904, 0.01021852, -0.0, -0.01021852, -0.00986904, 0.00277643,
         -0.00496194, 0.00893064, 0.03075356, -0.0, -0.03075356, -0.00893064, 0.00496194,
         -0.01026699, -0.01189859, 0.08226445, -0.0, -0.08226445, 0.01189859, 0.01026699,
         -0.01455399, -0.02755155, 0.11732297, -0.0, -0.11732297, 0.02755155, 0.01455399,
         -0.01026699, -0.01189859, 0.08226445, -0.0, -0.08226445, 0.01189859, 0.01026699,
         -0.00496194, 0.00893064, 0.03075356, -0.0, -0.03075356, -0.00893064, 0.00496194,
         -0.00277643, 0.00986904, 0.01021852, -0.0, -0.01021852, -0.00986904, 0.00277643],
        [-0.01166982, -0.00128000, 0.00459034, 0.00790407, 0.01047717, -0.00358461, -0.00343249,
         -0.00285723, -0.01161195, -0.00853965, 0.04435647, 0.01486305, -0.01977507, -0.00640815,
         -0.00182078, -0.03930573, 0.05394139, 0.09454202, -0.04819057, -0.04084211, -0.00073141,
         -0.01124321, 0.00228219, 0.12227230, -0.0, -0.12227230, -0.00228219, 0.01124321,
         0.00073141, 0.04084211, 0.04819057, -0.09454202, -0.05394139, 0.03930573, 0.00182078,
         0.00640815, 0.01977507, -0.01486305, -0.04435647, 0.00853965, 0.01161195, 0.00285723,
         0.00343249, 0.00358461, -0.01047717, -0.00790407, -0.00459034, 0.00128000, 0.01166982],
        [-0.01166982, -0.00285723, -0.00182078, -0.01124321, 0.00073141, 0.00640815, 0.00343249,
         -0.00128000, -0.01161195, -0.03930573, 0.00228219, 0.04084211, 0.01977507, 0.00358461,
         0.00459034, -0.00853965, 0.05394139, 0.12227230, 0.04819057, -0.01486305, -0.01047717,
         0.00790407, 0.04435647, 0.09454202, -0.0, -0.09454202, -0.04435647, -0.00790407,
         0.01047717, 0.01486305, -0.04819057, -0.12227230, -0.05394139, 0.00853965, -0.00459034,
         -0.00358461, -0.01977507, -0.04084211, -0.00228219, 0.03930573, 0.01161195, 0.00128000,
         -0.00343249, -0.00640815, -0.00073141, 0.01124321, 0.00182078, 0.00285723, 0.01166982],
    ]
)


def _sym_from_quadrant(q) -> np.ndarray:
    q = np.asarray(q, dtype=np.float64)
    top = np.hstack([q, q[:, -2::-1]])
    return np.vstack([top, top[-2::-1, :]])


HI0FILT = _sym_from_quadrant(_HI0_Q)
LO0FILT = _sym_from_quadrant(_LO0_Q)
LOFILT = 2.0 * _sym_from_quadrant(_LO_Q)
#: the six 7×7 band filters, reshaped column-major as MATLAB's reshape(bfilts(:,b), 7, 7)
BFILTS = [row.reshape(7, 7).T.copy() for row in _BFILTS]


def _corr_reflect1(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """pyrTools ``corrDn(x, k, 'reflect1')`` with unit step (odd square k, centred).

    Computed as an FFT convolution of the mirror-padded image ('valid' part). Its rounding
    differs from direct summation by ~1e-16 of the image range, which is far below every
    threshold in ``vifvec`` (tolerance 1e-15 on *squared* windowed sums).
    """
    r = k.shape[0] // 2
    if min(x.shape) <= r:
        return ndimage.correlate(x, k, mode="mirror")
    p = np.pad(x, r, mode="reflect")
    return fftconvolve(p, k[::-1, ::-1], mode="valid")


def _box_reflect1_sub(x: np.ndarray, n: int, start: int, step: int) -> np.ndarray:
    """``corrDn(x, ones(n), 'reflect1', [step step], [start+1 start+1])``: separable box sums
    (direct summation, so all-zero regions stay exactly zero), sampled from ``start`` by ``step``."""
    ones = np.ones(n)
    y = ndimage.correlate1d(x, ones, axis=0, mode="mirror")[start::step]
    return ndimage.correlate1d(y, ones, axis=1, mode="mirror")[:, start::step]


def build_spyr(im: np.ndarray, height: int = 4) -> list[np.ndarray]:
    """``buildSpyr(im, height, 'sp5Filters', 'reflect1')`` as a list in ``pind`` order:

    [high-pass residual, level-1 bands 1..6, ..., level-``height`` bands 1..6, low-pass residual].
    Band-pass filters are applied at full resolution of each level; the low-pass image is
    filtered with ``lofilt`` and subsampled by 2 starting at the first pixel.
    """
    out = [_corr_reflect1(im, HI0FILT)]
    lo = _corr_reflect1(im, LO0FILT)
    for _ in range(height):
        for bf in BFILTS:
            out.append(_corr_reflect1(lo, bf))
        lo = _corr_reflect1(lo, LOFILT)[::2, ::2]
    out.append(lo)
    return out


def _wtree(bands: list[np.ndarray]) -> dict[int, np.ndarray]:
    """``ind2wtree``: the cell array in *reverse* ``pind`` order (1 = low-pass residual)."""
    n = len(bands)
    return {n - i: bands[i] for i in range(n)}


_SUBBANDS = (4, 7, 10, 13, 16, 19, 22, 25)
#: smallest side for which every used subband keeps at least one 3×3 block after the border crop
MIN_SIDE = 65
_M = 3
_SIGMA_NSQ = 0.4
_TOL = 1e-15


def _distortion_channel(y: np.ndarray, yn: np.ndarray, sub: int):
    """``vifsub_est_m``: gain g and noise variance vv per 3×3 block centre."""
    lev = int(np.ceil((sub - 1) / 6))
    winsize = 2**lev + 1
    h, w = (np.array(y.shape) // _M) * _M
    y, yn = y[:h, :w], yn[:h, :w]
    nw = float(winsize * winsize)

    def cd(x):  # start floor(M/2)+1 (1-based), step M
        return _box_reflect1_sub(x, winsize, 1, _M)

    mean_x = cd(y) / nw
    mean_y = cd(yn) / nw
    cov_xy = cd(y * yn) - nw * mean_x * mean_y
    ss_x = cd(y * y) - nw * mean_x**2
    ss_y = cd(yn * yn) - nw * mean_y**2
    ss_x[ss_x < 0] = 0
    ss_y[ss_y < 0] = 0
    g = cov_xy / (ss_x + _TOL)
    vv = (ss_y - g * cov_xy) / nw
    low_x = ss_x < _TOL
    g[low_x] = 0
    vv[low_x] = ss_y[low_x]
    ss_x[low_x] = 0
    low_y = ss_y < _TOL
    g[low_y] = 0
    vv[low_y] = 0
    neg = g < 0
    vv[neg] = ss_y[neg]
    g[neg] = 0
    vv[vv <= _TOL] = _TOL
    return g, vv


def _reference_params(y: np.ndarray):
    """``refparams_vecgsm``: S field on non-overlapping 3×3 blocks and the eigenvalues of C_U."""
    h, w = (np.array(y.shape) // _M) * _M
    y = y[:h, :w]
    patches = np.lib.stride_tricks.sliding_window_view(y, (_M, _M)).reshape(-1, _M * _M)
    mcu = patches.mean(axis=0)
    d = patches - mcu
    cu = (d.T @ d) / patches.shape[0]
    blocks = y.reshape(h // _M, _M, w // _M, _M).swapaxes(1, 2).reshape(-1, _M * _M)
    ss = np.sum((blocks @ np.linalg.inv(cu).T) * blocks, axis=1) / (_M * _M)
    lam = np.linalg.eigvalsh(cu)
    return ss.reshape(h // _M, w // _M), lam


def vifvec(ref: np.ndarray, dist: np.ndarray) -> float:
    """Sheikh & Bovik's ``vifvec(imorg, imdist)`` on arrays in whatever range they are given.

    ``ref`` is the reference image, ``dist`` the distorted (fused) one: 2-D gray arrays of one
    shape, at least 65 pixels per side, finite; they are not scaled (``vifvec`` documents 0–255
    images; :func:`vif_af` passes 0–1 ones, as nestfuse does) nor converted from colour (use
    :func:`~mutualfuse.metrics.to_gray`). Anything else is a one-line
    :class:`~mutualfuse.errors.InputError` naming ``ref`` or ``dist``. Not symmetric.
    """
    ref, dist = _vifvec_input(ref, "ref"), _vifvec_input(dist, "dist")
    if ref.shape != dist.shape:
        raise InputError(f"vifvec: ref and dist differ in size: ref {ref.shape[1]}×{ref.shape[0]}, "
                         f"dist {dist.shape[1]}×{dist.shape[0]}")
    _check_side(ref)
    return _vif_trees(_tree(ref), _tree(dist))


def _vifvec_input(x, name: str) -> np.ndarray:
    """``x`` as a 2-D float64 array for :func:`vifvec`, or a one-line :class:`InputError`."""
    arr = as_array(x, f"vifvec: {name}")
    if arr.ndim != 2:
        raise InputError(f"vifvec: {name}: expected a 2-D gray array, got shape {arr.shape}"
                         + (" (colour? convert it with mutualfuse.metrics.to_gray)" if arr.ndim == 3 else ""))
    if arr.dtype.kind not in "biuf":
        raise InputError(f"vifvec: {name}: unsupported image dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise InputError(f"vifvec: {name}: image contains NaN or infinite values")
    return arr


def _check_side(x: np.ndarray) -> None:
    """:class:`ImageTooSmallError` below :data:`MIN_SIDE`, before the pyramid filters (whose own
    error on small images is NumPy's obscure 'window shape cannot be larger than input array')."""
    if min(np.shape(x)) < MIN_SIDE:
        h, w = np.shape(x)[:2]
        raise ImageTooSmallError(f"VIF needs images of at least {MIN_SIDE} pixels per side, got {w}×{h}", MIN_SIDE)


def _tree(x: np.ndarray, height: int = 4) -> dict[int, np.ndarray]:
    """The ``ind2wtree`` subbands that ``vifvec`` uses, without computing the others.

    Same filtering as :func:`build_spyr`; level L, orientation o (1-based) is wtree entry
    ``6·height + 2 − (6(L−1) + o)``.
    """
    n = 6 * height + 2
    lo = _corr_reflect1(np.asarray(x, dtype=np.float64), LO0FILT)
    out = {}
    for lev in range(1, height + 1):
        for o in range(1, 7):
            idx = n - (6 * (lev - 1) + o)
            if idx in _SUBBANDS:
                out[idx] = _corr_reflect1(lo, BFILTS[o - 1])
        if lev < height:
            lo = _corr_reflect1(lo, LOFILT)[::2, ::2]
    return out


def _vif_trees(org: dict[int, np.ndarray], dst: dict[int, np.ndarray]) -> float:
    """Σ num / Σ den over the subbands. A reference without texture (a constant image) has no
    information to preserve: den = 0 (or C_U singular, where MATLAB's ``inv`` returns Inf), and
    the value is NaN, as in MATLAB, not a ZeroDivisionError / LinAlgError."""
    num = den = 0.0
    for sub in _SUBBANDS:
        g, vv = _distortion_channel(org[sub], dst[sub], sub)
        try:
            ss, lam = _reference_params(org[sub])
        except np.linalg.LinAlgError:  # singular C_U (an all-zero subband)
            return float("nan")
        lev = int(np.ceil((sub - 1) / 6))
        off = int(np.ceil(((2**lev + 1 - 1) / 2) / _M))
        g = g[off:-off, off:-off]
        vv = vv[off:-off, off:-off]
        ss = ss[off:-off, off:-off]
        if ss.size == 0:
            raise ImageTooSmallError(f"VIF needs images of at least {MIN_SIDE} pixels per side", MIN_SIDE)
        t = (g * g * ss)[..., None] * lam / (vv + _SIGMA_NSQ)[..., None]
        num += float(np.sum(np.log2(1 + t)))
        den += float(np.sum(np.log2(1 + ss[..., None] * lam / _SIGMA_NSQ)))
    if den == 0.0:
        return float("nan") if num == 0.0 else float("inf")  # MATLAB's 0/0, x/0
    return num / den


def vif(a, b, f, convention: str = "nestfuse") -> float:
    """VIF = (vifvec(A, F) + vifvec(B, F)) / 2, nestfuse ``analysis_metrics_7.m`` + ``vif/vifvec.m``.

    Reference: H. R. Sheikh & A. C. Bovik, "Image information and visual quality", IEEE TIP
    15(2):430–444 (2006); LIVE ``vifvec`` release (vector GSM in the steerable-pyramid domain).

    Conventions (nestfuse): **the inputs are ``im2double`` (0–1) images**, although ``vifvec``
    documents 0–255; with the fixed σ_n² = 0.4 this changes the values a lot, and it is what
    the paper's VIF column used. Pyramid ``buildSpyr(x, 4, 'sp5Filters', 'reflect1')``;
    ``ind2wtree`` lists the subbands in reverse order, and subbands [4 7 10 13 16 19 22 25]
    are used (orientations 1 and 4 of every level). Vector GSM with 3×3 blocks (subbands
    cropped to multiples of 3); distortion channel (gain g, noise σ_v²) estimated from
    (2^lev+1)-square windows sampled at block centres with 'reflect1' edges; covariance C_U
    over all overlapping 3×3 blocks (population, /n), S field s = xᵀC_U⁻¹x/9 on
    non-overlapping blocks; borders of ceil(2^(lev−1)/3) blocks discarded;
    VIF = Σ log2(1 + g²sλ/(σ_v²+σ_n²)) / Σ log2(1 + sλ/σ_n²) over blocks, eigenvalues λ and
    subbands. A (resp. B) is the reference, F the distorted image: not symmetric. A constant
    source has no information to preserve: its term is 0/0 = NaN (as in MATLAB), and so is VIF.
    ``convention="0-255"`` is an extra that calls ``vifvec`` on 0–255 data as its own
    documentation intends (not checked; the values differ: on the bundled TNO pair 0.28 instead
    of the nestfuse convention's 0.30 for a mean-rule fusion, 0.36 instead of 0.52 for a max-rule one).

    Cost: about 0.3–0.6 s per source at 640×480 (two pyramids, eight 9×9 covariance fits).
    Higher is better.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import vif
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(vif(a, a, a), 3), round(vif(a, b, (a + b) / 2), 3), round(vif(a, b, a), 3)
    (1.0, 0.302, 0.556)
    """
    A, B, F = prep3(a, b, f)
    if convention == "nestfuse":
        s = 1.0 / 255.0
    elif convention == "0-255":
        s = 1.0
    else:
        raise unknown_convention("VIF", convention, ('nestfuse', '0-255'))
    _check_side(F)
    tf = _tree(F * s)  # the fused image's pyramid is shared by both terms
    return (_vif_trees(_tree(A * s), tf) + _vif_trees(_tree(B * s), tf)) / 2.0


def vif_af(a, b, f) -> float:
    """vifvec(A, F): the A term that nestfuse averages into VIF@nestfuse.

    Formula: Σ log2(1 + g²sλ/(σ_v² + σ_n²)) / Σ log2(1 + sλ/σ_n²) over the blocks, eigenvalues
    and subbands of the steerable pyramids, with A the reference and F the distorted image.
    Reference: Sheikh & Bovik, IEEE TIP 15(2):430–444 (2006); code nestfuse ``vif/vifvec.m``.
    Same conventions as :func:`vif` (0–1 images, σ_n² = 0.4, needs ≥ 65 pixels per side).
    Higher is better.

    Example (a 128×96 crop of the bundled TNO pair, scaled to 0–255, fused by the mean rule):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import vif, vif_af, vif_bf
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0][:96, :128] for n in "ab")
    >>> f = (a + b) / 2
    >>> round(vif_af(a, b, f), 2), round(vif_bf(a, b, f), 2), round(vif(a, b, f), 2)  # vif = their mean
    (0.38, 0.32, 0.35)
    """
    A, _, F = prep3(a, b, f)
    return vifvec(A / 255.0, F / 255.0)


def vif_bf(a, b, f) -> float:
    """vifvec(B, F): the B term that nestfuse averages into VIF@nestfuse.

    Formula: Σ log2(1 + g²sλ/(σ_v² + σ_n²)) / Σ log2(1 + sλ/σ_n²) over the blocks, eigenvalues
    and subbands of the steerable pyramids, with B the reference and F the distorted image.
    Reference: Sheikh & Bovik, IEEE TIP 15(2):430–444 (2006); code nestfuse ``vif/vifvec.m``.
    Same conventions as :func:`vif` (0–1 images, σ_n² = 0.4, needs ≥ 65 pixels per side).
    Higher is better.

    Example (a 128×96 crop of the bundled TNO pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import vif_bf
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0][:96, :128] for n in "ab")
    >>> round(vif_bf(a, b, b), 3), round(vif_bf(a, b, (a + b) / 2), 3)  # F = B gives 1
    (1.0, 0.325)
    """
    _, B, F = prep3(a, b, f)
    return vifvec(B / 255.0, F / 255.0)
