"""Bad arguments to the benchmark scripts are one-line usage errors (exit 2) before anything is
timed, not a traceback or a FAILED row per child process with exit 0."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script, argv, said", [
    ("bench_fuse.py", ["speed", "--weights", "no-such-weights"], "--weights: no-such-weights: weights file not found"),
    ("bench_fuse.py", ["speed", "--sizes", "64"], "--sizes: '64' is not WxH"),
    ("bench_fuse.py", ["deviation", "--sets", "tno,foo"], "--sets: unknown set 'foo'"),
    ("bench_layout.py", ["--size", "64"], "--size '64'"),
    ("bench_half.py", ["--data", ".", "--levels", "x"], "--levels 'x'"),
    ("bench_half.py", ["--data", ".", "--pairs", "1"], "ir-vis/tno/ir/1.png: no such file"),
    ("bench_train.py", ["--recipes", "paper,no-such-recipe"], "no configs/no-such-recipe.yaml"),
    ("bench_train.py", ["--recipes", "paper", "--baseline-rev", "no-such-rev"], "not a commit of this repository"),
    ("bench_train.py", ["--batches", "x"], "--batches 'x'"),
    ("profile_train_step.py", ["--recipes", "no-such-recipe"], "no configs/no-such-recipe.yaml"),
    ("bench_fuse_dir.py", ["--procs", "1,x"], "--procs: expected comma-separated integers"),
    ("bench_fuse_dir.py", ["--procs", "0"], "--procs: every process count must be at least 1"),
])
def test_usage_error(script, argv, said):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *argv], capture_output=True, text=True,
                       env=env, timeout=60)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert "Traceback" not in r.stderr and said in r.stderr.splitlines()[-1], r.stderr


def test_bench_gtf_size():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_gtf.py"), "--size", "64"], capture_output=True,
                       text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--size '64'" in r.stderr, r.stderr


@pytest.mark.parametrize("argv, said", [
    (["--methods", "no-such-method"], "--methods 'no-such-method': unknown method or weights"),
    (["--methods", "lp:seq"], "'sequential' or 'tree'"),
    (["--sizes", "1"], "at least 2 images"),
])
def test_bench_stack(tmp_path, argv, said):
    (tmp_path / "ir-vis/msrs-sample/vis").mkdir(parents=True)  # an empty set: no image is read
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks/bench_stack.py"), "--data-root", str(tmp_path), *argv],
                       capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=60)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert "Traceback" not in r.stderr and said in r.stderr.splitlines()[-1], r.stderr
