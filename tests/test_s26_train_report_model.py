"""s26: scripts/report_model.py scored five hard-coded metric keys (EN, SD, SF, AG, Qabf of VIFB).
It now takes its columns as ``mutualfuse evaluate`` does (``--metrics`` / ``--profile`` through
mutualfuse.evaluation.select_metrics), the five staying the default under their short names; an
unknown metric and a missing ``--log`` are one line before any pair is fused (the log was read
last, after the table and figures had been written)."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from script_module import ROOT, load

from mutualfuse.evaluation import select_metrics


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "report_model.py"), *argv], capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300)


def _tno(root: Path, n: int = 2) -> Path:
    rng = np.random.default_rng(3)
    for i in range(n):
        for role in ("ir", "vis"):
            (root / "ir-vis" / "tno" / role).mkdir(parents=True, exist_ok=True)
            im = (rng.random((72, 80)) * 255).astype(np.uint8)
            Image.fromarray(im).save(root / "ir-vis" / "tno" / role / f"{i + 1:02d}.png")
    return root


def test_the_columns_are_the_evaluate_command_s():
    mod = load("scripts/report_model.py")
    assert mod.columns(None, None) == {"EN": "EN@vifb", "SD": "SD@vifb", "SF": "SF@vifb", "AG": "AG@vifb",
                                       "Qabf": "Qabf@vifb"}  # the docs' TNO tables
    assert mod.columns(None, ["paper"]) == select_metrics(None, "paper")
    assert mod.columns(["Qabf", "SF@vifb"], None) == {"Qabf": "Qabf@vifb", "SF": "SF@vifb"}


def test_a_profile_gives_the_table_its_columns(tmp_path):
    root = _tno(tmp_path / "data")
    r = _run("--weights", "default", "--data-root", str(root), "--out", str(tmp_path / "out"), "--name", "t",
             "--profile", "paper", "--metrics", "AG@vifb")
    assert r.returncode in (0, 1), r.stderr  # 1: the model does not beat the average on every column
    want = [*select_metrics(["AG@vifb"], "paper")]
    with open(tmp_path / "out" / "tno_t.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["pair", "method", *want]
    assert len(rows) == 1 + 2 * 2
    assert f"| ir-vis/tno (2 pairs), mean | {' | '.join(want)} |" in r.stdout
    beats = next(x for x in r.stdout.splitlines() if x.startswith("model beats average on: "))
    assert [x.split("=")[0] for x in beats.split(": ", 1)[1].split(", ")] == want


def test_an_unknown_metric_or_a_missing_log_is_one_line_before_any_work(tmp_path):
    root = _tno(tmp_path / "data", n=1)
    for argv, said in ((["--metrics", "NoSuchMetric"], "NoSuchMetric"),
                       (["--log", str(tmp_path / "none.csv")], f"{tmp_path / 'none.csv'}: training log not found")):
        r = _run("--data-root", str(root), "--out", str(tmp_path / "out"), *argv)
        assert r.returncode == 2, r.stderr
        assert r.stderr.startswith("report_model.py: error: ") and r.stderr.count("\n") == 1, r.stderr
        assert said in r.stderr and "Traceback" not in r.stderr
        assert not (tmp_path / "out").exists()  # nothing written
