"""scripts/*.py that docs cite: a missing data root, set, log or weights is a one-line error
(exit 2, the library's own message) rather than a FuseError / FileNotFoundError traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script, argv, said", [
    ("val_metrics.py", ["no-such-weights"], "no-such-weights: weights file not found"),
    ("val_quality.py", ["--data-root", "{tmp}/missing"], "missing: data root is not a directory"),
    ("mf_val_metrics.py", ["--data-root", "{tmp}/missing"], "missing: data root is not a directory"),
    ("task_detection.py", ["--data-root", "{tmp}/missing"], "missing: data root is not a directory"),
    ("val_rank.py", ["{tmp}/missing.txt", "{tmp}/missing.txt"], "No such file or directory"),
    ("plot_runs.py", ["{tmp}/missing.csv", "-o", "{tmp}/x.png"], "No such file or directory"),
    ("band_swap.py", ["--data-root", "{tmp}", "--set", "missing"], "No such file or directory"),
    ("pyramid_oracle.py", ["--data-root", "{tmp}"], "No such file or directory"),
    ("report_model.py", ["--data-root", "{tmp}", "--out", "{tmp}/out"], "No such file or directory"),
])
def test_one_line_error(tmp_path, script, argv, said):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *argv], capture_output=True, text=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"{script}: error: ") and said in r.stderr, r.stderr


@pytest.mark.parametrize("script, argv, said", [
    ("ship_variant.py", ["centred", "never-written.safetensors", "no_such_setting=1"], "cannot override ['no_such_setting']"),
    ("ship_run.py", ["{tmp}/no-run", "never-written.safetensors"], "no-run/final.safetensors: weights file not found"),
    ("train_sr_dictionary.py", ["--data", "{tmp}"], "No such file or directory"),
    ("gpu_paper_scale.py", ["--data-root", "{tmp}", "--out", "{tmp}/out", "--work", "{tmp}/work"],
     "no train/roadscene there"),
])
def test_one_line_error_writes_nothing(tmp_path, script, argv, said):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    before = sorted(p.name for p in (ROOT / "src/mutualfuse/weights").iterdir())
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *argv], capture_output=True, text=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=60)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and said in r.stderr.splitlines()[-1], r.stderr
    assert sorted(p.name for p in (ROOT / "src/mutualfuse/weights").iterdir()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no --out / --work folder made
