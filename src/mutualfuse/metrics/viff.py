"""VIFF, Han et al.'s visual-information-fidelity fusion metric (``VIFF_Public.m``).

Reference code: ``HarrisXia/image-fusion-evaluation@35d35c0:VIFF_Public.m`` (Yu Han's file,
2012 copyright header; the only public copy found).
"""
from __future__ import annotations

import math

import numpy as np

from ._common import gaussian_1d, prep3, sep_correlate_valid
from .liu_kernels import kernels
from ..errors import ImageTooSmallError

VIFF_REF = "HarrisXia/image-fusion-evaluation@35d35c0b081d1a0e9f1e2f291c59108ab61ccc8a:VIFF_Public.m"

#: scale weights p = [1, 0, 0.15, 1]/2.15 (scale 2 has weight 0 in the reference).
VIFF_WEIGHTS = np.array([1.0, 0.0, 0.15, 1.0]) / 2.15

_LOG10_2 = math.log10(2.0)


def _vid_vind(ref: np.ndarray, dist: np.ndarray, sigma_nsq: float):
    """``ComVidVindG``: per scale the VID map, the VIND map and the gain g (Sheikh & Bovik's
    pixel-domain VIF with Han's changes)."""
    out = []
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        g1 = gaussian_1d(n, n / 5.0)
        if scale > 1:
            ref = sep_correlate_valid(ref, g1)[::2, ::2]
            dist = sep_correlate_valid(dist, g1)[::2, ::2]
        mu1 = sep_correlate_valid(ref, g1)
        mu2 = sep_correlate_valid(dist, g1)
        s1 = sep_correlate_valid(ref * ref, g1) - mu1 * mu1
        s2 = sep_correlate_valid(dist * dist, g1) - mu2 * mu2
        s12 = sep_correlate_valid(ref * dist, g1) - mu1 * mu2
        s1[s1 < 0] = 0
        s2[s2 < 0] = 0
        g = s12 / (s1 + 1e-10)
        sv = s2 - g * s12
        low1 = s1 < 1e-10
        g[low1] = 0
        sv[low1] = s2[low1]
        s1[low1] = 0
        low2 = s2 < 1e-10
        g[low2] = 0
        sv[low2] = 0
        neg = g < 0
        sv[neg] = s2[neg]
        g[neg] = 0
        sv[sv <= 1e-10] = 1e-10
        vid = np.log10(1 + g * g * s1 / (sv + sigma_nsq))
        vind = np.log10(1 + s1 / sigma_nsq)
        out.append((vid, vind, g))
    return out


