"""benchmarks/bench_quality.py: an unknown set or baseline, weights that cannot be read, or a data
root without the set's folders is a one-line usage error (exit 2) before anything is fused (it was
a KeyError / FileNotFoundError traceback, or a failure after the first fuse-dir runs)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, said", [
    (["--sets", "foo"], "--sets: unknown set 'foo'"),
    (["--sets", "medical", "--models", "no-such-weights"], "--models 'no-such-weights': no-such-weights: weights file not found"),
    (["--sets", "medical", "--models", "default=missing.safetensors"], "missing.safetensors: weights file not found"),
    (["--sets", "medical", "--models", "default", "--baselines", "nope"], "--baselines: unknown fusion method 'nope'"),
    (["--sets", "medical,mf-truth", "--models", "default"], "medical/ct-mr/a: not a folder"),
])
def test_usage_error(tmp_path, argv, said):
    (tmp_path / "ir-vis/msrs-sample/vis").mkdir(parents=True)  # not the medical set
    if "--sets" in argv and argv[argv.index("--sets") + 1] != "medical,mf-truth":
        for r in ("a", "b"):
            (tmp_path / "medical/ct-mr" / r).mkdir(parents=True)
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_quality.py"), "--data-root", str(tmp_path),
                        "--out", str(out), *argv], capture_output=True, text=True,
                       env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=60)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert "Traceback" not in r.stderr and said in r.stderr.splitlines()[-1], r.stderr
    assert not out.exists()  # nothing fused, no cache folder made
