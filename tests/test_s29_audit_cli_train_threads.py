"""``mutualfuse train --threads N`` (or ``threads:`` in a config) above 1024 is refused in one line,
exit 2, nothing written. Until 2026-12-07 any count was taken: ``--threads 100000`` (a typo) made
torch start that many OpenMP threads and the run died with libgomp's 'Thread creation failed'
(exit 1) or a segmentation fault (exit 139). Run in a subprocess: the old code crashes."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.train import TrainConfig

from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data


def test_an_absurd_thread_count_is_one_line_exit_2(tmp_path):
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "train", "--config", str(cfg), "--data-root", str(root),
                        "--threads", "100000", "-q"], capture_output=True, text=True, env=env, timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), (r.returncode, r.stderr)
    assert "--threads" in lines[0] and "at most 1024" in lines[0] and "100000" in lines[0]
    assert not (tmp_path / "out").exists()


def test_the_bound_in_a_config_and_the_largest_count_taken(tmp_path):
    from mutualfuse.train.config import MAX_THREADS

    with pytest.raises(ParameterError, match=r"threads must be an integer >= 1 \(at most 1024\)"):
        _load(tmp_path, MAX_THREADS + 1)
    _load(tmp_path, MAX_THREADS)  # accepted


def _load(tmp_path, threads):
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"threads": threads}))
    return TrainConfig.load(p)
