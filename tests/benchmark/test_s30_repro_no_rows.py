"""s30 reproduction audit: a benchmark run with no row at all.

``--methods none --weights none`` on sets without published images (and no ``--fused`` folder or
method of one's own) wrote tables with a heading and no row, said "wrote …/report.html (1 tables …)"
and exited 0: success reported for nothing computed. It is a one-line error now, before any work,
as ``--tables none`` without ``--sets`` is."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from one_line_error import assert_one_line_error  # noqa: E402


def test_no_row_in_any_table_is_an_error(tmp_path, capsys):
    rng = np.random.default_rng(30)
    for n in ("c01", "c02"):
        for sub in ("a", "b"):
            d = tmp_path / "data" / "medical" / "ct-mr" / sub
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (48, 52)).astype(np.uint8)).save(d / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    out = tmp_path / "out"
    assert_one_line_error(capsys, ["benchmark", "-q", "--data-root", str(tmp_path / "data"), "--out", str(out),
                                   "--cache", str(tmp_path / "cache"), "--tables", "3", "--methods", "none",
                                   "--weights", "none", "--fast-metrics", "--figures", str(tmp_path / "nofig.yaml")],
                          "no row in any table")
    assert not out.exists()
