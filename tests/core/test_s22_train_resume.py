"""``--resume`` continues exactly the run it says it continues (s22 audit of training on one's own data).

* A run stopped at step k and resumed to N saves the uninterrupted run's whole state: its weights
  and optimiser were already equal, but the global torch random state kept in the checkpoint was
  not (each data loader drew its workers' seed from it, and a resumed run starts one loader more).
* A ``--data-root`` holding the checkpoint's pair names with other contents (another copy of the
  data, an image edited since) was resumed silently, training on other images than the run's.
* The changes ``--resume`` accepts (more steps, which under the cosine schedule moves the learning
  rate; threads; intervals; another copy of the data) were silent; each is now said on stderr.
"""
from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from mutualfuse.train.checkpoint import load_checkpoint
from train_cli_helpers import cfg, data, refused, train

#: the data augmentations of a user's run on, so that every random stream of the samples is used
AUG = {"data.hflip": True, "data.multifocus": 0.5, "data.swap": 0.5, "data.blackout": 0.3, "truth_weight": 0.5}


def _flat(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flat(v, f"{prefix}/{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _flat(v, f"{prefix}/{i}")
    else:
        yield prefix, obj


def _state(out):
    """The checkpoint's state that the run computes (not its timing or where it ran)."""
    st = load_checkpoint(out / "last.ckpt")
    return dict(_flat({k: v for k, v in st.items() if k in ("model", "optimizer", "torch_rng", "step")}))


def _losses(out):
    with open(out / "log.csv") as fh:
        return {int(r["step"]): (r["loss"], r["lr"]) for r in csv.DictReader(fh)}


def test_a_stopped_and_resumed_run_saves_the_uninterrupted_runs_whole_state(tmp_path, capsys):
    root = data(tmp_path / "d", n=8, size=(24, 32))
    over = {"data.root": str(root), "steps": 4, "checkpoint_every": 3, **AUG}
    straight = cfg(tmp_path / "a.json", tmp_path / "a", **over)
    assert train(capsys, "--config", str(straight), "-q")[0] == 0
    split = cfg(tmp_path / "b.json", tmp_path / "b", **over)
    assert train(capsys, "--config", str(split), "-q", "--steps", "2")[0] == 0
    rc, _, err = train(capsys, "--config", str(split), "--resume")
    assert rc == 0, err
    a, b = _state(tmp_path / "a"), _state(tmp_path / "b")
    assert a["/step"] == b["/step"] == 4 and sorted(a) == sorted(b) and "/torch_rng" in a
    differ = [k for k in a if not (torch.equal(a[k], b[k]) if isinstance(a[k], torch.Tensor) else a[k] == b[k])]
    assert differ == [], differ  # old code: ['/torch_rng']
    assert _losses(tmp_path / "a") == _losses(tmp_path / "b")  # losses and learning rates, every step


def _edit(path):
    img = np.asarray(Image.open(path))
    Image.fromarray((255 - img).astype(np.uint8)).save(path)


def test_resume_refuses_the_checkpoints_pair_names_with_other_contents(tmp_path, capsys):
    root = data(tmp_path / "d", n=6, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, steps=2)
    assert train(capsys, "--config", str(c), "--data-root", str(root), "-q")[0] == 0
    before = (out / "last.ckpt").read_bytes()
    other = tmp_path / "other"
    shutil.copytree(root, other)
    _edit(other / "s" / "vis" / "03.png")
    refused(capsys, ["--config", str(c), "--data-root", str(other), "--resume", "--steps", "3"],
            ["run/last.ckpt", "1 of the 6 pairs differs in content", "s/03.png", "use another --out"])
    assert (out / "last.ckpt").read_bytes() == before  # nothing trained, nothing written
    # a byte-for-byte copy of the data elsewhere resumes, and says where the data now is
    shutil.rmtree(other)
    shutil.copytree(root, other)
    rc, _, err = train(capsys, "--config", str(c), "--data-root", str(other), "--resume", "--steps", "3")
    assert rc == 0, err
    assert f"data read from {other.resolve()}, the checkpoint's from {root.resolve()}" in err, err
    assert load_checkpoint(out / "last.ckpt")["step"] == 3


def test_resume_says_what_it_changes(tmp_path, capsys):
    root = data(tmp_path / "d", n=6, size=(24, 32))
    out = tmp_path / "run"
    base = {"data.root": str(root), "steps": 2, "lr_schedule": "cosine", "warmup_steps": 1}
    c = cfg(tmp_path / "c.json", out, **base)
    assert train(capsys, "--config", str(c), "-q")[0] == 0
    # the run is finished (lr 0 at its end): more steps restart the decay from the stretched curve
    c2 = cfg(tmp_path / "c2.json", out, **{**base, "threads": 2, "log_every": 2})
    rc, _, err = train(capsys, "--config", str(c2), "--resume", "--steps", "5")
    assert rc == 0, err
    head = f"mutualfuse train: --resume {out / 'last.ckpt'} (step 2): "
    notes = [ln for ln in err.splitlines() if ln.startswith(head)]
    text = "\n".join(notes)
    assert len(notes) == 3, err
    assert "steps 2 -> 5 (the cosine schedule is a function of steps: step 3 trains at lr 5e-05, the old " \
           "schedule's 0;" in text, text
    assert "CPU threads 1 -> 2" in text and "not bit for bit" in text, text
    assert "log_every 1 -> 2 (the numbers do not change)" in text, text
    # the log says the same learning rate as the note
    with open(out / "log.csv") as fh:
        rows = {int(r["step"]): r for r in csv.DictReader(fh)}
    assert float(rows[4]["lr"]) > 0
    # the constant schedule: more steps are the same run, longer
    out2 = tmp_path / "run2"
    c3 = cfg(tmp_path / "c3.json", out2, **{"data.root": str(root), "steps": 2})
    assert train(capsys, "--config", str(c3), "-q")[0] == 0
    rc, _, err = train(capsys, "--config", str(c3), "--resume", "--steps", "3")
    assert rc == 0 and "steps 2 -> 3 (constant lr: the same run, longer or shorter)" in err, err
    rc, _, err = train(capsys, "--config", str(c3), "--resume", "--steps", "4", "-q")
    assert rc == 0 and err == "", err  # -q: no notes


@pytest.mark.parametrize("then, now, want", [
    ({"world": 2}, {"world": 1}, "processes 2 -> 1 (the same samples in each step's global batch of 2"),
    ({"device": "cuda"}, {"device": "cpu"}, "device cuda -> cpu"),
    ({}, {"world": 3, "device": "cuda", "threads": 9, "data_root": "/x"}, None),  # a checkpoint before 2026-12-06
])
def test_resume_notes_of_the_processes_and_device(then, now, want):
    from mutualfuse.train import TrainConfig
    from mutualfuse.train.loop import resume_notes

    c = TrainConfig.from_dict({"batch_size": 2, "steps": 4})
    st = {"config": json.dumps(c.to_dict()), "step": 2, **then}
    notes = resume_notes(st, c, {"world": 1, "device": "cpu", "threads": 1, "data_root": "/d", **now})
    if want is None:
        assert notes == []
    else:
        assert len(notes) == 1 and notes[0].startswith(want), notes
