"""Gradient-based metrics: AG, EI, SF, Qabf (Xydeas–Petrović) and Nabf (Shreyamsha Kumar)."""
from __future__ import annotations

import numpy as np

from ..errors import ImageTooSmallError
from ._common import _as255, as255, convolve, correlate, prep3, unknown_convention

_SOBEL = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])  # fspecial('sobel')


def ag(f, convention: str = "vifb") -> float:
    """Average gradient, VIFB ``metricsAvg_gradient.m``.

    Reference: Cui et al., Optics Communications 341:199–209 (2015).
    AG = Σ sqrt((Gx² + Gy²)/2) / ((M−1)(N−1)) with MATLAB ``gradient`` (unit spacing: central
    differences inside, one-sided at the border). Quirk reproduced: the sum runs over all M·N
    pixels but is divided by (M−1)(N−1). 0–255 scale. Higher is better.

    Example (a ramp rising by one gray level per column):

    >>> import numpy as np
    >>> from mutualfuse.metrics import ag
    >>> ramp = np.tile(np.arange(8.0), (8, 1))
    >>> round(ag(ramp), 3)  # 64·sqrt(1/2)/49, not sqrt(1/2): the M·N sum over (M−1)(N−1)
    0.924
    """
    if convention != "vifb":
        raise unknown_convention("AG", convention, ('vifb',))
    F = _as255(f, "f")  # an empty image too: the message below, min_side 2
    if min(F.shape) < 2:
        raise ImageTooSmallError(f"AG needs images of at least 2 pixels per side, got {F.shape[1]}×{F.shape[0]}", 2)
    gy, gx = np.gradient(F)
    r, c = F.shape
    return float(np.sum(np.sqrt((gx * gx + gy * gy) / 2.0)) / ((r - 1) * (c - 1)))


def ei(f, convention: str = "vifb") -> float:
    """Edge intensity, VIFB ``metricsEdge_intensity.m``.

    Reference: Rajalingam & Priya, IJESI (2018).
    EI = mean sqrt(gx² + gy²) where gx = ``imfilter(F, fspecial('sobel'), 'replicate')`` and gy
    the same with the transposed kernel (correlation, replicated border). 0–255 scale.
    Higher is better.

    Example (a ramp rising by one gray level per column):

    >>> import numpy as np
    >>> from mutualfuse.metrics import ei
    >>> ramp = np.tile(np.arange(8.0), (8, 1))
    >>> round(ei(ramp), 3)  # Sobel gives 8 inside, 4 in the two border columns (replicated)
    7.0
    """
    if convention != "vifb":
        raise unknown_convention("EI", convention, ('vifb',))
    F = as255(f, "f")
    gx = correlate(F, _SOBEL, "replicate")
    gy = correlate(F, _SOBEL.T, "replicate")
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))


def sf(f, convention: str = "vifb") -> float:
    """Spatial frequency, VIFB ``metricsSpatial_frequency.m``.

    Reference: Eskicioglu & Fisher, IEEE Trans. Commun. 43(12):2959–2965 (1995).
    SF = sqrt(RF + CF), RF = Σ (F[i,j] − F[i,j−1])² / (M·N), CF likewise over rows. Quirk
    reproduced: each sum is divided by M·N, not by the number of differences. 0–255 scale.
    Higher is better.

    Example (a ramp rising by one gray level per column):

    >>> import numpy as np
    >>> from mutualfuse.metrics import sf
    >>> ramp = np.tile(np.arange(8.0), (8, 1))
    >>> round(sf(ramp), 3)  # sqrt(56/64), not 1: the 56 squared differences divided by M·N = 64
    0.935
    """
    if convention != "vifb":
        raise unknown_convention("SF", convention, ('vifb',))
    F = as255(f, "f")
    n = F.size
    rf = np.sum(np.diff(F, axis=1) ** 2) / n
    cf = np.sum(np.diff(F, axis=0) ** 2) / n
    return float(np.sqrt(rf + cf))


