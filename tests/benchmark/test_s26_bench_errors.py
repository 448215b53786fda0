"""Session 26 (audit of benchmarks/ as a user checking the speed claims): every script's bad input
is ONE line ``SCRIPT: error: …`` on stderr, exit status 2, nothing on stdout, before any work.

Before: a missing data root was exit status 1 (``bench_fuse_dir``, ``bench_quality``,
``bench_stack``) or a usage block plus the error (``bench_half``); ``bench_fuse`` ignored
``MUTUALFUSE_DATA`` and silently read ``<repo>/../shared``; a count of 0 (``--repeat 0``, ``--reps 0``,
``--steps 0``) was a traceback, or a ``FAILED`` row per child with exit status 0; ``--json`` into a
missing folder was a traceback after the whole run; ``--device nonsense`` failed in every child
and then raised in the parent."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MUTUALFUSE_DATA", "MUTUALFUSE_SHARED")}
    env.update(OMP_NUM_THREADS="1", **extra)
    return env


def _one_line_error(argv: list[str], env: dict[str, str], *needles: str, cwd: Path | None = None) -> str:
    script = argv[0]
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *argv[1:]], capture_output=True,
                       text=True, env=env, timeout=120, cwd=cwd)
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith(f"{script}: error: ") and r.stderr.count("\n") == 1, r.stderr
    for n in needles:
        assert n in r.stderr, (n, r.stderr)
    return r.stderr


NEEDS_DATA = [
    ["bench_fuse_dir.py"],
    ["bench_quality.py", "--sets", "medical"],
    ["bench_stack.py", "--quick"],
    ["bench_half.py", "--pairs", "08"],
    ["bench_fuse.py", "deviation", "--sets", "tno"],
]


@pytest.mark.parametrize("argv", NEEDS_DATA, ids=lambda a: a[0])
def test_no_data_root_is_one_line(argv, tmp_path):
    _one_line_error(argv, _env(), "no data root", "MUTUALFUSE_DATA", cwd=tmp_path)


@pytest.mark.parametrize("argv", NEEDS_DATA, ids=lambda a: a[0])
def test_a_data_root_that_is_not_there_is_one_line_naming_it(argv, tmp_path):
    gone = tmp_path / "no-such-root"
    _one_line_error(argv, _env(MUTUALFUSE_DATA=str(gone)), str(gone), "from MUTUALFUSE_DATA")


@pytest.mark.parametrize("argv", [
    ["bench_fuse.py", "speed", "--sizes", "16x16", "--no-peers", "--reps", "1", "--threads", "1",
     "--exact-max-pixels", "0", "--naive-max-gb", "0"],
    ["bench_baselines.py", "--methods", "average", "--sizes", "256", "--repeat", "1"],
    ["bench_gtf.py", "--size", "16x16", "--repeat", "1"],
], ids=lambda a: a[0])
def test_optional_data_root_named_but_missing_is_not_passed_over(argv, tmp_path):
    """Scripts that can run on the bundled sample refuse a data root that is named but missing,
    rather than time another input than the one asked for."""
    gone = tmp_path / "no-such-root"
    _one_line_error(argv, _env(MUTUALFUSE_DATA=str(gone)), str(gone), "from MUTUALFUSE_DATA")


@pytest.mark.parametrize("argv, said", [
    (["bench_baselines.py", "--repeat", "0"], "--repeat: at least 1, got 0"),
    (["bench_gtf.py", "--repeat", "0"], "--repeat: at least 1, got 0"),
    (["bench_layout.py", "--reps", "0"], "--reps: at least 1, got 0"),
    (["bench_metrics.py", "--repeat", "0"], "--repeat: at least 1, got 0"),
    (["bench_fuse.py", "speed", "--reps", "0"], "--reps: at least 1, got 0"),
    (["bench_half.py", "--reps", "0"], "--reps: at least 1, got 0"),
    (["bench_train.py", "--steps", "0"], "--steps: at least 1, got 0"),
    (["bench_train.py", "--batches", "0"], "--batches '0'"),
    (["profile_train_step.py", "--steps", "0"], "--steps: at least 1, got 0"),
    (["bench_fuse_dir.py", "--repeat", "0"], "--repeat: at least 1, got 0"),
    (["bench_quality.py", "-j", "0"], "at least 1, got 0"),
    (["bench_train.py", "--device", "nonsense"], "--device 'nonsense'"),
    (["profile_train_step.py", "--device", "nonsense"], "--device 'nonsense'"),
    (["bench_fuse.py", "speed", "--device", "nonsense"], "--device 'nonsense'"),
    (["bench_layout.py", "--size", "64"], "--size '64'"),  # argparse's usage block used to come first
])
def test_bad_arguments_are_one_line(argv, said, tmp_path):
    _one_line_error(argv, _env(MUTUALFUSE_DATA=str(tmp_path)), said)


@pytest.mark.parametrize("argv", [
    ["bench_metrics.py", "--sizes", "32x32", "--repeat", "1", "--metrics", "EN@rfn-nest", "--octave", ""],
    ["bench_baselines.py", "--methods", "average", "--sizes", "256", "--repeat", "1"],
    ["bench_fuse.py", "speed", "--sizes", "16x16", "--no-peers", "--reps", "1"],
], ids=lambda a: a[0])
def test_json_into_a_missing_folder_is_refused_before_any_work(argv, tmp_path):
    target = tmp_path / "no-such-folder" / "t.json"
    _one_line_error(argv + ["--json", str(target)], _env(), "--json", str(target))
    assert not target.parent.exists()
