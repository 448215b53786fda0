"""Global statistics: SD, PSNR, RMSE."""
from __future__ import annotations

import numpy as np

from ._common import as255, prep3, unknown_convention


def sd(f, convention: str = "vifb") -> float:
    """Standard deviation of the fused image.

    Reference: Rao, Meas. Sci. Technol. 8(4):355 (1997) (as cited by VIFB).

    * ``vifb`` (``metricsVariance.m``): population SD on the 0–255 scale,
      sqrt(Σ(F−μ)²/N).
    * ``rfn-nest`` (``analysis_sd.m``, also nestfuse's identical copy): on ``im2double(F)``
      (0–1), sqrt(Σ(F−μ)²) **with no division by N**. Quirk reproduced: the value is
      sqrt(N)·SD@vifb/255 and grows with image size (80–146 for IFCNN's outputs on the
      520×520 Lytro images, ≈117 on average); this is the "SD" of the paper's tables.

    Higher is better.

    Example (a 32×64 image, half black and half white):

    >>> import numpy as np
    >>> from mutualfuse.metrics import sd
    >>> f = np.tile([0, 255], (32, 32))
    >>> round(sd(f), 3), round(sd(f, convention="rfn-nest"), 3)  # 255/2; sqrt(N)·0.5 with N = 2048
    (127.5, 22.627)
    """
    F = as255(f, "f")
    if convention == "vifb":
        return float(np.sqrt(np.sum((F - F.mean()) ** 2) / F.size))
    if convention in ("rfn-nest", "nestfuse"):
        x = F / 255.0
        u = np.sum(x) / x.size
        return float(np.sqrt(np.sum((x - u) ** 2)))
    raise unknown_convention("SD", convention, ('vifb', 'rfn-nest', 'nestfuse'))


def _vifb_d(a, b, f) -> float:
    A, B, F = prep3(a, b, f)
    n = F.size
    # VIFB's "mse" is the Frobenius norm (not squared) divided by N
    return (np.sqrt(np.sum((A - F) ** 2)) / n + np.sqrt(np.sum((B - F) ** 2)) / n) / 2.0


def psnr(a, b, f, convention: str = "vifb") -> float:
    """PSNR = 20·log10(255 / sqrt(D)) as in VIFB ``metricsPsnr.m``.

    Reference: Jagalingam & Hegde, Aquatic Procedia 4:133–142 (2015).
    Quirk reproduced: D = (‖A−F‖_F/N + ‖B−F‖_F/N)/2 with the Frobenius norm **not squared**, so
    D is not a mean squared error and the values are high: 56.3–61.6 dB for the mean rule on
    TNO's 21 pairs, 62.4–68.0 dB for IFCNN's outputs on Lytro and 55.0–59.0 dB on the CT–MR set
    (the conformance rows, ``metrics_reference.tsv``). Inputs on the 0–255 scale.
    Higher is better.

    Example (A = B, F four gray levels brighter everywhere, 64×64):

    >>> import numpy as np
    >>> from mutualfuse.metrics import psnr
    >>> a = np.full((64, 64), 100.0)
    >>> print(round(psnr(a, a, a + 4), 3), round(20 * np.log10(255 / 4), 3))  # vs the textbook PSNR (MSE 16)
    60.172 36.09
    """
    if convention != "vifb":
        raise unknown_convention("PSNR", convention, ('vifb',))
    d = _vifb_d(a, b, f)
    return float(20.0 * np.log10(255.0 / np.sqrt(d))) if d > 0 else float("inf")


def rmse(a, b, f, convention: str = "vifb") -> float:
    """RMSE as in VIFB ``metricsRmse.m``: D = (‖A−F‖_F/N + ‖B−F‖_F/N)/2.

    Quirk reproduced: the Frobenius norm is divided by N (not sqrt(N)) and not squared, so the
    value is the mean of sqrt(MSE)/sqrt(N), not an RMSE. 0–255 scale. Lower is better.

    Example (A = B, F four gray levels brighter everywhere, 64×64):

    >>> import numpy as np
    >>> from mutualfuse.metrics import rmse
    >>> a = np.full((64, 64), 100.0)
    >>> round(rmse(a, a, a + 4), 4)  # 4/sqrt(N) = 4/64, not the RMSE 4
    0.0625
    """
    if convention != "vifb":
        raise unknown_convention("RMSE", convention, ('vifb',))
    return float(_vifb_d(a, b, f))
