"""Normalising 16-bit samples to [0, 1] floats holds at most two full-size float64 arrays at once
(the clip works in place on the fresh result; it made a third copy: 24 bytes a pixel at the peak
of a percentile-scaled 16-bit read, 16 for a full-range one), and gives the same values as
``np.clip`` of the mapping."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from mutualfuse.io.samples import normalize_samples


@pytest.mark.parametrize("mode,most", [("auto", 16), ("full", 8)])
def test_normalising_a_16_bit_image_keeps_two_float_copies_at_most(mode, most):
    x = np.random.default_rng(0).integers(0, 65536, (512, 640), dtype=np.uint16)
    tracemalloc.start()
    try:
        y, how = normalize_samples(x, 16, mode)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert how == ("percentile" if mode == "auto" else "full")
    assert peak <= (most + 1) * x.size, peak / x.size  # bytes a pixel (+1: small temporaries)
    if mode == "full":
        np.testing.assert_array_equal(y, np.clip(x.astype(np.float64) / 65535.0, 0, 1))
    else:
        a, b = np.percentile(x.astype(np.float64), [0.1, 99.9])
        np.testing.assert_array_equal(y, np.clip((x.astype(np.float64) - a) / (b - a), 0, 1))
