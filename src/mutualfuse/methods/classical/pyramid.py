"""Pyramid fusion: Laplacian pyramid (``lp``) and ratio of low-pass pyramid (``rp``).

Both are ports of O. Rockinger's Matlab fusion toolbox (``fuse_lap.m`` / ``fuse_rat.m``,
1999), as shipped with Yu Liu's MST/SR toolbox as ``lp_fuse.m`` / ``rp_fuse.m`` and called by
its ``MST_main.m`` as ``lp_fuse(A, B, 4, 3, 3)`` / ``rp_fuse(A, B, 4, 3, 3)``: 4 levels,
high-pass rule 3 (choose-max with consistency check), base rule 3 (average). Copies read:
xingchenzhang/VIFB ``methods/LP_SR/rp_fuse.m``, ``selc.m``, ``es2.m``, ``dec2.m``,
``undec2.m``; feifei0821/SM-VIF ``lp_fuse.m``.

No library implements Rockinger's exact REDUCE/EXPAND (5-tap binomial kernel, ``es2``
symmetric extension, odd sizes padded by ``adb``), and scikit-image's ``pyramid_*`` use a
Gaussian of a different width and resize to odd sizes differently, so the few lines of
filtering are written here with :func:`scipy.ndimage.correlate1d`.

``es2.m`` fills only the four side strips of the extended matrix: its ``n x n`` corners stay
0 (``Y = zeros(...)`` is never written there). The separable filters and the ``selc`` rule 3
activity see those zeros, which changes the pixels within a few samples of each image corner
(at every pyramid level and in every DWT/DT-CWT sub-band). :func:`._common.es2` and
:func:`._common.select_consistency` reproduce that; ``mode="mirror"`` (corners mirrored too)
was our earlier reading and differed from the authors' output by up to 11 grey levels near the
corners of a 128x128 crop (see docs/baselines.md, "Agreement with the authors' code").
"""
from __future__ import annotations

import numpy as np
from ._lazy import ndimage  # scipy.ndimage, imported on first use

from .. import register_method
from ..params import Choice, Int
from ._common import HIGHPASS_RULES, es2, max_levels, select_highpass

#: the parameters of lp and rp
_PARAMS = {"levels": Int(1, 10), "highpass": Choice(HIGHPASS_RULES)}

_W = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
_RP_EPS = 1e-6  # "define eps" in rp_fuse.m (image in 0..255)


