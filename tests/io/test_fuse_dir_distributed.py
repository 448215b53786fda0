"""``mutualfuse fuse-dir`` under torchrun: 2 gloo CPU processes shard the pairs disjointly.

The union of the two ranks' outputs must equal a single-process run pixel for pixel, a bad pair
is reported once (by rank 0's summary, exit 2), and a resumed run redoes only what is missing.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli.fuse_dir import shard

pytestmark = pytest.mark.slow  # three process launches with torch imports (~40 s on 2 cores)


def _png(path: Path, arr: np.ndarray) -> None:
    Image.fromarray(arr).save(path)


def _pairs(tmp_path: Path, samples: Path) -> tuple[Path, Path]:
    """5 good pairs cut from a bundled sample (odd count: shards of 3 and 2) + 1 size mismatch."""
    a = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("L"))
    b = np.asarray(Image.open(samples / "tno-01" / "b.png").convert("L"))
    da, db = tmp_path / "A", tmp_path / "B"
    da.mkdir()
    db.mkdir()
    for i in range(5):
        y, x = 17 * i, 23 * i
        _png(da / f"p{i}.png", np.ascontiguousarray(a[y:y + 40, x:x + 52]))
        _png(db / f"p{i}.png", np.ascontiguousarray(b[y:y + 40, x:x + 52]))
    _png(da / "p9.png", np.zeros((40, 52), np.uint8))
    _png(db / "p9.png", np.zeros((41, 52), np.uint8))  # size mismatch: fails on whichever rank has it
    return da, db


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)


def _torchrun(n: int, args: list[str]) -> subprocess.CompletedProcess:
    return _run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={n}",
                 "-m", "mutualfuse", *args])


def _pixels(folder: Path) -> dict[str, np.ndarray]:
    return {p.name: np.asarray(Image.open(p)) for p in sorted(folder.iterdir())}


def test_shard_is_disjoint_and_covering():
    items = list(range(11))
    shards = [shard(items, r, 3) for r in range(3)]
    assert shards == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]
    assert sorted(x for s in shards for x in s) == items


def test_torchrun_two_ranks_equal_single_process_and_resume(tmp_path, samples, lively_weights):
    da, db = _pairs(tmp_path, samples)
    common = ["--weights", str(lively_weights), "--device", "cpu"]
    single = _run([sys.executable, "-m", "mutualfuse", "fuse-dir", str(da), str(db), "-o", str(tmp_path / "one"),
                   *common])
    assert single.returncode == 2, single.stderr
    assert "fused 5, skipped 0 already done, failed 1" in single.stdout

    two = tmp_path / "two"
    r = _torchrun(2, ["fuse-dir", str(da), str(db), "-o", str(two), *common])
    assert r.returncode != 0  # the mismatched pair: exit 2 on every rank (torchrun reports the failure)
    # one summary for the whole run (rank 0), counting both shards; the failure listed once
    assert r.stdout.count("fused 5, skipped 0 already done, failed 1") == 1, r.stdout + r.stderr
    assert r.stderr.count("1 pair(s) failed") == 1
    assert r.stderr.count("p9.png: size mismatch") == 1
    one_px, two_px = _pixels(tmp_path / "one"), _pixels(two)
    assert sorted(two_px) == [f"p{i}.png" for i in range(5)] == sorted(one_px)
    for name in one_px:
        np.testing.assert_array_equal(two_px[name], one_px[name], err_msg=name)
    assert len({v.tobytes() for v in one_px.values()}) == 5  # the comparison is not vacuous

    # resume: remove one output of each rank's shard (p0 → rank 0, p3 → rank 1), drop the bad pair
    (da / "p9.png").unlink()
    (db / "p9.png").unlink()
    keep = (two / "p1.png").stat().st_mtime_ns
    (two / "p0.png").unlink()
    (two / "p3.png").unlink()
    r = _torchrun(2, ["fuse-dir", str(da), str(db), "-o", str(two), *common])
    assert r.returncode == 0, r.stderr
    assert "fused 2, skipped 3 already done, failed 0" in r.stdout
    assert (two / "p1.png").stat().st_mtime_ns == keep
    again = _pixels(two)
    for name in one_px:
        np.testing.assert_array_equal(again[name], one_px[name], err_msg=name)
