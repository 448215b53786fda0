"""Session 28 (simd): the window-statistics kernels of Q_S/Q_W, Q_C/Q_Y and VIFF filter through
``liu_kernels._sep_rows3r_py`` (each image row's products formed once, in a ring of rows; up to
four taps per pass, :func:`liu_kernels._sym_taps_py`). These filters must give the values of the
plain one-pass-per-tap filter (``_sep_rows3_py``) bit for bit: the same operations in the same
order for every element (scipy's ``NI_Correlate1D`` order), so an exact equality is the right
test here, independent of CPU and thread count (no reassociation, no FMA: the kernels are
compiled without ``fastmath``)."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.metrics import liu_kernels as L
from mutualfuse.metrics._common import gaussian_1d


def _plain_rows(A, B, F, g, nq):
    """All output rows of the one-pass-per-tap ``_sep_rows3`` (the reference)."""
    n = g.shape[0]
    Ho, Wo = A.shape[0] - n + 1, A.shape[1] - n + 1
    t, row = np.empty((9, A.shape[1])), np.empty((9, Wo))
    out = np.empty((nq, Ho, Wo))
    for i in range(Ho):
        L._sep_rows3(A, B, F, g, nq, i, t, row)
        out[:, i] = row[:nq]
    return out


@pytest.mark.parametrize("n", [3, 5, 7, 9, 11, 17, 33])
@pytest.mark.parametrize("nq", [8, 9])
def test_ring_filter_equals_one_pass_per_tap_bit_for_bit(n, nq):
    K = L.kernels()
    rng = np.random.default_rng(n * 10 + nq)
    A = rng.integers(0, 256, (n + 23, n + 30)).astype(float)
    B = rng.uniform(-300, 300, A.shape)
    F = np.round(0.4 * A + 0.6 * B + rng.normal(0, 3, A.shape), 3)
    A[: n + 2, : n + 4] = 80.0   # a flat patch: sums whose variances are rounding noise
    g = gaussian_1d(n, n / 5.0)
    want = _plain_rows(A, B, F, g, nq)
    got = np.empty_like(want)
    K["sep_valid3"](A, B, F, g, got)
    assert np.array_equal(got, want)


def test_ring_filter_one_output_row_and_column():
    """The smallest image a window fits: one output row and column (the ring filled at row 0 only)."""
    K = L.kernels()
    rng = np.random.default_rng(3)
    A, B, F = rng.uniform(0, 255, (3, 11, 11))
    g = gaussian_1d(11, 1.5)
    want = _plain_rows(A, B, F, g, 9)
    got = np.empty((9, 1, 1))
    K["sep_valid3"](A, B, F, g, got)
    assert np.array_equal(got, want)
