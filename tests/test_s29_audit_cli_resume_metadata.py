"""A ``--resume`` that runs no step writes the final weights from the checkpoint; they keep the
run's last training loss and validation (the card's ``final loss:`` and ``validation:`` lines),
which the checkpoint recorded. Until 2026-12-07 they were dropped: after a ``--time-limit`` stop
ended with ``--resume --steps K`` (K the step reached), or with the final weights missing (a run
killed after its last checkpoint), the weights, and the checkpoint written again, lost both."""
from __future__ import annotations

import json

import pytest

from mutualfuse.train.checkpoint import LAST, load_checkpoint
from mutualfuse.weights import read_weights

from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data
from train_cli_helpers import train as _train


def _meta(path):
    return read_weights(path)[2]


@pytest.fixture
def finished(tmp_path, capsys):
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", val_every=1)
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root))
    assert rc == 0, err
    return root, cfg, tmp_path / "out"


def test_final_weights_written_from_the_checkpoint_keep_loss_and_validation(finished, capsys):
    root, cfg, out = finished
    before = _meta(out / "final.safetensors")
    assert "final_train_loss" in before and "validation" in before
    (out / "final.safetensors").unlink()
    rc, stdout, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "--resume")
    assert rc == 0, err
    after = _meta(out / "final.safetensors")
    assert after["final_train_loss"] == before["final_train_loss"]
    assert json.loads(after["validation"]) == json.loads(before["validation"])
    run_meta = load_checkpoint(out / LAST)["run_meta"]  # the checkpoint written again keeps them too
    assert run_meta["final_train_loss"] == before["final_train_loss"]
    assert json.loads(run_meta["validation"]) == json.loads(before["validation"])


def test_a_time_limited_run_ended_at_its_step_keeps_loss_and_validation(tmp_path, capsys):
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", steps=1000, val_every=1)
    out = tmp_path / "out"
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "--time-limit", "0.001")
    assert rc == 0 and "time-limit" in err, err
    stopped = _meta(out / "final.safetensors")
    step = int(stopped["steps"])
    assert "stopped" in stopped and "final_train_loss" in stopped and "validation" in stopped
    rc, stdout, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "--resume",
                             "--steps", str(step))
    assert rc == 0, err
    ended = _meta(out / "final.safetensors")
    assert "stopped" not in ended and ended["steps"] == str(step)
    assert ended["final_train_loss"] == stopped["final_train_loss"]
    assert json.loads(ended["validation"]) == json.loads(stopped["validation"])
