"""scripts/attention_stats.py: an unknown --pairs sample, --weights or --task is a one-line usage
error (exit 2), not a FileNotFoundError / ParameterError traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv, said", [
    (["--pairs", "1"], "--pairs: no bundled sample pair '1' (samples: ct-mr-c01, lytro-01, tno-01)"),
    (["--weights", "no-such-weights"], "unknown method or weights 'no-such-weights'"),
    (["--weights", "average"], "is a classical method"),
    (["--task", "nope"], "unknown task 'nope'"),
])
def test_usage_error(argv, said):
    r = subprocess.run([sys.executable, str(ROOT / "scripts/attention_stats.py"), *argv], capture_output=True,
                       text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=60)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert "Traceback" not in r.stderr and said in r.stderr.splitlines()[-1], r.stderr
