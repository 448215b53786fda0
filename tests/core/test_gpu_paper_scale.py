"""``scripts/gpu_paper_scale.py`` (issue 10, item 5): a dry run on CPU with tiny settings.

The script is run once on a lent GPU; this checks, on any machine, that it calibrates, trains
every stage of the chains it is given (a later stage starting from the earlier stage's final
weights), and returns one archive with each stage's config, log, weights and checkpoint and a
report of the steps it chose."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def test_dry_run_trains_every_stage_and_returns_one_archive(tmp_path, samples):
    root = tmp_path / "data"
    a = np.asarray(Image.open(samples / "tno-01" / "a.png"))
    b = np.asarray(Image.open(samples / "tno-01" / "b.png"))
    (root / "train/roadscene/ir").mkdir(parents=True)
    (root / "train/roadscene/vis").mkdir(parents=True)
    k = 0
    for y in range(0, 96, 32):
        for x in range(0, 192, 32):  # 18 pairs: 8 held out (the configs' val_pairs), 10 for training
            Image.fromarray(a[y : y + 32, x : x + 32]).save(root / f"train/roadscene/ir/{k:02d}.png")
            Image.fromarray(b[y : y + 32, x : x + 32]).save(root / f"train/roadscene/vis/{k:02d}.png")
            k += 1
    out, work = tmp_path / "out", tmp_path / "work"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts/gpu_paper_scale.py"), "--data-root", str(root), "--out", str(out),
         "--work", str(work), "--device", "cpu", "--chains", "paper-gpu", "default-gpu", "--crop", "32",
         "--batch", "2", "--steps-scale", "0.002", "--calibrate-s", "1", "--budget-s", "400", "--workers", "0",
         "--val-every", "1000", "--profile"],
        capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    with tarfile.open(out / "gpu_runs.tar.gz") as tar:
        names = set(tar.getnames())
        report = json.loads(tar.extractfile("gpu_runs/report.json").read())
        profile = tar.extractfile("gpu_runs/profile.txt").read().decode()
    assert "## gpu/paper-gpu" in profile and "## gpu/default-gpu-s1" in profile and "operators by kind" in profile
    assert report["profile"]["rc"] == 0
    for stage in ("paper-gpu/stage1", "default-gpu/stage1", "default-gpu/stage2"):
        for f in ("config.json", "log.csv", "final.safetensors", "last.ckpt", "stage.json"):
            assert f"gpu_runs/{stage}/{f}" in names, (stage, f)
    assert set(report["chains"]) == {"paper-gpu", "default-gpu"}
    paper, default = report["chains"]["paper-gpu"], report["chains"]["default-gpu"]
    assert paper["nominal_steps"] == [5] and default["nominal_steps"] == [2, 3]  # 2500, 1000, 1500 × 0.002
    assert paper["calibration"]["rc"] == 0 and paper["calibration"]["steps"] >= 1
    assert [s["rc"] for s in default["stages"]] == [0, 0]
    assert default["stages"][1]["weights"]["steps"] == str(default["steps"][1])
    stage2 = json.loads((work / "default-gpu/stage2/config.json").read_text())
    assert stage2["init_weights"] == str(work / "default-gpu/stage1/final.safetensors")
    assert stage2["loss_params"] == {"grad_weight": 5.0} and stage2["data"]["crop"] == 32
