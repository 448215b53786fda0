"""The metric functions' Python interface as documented (audit s14)."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import ParameterError


def _triple():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 48)).astype(np.uint8)
    b = rng.integers(0, 256, (40, 48)).astype(np.uint8)
    return a, b, np.maximum(a, b)


def test_evaluate_pair_takes_one_metric_key_as_a_string():
    a, b, f = _triple()
    got = M.evaluate_pair(a, b, f, metrics="Qabf@vifb")  # was: "unknown metric 'Q'" (its characters)
    assert got == {"Qabf@vifb": M.METRICS.get("Qabf@vifb")(a, b, f)}
    assert M.resolve("en@VIFB") == {"EN@vifb": "EN@vifb"}
    with pytest.raises(ParameterError, match="'Qabfx@vifb'"):
        M.resolve("Qabfx@vifb")
