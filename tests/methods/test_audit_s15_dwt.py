"""Audit (session 15) of ``dwt``: a long wavelet (any discrete PyWavelets wavelet is allowed)
gives no warning. PyWavelets warned "Level value of 4 is too high: all coefficients will
experience boundary effects" for e.g. ``db38`` on TNO-sized images, printed by ``mutualfuse
fuse`` as two lines naming a file inside pywt; in periodization mode the transform stays exact
(self-fusion returns the input)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from mutualfuse.methods import fuse_gray


@pytest.mark.parametrize("wavelet,levels,shape", [("db38", 4, (270, 360)), ("dmey", 3, (33, 17)), ("bior6.8", 5, (64, 64))])
def test_long_wavelet_no_warning_and_exact(wavelet, levels, shape):
    a = np.random.default_rng(0).random(shape)
    b = np.random.default_rng(1).random(shape)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        self_fused = fuse_gray("dwt", a, a, wavelet=wavelet, levels=levels)
        fused = fuse_gray("dwt", a, b, wavelet=wavelet, levels=levels)
    # dmey is PyWavelets' FIR approximation of the Meyer wavelet, not exactly invertible (measured
    # 0.006-0.008 on random images, whatever the size); the others are exact
    assert np.abs(self_fused - a).max() < (1e-2 if wavelet == "dmey" else 1e-12)
    assert fused.shape == a.shape and np.isfinite(fused).all()
