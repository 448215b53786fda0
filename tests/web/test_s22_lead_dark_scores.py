"""s22: the page's metrics table scores the pair as ``evaluate`` does. A DICOM source whose
window puts every pixel in the lowest 1/255 of the display range reads as 0-255 floats all
below 1, and the metrics' 0-1 input guard stopped the table ("float image with values in
[0, 0.4] ... multiply by 255")."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pydicom")


def test_the_table_of_a_dark_windowed_dicom_pair(tmp_path):
    from mutualfuse.evaluation import read_gray
    from mutualfuse.metrics import METRICS
    from mutualfuse.web.core import FAST_METRICS, _scores
    from tests.test_s22_dicom_pipeline import _dicom

    rng = np.random.default_rng(0)
    a, b = (_dicom(tmp_path / f"{n}.dcm", rng.integers(0, 100, (32, 32)), bits_stored=16, WindowCenter=32768,
                   WindowWidth=65536, RescaleSlope=1, RescaleIntercept=0) for n in "ab")
    f, avg = tmp_path / "f.png", tmp_path / "avg.png"
    for p in (f, avg):
        Image.fromarray(rng.integers(0, 3, (32, 32)).astype(np.uint8)).save(p)
    A, B = read_gray(a), read_gray(b)
    assert 0 < A.max() < 1  # the case: a dark 0-255 read
    rows = _scores(str(a), str(b), f, avg)
    assert len(rows) == len(FAST_METRICS)
    F = read_gray(f)
    for row, key in zip(rows, FAST_METRICS.values()):
        want = float(METRICS.get(key).unchecked(A, B, F))
        assert row[1] is not None and np.isclose(row[1], round(want, 4), rtol=0, atol=1e-9), (key, row, want)
