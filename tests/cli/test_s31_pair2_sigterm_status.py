"""s31: SIGTERM ends a command with exit status 143 (128 + 15), not Ctrl+C's 130.

``kill``, ``timeout``, systemd, Kubernetes and job schedulers stop a process with SIGTERM and
read 128 + signum as "terminated". mutualfuse handles SIGTERM as Ctrl+C (clean-up, an
"interrupted" line, for ``train`` a checkpoint and the step to resume from) but said 130, the
status of Ctrl+C. Ctrl+C stays 130."""
from __future__ import annotations

import signal

from train_cli_helpers import cfg, data

from mutualfuse.cli import main


class _Board:
    """A TensorBoard writer; the signal comes while step ``at`` logs (the loop then stops after
    that step and writes a checkpoint there)."""

    def __init__(self, sig, at: int):
        self.sig, self.at = sig, at

    def add_scalar(self, tag, value, step):
        if tag == "loss/train" and step == self.at:
            signal.raise_signal(self.sig)

    def close(self):
        pass


def _train(tmp_path, capsys, monkeypatch, sig):
    from mutualfuse.train import loop

    monkeypatch.setattr(loop.Trainer, "_tb", lambda self: _Board(sig, 2))
    root = data(tmp_path / "d")
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "steps": 5, "checkpoint_every": 0})
    rc = main(["train", "--config", str(c), "--no-progress"])
    return rc, capsys.readouterr().err, out


def test_train_stopped_by_sigterm_exits_143_with_its_resume_message(tmp_path, capsys, monkeypatch):
    rc, err, out = _train(tmp_path, capsys, monkeypatch, signal.SIGTERM)
    assert rc == 143, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("mutualfuse train: interrupted (SIGTERM) at step 2 of 5"), err
    assert "--resume continues" in last, last
    assert (out / "last.ckpt").is_file()


def test_train_stopped_by_ctrl_c_still_exits_130(tmp_path, capsys, monkeypatch):
    rc, err, out = _train(tmp_path, capsys, monkeypatch, signal.SIGINT)
    assert rc == 130, err
    assert "interrupted (SIGINT) at step 2 of 5" in err, err
