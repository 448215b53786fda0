"""Registered metrics refuse float images on the 0-1 scale instead of scoring them as 0-255."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.errors import InputError
from mutualfuse.metrics import METRICS


def _pair():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (48, 48)).astype(np.uint8)
    b = rng.integers(0, 256, (48, 48)).astype(np.uint8)
    return a, b, ((a.astype(np.float64) + b) / 2)


@pytest.mark.parametrize("key", [n for n in METRICS.names() if not METRICS.meta(n)["slow"]])
def test_every_fast_metric_refuses_0_1_floats(key):
    a, b, f = _pair()
    with pytest.raises(InputError, match="0-255 scale"):
        METRICS.get(key)(a / 255.0, b / 255.0, f / 255.0)


def test_0_255_floats_and_integer_valued_floats_pass():
    a, b, f = _pair()
    key = "EN@rfn-nest"
    v = METRICS.get(key)(a, b, f)
    assert v == METRICS.get(key)(a.astype(np.float64), b.astype(np.float64), f)
    assert np.isfinite(METRICS.get(key)(np.zeros((48, 48)), np.ones((48, 48)), np.zeros((48, 48))))
