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
    m = den > 1e-12
    out[m] = (ca[m] * wa[m] + cb[m] * wb[m]) / den[m]
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

    def split(x):  # → Y (float64, contiguous) and Cb/Cr (float32: chroma needs no more, saves memory)
        ycc = rgb_to_ycbcr(x)
        return np.ascontiguousarray(ycc[..., 0]), ycc[..., 1:].astype(np.float32)

    ya, cha = split(a) if ca else (a, None)
    yb, chb = split(b) if cb else (b, None)
    y = fuse_gray(ya, yb)
    del ya, yb
    if not output_is_colour(ca, cb, chroma):
        return y
    if ca and cb:
        if chroma == "a":
            cbcr = cha
        elif chroma == "b":
            cbcr = chb
        elif chroma == "mean":
            cbcr = 0.5 * (cha + chb)
        else:
            cbcr = np.stack([combine_chroma(cha[..., i], chb[..., i]) for i in (0, 1)], -1)
    else:
        cbcr = cha if ca else chb
    return ycbcr_to_rgb(np.concatenate([y[..., None], cbcr.astype(np.float64)], -1))