def _filt(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``conv2(conv2(es2(x, 2), w, 'valid'), w', 'valid')`` for the symmetric 5-tap ``w``."""
    n = len(w) // 2
    y = ndimage.correlate1d(es2(x, n), w, axis=1, mode="constant")[:, n:-n]
    return ndimage.correlate1d(y, w, axis=0, mode="constant")[n:-n, :]


def _adb(x: np.ndarray) -> np.ndarray:
    """``adb.m``: make both sides even by adding one mirrored row/column at the end."""
    pr, pc = x.shape[0] % 2, x.shape[1] % 2
    return np.pad(x, ((0, pr), (0, pc)), mode="reflect") if pr or pc else x


def _expand(x: np.ndarray) -> np.ndarray:
    """``conv2(conv2(es2(undec2(x), 2), 2*w, 'valid'), 2*w', 'valid')``."""
    up = np.zeros((2 * x.shape[0], 2 * x.shape[1]))
    up[::2, ::2] = x
    return _filt(up, 2 * _W)


def _pyramid_fuse(a, b, levels, rule, ratio):
    m1, m2 = a, b
    sizes, details = [], []
    for _ in range(levels):
        sizes.append(m1.shape)
        m1, m2 = _adb(m1), _adb(m2)
        g1, g2 = _filt(m1, _W), _filt(m2, _W)
        t1, t2 = _expand(g1[::2, ::2]), _expand(g2[::2, ::2])
        if ratio:
            e1, e2 = m1 / (t1 + _RP_EPS), m2 / (t2 + _RP_EPS)
        else:
            e1, e2 = m1 - t1, m2 - t2
        details.append(select_highpass(rule, e1, e2))
        m1, m2 = g1[::2, ::2], g2[::2, ::2]
    f = 0.5 * (m1 + m2)  # selb(..., 3)
    for (h, w), e in zip(reversed(sizes), reversed(details)):
        t = _expand(f)
        f = (t + _RP_EPS) * e if ratio else t + e
        f = f[:h, :w]
    return f


@register_method(
    "lp",
    family="multiscale",
    cite="P. J. Burt, E. H. Adelson, The Laplacian pyramid as a compact image code, IEEE Trans. "
    "Communications 31(4):532-540, 1983 (fusion rules: Burt & Kolczynski 1993; Li, Manjunath & "
    "Mitra 1995)",
    matlab="Rockinger's fuse_lap.m as lp_fuse.m in Yu Liu's MST_SR toolbox (MST_main.m: "
    "lp_fuse(A,B,4,3,3))",
    params=_PARAMS,
)
def lp(a: np.ndarray, b: np.ndarray, *, levels: int = 4, highpass: str = "consistency") -> np.ndarray:
    """Laplacian-pyramid fusion.

    Decomposition: REDUCE = 5-tap binomial ``[1 4 6 4 1]/16`` (separable) then decimation,
    EXPAND = zero insertion then ``2*w``; symmetric (``es2``) borders with ``es2``'s zero
    corners; odd sizes extended by one mirrored row/column per level (``adb``). Fusion:
    base = average of the two top levels
    (``selb`` rule 3); band-pass levels by ``highpass``: ``"consistency"`` (default,
    ``selc`` rule 3: the larger 3x3 max-abs activity wins, majority-filtered over 3x3) or
    ``"maxabs"`` (``selc`` rule 1). Defaults ``levels=4``, ``highpass="consistency"`` are those
    of Liu's ``MST_main.m``. Computed on ``255 * input`` (the authors' 0..255 data; the result is
    divided by 255), so that exact ties of the activity break as in their code. Exact port; no
    departures. Self-fusion reconstructs the input up to floating-point rounding.
    """
    max_levels("lp", a.shape, levels)
    # on 0..255 data as the authors' code: with [1 4 6 4 1]/16 the coefficients of integer images are
    # exact dyadic numbers, so exact ties of selc's activity break as in Matlab (not by rounding noise)
    return _pyramid_fuse(255.0 * a, 255.0 * b, levels, highpass, ratio=False) / 255.0


@register_method(
    "rp",
    family="multiscale",
    cite="A. Toet, Image fusion by a ratio of low-pass pyramid, Pattern Recognition Letters "
    "9(4):245-253, 1989",
    matlab="Rockinger's fuse_rat.m as rp_fuse.m in Yu Liu's MST_SR toolbox (MST_main.m: "
    "rp_fuse(A,B,4,3,3)); copy read: xingchenzhang/VIFB methods/LP_SR/rp_fuse.m",
    params=_PARAMS,
)
def rp(a: np.ndarray, b: np.ndarray, *, levels: int = 4, highpass: str = "consistency") -> np.ndarray:
    """Ratio-of-low-pass-pyramid fusion (Toet 1989).

    Same pyramid as :func:`lp`, but each level stores the ratio ``M / (EXPAND(REDUCE(M)) + eps)``
    and synthesis multiplies: ``F_l = (EXPAND(F_{l+1}) + eps) * R_l``. The ratios are selected
    with ``highpass`` (default ``"consistency"``, ``selc`` rule 3, as ``rp_fuse(A,B,4,3,3)``);
    the top low-pass is averaged. ``eps = 1e-6`` of ``rp_fuse.m`` is relative to 0..255 data,
    so the computation runs on ``255 * input`` and the result is divided by 255 (the ratios
    themselves are scale free). Exact port of the code; no departures from it. Self-fusion
    reconstructs the input to about 1e-12.

    The rule is the code's, not a contrast rule: ``selc`` compares ``|R|``, which for non-negative
    images is ``R`` itself, so the locally brighter detail wins and a dark one (``R < 1``) loses to
    any ``R`` above it, however strong its contrast; Toet defines the luminance contrast as
    ``R - 1``. Measured on TNO pairs 01-06 (full images, 4 levels, session 21): choosing by ``|R|``
    and by ``|R - 1|`` differ at 52 % of the ratio coefficients. Kept, as it is what the
    comparison's code (Liu's ``MST_main.m``) runs.
    """
    max_levels("rp", a.shape, levels)
    return _pyramid_fuse(255.0 * a, 255.0 * b, levels, highpass, ratio=True) / 255.0
