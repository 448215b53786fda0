"""Helpers shared by the classical methods: the image-size check of the decompositions and the
coefficient-selection
rules of O. Rockinger's Matlab fusion toolbox (``selc.m`` / ``selb.m``), which Liu et al.'s
MST toolbox and VIFB reuse for LP, RP, DWT and DTCWT fusion.
"""
from __future__ import annotations

import numpy as np
from ._lazy import ndimage  # scipy.ndimage, imported on first use

from ...errors import ParameterError

HIGHPASS_RULES = ("consistency", "maxabs")


def max_levels(method: str, shape: tuple[int, int], levels: int, min_side: int = 2) -> None:
    """Reject a decomposition depth the image is too small for, naming the side it needs and the
    deepest ``levels`` that fits this image (the refusal named only the need: with the default
    ``levels=4`` a 31x31 image was refused without saying that ``levels=3`` works)."""
    side = min(shape)
    if side / 2 ** levels < min_side:
        fits = deepest_levels(side, min_side)
        hint = (f"; at most levels={fits} for this size" if fits >= 1
                else f"; the image is too small for any depth (levels=1 needs {2 * min_side} px per side)")
        raise ParameterError(
            f"method {method!r}: levels={levels} is too deep for a {shape[1]}x{shape[0]} image "
            f"(needs at least {min_side * 2 ** levels} px per side: the coarsest band would be smaller "
            f"than {min_side} px){hint}"
        )


def deepest_levels(side: int, min_side: int = 2) -> int:
    """The largest ``levels`` that :func:`max_levels` takes for an image whose shorter side is
    ``side`` (0 when none does)."""
    fits = 0
    while side / 2 ** (fits + 1) >= min_side:
        fits += 1
    return fits


def es2(x: np.ndarray, n: int) -> np.ndarray:
    """Rockinger's ``es2.m`` exactly: mirror ``n`` rows/columns on each side without repeating the
    edge sample; the four ``n x n`` corners of the result are 0, as in ``es2.m`` (its
    ``Y = zeros(...)`` is never written there). The separable filters and ``selc``'s activity
    see those zeros near every image corner; mirrored corners (our earlier reading) differed
    from the authors' output by up to 11 grey levels there (docs/baselines.md)."""
    y = np.pad(x, n, mode="reflect")
    if n:
        y[:n, :n] = y[:n, -n:] = y[-n:, :n] = y[-n:, -n:] = 0
    return y


def magnitude(c: np.ndarray) -> np.ndarray:
    """``|c|`` rounded the same on every CPU: for complex ``c``, ``sqrt(re² + im²)`` (each step
    correctly rounded; NumPy's ``np.abs`` of complex128 takes a SIMD path on CPUs with AVX2 and
    ``hypot`` elsewhere, 1 ulp apart for ~4 % of values, which flipped near-ties of the
    selection rules: DT-CWT fusion moved by up to 1.1 grey levels between such CPUs). Real
    ``c``: ``np.abs`` (exact)."""
    if np.iscomplexobj(c):
        return np.sqrt(c.real * c.real + c.imag * c.imag)
    return np.abs(c)


def select_consistency(c1: np.ndarray, c2: np.ndarray, um: int = 3) -> np.ndarray:
    """``selc(M1, M2, 3)``: choose-max with consistency check (Li, Manjunath & Mitra 1995).

    Activity is the maximum of ``|c|`` in an ``um x um`` window (``ordfilt2``, zero padding, on
    the :func:`es2`-extended array with its zero corners); the decision ``A1 > A2`` is then majority-voted over the same
    window (``conv2(..., 'valid') > floor(um^2/2)``). Works on real or complex coefficients
    (:func:`magnitude`).
    """
    h = um // 2
    a1 = ndimage.maximum_filter(magnitude(es2(c1, h)), size=um, mode="constant", cval=0.0)
    a2 = ndimage.maximum_filter(magnitude(es2(c2, h)), size=um, mode="constant", cval=0.0)
    votes = ndimage.uniform_filter((a1 > a2).astype(np.float64), size=um, mode="constant") * um * um
    votes = votes[h:-h or None, h:-h or None] if h else votes
    mm = np.rint(votes) > (um * um) // 2
    return np.where(mm, c1, c2)


def select_maxabs(c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """``selc(M1, M2, 1)``: choose the coefficient of larger magnitude (ties go to ``c2``)."""
    return np.where(magnitude(c1) > magnitude(c2), c1, c2)


def select_highpass(rule: str, c1: np.ndarray, c2: np.ndarray) -> np.ndarray:
    """``selc`` rule 3 (``"consistency"``) or rule 1 (``"maxabs"``)."""
    if rule == "consistency":
        return select_consistency(c1, c2)
    return select_maxabs(c1, c2)


def box_mean(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over the ``(2r+1)^2`` window clipped at the border (He et al.'s ``boxfilter``/N)."""
    size = 2 * r + 1
    num = ndimage.uniform_filter(x, size=size, mode="constant", cval=0.0)
    den = ndimage.uniform_filter(np.ones_like(x), size=size, mode="constant", cval=0.0)
    return num / den


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """He, Sun & Tang (TPAMI 2013) gray guided filter, a line-by-line port of ``guidedfilter.m``."""
    mean_i = box_mean(guide, r)
    mean_p = box_mean(src, r)
    cov_ip = box_mean(guide * src, r) - mean_i * mean_p
    var_i = box_mean(guide * guide, r) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box_mean(a, r) * guide + box_mean(b, r)
