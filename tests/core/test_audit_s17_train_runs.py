"""Audit s17 (a researcher training on their own data): runs, resumes and their files.

* ``--resume`` read the warm-start file again (``init_weights``), although the checkpoint's
  weights replace it: a warm start moved or deleted since the run began made the run
  unresumable (its config may not change on resume).
* A new run in an ``--out`` that holds a finished run whose ``last.ckpt`` was deleted (to save
  space) silently wrote over its ``final.safetensors`` and ``log.csv``.
* A ``log.csv`` line that is not a row (cut short, edited) made ``--resume`` an internal error.
* A full disk while writing a checkpoint or the final weights was an internal error
  (``SafetensorError``, exit 1); it is one line naming the file and the resume point, and the
  previous checkpoint stays.
* On one CUDA device the loss is read only on the steps that log it; a checkpoint written at a
  step in between could hold a diverged (NaN) state, and the error then pointed at it.
* Role folders whose images are in subfolders: the error says that subfolders are not searched;
  ``export-weights`` given a run's folder names the checkpoint in it.
"""
from __future__ import annotations

import errno
import shutil

import pytest
import torch

from mutualfuse.cli import main
from mutualfuse.train.checkpoint import LAST, checkpoint_step, load_checkpoint

from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data
from train_cli_helpers import png as _png
from train_cli_helpers import refused as _refused
from train_cli_helpers import train as _train


def _files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_resume_does_not_need_the_warm_start_file(tmp_path, capsys):
    root = _data(tmp_path / "d")
    first = _cfg(tmp_path / "w.json", tmp_path / "w")
    assert _train(capsys, "--config", str(first), "--data-root", str(root), "-q")[0] == 0
    init = tmp_path / "init.safetensors"
    shutil.copy(tmp_path / "w" / "final.safetensors", init)
    shutil.copy(tmp_path / "w" / "final.safetensors.sha256", str(init) + ".sha256")
    c = _cfg(tmp_path / "c.json", tmp_path / "out", init_weights=str(init), steps=2)
    assert _train(capsys, "--config", str(c), "--data-root", str(root), "-q")[0] == 0
    ref = _cfg(tmp_path / "r.json", tmp_path / "ref", init_weights=str(init), steps=4)
    assert _train(capsys, "--config", str(ref), "--data-root", str(root), "-q")[0] == 0
    init.rename(tmp_path / "moved.safetensors")  # the warm start is gone; the checkpoint has the weights
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root), "--resume", "--steps", "4", "-q")
    assert rc == 0, err  # was: "init_weights: ... weights file not found", exit 2
    a, b = load_checkpoint(tmp_path / "out" / LAST), load_checkpoint(tmp_path / "ref" / LAST)
    assert a["step"] == b["step"] == 4
    for k in b["model"]:  # the resumed run is the uninterrupted one
        assert torch.equal(a["model"][k], b["model"][k]), k


@pytest.mark.parametrize("resume", [False, True])
def test_a_finished_run_whose_checkpoint_was_deleted_is_not_written_over(tmp_path, capsys, resume):
    root = _data(tmp_path / "d")
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    assert _train(capsys, "--config", str(c), "--data-root", str(root), "-q")[0] == 0
    (tmp_path / "out" / LAST).unlink()
    before = {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    args = ["--config", str(c), "--data-root", str(root)] + (["--resume"] if resume else [])
    _refused(capsys, args, ["final.safetensors exists without", "another --out"])
    assert {p: p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()} == before


def test_resume_keeps_the_rows_of_a_log_it_can_read(tmp_path, capsys):
    root = _data(tmp_path / "d")
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    assert _train(capsys, "--config", str(c), "--data-root", str(root), "-q")[0] == 0
    log = tmp_path / "out" / "log.csv"
    with open(log, "a") as fh:
        fh.write("3,1,0.5\ngarbage\n,,\n2,0,0.4,,,,,,,,,extra,columns\n")  # cut short, edited by hand
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root), "--resume", "--steps", "3", "-q")
    assert rc == 0, err  # was: "internal error: ValueError: invalid literal for int()"
    steps = [line.split(",")[0] for line in log.read_text().splitlines()[1:]]
    assert steps == ["1", "2", "2", "3"] and "garbage" not in log.read_text()