def _vifb_qabf_edges(x: np.ndarray):
    h1 = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
    h3 = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
    sx = convolve(x, h3, "zero")
    sy = convolve(x, h1, "zero")
    g = np.sqrt(sx * sx + sy * sy)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(sx == 0, np.pi / 2, np.arctan(sy / sx))
    return g, a


def _vifb_qabf_q(gx, ax, gf, af):
    Tg, kg, Dg, Ta, ka, Da = 0.9994, -15.0, 0.5, 0.9879, -22.0, 0.8
    with np.errstate(divide="ignore", invalid="ignore"):
        G = np.where(gx > gf, gf / gx, np.where(gx == gf, gf, gx / gf))
    A = 1 - np.abs(ax - af) / (np.pi / 2)
    qg = Tg / (1 + np.exp(kg * (G - Dg)))
    qa = Ta / (1 + np.exp(ka * (A - Da)))
    return qg * qa


def qabf(a, b, f, convention: str = "vifb") -> float:
    """Q^{AB/F}, the Xydeas–Petrović gradient-preservation measure, VIFB ``metricsQabf.m``.

    Reference: Xydeas & Petrović, Electronics Letters 36(4):308–309 (2000).

    Conventions (VIFB): the images are passed as read (0–255) and the code computes
    ``255*im2double(double(x))``, i.e. it works on 0–65025 values. Sobel responses by
    ``conv2(...,'same')`` (zero padding) with x kernel [-1 0 1;-2 0 2;-1 0 1] and y kernel
    [1 2 1;0 0 0;-1 -2 -1]; g = sqrt(Sx²+Sy²); α = atan(Sy/Sx), π/2 where Sx = 0.
    G^{XF} = min/max of g_X, g_F, **quirk reproduced: where g_X == g_F it is set to g_F** (not 1;
    this makes it 0 where both are 0 and depends on the input scale). A^{XF} = 1 − |α_X−α_F|/(π/2).
    Q = 0.9994/(1+e^{−15(G−0.5)}) · 0.9879/(1+e^{−22(A−0.8)}) (no square root).
    Q^{AB/F} = Σ(Q^{AF}·g_A + Q^{BF}·g_B) / Σ(g_A + g_B) (weights g, L = 1). Higher is better.

    The paper's Table 3 Qabf (0.5737) is not reproduced by this or any other known code
    (this gives 0.57490 on its images; see ``docs/metrics.md``).

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import qabf
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(qabf(a, b, a), 3), round(qabf(a, b, (a + b) / 2), 3)  # the mean halves one-source edges
    (0.526, 0.34)
    """
    if convention != "vifb":
        raise unknown_convention("Qabf", convention, ('vifb',))
    A, B, F = prep3(a, b, f)
    gA, aA = _vifb_qabf_edges(255.0 * A)
    gB, aB = _vifb_qabf_edges(255.0 * B)
    gF, aF = _vifb_qabf_edges(255.0 * F)
    qaf = _vifb_qabf_q(gA, aA, gF, aF)
    qbf = _vifb_qabf_q(gB, aB, gF, aF)
    return float(np.sum(qaf * gA + qbf * gB) / np.sum(gA + gB))


