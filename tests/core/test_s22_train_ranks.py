"""Processes of a torchrun run whose copies of the data differ in content only (s22 audit).

Each rank draws its shard of the epoch from its own list of pairs; the ranks compared their lists
by names and file sizes (tests/core/test_audit_s17_train_ranks.py), so two nodes' copies where an
image was edited without changing its size trained, on shards of different images. They now
compare the sha256 of the files (the digests checkpoints keep for --resume).
"""
from __future__ import annotations

import shutil

import numpy as np
from PIL import Image

from test_audit_s17_train_ranks import _one_line, _two_ranks
from train_cli_helpers import cfg


def test_ranks_whose_copies_differ_only_in_content_are_refused(tmp_path):
    """Two nodes' copies of the data with the same names and file sizes, one image edited (BMP:
    the size does not change): the ranks compared names and sizes, and trained (exit 0) on
    shards of different images."""
    a = tmp_path / "a"
    for i in range(6):
        for role, seed in (("ir", 2 * i), ("vis", 2 * i + 1)):
            (a / "s" / role).mkdir(parents=True, exist_ok=True)
            img = np.random.default_rng(seed).integers(0, 256, (24, 32), dtype=np.uint8)
            Image.fromarray(img).save(a / "s" / role / f"{i:02d}.bmp")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    edited = b / "s" / "vis" / "03.bmp"
    Image.fromarray(255 - np.asarray(Image.open(edited))).save(edited)
    assert edited.stat().st_size == (a / "s" / "vis" / "03.bmp").stat().st_size
    c = cfg(tmp_path / "c.json", tmp_path / "out")
    got = _two_ranks(["--config", str(c), "--data-root", str(a)], ["--config", str(c), "--data-root", str(b)])
    # said once for the run where the processes share a terminal (s27: train/ranks.py)
    assert [rc for rc, _ in got] == [2, 2], got
    line = _one_line("".join(err for _, err in got))
    assert "processes found different training data: rank 0 6 pairs in" in line, line
    assert "(the same number, other names or contents)" in line, line
    assert not (tmp_path / "out").exists()