def _no_space(*a, **k):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_at_a_checkpoint_is_one_line_and_keeps_the_last_one(tmp_path, capsys, monkeypatch):
    import safetensors.torch

    root = _data(tmp_path / "d")
    c = _cfg(tmp_path / "c.json", tmp_path / "out", steps=4, checkpoint_every=2)
    real = safetensors.torch.save_file
    calls = []

    def save_file(tensors, path, metadata=None):
        calls.append(path)
        if len(calls) == 2:  # the second checkpoint (step 4)
            from safetensors import SafetensorError

            raise SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
        return real(tensors, path, metadata=metadata)

    monkeypatch.setattr(safetensors.torch, "save_file", save_file)
    line = _refused(capsys, ["--config", str(c), "--data-root", str(root), "-q"],
                    [f"{tmp_path / 'out' / LAST}: cannot write the checkpoint", "No space left on device",
                     "at step 4", "is at step 2: --resume continues from it"])
    assert "internal error" not in line
    assert checkpoint_step(tmp_path / "out" / LAST) == 2
    assert not [n for n in _files(tmp_path / "out") if ".part" in n]  # no temporary left behind
    monkeypatch.setattr(safetensors.torch, "save_file", real)
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root), "--resume", "-q")
    assert rc == 0, err


def test_a_full_disk_at_the_final_weights_names_the_checkpoint_that_holds_them(tmp_path, capsys, monkeypatch):
    import mutualfuse.weights as weights

    root = _data(tmp_path / "d")
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    monkeypatch.setattr(weights, "sha256_file", _no_space)  # the sidecar's digest: an OSError mid-write
    _refused(capsys, ["--config", str(c), "--data-root", str(root), "-q"],
             ["final.safetensors: cannot write the final weights (No space left on device)",
              "mutualfuse export-weights"])
    assert checkpoint_step(tmp_path / "out" / LAST) == 2
    assert not (tmp_path / "out" / "final.safetensors").exists()
    assert not [n for n in _files(tmp_path / "out") if ".part" in n]


def test_export_weights_on_a_full_disk_and_given_a_folder(tmp_path, capsys, monkeypatch):
    import mutualfuse.weights as weights

    root = _data(tmp_path / "d")
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    assert _train(capsys, "--config", str(c), "--data-root", str(root), "-q")[0] == 0
    rc = main(["export-weights", str(tmp_path / "out"), "-o", str(tmp_path / "w.safetensors")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and f"its checkpoint is {tmp_path / 'out' / LAST}" in err
    monkeypatch.setattr(weights, "sha256_file", _no_space)
    rc = main(["export-weights", str(tmp_path / "out" / LAST), "-o", str(tmp_path / "w.safetensors")])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "cannot write the weights (No space left on device)" in err, err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".w.", "w."))]


def test_lazy_loss_reads_never_checkpoint_a_diverged_state(tmp_path, capsys, monkeypatch):
    """The CUDA path (loss read on logged steps only), taken on CPU: a loss that became NaN
    between two logged steps is found before the checkpoint of a step in between is written."""
    import mutualfuse.train.loop as loop

    monkeypatch.setattr(loop.Trainer, "_lazy_loss_reads", lambda self: True)
    root = _data(tmp_path / "d")
    c = _cfg(tmp_path / "c.json", tmp_path / "out", lr=1e4, steps=20, checkpoint_every=3, log_every=100)
    # lr 1e4: the loss is NaN from step 2; step 1 is logged, step 3 is the first checkpoint's
    _refused(capsys, ["--config", str(c), "--data-root", str(root), "-q"],
             ["the training loss became nan at step 3", "no checkpoint was written"])
    assert not (tmp_path / "out" / LAST).exists()  # was: written at steps 3, 6, ... with NaN weights


def test_images_in_subfolders_of_a_role_folder_are_named(tmp_path, capsys):
    for role, seed in (("ir", 0), ("vis", 1)):
        for sub in ("day", "night"):
            _png(tmp_path / "d" / "s" / role / sub / "00.png", 24, 32, seed=seed + (2 if sub == "night" else 0))
    c = _cfg(tmp_path / "c.json", tmp_path / "out")
    _refused(capsys, ["--config", str(c), "--data-root", str(tmp_path / "d")],
             ["no images in ir/", "its subfolders (day, night) are not searched", "s/day/ir/ + s/day/vis/"])
