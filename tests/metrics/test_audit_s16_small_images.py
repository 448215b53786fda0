"""SSIM@vifb on images under its 11×11 window (audit s16)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import ImageTooSmallError
from textured import textured_triple


_triple = textured_triple


def test_ssim_vifb_under_11_pixels_is_image_too_small():
    """SSIM@vifb's 11×11 'valid' windows: on a 10-pixel side the map is empty and the value was a
    silent NaN (with NumPy's 'Mean of empty slice' warning), not ImageTooSmallError."""
    a, b, f = _triple(10, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ImageTooSmallError, match="11 pixels per side") as ei:
            M.METRICS.get("SSIM@vifb")(a, b, f)
        assert ei.value.min_side == 11
        with pytest.raises(ImageTooSmallError):
            M.ssim(a.T, b.T, f.T, convention="vifb")
    a, b, f = _triple(11, 11)
    assert np.isfinite(M.METRICS.get("SSIM@vifb")(a, b, f))


@pytest.mark.parametrize("key", ["FMI_pixel@nestfuse", "FMI_dct@nestfuse"])
def test_fmi_of_a_4d_array_is_a_shape_error_not_too_small(key):
    """A (1, H, W, 1) batch array given to FMI_pixel / FMI_dct was called "too small"
    (ImageTooSmallError: "needs images of at least 3 pixels per side, got 40×1"; evaluate would
    have left the cell empty with a note) instead of the shape error every other metric gives."""
    a, b, f = (x[None, ..., None] for x in _triple(40, 44))
    with pytest.raises(ValueError, match=r"expected a gray \(H×W\) or colour \(H×W×3\) image, got shape") as ei:
        M.METRICS.get(key)(a, b, f)
    assert not isinstance(ei.value, ImageTooSmallError)
    a, b, f = (np.repeat(x[..., None], 3, axis=2) for x in _triple(2, 44))  # colour, 2 rows: too small
    with pytest.raises(ImageTooSmallError):
        M.METRICS.get(key)(a, b, f)
