"""Audit s17: several processes (the ``torchrun`` environment, two gloo ranks on CPU) that do not
see the same files.

Under ``torchrun --nnodes`` each node reads its own copy of the data and, unless the folder is
shared, its own ``--out``. Every rank draws its shard of the epoch from its own list of pairs, and
resumes from its own checkpoint:

* ranks that found different pairs (a node's copy with a pair more) trained without a word, on
  shards drawn from two different permutations (exit 0);
* with ``--resume``, a rank whose ``--out`` had no checkpoint started at step 0 with fresh
  weights while rank 0 continued from its checkpoint: rank 0 wrote a checkpoint and final
  weights trained with gradients averaged against another network, then waited forever for
  the other rank.

Both are refused on every rank, exit 2, before any step, in one line for the run (s27: said once
where the processes share a terminal).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys

from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data
from train_cli_helpers import png as _png
from train_cli_helpers import train as _train


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _two_ranks(args0: list[str], args1: list[str]) -> list[tuple[int, str]]:
    """Run ``mutualfuse train`` as rank 0 and rank 1 of a 2-process gloo group; (rc, stderr) each."""
    port = str(_free_port())
    procs = []
    for rank, args in enumerate((args0, args1)):
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=port, WORLD_SIZE="2", RANK=str(rank),
                   LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen([sys.executable, "-m", "mutualfuse", "train", *args, "--no-progress",
                                       "--device", "cpu"], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    out = []
    try:
        for p in procs:
            _, err = p.communicate(timeout=180)
            out.append((p.returncode, err))
    finally:
        for p in procs:  # a hang (the old behaviour of the resume case) must not outlive the test
            if p.poll() is None:
                p.kill()
                p.wait()
    return out


def _one_line(err: str) -> str:
    lines = [x for x in err.strip().splitlines() if x.startswith("mutualfuse: error: ")]
    assert len(lines) == 1 and "Traceback" not in err and "internal error" not in err, err
    return lines[0]


def test_ranks_that_found_different_pairs_are_refused(tmp_path):
    a = _data(tmp_path / "a")
    b = _data(tmp_path / "b")
    _png(b / "s" / "ir" / "06.png", 24, 32, seed=90)  # this node's copy has one pair more
    _png(b / "s" / "vis" / "06.png", 24, 32, seed=91)
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    got = _two_ranks(["--config", str(c), "--data-root", str(a)], ["--config", str(c), "--data-root", str(b)])
    assert [rc for rc, _ in got] == [2, 2], got
    line = _one_line("".join(err for _, err in got))
    assert "processes found different training data: rank 0 6 pairs in" in line and "rank 1 7 in" in line
    assert not (tmp_path / "out").exists()


def test_ranks_that_found_the_same_pairs_in_two_copies_train(tmp_path):
    a = _data(tmp_path / "a")
    b = _data(tmp_path / "b")  # the same files, another folder (another node's copy)
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    got = _two_ranks(["--config", str(c), "--data-root", str(a)], ["--config", str(c), "--data-root", str(b)])
    assert [rc for rc, _ in got] == [0, 0], got
    assert (tmp_path / "out" / "final.safetensors").is_file()


def test_ranks_that_resume_different_checkpoints_are_refused(tmp_path, capsys):
    root = _data(tmp_path / "d")
    c = _cfg(tmp_path / "c.json", tmp_path / "shared")
    assert _train(capsys, "--config", str(c), "--data-root", str(root), "-q")[0] == 0  # step 2
    common = ["--config", str(c), "--data-root", str(root), "--resume", "--steps", "4"]
    got = _two_ranks(common + ["-o", str(tmp_path / "shared")], common + ["-o", str(tmp_path / "node2")])
    assert [rc for rc, _ in got] == [2, 2], got
    line = _one_line("".join(err for _, err in got))
    assert f"rank 0 resumes {tmp_path / 'shared' / 'last.ckpt'} at step 2" in line
    assert f"rank 1 found no checkpoint in {tmp_path / 'node2'}" in line
    assert not (tmp_path / "shared" / "log.csv").read_text().count("\n3,")  # no step taken
