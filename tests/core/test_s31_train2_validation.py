"""s31 (train2): the validation of a quick run, and a resume that has nothing to train.

* ``data.val_crop: N`` scores the held-out pairs' quality (``val_sf``, ``val_ei``, ``val_qabf``,
  ``val_mf_psnr``) on their centre N×N crops instead of at full size, where the mapping's cost
  grows as the square of the pixels (a 2-step run of 32² crops spent ~29 s validating 8 RoadScene
  pairs); 0, the default and the shipped recipes', keeps full size.
* What validation scores without the network (the synthetic multi-focus pairs) is made once per
  run, not at every validation.
* ``--resume --steps K`` of a run that ``--time-limit`` stopped at step K writes its final weights
  again (a finished K-step run): said on stderr (it was silent, while docs/training.md said such a
  resume does nothing).
"""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image

from mutualfuse.errors import ParameterError


def _data(root, n=5, size=(40, 28), big=None):
    rng = np.random.default_rng(7)
    for role in ("ir", "vis"):
        (root / "s" / role).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        w, h = big if (big and i == 0) else size
        base = rng.integers(0, 256, (h, w)).astype(np.uint8)
        Image.fromarray(base).save(root / "s" / "ir" / f"{i:03d}.png")
        Image.fromarray(255 - base // 2).save(root / "s" / "vis" / f"{i:03d}.png")
    return root


def _cfg(tmp_path, **data):
    from mutualfuse.train import TrainConfig

    return TrainConfig(data={"sets": ["s"], "val_pairs": 2, "crop": 16, **data},
                       model={"widths": [4, 8, 8], "depth": 3}, batch_size=1, steps=2, threads=1,
                       out_dir=str(tmp_path / "o"))


def test_val_crop_is_a_config_key_checked_like_the_others(tmp_path):
    from mutualfuse.train import TrainConfig

    assert _cfg(tmp_path).data.val_crop == 0  # full size, the shipped recipes' validation
    assert _cfg(tmp_path, val_crop=24).data.val_crop == 24
    for bad in (-1, 3, "big", 1.5):
        with pytest.raises(ParameterError, match="data.val_crop"):
            TrainConfig(data={"sets": ["s"], "val_crop": bad})


def test_val_crop_scores_the_centre_crops_and_is_logged(tmp_path):
    """The logged quality of a run with ``val_crop`` is the quality of the network on the
    held-out pairs' centre crops, not at full size."""
    import torch

    from mutualfuse.train import train
    from mutualfuse.train.loop import centre_crop, validation_quality
    from mutualfuse.weights import load_model

    root = _data(tmp_path / "d", size=(64, 48))
    res = train(_cfg(tmp_path, val_crop=16), data_root=str(root), progress=False, notes=False)
    rows = (tmp_path / "o" / "log.csv").read_text().splitlines()
    head, last = rows[0].split(","), rows[-1].split(",")
    logged = {k: float(v) for k, v in zip(head, last) if k.startswith("val_") and k != "val_loss"}
    from mutualfuse.train.data import read_gray_float

    names = [n.split("/")[-1] for n in json.loads((tmp_path / "o" / "split.json").read_text())["val_pairs"]]
    images = [(read_gray_float(root / "s" / "ir" / n), read_gray_float(root / "s" / "vis" / n)) for n in names]
    assert len(images) == 2
    model, _ = load_model(res["weights"])
    model = model.to(torch.float32).eval()
    crops = [(centre_crop(a, 16), centre_crop(b, 16)) for a, b in images]
    want = validation_quality(model, crops)
    full = validation_quality(model, images)
    for k, v in logged.items():
        assert math.isclose(v, want[k], rel_tol=2e-3, abs_tol=2e-3), (k, v, want[k])
    assert any(not math.isclose(full[k], want[k], rel_tol=1e-2, abs_tol=1e-2) for k in want)


def test_validation_prepares_its_multifocus_pairs_once(tmp_path, monkeypatch):
    from mutualfuse.train import loop, train

    calls = []
    real = loop.validation_multifocus
    monkeypatch.setattr(loop, "validation_multifocus", lambda b, i: calls.append(i) or real(b, i))
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path)
    import dataclasses

    cfg = dataclasses.replace(cfg, steps=3, val_every=1)
    train(cfg, data_root=str(root), progress=False, notes=False)
    rows = (tmp_path / "o" / "log.csv").read_text().splitlines()[1:]
    assert sum(1 for r in rows if r.split(",")[-1]) == 3  # validated at steps 1, 2, 3
    assert sorted(calls) == [0, 1]  # once per held-out pair (it was 3 times each)


