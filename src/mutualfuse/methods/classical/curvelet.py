"""Curvelet-transform fusion (``cvt``).

The comparison's CVT is Yu Liu's MST_SR toolbox ``curvelet_fuse(A, B, level+1)`` (``MST_main.m``,
``level = 4``, so 5 scales) on CurveLab's wrapping-based fast discrete curvelet transform
(``fdct_wrapping``; Candes, Demanet, Donoho & Ying 2006), with the rule "average the coarsest
coefficients, larger magnitude elsewhere". CurveLab itself (Matlab and C++) is not on PyPI. Its
pure-Matlab ``fdct_wrapping`` ships with VIFB (``methods/LP_SR/fdct_wrapping_matlab/``), and
Python implementations of the wrapping FDCT exist (e.g. the PyPI package ``curvepy-fdct``, not
evaluated here); porting CurveLab's would remove the transform departure below (not done). We
use the ``curvelets`` package (PyPI ``curvelets``, MIT), the uniform discrete curvelet transform
of Nguyen & Chauris (IEEE TIP 19(10):2010), a numpy FFT implementation with the same structure
(coarse low-pass, scale- and angle-localised complex wedges, tight frame, exact inverse).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import numpy as np

from ...errors import ParameterError
from .. import register_method
from ..params import Int
from ._common import magnitude

try:  # optional at import time so the rest of the registry loads; cvt raises a clear error
    from curvelets.numpy import UDCT
except ImportError:  # pragma: no cover - exercised only without the dependency
    UDCT = None


def _build(shape: tuple[int, int], scales: int, wedges: int):
    cfg = [[wedges, wedges]] + [[2 * wedges, 2 * wedges]] * (scales - 2)
    return UDCT(shape=shape, angular_wedges_config=np.array(cfg), high_frequency_mode="wavelet")


#: the transforms of the last shapes used (building one is most of a first call: 1.5 of 1.9 s at
#: 1024x1024), least recently used first. A transform holds 31-36 bytes per pixel of its shape
#: (measured, any scales/wedges), so the cache is bounded in pixels as well as in entries: at most
#: 8 transforms and 8 Mpx in all (about 300 MB), the newest always kept. Before session 21 it was
#: ``functools.lru_cache(maxsize=8)``: eight 4096x4096 shapes (a folder of large images of several
#: sizes) kept about 4 GB alive.
_CACHE: OrderedDict[tuple, Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_ENTRIES = 8
_CACHE_PIXELS = 8 * 1024 * 1024


def _transform(shape: tuple[int, int], scales: int, wedges: int):
    key = (tuple(shape), scales, wedges)
    with _CACHE_LOCK:
        T = _CACHE.get(key)
        if T is not None:
            _CACHE.move_to_end(key)
            return T
    T = _build(key[0], scales, wedges)  # outside the lock: seconds for a large image
    with _CACHE_LOCK:
        _CACHE[key] = T
        _CACHE.move_to_end(key)
        while len(_CACHE) > 1 and (len(_CACHE) > _CACHE_ENTRIES
                                   or sum(h * w for (h, w), _, _ in _CACHE) > _CACHE_PIXELS):
            _CACHE.popitem(last=False)
    return T


def block(scales: int, wedges: int) -> int:
    """The least common multiple of the UDCT's decimation ratios for this configuration,
    ``2**(scales-1) * wedges/3`` (the finest curvelet scale's): a side must be a multiple of it
    for the transform to be exact (on other sizes it reconstructs with errors of several grey
    levels) and at least it (below, the package fails on an empty decimated band)."""
    return 2 ** (scales - 1) * wedges // 3


def min_side(scales: int, wedges: int) -> int:
    """The smallest side ``cvt`` takes with these settings: the coarsest band at least 2 px and a
    side at least :func:`block`."""
    return max(2 * 2 ** (scales - 1), block(scales, wedges))


def _what_fits(side: int, scales: int, wedges: int) -> str:
    """The end of the too-small refusal: the settings nearest the given ones that fit ``side``
    (fewer scales with these wedges, else the fewest wedges); the refusal named only the need."""
    for s in range(scales - 1, 2, -1):
        if min_side(s, wedges) <= side:
            return f"; at most scales={s} with wedges={wedges} for this size"
    for s in range(scales, 2, -1):
        if min_side(s, 3) <= side:
            return f"; at most scales={s} with wedges=3 for this size"
    return ""


def _fuse(ca, cb):
    if isinstance(ca, list):
        return [_fuse(x, y) for x, y in zip(ca, cb)]
    return np.where(magnitude(ca) > magnitude(cb), ca, cb)  # the same rounding on every CPU


@register_method(
    "cvt",
    family="multiscale",
    cite="F. Nencini, A. Garzelli, S. Baronti, L. Alparone, Remote sensing image fusion using the "
    "curvelet transform, Information Fusion 8(2):143-156, 2007 (transform: Candes et al., Fast "
    "discrete curvelet transforms, Multiscale Model. Simul. 5(3):861-899, 2006)",
    matlab="Yu Liu's MST_SR toolbox curvelet_fuse.m on CurveLab fdct_wrapping (MST_main.m: "
    "curvelet_fuse(A,B,level+1), level=4)",
    params={"scales": Int(3, 7), "wedges": Int(3, 24, multiple_of=3)},
)
def cvt(a: np.ndarray, b: np.ndarray, *, scales: int = 5, wedges: int = 3) -> np.ndarray:
    """Curvelet fusion: coarsest band averaged, every other coefficient by larger modulus.

    Defaults: ``scales=5`` (coarse low-pass + 3 curvelet scales + a wavelet finest scale, the
    CurveLab default ``finest=2``), ``wedges=3`` per direction at the coarsest curvelet scale
    and twice that at finer ones (2 directions, so 6, 12, 12 orientations; CurveLab's default
    16 angles at the coarsest scale also give 8 distinct orientations for real images,
    doubling every other scale).

    Departures: the transform is the UDCT of the ``curvelets`` package, not CurveLab's
    wrapping FDCT (not available in Python); UDCT wedge counts must be multiples of 3, so the
    angular partition is 6/12/12 instead of 8/16/16; the image is padded symmetrically at the
    bottom/right to a multiple of the largest UDCT decimation ratio, :func:`block`
    (``2**(scales-1) * wedges/3``: the UDCT is exact only on such sizes, and fails on a side
    smaller than it), and the result cropped. Self-fusion is exact to rounding (1e-15 to 1e-10) for
    ``wedges`` 3 and 6; with 9 or more wedges the package's windows are not exactly a tight frame
    and self-fusion is off by up to about 5e-4 (0.12 grey levels, measured at 24 wedges).
    """
    if UDCT is None:
        raise ParameterError("method 'cvt' needs the 'curvelets' package (pip install curvelets)")
    h, w = a.shape
    m = block(scales, wedges)
    need = min_side(scales, wedges)
    if min(h, w) < need:
        raise ParameterError(
            f"method 'cvt': scales={scales}, wedges={wedges} is too many for a {w}x{h} image "
            f"(needs at least {need} px per side){_what_fits(min(h, w), scales, wedges)}"
        )
    H, W = -(-h // m) * m, -(-w // m) * m
    pad = ((0, H - h), (0, W - w))
    T = _transform((H, W), scales, wedges)
    ca = T.forward(np.pad(a, pad, mode="symmetric"))
    cb = T.forward(np.pad(b, pad, mode="symmetric"))
    fused = [[[0.5 * (ca[0][0][0] + cb[0][0][0])]]] + _fuse(ca[1:], cb[1:])
    return np.real(T.backward(fused))[:h, :w]
