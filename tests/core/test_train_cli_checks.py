"""``mutualfuse train`` refuses what it cannot train correctly, in one line with exit 2, before it
writes anything: pairs whose two images differ in size, config values of the wrong type (booleans
included), an output folder that already holds a run, and a ``--resume`` that would change the
experiment; a resume at the run's end does nothing and says so."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.errors import ParameterError
from mutualfuse.train import TrainConfig
from mutualfuse.train.checkpoint import LAST, load_checkpoint, save_checkpoint

from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data
from train_cli_helpers import png as _png
from train_cli_helpers import refused as _refused
from train_cli_helpers import train as _train


def _snapshot(root: Path) -> dict[str, str]:
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for n in filenames:
            p = Path(dirpath) / n
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


# 1. pairs of different sizes ---------------------------------------------------------------------


@pytest.mark.parametrize("vis_size", [(48, 64), (12, 16)], ids=["vis-larger", "vis-smaller"])
@pytest.mark.parametrize("val_pairs", [1, 0])
def test_a_pair_of_different_sizes_is_refused_before_any_output(tmp_path, capsys, vis_size, val_pairs):
    root = _data(tmp_path / "d")
    _png(root / "s" / "vis" / "03.png", *vis_size, seed=99)
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out", **{"data.val_pairs": val_pairs})
    line = _refused(capsys, ["--config", str(cfg), "--data-root", str(root)],
                    [str(root / "s" / "ir" / "03.png"), str(root / "s" / "vis" / "03.png"), "32x24",
                     f"{vis_size[1]}x{vis_size[0]}", "differ in size"])
    assert "03.png" in line
    assert not (tmp_path / "out").exists()  # nothing written, not even the folder


def test_sizes_are_read_from_the_headers_with_exif_orientation(tmp_path):
    """A pair whose stored sizes differ only by an EXIF rotation (which the reader applies) pairs."""
    from mutualfuse.image_io import read_gray_float
    from mutualfuse.train.data import find_pairs, image_size

    for role in ("ir", "vis"):
        (tmp_path / "s" / role).mkdir(parents=True)
    Image.fromarray(np.zeros((24, 32), np.uint8)).save(tmp_path / "s" / "ir" / "00.jpg")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: stored 24 wide and 32 high, read 32 wide and 24 high
    Image.fromarray(np.zeros((32, 24), np.uint8)).save(tmp_path / "s" / "vis" / "00.jpg", exif=exif)
    assert image_size(tmp_path / "s" / "vis" / "00.jpg") == (32, 24)
    assert read_gray_float(tmp_path / "s" / "vis" / "00.jpg").shape == (24, 32)
    assert len(find_pairs(tmp_path / "s")) == 1


# 4. + 5. config values of the wrong type ----------------------------------------------------------


@pytest.mark.parametrize("text,key", [
    ('{"data": {"sets": ["s"], "hflip": "false"}}', "data.hflip"),
    ('{"amp": "maybe"}', "amp"),
    ('{"channels_last": "maybe"}', "channels_last"),
    ('{"model": {"map_align": "yes"}}', "model.map_align"),
    ('{"model": {"arch": "xyz"}}', "model.arch"),
    ('{"model": {"widths": "abc"}}', "model.widths"),
    ('{"model": [1, 2]}', "model must be a mapping"),
    ('{"data": [1, 2]}', "data must be a mapping"),
    ('{"out_dir": 5}', "out_dir"),
    ('{"data": {"root": 5}}', "data.root"),
    ('{"loss": ["var_ssim"]}', "loss"),
])
def test_config_values_of_the_wrong_type_are_one_line_errors_naming_the_key(tmp_path, capsys, text, key):
    p = tmp_path / "c.json"
    p.write_text(text)
    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        TrainConfig.load(p)
    line = _refused(capsys, ["--config", str(p), "--data-root", str(tmp_path)], [key, "c.json"])
    assert "invalid literal" not in line


def test_booleans_in_yaml_and_toml_still_load(tmp_path):
    y = tmp_path / "c.yaml"
    y.write_text("data: {hflip: true}\namp: false\nchannels_last: yes\nmodel: {map_align: true}\n")
    cfg = TrainConfig.load(y)
    assert cfg.data.hflip is True and cfg.amp is False and cfg.channels_last is True and cfg.model.map_align is True
    t = tmp_path / "c.toml"
    t.write_text("amp = false\n[data]\nhflip = true\n")
    assert TrainConfig.load(t).data.hflip is True


# 3. an output folder holding a run ----------------------------------------------------------------


def test_train_refuses_an_out_folder_that_holds_a_checkpoint(tmp_path, capsys):
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out")
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root))
    assert rc == 0, err
    before = _snapshot(tmp_path / "out")
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root)],
             [f"{tmp_path / 'out' / LAST} exists: use --resume to continue it, or another --out"])
    assert _snapshot(tmp_path / "out") == before


# 2. + 6. --resume ---------------------------------------------------------------------------------


@pytest.fixture()
def finished(tmp_path, capsys):
    """A finished 2-step run in tmp_path/out (data in tmp_path/d, config tmp_path/c.json)."""
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out")
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root))
    assert rc == 0, err
    return root, cfg, tmp_path / "out"


@pytest.mark.parametrize("change,key,old,new", [
    ({"seed": 1}, "seed", "0", "1"),
    ({"batch_size": 3}, "batch_size", "2", "3"),
    ({"data.crop": 8}, "data.crop", "16", "8"),
    ({"data.hflip": True}, "data.hflip", "false", "true"),
    ({"data.val_pairs": 2}, "data.val_pairs", "1", "2"),
    ({"lr": 0.001}, "lr", "0.0001", "0.001"),
    ({"lr_schedule": "cosine"}, "lr_schedule", '"constant"', '"cosine"'),
    ({"loss": "mean_ssim"}, "loss", '"var_ssim"', '"mean_ssim"'),
    ({"amp": False}, "amp", "true", "false"),
    ({"data.roles": ["vis", "ir"]}, "data.roles", "null", '["vis", "ir"]'),  # the same pairs, roles exchanged
])
def test_resume_refuses_a_changed_experiment_setting(tmp_path, capsys, finished, change, key, old, new):
    root, _, out = finished
    before = _snapshot(out)
    cfg = _cfg(tmp_path / "c2.json", out, steps=4, **change)
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root), "--resume"],
             [str(out / LAST), f"{key}: {old} in the checkpoint, {new} now", "use another --out"])
    assert _snapshot(out) == before  # config.json, log, checkpoint and weights untouched


def test_resume_refuses_a_changed_seed_option(capsys, finished):
    root, cfg, out = finished
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root), "--resume", "--steps", "3", "--seed", "7"],
             ["seed: 0 in the checkpoint, 7 now"])


def test_resume_refusals_come_before_any_training_image_is_read(capsys, finished, monkeypatch):
    """A changed setting or a step past --steps needs only the checkpoint: refused before the
    Trainer reads the data (was: after every training image had been loaded)."""
    import mutualfuse.train.loop as loop

    root, cfg, out = finished
    monkeypatch.setattr(loop.Trainer, "__init__", lambda *a, **k: pytest.fail("data read before the resume checks"))
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root), "--resume", "--steps", "3", "--seed", "7"],
             ["seed: 0 in the checkpoint, 7 now"])
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root), "--resume", "--steps", "1"],
             ["checkpoint is at step 2, past steps 1"])


def test_resume_allows_what_changes_only_how_and_how_long_it_runs(tmp_path, capsys, finished):
    root, _, out = finished
    moved = tmp_path / "moved"
    os.rename(root, moved)  # the data location (data.root / --data-root) may change
    cfg = _cfg(tmp_path / "c2.json", out, steps=3, threads=2, checkpoint_every=5, val_every=3, log_every=2,
               channels_last=True, **{"data.num_workers": 0})
    rc, stdout, err = _train(capsys, "--config", str(cfg), "--data-root", str(moved), "--resume", "--device", "cpu")
    assert rc == 0, err
    assert json.loads(stdout)["step"] == 3
    assert load_checkpoint(out / LAST)["step"] == 3


def test_resume_refuses_other_training_pairs(tmp_path, capsys, finished):
    root, cfg, out = finished
    _png(root / "s" / "ir" / "99.png", 24, 32, seed=5)
    _png(root / "s" / "vis" / "99.png", 24, 32, seed=6)
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root), "--resume", "--steps", "3"],
             ["training pairs differ", "6 pairs then, 7 now", "new s/99.png"])


def test_resume_below_or_at_the_checkpoint_step(tmp_path, capsys, finished):
    """Fewer steps than the checkpoint's: refused. The same: nothing to do, nothing rewritten, no
    result on stdout. The same with the final weights missing (killed after the last checkpoint):
    the weights are written from the checkpoint, with consistent metadata and a JSON result."""
    from mutualfuse.weights import read_weights

    root, cfg, out = finished
    before = _snapshot(out)
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root), "--resume", "--steps", "1"],
             ["checkpoint is at step 2, past steps 1", "at least 2"])
    rc, stdout, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "--resume")
    assert rc == 0 and stdout == "" and "already at step 2 of 2: nothing to do" in err, err
    assert _snapshot(out) == before
    (out / "final.safetensors").unlink()
    rc, stdout, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "--resume")
    assert rc == 0, err
    res = json.loads(stdout)  # valid JSON: no NaN
    assert res["step"] == 2 and res["loss"] is None
    meta = read_weights(out / "final.safetensors")[2]
    assert meta["steps"] == "2" and json.loads(meta["train_config"])["steps"] == 2


def test_resume_without_a_checkpoint_says_it_starts_a_new_run(tmp_path, capsys):
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out")
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "--resume")
    assert rc == 0
    assert f"no checkpoint in {tmp_path / 'out'}: starting a new run" in err
    assert load_checkpoint(tmp_path / "out" / LAST)["step"] == 2


def test_a_checkpoint_whose_header_length_starts_with_0x80_loads(tmp_path):
    """A safetensors checkpoint starts with its header's length: a length whose low byte is 0x80
    (1 in 256 checkpoints; it happened to a training test) is not a pickle's first byte."""
    import torch

    for n in range(300):
        p = tmp_path / f"c{n}.ckpt"
        save_checkpoint(p, {"step": 1, "pad": "x" * n, "w": torch.zeros(2)})
        if p.read_bytes()[0] == 0x80:
            break
        p.unlink()
    else:
        pytest.fail("no padding gave a header length with low byte 0x80")
    assert load_checkpoint(p)["pad"] == "x" * n
