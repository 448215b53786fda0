"""Cross bilateral filter fusion (``cbf``), Shreyamsha Kumar 2015."""
from __future__ import annotations

import numpy as np

from ...errors import ParameterError
from .. import register_method
from ..params import Float, Int


def cross_bilateral(x1: np.ndarray, x2: np.ndarray, sigma_s: float, sigma_r: float, ksize: int) -> np.ndarray:
    """``cross_bilateral_filt2Df.m``: filter ``x1`` with range weights taken from ``x2``.

    ``y(p) = sum_q x1(q) g_s(q-p) g_r(x2(q)-x2(p)) / sum_q g_s g_r`` over a ``ksize^2`` window,
    borders by ``per_extn_im_fn`` (mirror without repeating the edge = numpy ``reflect``).
    Vectorised over pixels: one pass per window offset instead of one per pixel.
    """
    h = ksize // 2
    p1 = np.pad(x1, h, mode="reflect")
    p2 = np.pad(x2, h, mode="reflect")
    H, W = x1.shape
    num = np.zeros_like(x1)
    den = np.zeros_like(x1)
    inv = 1.0 / (2.0 * sigma_r * sigma_r)
    for u in range(ksize):
        for v in range(ksize):
            gs = np.exp(-((u - h) ** 2 + (v - h) ** 2) / (2.0 * sigma_s * sigma_s))
            d = p2[u:u + H, v:v + W] - x2
            wgt = gs * np.exp(-(d * d) * inv)
            num += wgt * p1[u:u + H, v:v + W]
            den += wgt
    return num / den


def edge_strength(d: np.ndarray, wsize: int) -> np.ndarray:
    """``cbf_ieeeconf2011f.m`` weight: for the ``wsize^2`` window around each pixel, the sum of
    eigenvalues (= trace) of the column covariance plus that of the row covariance, i.e. the
    summed unbiased variances of its columns and of its rows. Zeros become ``eps``."""
    h = wsize // 2
    p = np.pad(d, h, mode="reflect")
    H, W = d.shape
    # variance of each vertical (resp. horizontal) run of wsize samples, centred on each pixel
    vert = np.stack([p[u:u + H, :] for u in range(wsize)]).var(axis=0, ddof=1)   # (H, W + 2h)
    horz = np.stack([p[:, v:v + W] for v in range(wsize)]).var(axis=0, ddof=1)   # (H + 2h, W)
    wt = sum(vert[:, v:v + W] for v in range(wsize)) + sum(horz[u:u + H, :] for u in range(wsize))
    return np.where(wt == 0, np.finfo(float).eps, wt)


@register_method(
    "cbf",
    family="filter",
    cite="B. K. Shreyamsha Kumar, Image fusion based on pixel significance using cross bilateral "
    "filter, Signal, Image and Video Processing 9(5):1193-1204, 2015",
    matlab="the author's cbf_fusion_pgm.m / cross_bilateral_filt2Df.m / cbf_ieeeconf2011f.m / "
    "covarf.m (copy read: xingchenzhang/VIFB methods/CBF/)",
    # sigmas below 1e-6 underflow (sigma^2 = 0: a division by zero); both act as 0 far above that
    params={"sigma_s": Float(1e-6), "sigma_r": Float(1e-6), "ksize": Int(3, 31, odd=True),
            "cov_wsize": Int(3, 15, odd=True)},
)
def cbf(a: np.ndarray, b: np.ndarray, *, sigma_s: float = 1.8, sigma_r: float = 25.0,
        ksize: int = 11, cov_wsize: int = 5) -> np.ndarray:
    """CBF fusion.

    Detail images ``D_A = A - CBF(A; range from B)`` and ``D_B = B - CBF(B; range from A)``;
    per-pixel weights = edge strength of the detail in a ``cov_wsize`` window
    (:func:`edge_strength`); ``F = (A w_A + B w_B) / (w_A + w_B)``.

    Defaults are the author's: ``sigma_s=1.8``, ``sigma_r=25`` (8-bit grey levels; our images
    are in [0, 1], so we use ``sigma_r/255``), ``ksize=11``, ``cov_wsize=5``. Exact port,
    vectorised; no departures. Self-fusion is exact.
    """
    sigma_r = sigma_r / 255.0
    if min(a.shape) <= max(ksize, cov_wsize) // 2:
        big, name = (ksize, "ksize") if ksize >= cov_wsize else (cov_wsize, "cov_wsize")
        raise ParameterError(f"method 'cbf': image {a.shape[1]}x{a.shape[0]} is too small for {name}={big} "
                             f"(needs at least {big // 2 + 1} px per side); at most {name}={2 * min(a.shape) - 1} "
                             "for this size")
    da = a - cross_bilateral(a, b, sigma_s, sigma_r, ksize)
    db = b - cross_bilateral(b, a, sigma_s, sigma_r, ksize)
    wa = edge_strength(da, cov_wsize)
    wb = edge_strength(db, cov_wsize)
    return (a * wa + b * wb) / (wa + wb)
