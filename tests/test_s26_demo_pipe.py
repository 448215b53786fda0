"""``make demo | tee log`` (or a CI log): each pair's line comes as that pair is done. The lines
went to a pipe block-buffered, so nothing showed until every pair was fused."""
from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import mutualfuse

CHILD = r"""
import os, sys, time
import mutualfuse.cli.fuse as F
from mutualfuse.cli import main

started, go, out = sys.argv[1:4]
real, calls = F.fuse_files, []


def gated(*a, **k):  # the second pair waits until the test has looked at stdout
    calls.append(a[1])
    if len(calls) == 2:
        open(started, "w").close()
        t = time.monotonic()
        while not os.path.exists(go) and time.monotonic() - t < 120:
            time.sleep(0.05)
    return real(*a, **k)


F.fuse_files = gated
sys.exit(main(["demo", "-o", out, "--device", "cpu", "--pair", "ct-mr-c01", "--pair", "tno-01"]))
"""


def test_the_first_pairs_line_reaches_a_pipe_before_the_second_pair_is_fused(tmp_path):
    started, go, out = tmp_path / "started", tmp_path / "go", tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as a user's shell has it
    env.update(OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(Path(mutualfuse.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]))
    p = subprocess.Popen([sys.executable, "-c", CHILD, str(started), str(go), str(out)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=env)
    try:
        t = time.monotonic()
        while not started.exists() and p.poll() is None and time.monotonic() - t < 300:
            time.sleep(0.05)
        assert started.exists(), p.communicate()
        ready, _, _ = select.select([p.stdout], [], [], 20)  # the line is written before the second call
        early = os.read(p.stdout.fileno(), 65536).decode() if ready else ""
    finally:
        go.touch()
        rest, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert early.startswith(str((out / "ct-mr-c01-fused.png").resolve()) + "  ("), (early, rest)
    assert "tno-01" not in early
