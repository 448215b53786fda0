"""s31: every metric table's CSV has a sidecar ``tables/<id>.csv.meta.json``.

A researcher loading ``tables/table3.csv`` with pandas saw headings like ``EI ↑`` and nothing
more: not which registered metric (``SF`` of the paper or of VIFB?), its convention, whether it
is checked against its reference code, nor the mutualfuse version (the .md / .tex carry these in
their notes). ``evaluate --out X.csv`` writes ``X.csv.meta.json`` for this; the benchmark now
writes the same record beside each table's CSV, and lists it among the run's planned outputs (so
that a stale one from an older run is not taken for this run's)."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from mutualfuse import __version__
from mutualfuse.cli import main


def test_each_table_csv_has_a_meta_sidecar(tmp_path):
    rng = np.random.default_rng(31)
    data = tmp_path / "data"
    for n in ("c01", "c02"):
        for sub in ("medical/ct-mr/a", "medical/ct-mr/b"):
            (data / sub).mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (48, 52)).astype(np.uint8)).save(data / sub / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    out = tmp_path / "out"
    args = (["benchmark", "-q", "--data-root", str(data), "--out", str(out), "--cache", str(tmp_path / "cache"),
               "--tables", "3", "--weights", "none", "--methods", "average", "--fast-metrics",
               "--figures", str(tmp_path / "nofig.yaml")])
    assert main(args) in (0, None)
    table = out / "tables" / "table3.csv"
    meta = json.loads((out / "tables" / "table3.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["mutualfuse_version"] == __version__ and meta["table"] == "table3"
    heads = next(csv.reader(table.open(encoding="utf-8")))[5:-1]
    assert heads and list(meta["metrics"]) == heads  # one record per value column, in order
    for rec in meta["metrics"].values():
        assert set(rec) >= {"key", "direction", "reference", "convention", "checked"}
        assert rec["reference"]
    assert any("mutualfuse " + __version__ in n for n in meta["notes"])
    assert oct(os.stat(out / "tables" / "table3.csv.meta.json").st_mode & 0o777) == oct(os.stat(table).st_mode & 0o777)
    # the derived tables (paper view, runtime) have no metric columns, hence no sidecar
    assert not (out / "tables" / "runtime.csv.meta.json").exists()
    # a second run into the same --out does not name the sidecar among an older run's files
    assert main(args) in (0, None)
    assert "table3.csv.meta.json" not in (out / "summary.md").read_text(encoding="utf-8")
    # ... while a file of no run of this configuration is named
    (out / "tables" / "table9.csv").write_text("x\n")
    assert main(args) in (0, None)
    assert "table9.csv" in (out / "summary.md").read_text(encoding="utf-8")
