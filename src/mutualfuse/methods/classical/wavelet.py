"""Wavelet fusion: discrete wavelet transform (``dwt``, PyWavelets) and dual-tree complex
wavelet transform (``dtcwt``, the ``dtcwt`` package).

Both follow Yu Liu's MST_SR toolbox (Liu, Liu & Wang, Information Fusion 24:147-164, 2015),
whose ``MST_main.m`` calls ``dwt_fuse(A, B, 4)`` and ``dtcwt_fuse(A, B, 4)``: 4 levels, low-pass
averaged. Copies read: xingchenzhang/VIFB ``methods/RP_SR/dwt_sr_fuse.m`` and
``methods/LP_SR/dtcwt_sr_fuse.m`` (the SR variants share the transform calls and the
high-pass rule with the plain ones; their low-pass goes through SR instead of the average),
feifei0821/SM-VIF ``dwt_fuse.m``, ``dtcwt_fuse.m``.

Both compute on ``255 * input`` (the authors' ``double(uint8)`` data) and divide by 255 at the
end. The transforms are linear, so this changes nothing but the last-bit rounding; it matters
because ``selc``'s activity comparison ``A1 > A2`` meets exact ties (integer images give
half-integer Haar coefficients), which the rounding decides. With the 0..255 scale, and the DWT
computed on the transposed arrays (Matlab's ``dwt2`` filters the rows before the columns,
PyWavelets the columns first), both outputs equal the authors' code under Octave pixel for
pixel (docs/baselines.md, "Agreement with the authors' code").
"""
from __future__ import annotations

import dtcwt as _dtcwt
import numpy as np
import pywt

from .. import register_method
from ..params import Choice, Int
from ._common import HIGHPASS_RULES, max_levels, select_highpass


def _wavedec2(x: np.ndarray, wavelet: str, levels: int) -> list:
    """``pywt.wavedec2(x, wavelet, mode="periodization", level=levels)`` without its level check:
    the same ``pywt.dwt2`` calls, so the same coefficients to the bit. For a long filter (``db38``
    at 4 levels on 360x270) ``wavedec2`` warns "Level value of 4 is too high: all coefficients
    will experience boundary effects" on every call: harmless in periodization mode (the transform
    stays exact, as Matlab's ``wavedec2``, which is silent), but printed by ``mutualfuse fuse`` as
    two lines naming a file inside pywt. Session 15 silenced it with ``warnings.catch_warnings``,
    which swaps the process-wide filter list (not thread-safe: concurrent calls could leave the
    filter installed); calling ``dwt2`` level by level needs no silencing."""
    coeffs = []
    lo = np.asarray(x)
    for _ in range(levels):
        lo, details = pywt.dwt2(lo, wavelet, mode="periodization")
        coeffs.append(details)
    coeffs.append(lo)
    coeffs.reverse()
    return coeffs


@register_method(
    "dwt",
    family="multiscale",
    cite="H. Li, B. S. Manjunath, S. K. Mitra, Multisensor image fusion using the wavelet "
    "transform, Graphical Models and Image Processing 57(3):235-245, 1995",
    matlab="Yu Liu's MST_SR toolbox dwt_fuse.m (dwt2(...,'db1','mode','per'), 4 levels, "
    "selc(.,.,3)); transform calls as in VIFB methods/RP_SR/dwt_sr_fuse.m",
    params={"levels": Int(1, 10),
            "wavelet": Choice(tuple(pywt.wavelist(kind="discrete")),
                              listing="a discrete wavelet of PyWavelets, e.g. haar, db2, sym4, coif1, bior2.2 "
                                      "(all: pywt.wavelist(kind='discrete'))"),
            "highpass": Choice(HIGHPASS_RULES)},
)
def dwt(a: np.ndarray, b: np.ndarray, *, levels: int = 4, wavelet: str = "db1",
        highpass: str = "maxabs") -> np.ndarray:
    """DWT fusion: average the approximation band, pick detail coefficients by ``highpass``.

    Transform: PyWavelets ``wavedec2``/``waverec2`` with ``mode="periodization"`` (Matlab's
    ``'mode','per'``), wavelet ``db1`` (Haar), ``levels=4``, as Liu's toolbox, computed on
    ``255 * input`` and on the transposed arrays (rows filtered first, as Matlab's ``dwt2``) so
    that exact ties of the activity break as in the authors' code (see the module docstring).
    Rule: ``highpass="maxabs"`` (default: the common rule the method was specified with,
    larger magnitude wins) or ``highpass="consistency"``, the rule of Liu's ``dwt_fuse.m``
    (``selc(.,.,3)``: 3x3 max-abs activity with majority-vote consistency check, the rule of
    Li, Manjunath & Mitra 1995). With ``highpass="consistency"`` the output equals Liu's
    ``dwt_fuse.m`` pixel for pixel on the recorded crop (docs/baselines.md). Departure: the
    default rule is max-abs, not Liu's consistency check; it differs from his output by up to
    32 grey levels on that crop. Odd sizes: the periodized transform repeats
    the last row/column (as Matlab's ``per`` mode) and the result is cropped. Self-fusion is
    exact to rounding.
    """
    max_levels("dwt", a.shape, levels)
    # transposed: PyWavelets filters axis -2 first, Matlab's dwt2 the rows (axis -1) first; the
    # sub-band labels swap (H <-> V), which a per-band rule does not see
    ca = _wavedec2(255.0 * a.T, wavelet, levels)
    cb = _wavedec2(255.0 * b.T, wavelet, levels)
    fused = [0.5 * (ca[0] + cb[0])]
    for da, db in zip(ca[1:], cb[1:]):
        fused.append(tuple(select_highpass(highpass, x, y) for x, y in zip(da, db)))
    out = pywt.waverec2(fused, wavelet, mode="periodization").T / 255.0
    return out[: a.shape[0], : a.shape[1]]


