"""Session 21 (lead): evaluate names infinite values; Q_SF's flat-source answers without a
RuntimeWarning; Q_P's threshold checked."""
from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
from PIL import Image

from mutualfuse.errors import ParameterError
from mutualfuse.metrics import qp, qsf


def _pairs(tmp_path):
    rng = np.random.default_rng(0)
    for n in ("1", "2"):
        x = np.full((64, 64), 100, np.uint8) if n == "1" else rng.integers(0, 256, (64, 64), dtype=np.uint8)
        for d in "abf":
            (tmp_path / d).mkdir(exist_ok=True)
            Image.fromarray(x).save(tmp_path / d / f"{n}.png")


def test_evaluate_notes_infinite_values(tmp_path):
    _pairs(tmp_path)
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "evaluate", "--a", str(tmp_path / "a"), "--b",
                        str(tmp_path / "b"), "--fused", str(tmp_path / "f"), "--metrics", "PSNR@vifb", "Qsf@liu"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    notes = [ln for ln in r.stderr.splitlines() if ln.startswith("note:") and "infinite" in ln]
    assert len(notes) == 1, r.stderr
    # F = A = B on both pairs: PSNR is +inf for both images, and said so with its images
    assert "2 value(s) are infinite" in notes[0] and "PSNR@vifb for 1, 2" in notes[0]
    assert "Qsf" not in notes[0]  # Q_SF of flat A = B = F is NaN (the NaN note), of the random pair 0


def test_evaluate_no_infinite_note_without_them(tmp_path):
    _pairs(tmp_path)
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "evaluate", "--a", str(tmp_path / "a"), "--b",
                        str(tmp_path / "b"), "--fused", str(tmp_path / "f"), "--metrics", "SF@vifb"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "infinite" not in r.stderr


def test_qsf_flat_sources_without_warning():
    a = np.full((32, 32), 100.0)
    f = np.random.default_rng(1).integers(0, 256, (32, 32)).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert qsf(a, a, f) == math.inf
        assert math.isnan(qsf(a, a, a))


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1, float("nan"), float("inf"), "0.1", None, True])
def test_qp_threshold_refused(bad):
    a = np.random.default_rng(2).integers(0, 256, (16, 16)).astype(float)
    with pytest.raises(ParameterError, match="threshold"):
        qp(a, a, a, threshold=bad)


def test_qp_threshold_in_range_accepted():
    a = np.random.default_rng(3).integers(0, 256, (32, 32)).astype(float)
    assert qp(a, a, a, threshold=0.1) == qp(a, a, a)
    assert np.isfinite(qp(a, a, a, threshold=0.0))
