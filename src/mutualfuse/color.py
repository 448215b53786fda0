"""Colour handling: fuse luminance, keep chroma (BT.601 YCbCr, as the fusion literature does).

Full-range BT.601 (JPEG) YCbCr on [0, 1] data::

    Y  =  0.299 R + 0.587 G + 0.114 B
    Cb = -0.168736 R - 0.331264 G + 0.5 B + 0.5
    Cr =  0.5 R - 0.418688 G - 0.081312 B + 0.5

* gray + gray: fuse directly;
* colour + gray (visible RGB + IR, PET/SPECT colour map + MR): fuse Y of the colour image with
  the gray image, keep the colour image's Cb/Cr;
* colour + colour (multi-focus): fuse Y; Cb/Cr per pixel weighted by their distance from
  neutral, ``C = (C_a |C_a − ½| + C_b |C_b − ½|) / (|C_a − ½| + |C_b − ½|)`` (½ where both are
  neutral), the rule that favours the more saturated source (the |C − 128| weighting of the
  usual Matlab fusion scripts, on [0, 1] data). ``chroma="a"`` / ``"b"`` keep one source's
  chroma instead, ``"mean"`` averages them;
* ``chroma="gray"``: no chroma at all, the output is the fused luminance (gray) whatever the
  inputs (for pipelines and metrics that want one channel; the Y above, not Matlab's
  ``rgb2gray`` weights).

The chroma rule is the ``chroma`` option of :class:`mutualfuse.Fuser` and of
``mutualfuse fuse --chroma``; ``saturation``, ``a``, ``b`` and ``mean`` only matter when both
sources are colour, ``gray`` whenever one is.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

_M = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_MINV = np.linalg.inv(_M)


#: pixels a block of rows of :func:`fuse_color` holds (at least one row): its temporaries stay
#: in the processor's caches instead of whole-image float64 arrays (the conversions of a
#: 2000x1500 colour pair took about 1 s of CPU against 0.03 s for averaging the two; now
#: ``benchmarks/bench_pipeline.py``). The results do not depend on it: each row is converted by
#: the same operations as in one piece (the matrix products are one per row either way).
BLOCK_PIXELS = 1 << 15


def _row_blocks(h: int, w: int):
    """Slices of rows of an h×w image, about :data:`BLOCK_PIXELS` pixels each."""
    step = max(1, BLOCK_PIXELS // max(1, w))
    return [slice(r, min(h, r + step)) for r in range(0, h, step)]


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    ycc = rgb @ _M.T
    ycc[..., 1:] += 0.5
    return ycc


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    x = ycc.copy()
    x[..., 1:] -= 0.5
    return np.clip(x @ _MINV.T, 0.0, 1.0)


def combine_chroma(ca: np.ndarray, cb: np.ndarray) -> np.ndarray:
    wa = np.abs(ca - 0.5)
    wb = np.abs(cb - 0.5)
    den = wa + wb
    out = np.full_like(ca, 0.5)
    # the same operations on the same pixels as ``out[m] = (ca[m] * wa[m] + cb[m] * wb[m]) / den[m]``
    # (so the same values), without the gathers and the scatter of boolean indexing
    num = ca * wa
    num += cb * wb
    np.divide(num, den, out=out, where=den > 1e-12)
    return out


def _split(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(B, H, W, 3) RGB → Y (B, H, W) float64 and Cb/Cr (B, H, W, 2) float32 (chroma needs no
    more, saves memory): :func:`rgb_to_ycbcr`'s values, converted a block of rows at a time
    instead of through a whole-image float64 YCbCr array."""
    B, h, w = x.shape[:3]
    y = np.empty((B, h, w), dtype=np.float64)
    c = np.empty((B, h, w, 2), dtype=np.float32)
    for i in range(B):
        for rows in _row_blocks(h, w):
            ycc = x[i, rows] @ _M.T  # one (W, 3) @ (3, 3) product a row, as rgb_to_ycbcr makes
            y[i, rows] = ycc[..., 0]
            t = np.empty(ycc.shape[:-1] + (2,), dtype=np.float64)
            t[...] = ycc[..., 1:]  # contiguous: + 0.5 on the strided view took twice as long
            t += 0.5
            c[i, rows] = t  # float64 → float32, as .astype
    return y, c


def _merge(y: np.ndarray, cbcr: Callable[[int, slice], np.ndarray]) -> np.ndarray:
    """Fused Y (B, H, W) and the Cb/Cr of each block of rows (``cbcr(i, rows)``: float32
    (rows, W, 2)) → RGB (B, H, W, 3) float64 in [0, 1]: :func:`ycbcr_to_rgb`'s values, a block
    of rows at a time."""
    B, h, w = y.shape
    out = np.empty((B, h, w, 3), dtype=np.float64)
    for i in range(B):
        for rows in _row_blocks(h, w):
            t = np.array(cbcr(i, rows), dtype=np.float64)  # float32 → float64 (exact), a copy
            t -= 0.5  # (on a contiguous copy: faster than on the strided view)
            x = np.empty((rows.stop - rows.start, w, 3), dtype=np.float64)
            x[..., 0] = y[i, rows]
            x[..., 1:] = t
            np.clip(x @ _MINV.T, 0.0, 1.0, out=out[i, rows])
    return out


CHROMA_RULES = ("saturation", "a", "b", "mean", "gray")


def output_is_colour(a_colour: bool, b_colour: bool, chroma: str) -> bool:
    """Whether :func:`fuse_color` returns colour for sources of these kinds: when one is colour,
    unless ``chroma`` is ``"gray"`` (so a writer can pick the output's bit depth before fusing)."""
    return (a_colour or b_colour) and chroma != "gray"


def fuse_color(a: np.ndarray, b: np.ndarray, fuse_gray: Callable[[np.ndarray, np.ndarray], np.ndarray],
               chroma: str = "saturation") -> np.ndarray:
    """a, b: (B, H, W) gray or (B, H, W, 3) RGB in [0, 1]; ``fuse_gray`` fuses (B, H, W) batches.

    Returns (B, H, W) when both are gray or ``chroma`` is ``"gray"``, else (B, H, W, 3) RGB.
    """
    if chroma not in CHROMA_RULES:
        from .errors import ParameterError

        raise ParameterError(f"chroma must be one of {CHROMA_RULES}, got {chroma!r}")
    ca, cb = a.ndim == 4, b.ndim == 4
    if not ca and not cb:
        return fuse_gray(a, b)

    # Y and Cb/Cr a block of rows at a time (_split, _merge): whole-image float64 YCbCr and RGB
    # temporaries made the colour handling about 30 times the cost of averaging the luminances
    ya, cha = _split(a) if ca else (a, None)
    yb, chb = _split(b) if cb else (b, None)
    y = fuse_gray(ya, yb)
    del ya, yb
    if not output_is_colour(ca, cb, chroma):
        return y
    if ca and cb:
        if chroma == "a":
            return _merge(y, lambda i, rows: cha[i, rows])
        if chroma == "b":
            return _merge(y, lambda i, rows: chb[i, rows])
        if chroma == "mean":
            return _merge(y, lambda i, rows: 0.5 * (cha[i, rows] + chb[i, rows]))

        def saturation(i, rows):
            p, q = cha[i, rows], chb[i, rows]
            return np.stack([combine_chroma(p[..., k], q[..., k]) for k in (0, 1)], -1)

        return _merge(y, saturation)
    one = cha if ca else chb
    return _merge(y, lambda i, rows: one[i, rows])
