"""Audit (session 21): ``gtf`` on data whose differences are far below any grey level.

The authors' IRN solver takes squared norms in PCG; for ``I - V`` of magnitude below about 1e-154
they underflow to 0, and the relative residual was ``0/0``: a NumPy RuntimeWarning (two lines on
stderr, naming a file inside the package) and a result of 0 instead of one of the data's size.
Such data are now solved scaled to a largest magnitude of 1 and scaled back; data from 1e-100 up
take the unchanged path (the TNO reference crop is unaffected: tests/methods/test_baseline_reference.py).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from mutualfuse.methods import fuse_gray
from mutualfuse.methods.classical.gtf import gtf, irn_l1tv

rng = np.random.default_rng(21)
A, B = rng.random((40, 48)), 0.5 * rng.random((40, 48))


@pytest.mark.parametrize("scale", [1e-300, 1e-200])
def test_gtf_on_tiny_data_is_finite_silent_and_of_the_data_size(scale):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the old code warned "invalid value encountered in scalar divide"
        out = fuse_gray("gtf", scale * A, scale * B)
        raw = gtf.unchecked(scale * A, scale * B)
    assert np.isfinite(out).all() and np.isfinite(raw).all()
    # the solve of the unit-scale problem, scaled: the fused image is about the data's size, not 0
    s = scale * A - scale * B
    peak = np.abs(s).max()
    np.testing.assert_array_equal(raw, peak * irn_l1tv(s / peak, 4.0)[0] + scale * B)
    assert np.abs(raw).max() > 0.1 * scale