def test_resume_at_a_time_limited_step_says_it_writes_the_weights(tmp_path, capsys):
    from safetensors import safe_open

    from mutualfuse.train import train

    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path)
    import dataclasses

    cfg = dataclasses.replace(cfg, steps=50)
    first = train(cfg, data_root=str(root), progress=False, notes=False, time_limit_s=1e-6)
    assert first.get("stopped_early") and first["step"] == 1
    capsys.readouterr()
    again = train(dataclasses.replace(cfg, steps=1), data_root=str(root), resume=True, progress=False)
    err = capsys.readouterr().err
    with safe_open(again["weights"], "pt") as fh:
        meta = fh.metadata()
    assert "stopped" not in meta and meta["steps"] == "1"
    line = [ln for ln in err.splitlines() if "nothing to train" in ln]
    assert len(line) == 1 and "final.safetensors" in line[0] and "stop" in line[0], err
    # and once written, the same resume does nothing, as the docs say
    third = train(dataclasses.replace(cfg, steps=1), data_root=str(root), resume=True, progress=False)
    assert third.get("up_to_date") is True


def test_the_progress_bar_says_when_it_validates(tmp_path, capsys):
    """A validation at full size can take far longer than the steps: the bar, standing still
    there, says it is validating (it showed the last step's numbers only)."""
    from mutualfuse.train import train

    root = _data(tmp_path / "d")
    train(_cfg(tmp_path), data_root=str(root), progress=True, notes=False)
    err = capsys.readouterr().err
    assert "validating 2 pairs" in err


def test_val_crop_option_of_the_command(tmp_path):
    """``mutualfuse train --val-crop N`` overrides ``data.val_crop`` (a recipe run by name needs no
    config file edited); a bad value names the option, exit 2."""
    import subprocess
    import sys

    import yaml

    root = _data(tmp_path / "d")
    base = [sys.executable, "-m", "mutualfuse", "train", "--config", "finetune-default", "--data-root", str(root),
            "--sets", "s", "--val-pairs", "2", "-o", str(tmp_path / "o")]
    r = subprocess.run(base + ["--val-crop", "64", "--print-config"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(r.stdout)["data"]["val_crop"] == 64
    r = subprocess.run(base + ["--val-crop", "3"], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("mutualfuse: error: --val-crop:"), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


def test_a_validation_that_dwarfs_the_steps_is_said_once(tmp_path, capsys, monkeypatch):
    """Where the time of a quick run goes is said, with the key that makes it proportionate: once,
    when a full-size validation took over 5 s and over 10 times the steps (here made slow)."""
    import dataclasses
    import time

    from mutualfuse.train import loop, train

    real = loop.Trainer.val_metrics
    monkeypatch.setattr(loop.Trainer, "val_metrics", lambda self: time.sleep(5.1) or real(self))
    root = _data(tmp_path / "d")
    train(dataclasses.replace(_cfg(tmp_path), steps=2, val_every=1), data_root=str(root), progress=False)
    notes = [ln for ln in capsys.readouterr().err.splitlines() if "held-out pairs at full size" in ln]
    assert len(notes) == 1 and "data.val_crop" in notes[0] and "--val-crop" in notes[0], notes