def viff(a, b, f) -> float:
    """VIFF, the fusion metric of Han et al. based on visual information fidelity.

    Formula: at each of 4 scales s, for each source X the pixel-domain VIF model gives the gain
    g_X, VID_X = log10(1 + g_X²σ_X²/(σ_v² + σ_n²)) and VIND_X = log10(1 + σ_X²/σ_n²); per pixel
    the source with the smaller gain is taken (VID, VIND); F_s = Σ(VID + 1e-7)/Σ(VIND + 1e-7);
    VIFF = Σ_s p_s F_s with p = [1, 0, 0.15, 1]/2.15.
    Reference: Y. Han, Y. Cai, Y. Cao, X. Xu, "A new image fusion performance metric based on
    visual information fidelity", Information Fusion 14(2):127–135 (2013); code
    ``VIFF_Public.m`` (its ``ComVidVindG`` follows H. R. Sheikh & A. C. Bovik, "Image
    information and visual quality", IEEE TIP 15(2):430–444, 2006).
    Conventions: raw 0–255 gray values (σ_n² = 0.005·255² is fixed for that range; some
    published wrappers pass 0–1 images and get very different numbers). Window N = 2^(5−s) + 1
    (17, 9, 5, 3) with a Gaussian σ = N/5; from scale 2 on both images are filtered 'valid'
    and every second sample kept; local statistics 'valid'; the usual VIF guards at 1e-10.
    Scale 2 has weight 0. Colour input is converted with MATLAB ``rgb2gray`` like every metric
    here, whereas ``VIFF_Public`` would use CIELAB L* for 3-channel input (that path was not
    checked). A = B = F gives 1 − O(1e-12). Images under 81 pixels per side are refused
    (:class:`~mutualfuse.errors.ImageTooSmallError`): a limit of this port, not of the formula,
    whose four 'valid' maps exist from 41 pixels per side (scale 4's is then 1×1; the NumPy
    version ``_viff_numpy`` gives a value there; at 40 it divides by zero).
    Higher is better.
    Computation: per scale one compiled loop (numba, ``liu_kernels._viff_scale_py``) filters the
    eight local sums of A, B, F (scipy's summation order) and applies ``ComVidVindG``'s guards with
    the NumPy operations; only the decimated samples of the scale filters are computed.
    Σ(VID + C) and Σ(VIND + C) are not summed from one ``log10`` per window: the kernel
    multiplies the arguments (all in [1, 2¹⁰⁰); renormalised by ``frexp``) and
    Σ log10 x = log10 Π x, with N·C added once (``liu_kernels._log10_prod_py``). That changes
    the rounding, not the formula: ~1e-16 per window in log10 units; VIFF within 6.1e-16
    relative of the NumPy version on the tests' images (measured; the tests hold it to the
    float64 tolerance, 1e-10; the conformance rows stay within 1e-4 of Octave); it saves ~6·10⁵ ``log10`` calls per
    image at 640×480 (NumPy has no SIMD ``log10`` for float64 without AVX-512). Maps with a
    value outside that range take NumPy's ``log10`` as before. Scale 2 (weight 0, its F_s
    always finite) adds exactly 0 and is not evaluated. ``_viff_numpy`` keeps the NumPy
    version, the tests' reference.

    Example (the bundled TNO infrared/visible pair, scaled to 0–255):

    >>> from importlib.resources import files
    >>> from mutualfuse.image_io import read_image
    >>> from mutualfuse.metrics import viff
    >>> a, b = (255 * read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    >>> round(viff(a, a, a), 3), round(viff(a, b, (a + b) / 2), 3), round(viff(a, b, b), 3)
    (1.0, 0.32, 0.22)
    """
    A, B, F = prep3(a, b, f)
    if min(A.shape) < 81:
        raise ImageTooSmallError(f"VIFF needs images of at least 81 pixels per side, got {A.shape[1]}×{A.shape[0]}", 81)
    K = kernels()
    if K is None:                # pragma: no cover - numba is a dependency
        return _viff_numpy(A, B, F)
    sq = 0.005 * 255 * 255
    C = 1e-7
    imgs = (A, B, F)
    fs = []
    for scale in range(1, 5):
        n = 2 ** (4 - scale + 1) + 1
        g1 = gaussian_1d(n, n / 5.0)
        if scale > 1:
            rows, cols = imgs[0].shape[0] - n + 1, imgs[0].shape[1] - n + 1
            dec = tuple(np.empty(((rows + 1) // 2, (cols + 1) // 2)) for _ in range(3))
            for x, d in zip(imgs, dec):
                K["sep_valid1"](x, g1, 2, d)
            imgs = dec
        if VIFF_WEIGHTS[scale - 1] == 0:
            fs.append(0.0)  # scale 2: weight 0 times a finite F_s (Σ(VIND + C) > 0) adds exactly 0
            continue
        shape = (imgs[0].shape[0] - n + 1, imgs[0].shape[1] - n + 1)
        z, m = np.empty(shape), np.empty(shape)
        logs = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
        K["viff_scale"](*imgs, g1, sq, z, m, logs)
        if logs[0, 2] == 0 and logs[1, 2] == 0:
            # Σ(log10 x + C) as log10 of a product (see the docstring): N·C added once
            nc = z.size * C
            sz = math.log10(logs[0, 0]) + logs[0, 1] * _LOG10_2
            sm = math.log10(logs[1, 0]) + logs[1, 1] * _LOG10_2
            fs.append((sz + nc) / (sm + nc))
            continue
        np.log10(z, out=z)
        np.log10(m, out=m)
        fs.append(float(np.sum(z + C)) / float(np.sum(m + C)))
    return float(np.sum(np.array(fs) * VIFF_WEIGHTS))


def _viff_numpy(A, B, F) -> float:
    """:func:`viff` as NumPy array expressions (the reference of the compiled path)."""
    sq = 0.005 * 255 * 255
    C = 1e-7
    t1 = _vid_vind(A, F, sq)
    t2 = _vid_vind(B, F, sq)
    fs = []
    for (z1, m1, g1), (z2, m2, g2) in zip(t1, t2):
        low = g1 < g2
        z = np.where(low, z1, z2)
        m = np.where(low, m1, m2)
        fs.append(float(np.sum(z + C)) / float(np.sum(m + C)))
    return float(np.sum(np.array(fs) * VIFF_WEIGHTS))
