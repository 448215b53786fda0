"""Audit (session 15) of ``csr``: a tiny ``lam`` is refused instead of returning garbage.

With ``lam`` about 1e-14 (then allowed: any value > 0) the float32 soft threshold vanished, the
ADMM's adaptive rho collapsed and overflowed, and ``csr`` returned a saturated image (mean 0.5
away from the sources) with a flood of RuntimeWarnings and no error.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from mutualfuse.errors import ParameterError
from mutualfuse.methods import check_method_params, fuse_gray


def _crop(samples):
    def load(n):
        return np.asarray(Image.open(samples / "tno-01" / f"{n}.png").convert("L"), dtype=np.float64)[:64, :64] / 255
    return load("a"), load("b")


@pytest.mark.parametrize("lam", [1e-14, 1e-7, 0.0])
def test_lam_below_the_bound_is_refused(lam):
    with pytest.raises(ParameterError, match=r"method 'csr': parameter lam must be a finite number >= 1e-6"):
        check_method_params("csr", {"lam": lam})


def test_lam_at_the_bound_is_sane(samples):
    a, b = _crop(samples)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = fuse_gray("csr", a, b, lam=1e-6, max_iter=100)
    # not saturated nonsense: close to the sources' mean, as with the default lam
    assert np.abs(f - 0.5 * (a + b)).mean() < 0.1
