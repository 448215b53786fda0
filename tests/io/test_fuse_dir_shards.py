"""``fuse-dir`` under torchrun: rank 0 decides which pairs are left, so a resumed run's remaining
pairs are split evenly and every rank shards the same list."""
from __future__ import annotations

from mutualfuse.cli.fuse_dir import left_to_do


def _pairs(tmp_path, n=10):
    out = []
    for i in range(n):
        out.append((str(tmp_path / f"a{i}.png"), str(tmp_path / f"b{i}.png"), str(tmp_path / "out" / f"a{i}.png")))
    (tmp_path / "out").mkdir()
    return out


def _mark_done(pairs, idx):
    from pathlib import Path

    for i in idx:
        Path(pairs[i][2]).write_bytes(b"x")


def test_a_resumed_run_splits_the_pairs_left_evenly(tmp_path):
    pairs = _pairs(tmp_path)
    _mark_done(pairs, [0, 2, 4, 6, 8])  # the old scheme's rank 0 shard of 2 ranks: all done
    sent = {}

    def broadcast(obj):  # rank 0 runs first here; every other rank gets rank 0's object
        if obj is not None:
            sent["left"] = obj
        return sent["left"]

    mine0, skipped0 = left_to_do(pairs, False, 0, 2, broadcast)
    mine1, skipped1 = left_to_do(pairs, False, 1, 2, broadcast)
    assert (len(mine0), len(mine1)) == (3, 2)  # was (0, 5): rank 0 idle, rank 1 doing everything
    assert sorted(mine0 + mine1) == [pairs[i] for i in (1, 3, 5, 7, 9)]
    assert (skipped0, skipped1) == (5, 0)  # the skipped pairs are reported once


def test_every_rank_shards_rank_0s_list_not_its_own_view(tmp_path):
    pairs = _pairs(tmp_path, 6)
    sent = {}

    def broadcast(obj):
        if obj is not None:
            sent["left"] = obj
        return sent["left"]

    mine0, _ = left_to_do(pairs, False, 0, 2, broadcast)
    _mark_done(pairs, [0])  # rank 0 has written its first output before rank 1 looks
    mine1, _ = left_to_do(pairs, False, 1, 2, broadcast)
    assert sorted(mine0 + mine1) == sorted(pairs) and not set(mine0) & set(mine1)


def test_one_process_and_overwrite(tmp_path):
    pairs = _pairs(tmp_path, 4)
    _mark_done(pairs, [1])
    assert left_to_do(pairs, False, 0, 1) == ([pairs[0], pairs[2], pairs[3]], 1)
    assert left_to_do(pairs, True, 0, 1) == (pairs, 0)
