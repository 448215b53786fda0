"""s30: a second Ctrl+C (or SIGTERM) while the run closes its files.

The first Ctrl+C stops the run after the step under way and writes a checkpoint there; the run
then closes its progress bar, ``log.csv`` and TensorBoard writer, with the caller's signal
handlers back. A second Ctrl+C that came during that close (TensorBoard's writer flushes and
joins its thread: the longest part) replaced the run's ``TrainingInterrupted`` by a bare
``KeyboardInterrupt``: the command said only ``mutualfuse: interrupted`` (seen in 1 of 4 double
SIGTERMs sent at random moments to a 400-step run), not the step nor the checkpoint that
``--resume`` continues, which docs/training.md promises for a second Ctrl+C ("the message names
its step"). The same at the end of a run that was not stopped: a Ctrl+C during the close of its
last step said "interrupted", with no word of the checkpoint at that step. The close is now
finished and the message is the run's, and so is that of a Ctrl+C while the final weights are
written."""
from __future__ import annotations

import signal

from train_cli_helpers import cfg, data

from mutualfuse.cli import main


class _Board:
    """A TensorBoard writer whose ``close`` meets a Ctrl+C; with ``first_at`` a step, the first
    Ctrl+C comes while that step logs (its handler only asks the loop to stop after the step)."""

    def __init__(self, first_at: int | None = None):
        self.first_at = first_at
        self.closed = False

    def add_scalar(self, tag, value, step):
        if tag == "loss/train" and step == self.first_at:
            signal.raise_signal(signal.SIGINT)

    def close(self):
        self.closed = True
        raise KeyboardInterrupt  # the second Ctrl+C: the default handler's, as the caller's handlers are back


def _run(tmp_path, capsys, monkeypatch, board: _Board, **over):
    from mutualfuse.train import loop

    monkeypatch.setattr(loop.Trainer, "_tb", lambda self: board)
    root = data(tmp_path / "d")
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), **over})
    rc = main(["train", "--config", str(c), "--no-progress"])
    return rc, capsys.readouterr().err, c, out


def test_a_second_interrupt_while_the_files_close_names_the_checkpoint(tmp_path, capsys, monkeypatch):
    board = _Board(first_at=2)
    rc, err, c, out = _run(tmp_path, capsys, monkeypatch, board, steps=5, checkpoint_every=0)
    assert rc == 130, err
    assert board.closed
    last = err.strip().splitlines()[-1]
    assert last.startswith("mutualfuse train: interrupted"), err
    assert f"{out / 'last.ckpt'}, is at step 2" in last and "--resume continues" in last, last
    monkeypatch.undo()
    assert main(["train", "--config", str(c), "--resume", "--no-progress", "-q"]) == 0
    assert (out / "final.safetensors").is_file()


def test_an_interrupt_while_the_last_step_closes_names_the_checkpoint(tmp_path, capsys, monkeypatch):
    rc, err, c, out = _run(tmp_path, capsys, monkeypatch, _Board(), steps=2, checkpoint_every=0)
    assert rc == 130, err
    last = err.strip().splitlines()[-1]
    assert f"interrupted at step 2 of 2; the last checkpoint, {out / 'last.ckpt'}, is at step 2" in last, err
    assert not (out / "final.safetensors").exists()
    monkeypatch.undo()
    assert main(["train", "--config", str(c), "--resume", "--no-progress", "-q"]) == 0
    assert (out / "final.safetensors").is_file()


def test_an_interrupt_while_the_final_weights_are_written_names_the_checkpoint(tmp_path, capsys, monkeypatch):
    """The last stretch of a run, writing ``final.safetensors``: a Ctrl+C there (before the file is
    complete: nothing is left of it) said "interrupted"; it names the checkpoint of the last step,
    from which ``--resume`` writes the weights."""
    from mutualfuse.train import loop

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "save_weights", interrupted)
    root = data(tmp_path / "d")
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root)})
    rc = main(["train", "--config", str(c), "--no-progress", "-q"])
    err = capsys.readouterr().err
    assert rc == 130, err
    assert f"interrupted at step 2 of 2; the last checkpoint, {out / 'last.ckpt'}, is at step 2" in err, err
    monkeypatch.undo()
    assert main(["train", "--config", str(c), "--resume", "--no-progress", "-q"]) == 0
    assert (out / "final.safetensors").is_file()
