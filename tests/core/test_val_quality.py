"""``scripts/val_quality.py``: the mean-rank choice and the paper metrics of the validation pairs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from script_module import load

from mutualfuse.metrics import evaluate_pair
from tolerance import assert_close


def test_mean_ranks_rank_every_column_highest_first_and_share_ties():
    mean_ranks = load("scripts/val_quality.py").mean_ranks
    rows = [{"a": 1.0, "b": 5.0, "c": 2.0}, {"a": 3.0, "b": 5.0, "c": 1.0}, {"a": 2.0, "b": 4.0, "c": 0.0}]
    # a: 3, 1, 2; b: tie of the first two (1.5 each), 3; c: 1, 2, 3
    assert mean_ranks(rows) == [(3 + 1.5 + 1) / 3, (1 + 1.5 + 2) / 3, (2 + 3 + 3) / 3]


def test_paper_metrics_score_the_rounded_fused_image_with_the_paper_profile():
    paper_metrics = load("scripts/val_quality.py").paper_metrics

    class Mean(torch.nn.Module):
        def forward(self, x, y):
            return 0.5 * (x + y)

    rng = np.random.default_rng(0)
    images = [(rng.random((72, 80)).astype(np.float32), rng.random((72, 80)).astype(np.float32)) for _ in range(2)]
    got = paper_metrics(Mean(), images)
    assert list(got) == [f"val_{k}" for k in ("EI", "SF", "EN", "Qabf", "SCD", "MS_SSIM", "MI", "SD", "VIF")]
    want = {}
    for a, b in images:
        a8, b8 = (np.round(x * 255.0).astype(np.uint8) for x in (a, b))
        f8 = np.round(np.clip(0.5 * (a + b), 0, 1) * 255.0).astype(np.uint8)
        for k, v in evaluate_pair(a8, b8, f8, profile="paper").items():
            want.setdefault(k, []).append(v)
    for k, v in want.items():
        assert_close(got[f"val_{k}"], float(np.mean(v)))


def test_val_rank_ranks_rows_of_several_outputs_together(tmp_path):
    """scripts/val_rank.py: rows of two outputs ranked over their common columns, the paper-metric
    duplicates left out, comments and mean-rank lines skipped."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root / "scripts"))
    from val_rank import columns, parse_rows, ranked

    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("# cmd\nm1 T=1  val_sf 9  val_ei 1  val_EI 1  val_SF 3  extra 5\nmean rank over x: m1 1.0\n")
    b.write_text("m2 T=0.1  val_sf 1  val_ei 9  val_EI 2  val_SF 2\nm3  val_sf 5  val_ei 5  val_EI 3  val_SF 1\n")
    rows = parse_rows(a.read_text().splitlines()) + parse_rows(b.read_text().splitlines())
    assert [n for n, _ in rows] == ["m1 T=1", "m2 T=0.1", "m3"]
    assert columns(rows) == ["val_EI", "val_SF"]
    rows[2][1]["val_SF"] = 2.5  # EI ranks m3 1, m2 2, m1 3; SF ranks m1 1, m3 2, m2 3
    assert ranked(rows) == [(1.5, "m3"), (2.0, "m1 T=1"), (2.5, "m2 T=0.1")]
    r = subprocess.run([sys.executable, str(root / "scripts" / "val_rank.py"), str(a), str(b)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.splitlines()[-1] == "(2 columns: val_EI, val_SF)"
    # --task: that task's columns only (ir-vis: the RoadScene pairs' own and tno40's; medical: the medical sets')
    t = tmp_path / "t.txt"
    t.write_text("p T=1  val_sf 1  val_mf_psnr 9  val_EI 1  tno40_EI 1  ct-mr-harvard_EI 9\n"
                 "q T=0.1  val_sf 2  val_mf_psnr 1  val_EI 2  tno40_EI 2  ct-mr-harvard_EI 1\n")
    rows = parse_rows(t.read_text().splitlines())
    assert columns(rows, "ir-vis") == ["tno40_EI", "val_EI"]
    assert columns(rows, "multi-focus") == ["val_mf_psnr"]
    assert columns(rows, "medical") == ["ct-mr-harvard_EI"]
    assert ranked(rows, "ir-vis") == [(1.0, "q T=0.1"), (2.0, "p T=1")]
    assert ranked(rows, "medical") == [(1.0, "p T=1"), (2.0, "q T=0.1")]
    r = subprocess.run([sys.executable, str(root / "scripts" / "val_rank.py"), "--task", "medical", str(t)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.splitlines()[0].split() == ["1.00", "p", "T=1"], r.stdout


def _smooth(rng, h, w):
    from scipy.ndimage import gaussian_filter

    return gaussian_filter(rng.random((h, w)), 6)


def _write_pair(folder, name, a, b):
    from PIL import Image

    for role, img in (("ir", a), ("vis", b)):
        (folder / role).mkdir(parents=True, exist_ok=True)
        lo, hi = img.min(), img.max()
        Image.fromarray(np.round((img - lo) / (hi - lo) * 255).astype(np.uint8)).save(folder / role / name)


def test_near_duplicates_find_copies_and_rescaled_crops_not_other_scenes(tmp_path):
    from PIL import Image

    from mutualfuse.errors import ParameterError
    from mutualfuse.train.data import find_pairs, near_duplicates

    rng = np.random.default_rng(3)
    test_a, test_b = _smooth(rng, 120, 160), _smooth(rng, 120, 160)
    _write_pair(tmp_path / "test", "01.png", test_a, test_b)
    # a copy; a 0.8× rescaled crop (only its visible image repeats the test pair); another scene
    _write_pair(tmp_path / "val", "copy.png", test_a, test_b)
    crop = np.asarray(Image.fromarray(test_b[4:116, 5:155].astype(np.float32), mode="F").resize((120, 90)), np.float64)
    _write_pair(tmp_path / "val", "crop.png", _smooth(rng, 90, 120), crop)
    _write_pair(tmp_path / "val", "other.png", _smooth(rng, 90, 120), _smooth(rng, 90, 120))
    val, test = find_pairs(tmp_path / "val"), find_pairs(tmp_path / "test")
    dup = near_duplicates(val, test)
    assert [p[0].name for p, _, _ in dup] == ["copy.png", "crop.png"]
    assert all(r == test[0] for _, _, r in dup)
    assert dup[0][1] > 0.99 and 0.8 <= dup[1][1] < 1.0
    with pytest.raises(ParameterError, match="threshold"):
        near_duplicates(val, test, threshold=0.0)
