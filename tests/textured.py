"""A textured 0-255 float64 triple (sources a, b and a fused f) for metric tests."""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def textured_triple(h: int = 176, w: int = 180, seed: int = 1):
    """Textured 0-255 float64 images (176 px: MS_SSIM@wang's minimum)."""
    rng = np.random.default_rng(seed)
    a = np.round(ndimage.gaussian_filter(rng.random((h, w)) * 255, 2) * 3 % 256).clip(0, 255)
    b = np.round(ndimage.gaussian_filter(rng.random((h, w)) * 255, 1) * 2 % 256).clip(0, 255)
    f = np.round((a + b) / 2 + rng.normal(0, 3, (h, w))).clip(0, 255)
    return a, b, f