def _sk_sobel(x: np.ndarray):
    """``sobel_fn.m``: correlation with vtemp/htemp (Sobel/8) over ``per_extn_im_fn``'s 1-pixel
    mirror extension (edge not repeated).

    The sums are formed in MATLAB's order for ``sum(sum(window .* k))`` (down each column,
    then across the three column sums). This matters: Nabf counts pixels with g_F > g_A and
    g_F > g_B, and where the gradients are equal in exact arithmetic the comparison is decided
    by rounding; another summation order changes Nabf by up to ~70 % (measured on TNO pair 03).
    """
    p = np.pad(x, 1, mode="reflect")
    h, w = x.shape
    vtemp = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8
    htemp = np.array([[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]) / 8
    out = []
    for k in (vtemp, htemp):
        cols = []
        for j in range(3):
            c = p[0:h, j : j + w] * k[0, j] + p[1 : h + 1, j : j + w] * k[1, j]
            cols.append(c + p[2 : h + 2, j : j + w] * k[2, j])
        out.append((cols[0] + cols[1]) + cols[2])
    return out[0], out[1]


def _sk_angle(gv, gh):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((gv == 0) & (gh == 0), 0.0, np.arctan(gv / gh))


def _sk_rel(gx, gf):
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(gx > gf, gf / gx, gx / gf)
    return np.where((gx == 0) | (gf == 0), 0.0, r)


def nabf(a, b, f, convention: str = "rfn-nest") -> float:
    """N^{AB/F}: Shreyamsha Kumar's modified fusion-artifact measure, rfn-nest ``analysis_nabf.m``.

    References: Petrović & Xydeas, "Objective image fusion performance characterisation",
    ICCV 2005; B. K. Shreyamsha Kumar, SIViP 9:1193–1204 (2015) (modified NABF).

    Conventions (rfn-nest wrapper): images as ``im2double`` (0–1). Sobel kernels /8, applied by
    correlation over a 1-pixel mirror extension that does not repeat the edge
    (``per_extn_im_fn.m``). g = sqrt(gx²+gy²); α = atan(gv/gh), 0 where both are 0. Relative
    strength min/max (0 if either is 0); orientation term |(|α_X−α_F| − π/2)|·2/π.
    Q = sqrt(Qg·Qa) with Qg = 0.9999/(1+e^{−19(g−0.5)}), Qa = 0.9995/(1+e^{−22(a−0.5)}).
    Weights w = g^1.5 where g ≥ Td = 2 else 0.001. **Quirk reproduced: with 0–1 input g never
    reaches 2, so every weight is 0.001**, and NABF = Σ_{g_F>g_A and g_F>g_B} (2−Q^{AF}−Q^{BF}) / 2N.
    Ties g_F == g_A are decided by floating-point rounding in the reference; the Sobel sums
    are formed in MATLAB's order so that they are decided the same way (see ``_sk_sobel``).
    Lower is better.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> import numpy as np
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import nabf
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> nabf(a, b, a), f"{nabf(a, b, np.maximum(a, b)):.3g}"  # F = a source adds no edge stronger than both
    (0.0, '0.000465')
    """
    if convention not in ("rfn-nest", "nestfuse"):
        raise unknown_convention("Nabf", convention, ('rfn-nest', 'nestfuse'))
    A, B, F = (x / 255.0 for x in prep3(a, b, f))
    gvA, ghA = _sk_sobel(A)
    gvB, ghB = _sk_sobel(B)
    gvF, ghF = _sk_sobel(F)
    gA, gB, gF = np.sqrt(ghA**2 + gvA**2), np.sqrt(ghB**2 + gvB**2), np.sqrt(ghF**2 + gvF**2)
    aA, aB, aF = _sk_angle(gvA, ghA), _sk_angle(gvB, ghB), _sk_angle(gvF, ghF)
    gAF, gBF = _sk_rel(gA, gF), _sk_rel(gB, gF)
    aAF = np.abs(np.abs(aA - aF) - np.pi / 2) * 2 / np.pi
    aBF = np.abs(np.abs(aB - aF) - np.pi / 2) * 2 / np.pi

    def q(gr, ar):
        qg = 0.9999 / (1 + np.exp(-19.0 * (gr - 0.5)))
        qa = 0.9995 / (1 + np.exp(-22.0 * (ar - 0.5)))
        return np.sqrt(qg * qa)

    QAF, QBF = q(gAF, aAF), q(gBF, aBF)
    Td, wt_min, Lg = 2.0, 0.001, 1.5
    wtA = np.where(gA >= Td, gA**Lg, wt_min)
    wtB = np.where(gB >= Td, gB**Lg, wt_min)
    wt_sum = np.sum(wtA + wtB)
    na = (gF > gA) & (gF > gB)
    return float(np.sum(na * ((1 - QAF) * wtA + (1 - QBF) * wtB)) / wt_sum)
