"""Audit (session 16): ``msvd(..., mat2gray=True)`` on two constant images.

The fused image of two constant images is constant only up to rounding (``U T`` in floating
point: a range up to 1.5e-14 in 300 random constant pairs), and ``mat2gray`` stretched that
noise to [0, 1]: ``fuse_gray("msvd", 0.3 * ones, 0.7 * ones, mat2gray=True)`` returned a
pattern of 0s and 1s instead of a flat image. A range of at most 1e-12 now counts as constant
(the result is left as is, as ``mat2gray`` of a constant image); real images are unaffected.
"""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.methods import fuse_gray

rng = np.random.default_rng(16)


@pytest.mark.parametrize("c1,c2,shape", [(0.3, 0.7, (64, 48)), (69 / 255, 10 / 255, (60, 47)),
                                         (0.8132, 0.9127, (12, 9)), (0.5, 0.5, (33, 8))])
def test_constant_pair_stays_flat(c1, c2, shape):
    a, b = np.full(shape, c1), np.full(shape, c2)
    out = fuse_gray("msvd", a, b, mat2gray=True)
    plain = fuse_gray("msvd", a, b)
    assert out.max() - out.min() <= 1e-12, (out.min(), out.max())
    assert np.array_equal(out, plain)
    assert abs(out.mean() - 0.5 * (c1 + c2)) < 1e-12


def test_real_images_are_still_stretched():
    a, b = rng.random((40, 40)) * 0.5, rng.random((40, 40)) * 0.5 + 0.2
    out = fuse_gray("msvd", a, b, mat2gray=True)
    assert out.min() == 0.0 and out.max() == 1.0
    # a tiny but real variation (1e-9) is still stretched, as Matlab's mat2gray does
    t = 0.5 + 1e-9 * rng.standard_normal((40, 40))
    out = fuse_gray("msvd", t, t, mat2gray=True)
    assert out.min() == 0.0 and out.max() == 1.0
