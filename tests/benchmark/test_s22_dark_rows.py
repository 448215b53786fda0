"""s22: the benchmark scores its rows as ``evaluate`` does. A DICOM source whose stored window
puts every pixel in the lowest 1/255 of the display range reads (as ``fuse`` reads it) as
0-255 floats all below 1, and the metrics' 0-1 input guard refused the row ("float image with
values in [0, 0.4] ... multiply by 255"), an error about a scaling the benchmark never asked
for; ``evaluate`` scores such a pair (its reads are on the 0-255 scale by construction)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark.jobs import Task, run_task
from mutualfuse.benchmark.sources import Source
from mutualfuse.evaluation import read_gray
from mutualfuse.metrics import METRICS

pytest.importorskip("pydicom")

ROW = Source(id="folder:dark", label="Dark", kind="method", method="dwt", code_sha256="c" * 64)


def test_a_dark_windowed_dicom_row_is_scored_as_evaluate_scores_it(tmp_path):
    from tests.test_s22_dicom_pipeline import _dicom

    rng = np.random.default_rng(0)
    paths = {}
    for name in ("a", "b"):
        paths[name] = _dicom(tmp_path / f"{name}.dcm", rng.integers(0, 100, (32, 32)), bits_stored=16,
                             WindowCenter=32768, WindowWidth=65536, RescaleSlope=1, RescaleIntercept=0)
    paths["f"] = tmp_path / "f.png"
    Image.fromarray(rng.integers(0, 3, (32, 32)).astype(np.uint8)).save(paths["f"])
    A, B = read_gray(paths["a"]), read_gray(paths["b"])
    assert 0 < A.max() < 1 and 0 < B.max() < 1  # the case: a dark 0-255 read, not a 0-1 image
    keys = ("EN@vifb", "SD@vifb", "Qabf@vifb")
    t = Task(ROW, "dark", "01", str(paths["a"]), str(paths["b"]), "a" * 64, "b" * 64, keys,
             str(tmp_path / "cache"), "cpu", fused_file=str(paths["f"]))
    r = run_task(t)
    assert r.error is None, r.error
    F = np.asarray(Image.open(paths["f"]))
    for k in keys:
        want = float(METRICS.get(k).unchecked(A, B, F))  # the metric itself, as evaluate calls it
        assert np.isclose(r.values[k], want, rtol=1e-9, atol=0), (k, r.values[k], want)