_BIORTS = ("antonini", "legall", "near_sym_a", "near_sym_b")
_QSHIFTS = ("qshift_06", "qshift_a", "qshift_b", "qshift_c", "qshift_d")


@register_method(
    "dtcwt",
    family="multiscale",
    cite="J. J. Lewis, R. J. O'Callaghan, S. G. Nikolov, D. R. Bull, N. Canagarajah, Pixel- and "
    "region-based image fusion with complex wavelets, Information Fusion 8(2):119-130, 2007",
    matlab="Yu Liu's MST_SR toolbox dtcwt_fuse.m (dtwavexfm2(...,4,'legall','qshift_06')); "
    "copy read: VIFB methods/LP_SR/dtcwt_sr_fuse.m",
    params={"levels": Int(1, 10), "biort": Choice(_BIORTS), "qshift": Choice(_QSHIFTS),
            "highpass": Choice(HIGHPASS_RULES)},
)
def dtcwt(a: np.ndarray, b: np.ndarray, *, levels: int = 4, biort: str = "legall",
          qshift: str = "qshift_06", highpass: str = "consistency") -> np.ndarray:
    """DT-CWT fusion with Kingsbury's filters from the ``dtcwt`` package.

    Transform: ``dtcwt.Transform2d(biort="legall", qshift="qshift_06")``, ``levels=4`` (Liu's
    settings). Low-pass averaged; each of the 6 oriented complex sub-bands per level chosen by
    ``highpass`` on the coefficient modulus: ``"consistency"`` (default, the rule in Liu's
    code: 3x3 max-modulus activity + 3x3 majority vote) or ``"maxabs"``. Odd sizes: we
    duplicate the last row/column before the transform (what both the Matlab and the Python
    DT-CWT do internally) and crop. No departures from Liu's code otherwise (the transform is
    Kingsbury's, ported to Python by the ``dtcwt`` package with the same filter banks; computed
    on ``255 * input`` as the authors' code, see the module docstring). Self-fusion is exact to
    rounding.
    """
    max_levels("dtcwt", a.shape, levels)
    h, w = a.shape
    pad = ((0, h % 2), (0, w % 2))
    t = _dtcwt.Transform2d(biort=biort, qshift=qshift)
    # the dtcwt package logs (root logger) only when it extends an odd-sized input, which the pad
    # above makes even: nothing to hide. (Until session 16 the root logger's level was set to ERROR
    # around the call: process-wide, so other threads' warnings were dropped meanwhile, and two
    # concurrent calls could leave it at ERROR.)
    pa = t.forward(255.0 * np.pad(a, pad, mode="edge"), nlevels=levels)
    pb = t.forward(255.0 * np.pad(b, pad, mode="edge"), nlevels=levels)
    low = 0.5 * (pa.lowpass + pb.lowpass)
    highs = tuple(
        np.stack([select_highpass(highpass, ha[..., k], hb[..., k]) for k in range(ha.shape[-1])], axis=-1)
        for ha, hb in zip(pa.highpasses, pb.highpasses)
    )
    out = t.inverse(_dtcwt.Pyramid(low, highs))
    return np.real(out)[:h, :w] / 255.0
