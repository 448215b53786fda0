"""Multi-scale guided filter fusion (``mgff``), Bavirisetti et al. 2019."""
from __future__ import annotations

import numpy as np

from .. import register_method
from ..params import Float, Int
from ._common import guided_filter


@register_method(
    "mgff",
    family="filter",
    cite="D. P. Bavirisetti, G. Xiao, J. Zhao, R. Dhuli, G. Liu, Multi-scale guided image and "
    "video fusion: a fast and efficient approach, Circuits, Systems, and Signal Processing "
    "38:5576-5605, 2019",
    matlab="the authors' fuse_MGF.m + He's guidedfilter.m (copy read: xingchenzhang/VIFB "
    "methods/MGFF/fuse_MGF.m, run_MGFF.m, guidedfilter.m)",
    # eps >= 1e-6 (0..255 units; it was any value > 0): divided by 255^2, a smaller eps no longer
    # regularises cov / (var + eps) in flat windows, where both are rounding noise: eps = 1e-300
    # gave an all-NaN image for two constant inputs, 1e-30..1e-15 finite garbage; at 1e-6 the
    # result is the small-eps limit (within 4e-10 of eps = 1e-9 on steps and noise)
    params={"radius": Int(1, 100), "eps": Float(1e-6), "levels": Int(1, 10)},
)
def mgff(a: np.ndarray, b: np.ndarray, *, radius: int = 9, eps: float = 1e3, levels: int = 4) -> np.ndarray:
    """MGFF: 4-level guided-filter decomposition, saliency-weighted details, averaged base.

    A line-by-line port of ``fuse_MGF.m``: at level ``k``, ``A1_k = GF(guide=A1_{k-1},
    input=A2_{k-1})`` and ``A2_k = GF(guide=A2_{k-1}, input=A1_{k-1})`` (the argument order of
    the authors' ``guidedfilter(I, p, r, eps)`` calls, where ``I`` is the guide), details
    ``D_k = A_{k-1} - A_k``, saliency ``S = |D|``, weights ``S1/(S1+S2)``; result = average of
    the last base layers + weighted details of all levels.

    Defaults are the authors' ``run_MGFF.m``: ``radius=9``, ``eps=10^3`` for 0..255 images
    (we divide by ``255^2`` for [0, 1] data), 4 levels. ``eps`` is at least ``1e-6`` (below, the
    filter divides rounding noise by rounding noise in flat windows: NaN or saturated output).
    Departure: where both saliencies are
    zero the Matlab weights are 0/0 = NaN (the output pixel becomes NaN, written as 0 by
    ``im2uint8``); we use weight 1/2 there (both details are zero, so the detail sum is 0).
    Self-fusion is exact.
    """
    eps = eps / 255.0 ** 2
    x1, x2 = a, b
    detail = np.zeros_like(a)
    for _ in range(levels):
        n1 = guided_filter(x1, x2, radius, eps)
        n2 = guided_filter(x2, x1, radius, eps)
        d1, d2 = x1 - n1, x2 - n2
        s1, s2 = np.abs(d1), np.abs(d2)
        tot = s1 + s2
        w1 = np.divide(s1, tot, out=np.full_like(tot, 0.5), where=tot > 0)
        detail += d1 * w1 + d2 * (1.0 - w1)
        x1, x2 = n1, n2
    return 0.5 * (x1 + x2) + detail
