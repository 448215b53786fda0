"""s30 reproduction audit: the best-value marks with an infinite value.

PSNR@vifb of a fused image equal to its (identical) sources is +inf, the best PSNR there is. The
terminal table's ``*`` and the ``.md`` / ``.tex`` / benchmark tables' marks passed infinite values
over and marked the best *finite* value as the best: a table that said another method won."""
from __future__ import annotations

import math

import numpy as np
from PIL import Image

from mutualfuse.benchmark.table import Column, Row, Table, read_markdown, to_markdown
from mutualfuse.cli import main

RNG = np.random.default_rng(32)


def test_table_ranks_an_infinite_value_by_the_column_direction():
    cols = [Column("PSNR", "PSNR@vifb", True), Column("RMSE", "RMSE@vifb", False), Column("Qsf", "Qsf@liu", None)]
    rows = [Row("same", "same", {"PSNR": math.inf, "RMSE": 0.5, "Qsf": math.inf}),
            Row("x", "x", {"PSNR": 30.0, "RMSE": 0.25, "Qsf": 0.1}),
            Row("y", "y", {"PSNR": 20.0, "RMSE": 0.75, "Qsf": math.nan})]
    t = Table("t", "T", cols, rows, marking="bold")
    ranks = t.ranks()
    assert ranks.get(("same", "PSNR")) == 1 and ("x", "PSNR") not in ranks  # +inf is the highest PSNR
    assert ranks.get(("x", "RMSE")) == 1
    assert ranks.get(("x", "Qsf")) == 1 and ("same", "Qsf") not in ranks  # inf is the farthest from 0
    assert ("y", "Qsf") not in ranks  # NaN: no mark
    back = read_markdown(to_markdown(t))
    assert back.values["same"][0] == math.inf and back.styles["same"][0] == "bold"
    assert back.styles["x"][0] is None


def test_evaluate_marks_the_infinite_psnr_as_the_best(tmp_path, capsys):
    src = RNG.integers(0, 256, (40, 48), dtype=np.uint8)
    for d in ("a", "b", "same", "near", "far"):
        (tmp_path / d).mkdir()
    Image.fromarray(src).save(tmp_path / "a" / "01.png")
    Image.fromarray(src).save(tmp_path / "b" / "01.png")
    Image.fromarray(src).save(tmp_path / "same" / "01.png")
    Image.fromarray(np.clip(src.astype(int) + 3, 0, 255).astype(np.uint8)).save(tmp_path / "near" / "01.png")
    Image.fromarray(255 - src).save(tmp_path / "far" / "01.png")
    md = tmp_path / "r.md"
    rc = main(["evaluate", "-q", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"),
               "--fused", str(tmp_path / "same"), "--fused", str(tmp_path / "near"), "--fused", str(tmp_path / "far"),
               "--metrics", "PSNR@vifb", "-o", str(md)])
    out = capsys.readouterr().out
    assert rc == 0
    rows = {ln.split()[0] + " " + ln.split()[1]: ln.split()[2] for ln in out.splitlines()[2:]
            if ln.split() and ln.split()[0] in ("same", "near", "far")}
    assert rows["same mean"] == "inf*" and not rows["near mean"].endswith("*"), out
    text = md.read_text()
    assert "| same | **inf** |" in text and "| near | **" not in text, text
