"""Shared helpers of the ``mutualfuse train`` command tests (tests/core/test_train_*.py): a tiny
config, tiny synthetic data sets, and running the command with one-line-refusal checks."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from mutualfuse.cli import main

TINY = {
    "model": {"widths": [4, 8, 8], "depth": 3},
    "data": {"sets": ["s"], "val_pairs": 1, "crop": 16},
    "batch_size": 2,
    "steps": 2,
    "checkpoint_every": 1,
    "val_every": 0,
    "log_every": 1,
    "threads": 1,
}


def png(path: Path, h: int, w: int, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w), dtype=np.uint8)).save(path)


def data(root: Path, n: int = 6, size: tuple[int, int] = (24, 32), name: str = "s", seed: int = 0) -> Path:
    """``root/<name>/{ir,vis}/NN.png``: ``n`` random pairs of ``size`` (h, w); pair i from seeds
    ``seed + 2i`` and ``seed + 2i + 1`` (two sets of one root need different ``seed``s: byte-identical
    pairs are refused)."""
    for i in range(n):
        png(root / name / "ir" / f"{i:02d}.png", *size, seed=seed + 2 * i)
        png(root / name / "vis" / f"{i:02d}.png", *size, seed=seed + 2 * i + 1)
    return root


def cfg(path: Path, out: Path, **over) -> Path:
    """TINY with ``over`` (``data.KEY`` for the data section) and ``out_dir`` = ``out``, as JSON."""
    d = json.loads(json.dumps(TINY))
    for k, v in over.items():
        if k.startswith("data."):
            d["data"][k[5:]] = v
        else:
            d[k] = v
    d.setdefault("out_dir", str(out))
    path.write_text(json.dumps(d))
    return path


def train(capsys, *args: str) -> tuple[int, str, str]:
    rc = main(["train", *args, "--no-progress"])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def refused(capsys, args: list[str], must: list[str]) -> str:
    """Run ``train args``: exit 2, one ``mutualfuse: error:`` line holding every string of ``must``, no stdout."""
    rc, out, err = train(capsys, *args)
    lines = err.strip().splitlines()
    assert rc == 2, err
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), err
    assert "internal error" not in err and "Traceback" not in err
    for m in must:
        assert m in lines[0], (m, lines[0])
    assert out == ""
    return lines[0]


def run_gloo_ranks(args_per_rank: list[list[str]], timeout: float = 180) -> list[tuple[str, int]]:
    """Run ``python -m mutualfuse train ARGS --no-progress --device cpu -q`` as the ranks of one
    ``torchrun``-style gloo job on this machine (rank r gets ``args_per_rank[r]``); → each rank's
    (stderr, exit status). Ranks still running at ``timeout`` are killed."""
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    world = len(args_per_rank)
    procs = []
    for rank, args in enumerate(args_per_rank):
        env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=port, WORLD_SIZE=str(world), RANK=str(rank),
                   LOCAL_RANK=str(rank), OMP_NUM_THREADS="1")
        procs.append(subprocess.Popen([sys.executable, "-m", "mutualfuse", "train", *args, "--no-progress",
                                       "--device", "cpu", "-q"], env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        return [(p.communicate(timeout=timeout)[1], p.returncode) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def trained_weights(base: Path, run: str = "run", **over) -> str:
    """A tiny run (``TINY``, 6 random 24x32 pairs under ``base/d``, 2 steps unless ``over`` says;
    ``over`` as for :func:`cfg`) trained into ``base/run``; → its ``final.safetensors``. For tests
    that need weights written by ``mutualfuse train`` (e.g. with ``data.normalize`` recorded)."""
    root = base / "d" if (base / "d").is_dir() else data(base / "d", n=6, size=(24, 32))
    c = cfg(base / f"{run}.json", base / run, **{"data.root": str(root), "steps": 2, **over})
    rc = main(["train", "--config", str(c), "--no-progress"])
    assert rc == 0, f"tiny training run {run} failed ({rc})"
    return str(base / run / "final.safetensors")
