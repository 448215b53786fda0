"""``mutualfuse.evaluation.read_gray(path, normalize, percentiles)`` from Python (audit s31,
metricapi): percentiles that are not two numbers 0 <= lo < hi <= 100 are a one-line
ParameterError, also where the file's reading does not use them (an 8-bit file under "auto"
took (99, 1) silently), and a malformed value ("1 99", (1,), "19") is that error instead of
Python's "too many values to unpack" / "'<=' not supported" / a silent (1, 9)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.errors import ParameterError
from mutualfuse.evaluation import read_gray


@pytest.fixture()
def files(tmp_path):
    rng = np.random.default_rng(0)
    p8, p16 = tmp_path / "a8.png", tmp_path / "a16.png"
    Image.fromarray(rng.integers(0, 256, (16, 16)).astype(np.uint8)).save(p8)
    Image.fromarray(rng.integers(7000, 8000, (16, 16)).astype(np.uint16)).save(p16)
    return p8, p16


@pytest.mark.parametrize("bad", [(99, 1), (0, 200), (50, 50)])
def test_out_of_range_percentiles_are_refused_even_when_unused(files, bad):
    with pytest.raises(ParameterError, match=r"^percentiles must satisfy 0 <= lo < hi <= 100, got "):
        read_gray(files[0], "auto", bad)  # 8-bit under auto: read as stored, percentiles unused
    x = read_gray(files[1], "percentile", [0.1, 99.9])  # valid ones (a list too) read as before
    assert x.dtype == np.float64 and x.min() == 0.0 and x.max() == 255.0
    assert np.array_equal(read_gray(files[1], "percentile", (0.1, 99.9)), x)


@pytest.mark.parametrize("bad", ["1 99", "19", (1,), (1, 2, 3), ("a", "b"), 5])
def test_malformed_percentiles_are_one_parameter_error(files, bad):
    with pytest.raises(ParameterError, match=r"^percentiles .*: two numbers \(lo, hi\) with 0 <= lo < hi <= 100"):
        read_gray(files[1], "percentile", bad)
