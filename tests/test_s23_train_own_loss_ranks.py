"""Audit s23: every ``torchrun`` rank of a run with a loss of one's own imports it (each rank runs the
command, ``--import`` included), and the run trains with it (tests/test_s23_train_own_loss.py has
the rest; this one starts two processes, so it is a file of its own)."""
from __future__ import annotations

import json

from train_cli_helpers import cfg, data, run_gloo_ranks


LOSS_SRC = '''
import torch
from mutualfuse.losses import register_loss, var_ssim_loss


@register_loss("s23ranks")
def my_loss(x, y, f):
    return var_ssim_loss(x, y, f) + (f - torch.maximum(x, y)).abs().mean()
'''


def _meta(path):
    from safetensors import safe_open

    with safe_open(str(path), "pt") as fh:
        return dict(fh.metadata())


def test_every_torchrun_rank_imports_the_loss(tmp_path):
    """Two gloo ranks, each running the command with --import: both train with the loss."""
    mod = tmp_path / "s23loss_ranks.py"
    mod.write_text(LOSS_SRC)
    root = data(tmp_path / "d", n=5, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "loss": "s23ranks", "steps": 1})
    results = run_gloo_ranks([["--import", str(mod), "--config", str(c)] for rank in (0, 1)])
    assert all(rc == 0 for _, rc in results), results
    assert json.loads(_meta(out / "final.safetensors")["loss_source"])["loss"] == "s23ranks"
