"""A metric of one's own with ``uses_sources=False`` ignores the sources as the built-in metrics
of F alone do (audit s31, metricapi): ``evaluate_pair(a, b, f, metrics=["EN@vifb", "mine"])`` with
sources of another size than F (or holding NaN) scored EN and stopped at the own metric with
"images differ in size" / a NaN error about an image it never reads."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse.metrics as M
from registry_state import registries_restored

F = np.random.default_rng(2).integers(0, 256, (20, 24)).astype(np.uint8)


@pytest.mark.parametrize("sources", ["smaller", "nan", "colour of another size"])
def test_a_metric_of_f_alone_does_not_read_the_sources(sources):
    a = {"smaller": np.zeros((8, 8), np.uint8), "nan": np.full(F.shape, np.nan),
         "colour of another size": np.zeros((5, 6, 3), np.uint8)}[sources]
    seen = []
    with registries_restored("s31metricapi"):
        @M.register_metric("s31fmean@mine", uses_sources=False)
        def fmean(a, b, f):
            seen.append((a, b))
            return float(f.mean())

        got = M.evaluate_pair(a, a, F, metrics=["EN@vifb", "s31fmean@mine"])
        assert got["EN@vifb"] == M.en(F, convention="vifb")
        assert got["s31fmean@mine"] == pytest.approx(F.mean(), abs=1e-12)
        assert seen[-1] == (None, None)
        assert M.METRICS.get("s31fmean@mine")(None, None, F) == got["s31fmean@mine"]
    assert "s31fmean@mine" not in M.METRICS
