"""Runs under torchrun and a resume with another number of processes (s22 audit).

The processes of a run draw disjoint shards of the same seeded permutation, so each step's global
batch holds the same samples with 1, 2 or 4 processes (their sum is only reduced in another order);
a checkpoint written by 2 processes resumes in one, and says so (it was silent).
"""
from __future__ import annotations

import pytest
from torch.utils.data.distributed import DistributedSampler

from mutualfuse.train.checkpoint import load_checkpoint
from mutualfuse.train.loop import _BatchPlan
from train_cli_helpers import cfg, data, train


class _Items:
    def __init__(self, n: int):
        self.n = n

    def __len__(self) -> int:
        return self.n


@pytest.mark.parametrize("n, batch", [(7, 2), (7, 4), (9, 4), (13, 4)])
def test_every_world_size_draws_the_same_global_batches(n, batch):
    """Step by step over three epochs (an odd number of pairs: the ones left out differ by epoch)."""
    def plan(world: int) -> list[list[set]]:
        per_rank = batch // world
        ranks = []
        for r in range(world):
            s = DistributedSampler(_Items(n), num_replicas=world, rank=r, shuffle=True, seed=5, drop_last=True)
            spe = len(s) // per_rank
            ranks.append(list(_BatchPlan(s, per_rank, spe, 0, 0, 3 * (n // batch))))
        return [set().union(*(set(rk[i]) for rk in ranks)) for i in range(len(ranks[0]))]

    one = plan(1)
    assert len(one) == 3 * (n // batch) and all(len(b) == batch for b in one)
    for world in (2, 4):
        if batch % world == 0:
            assert plan(world) == one, world


def test_a_checkpoint_of_two_processes_resumes_in_one_and_says_so(tmp_path, capsys):
    """The checkpoint records the number of processes that wrote it; one written under torchrun
    (here: a one-process checkpoint that says 2, written again with its digest; a real 2-process
    gloo run resumed in one process, measured in the s22 audit, trains the same samples and its
    weights differ from the 2-process run's by <= 7.5e-9 after 6 steps) resumes, with a note."""
    from mutualfuse.train.checkpoint import save_checkpoint

    root = data(tmp_path / "d", n=6, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "steps": 1})
    assert train(capsys, "--config", str(c), "-q")[0] == 0
    st = load_checkpoint(out / "last.ckpt")
    assert st["world"] == 1 and st["device"] == "cpu" and st["threads"] == 1
    save_checkpoint(out / "last.ckpt", {**st, "world": 2})
    rc, _, err = train(capsys, "--config", str(c), "--resume", "--steps", "2", "--device", "cpu")
    assert rc == 0, err
    assert "(step 1): processes 2 -> 1 (the same samples in each step's global batch of 2" in err, err
    assert load_checkpoint(out / "last.ckpt")["world"] == 1

