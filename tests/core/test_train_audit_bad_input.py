"""``mutualfuse train`` as a user training on their own folders meets it: config files it cannot
read or that say a key twice, seeds, crops, loss and model settings that failed only inside the
first step (after the output folder was made), a checkpoint whose state does not fit its config,
and Ctrl+C, which stops after the step under way with a checkpoint that ``--resume`` continues
exactly."""
from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mutualfuse.train import checkpoint as _checkpoint
from mutualfuse.train.checkpoint import LAST, load_checkpoint, save_checkpoint

from train_cli_helpers import cfg as _cfg
from train_cli_helpers import data as _data
from train_cli_helpers import refused as _refused
from train_cli_helpers import train as _train


def test_a_config_that_is_not_text_or_a_folder_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    bad = tmp_path / "c.yaml"
    bad.write_bytes(b"\xff\xfe\x00steps: 3\n")
    _refused(capsys, ["--config", str(bad), "-o", str(out)], [str(bad), "cannot read config: not UTF-8 text"])
    _refused(capsys, ["--config", str(tmp_path), "-o", str(out)], [str(tmp_path), "is a folder, not a config file"])
    good = tmp_path / "g.yaml"
    good.write_text("steps: 3\n")

    def denied(self, *a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)
    _refused(capsys, ["--config", str(good), "-o", str(out)], [str(good), "cannot read config (Permission denied)"])
    assert not out.exists()


@pytest.mark.parametrize("name,text,must", [
    ("c.yaml", "steps: 3\nseed: 1\nsteps: 4\n", ["line 3: key 'steps' is given twice (first on line 1)"]),
    ("c.yaml", "data:\n  crop: 16\n  crop: 32\n", ["line 3: key 'crop' is given twice (first on line 2)"]),
    ("c.json", '{"steps": 3, "steps": 4}', ["key 'steps' is given twice"]),
])
def test_a_key_given_twice_is_refused_not_silently_the_last(tmp_path, capsys, name, text, must):
    p = tmp_path / name
    p.write_text(text)
    _refused(capsys, ["--config", str(p), "-o", str(tmp_path / "out")], [str(p), *must])


def test_yaml_merge_keys_may_still_be_overridden(tmp_path):
    from mutualfuse.train import TrainConfig

    p = tmp_path / "c.yaml"
    p.write_text("data: &d {sets: [s], crop: 32}\nsteps: 3\n")
    assert TrainConfig.load(p).data.crop == 32


@pytest.mark.parametrize("where,value", [("option", -1), ("config", -1), ("config", 2**32)])
def test_a_seed_numpy_cannot_take_is_refused_before_any_output(tmp_path, capsys, where, value):
    root = _data(tmp_path / "d")
    out = tmp_path / "out"
    if where == "option":
        args = ["--config", str(_cfg(tmp_path / "c.json", out)), "--seed", str(value)]
        must = ["--seed: ", f"seed must be an integer in 0..4294967295, got {value}"]
    else:
        args = ["--config", str(_cfg(tmp_path / "c.json", out, seed=value))]
        must = [f"seed must be an integer in 0..4294967295, got {value}"]
    _refused(capsys, [*args, "--data-root", str(root)], must)
    assert not out.exists()


@pytest.mark.parametrize("over,must", [
    ({"data.crop": 9}, ["loss 'var_ssim' cannot train on data.crop 9", "at least 11x11"]),
    # a bad loss parameter is named as such, not blamed on the crop (s21)
    ({"data.crop": 16, "loss_params": {"window": 0}}, ["loss 'var_ssim': loss_params {'window': 0} refused: window"]),
    ({"data.crop": 64, "loss_params": {"sigma": 0}}, ["loss_params {'sigma': 0} refused: sigma"]),
    ({"data.crop": 16, "loss_params": {"window": 20}}, ["cannot train on data.crop 16", "at least 20x20"]),
    ({"model": {"widths": [4, 8, 8], "depth": 3, "token_budget": -5}}, ["model.token_budget must be"]),
    ({"model": {"widths": [4, 8, 8], "depth": 3, "in_channels": 3}}, ["model.in_channels must be 1"]),
    ({"model": {"widths": [4, 8, 8], "depth": 3, "attn_similarity": "cosine", "cosine_init_temperature": 0}},
     ["model.cosine_init_temperature must be a finite number > 0"]),
], ids=["crop-below-ssim-window", "window-0", "sigma-0", "window-above-crop", "token-budget", "in-channels", "cosine-t"])
def test_settings_that_failed_in_the_first_step_are_refused_before_any_output(tmp_path, capsys, over, must):
    """Each of these passed the config checks and failed inside the first training step, with an
    'internal error' (exit 1) and config.json, split.json, log.csv and tb/ already written."""
    root = _data(tmp_path / "d")
    out = tmp_path / "out"
    cfg = _cfg(tmp_path / "c.json", out, **over)
    _refused(capsys, ["--config", str(cfg), "--data-root", str(root)], must)
    assert not out.exists()


@pytest.mark.parametrize("spoil,must", [
    (lambda st: {**st, "model": dict(list(st["model"].items())[1:])},
     ["the checkpoint's state does not fit the model and optimiser of its config", "Missing key"]),
    (lambda st: {**st, "optimizer": {"state": {}, "param_groups": []}},
     ["does not fit the model and optimiser", "parameter groups"]),
    (lambda st: {k: v for k, v in st.items() if k != "torch_rng"}, ["not a resumable checkpoint (no 'torch_rng' entry)"]),
    (lambda st: {k: v for k, v in st.items() if k != "step"}, ["not a resumable checkpoint (no step number)"]),
], ids=["model-tensors", "optimiser", "rng", "step"])
def test_a_checkpoint_whose_state_does_not_fit_is_a_one_line_error(tmp_path, capsys, spoil, must):
    """A well-formed checkpoint of the same config whose state does not fit (e.g. written by a
    version whose network had other tensors) was an 'internal error' with exit 1."""
    root = _data(tmp_path / "d")
    cfg = _cfg(tmp_path / "c.json", tmp_path / "out")
    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root))
    assert rc == 0, err
    last = tmp_path / "out" / LAST
    save_checkpoint(last, spoil(load_checkpoint(last)))
    before = last.read_bytes()
    cfg4 = _cfg(tmp_path / "c4.json", tmp_path / "out", steps=4)
    _refused(capsys, ["--config", str(cfg4), "--data-root", str(root), "--resume"], [str(last), *must])
    assert last.read_bytes() == before


def _losses(out: Path) -> dict[int, str]:
    with open(out / "log.csv", newline="") as fh:
        return {int(r["step"]): r["loss"] for r in csv.DictReader(fh)}


@pytest.mark.parametrize("workers", [0, 2])
def test_ctrl_c_stops_after_the_step_with_a_checkpoint_that_resumes_exactly(tmp_path, capsys, workers):
    """Ctrl+C (SIGINT to the terminal's process group, the data workers included) stopped the run
    at once: 'mutualfuse: interrupted', and with checkpoint_every 0 nothing to resume. Now it
    stops after the step under way, writes a checkpoint there, says so and exits 130; --resume
    then takes the same steps as a run that was never interrupted."""
    root = _data(tmp_path / "d")
    over = {"steps": 100000, "checkpoint_every": 0, "data.num_workers": workers}
    cfg = _cfg(tmp_path / "c.json", tmp_path / "run", **over)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    p = subprocess.Popen([sys.executable, "-m", "mutualfuse", "train", "--config", str(cfg), "--data-root",
                          str(root), "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, start_new_session=True)  # its own group, as a terminal's foreground job
    log = tmp_path / "run" / "log.csv"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and p.poll() is None:
            if log.exists() and len(log.read_text().splitlines()) >= 4:  # header + 3 steps
                break
            time.sleep(0.05)
        assert p.poll() is None, p.communicate()
        os.killpg(p.pid, signal.SIGINT)
        out, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == 130, err
    assert out == "" and "Traceback" not in err and "internal error" not in err
    last_line = err.strip().splitlines()[-1]
    step = _checkpoint.checkpoint_step(tmp_path / "run" / LAST)
    assert step is not None and step >= 3
    assert last_line == (f"mutualfuse train: interrupted (SIGINT) at step {step} of 100000: checkpoint "
                         f"{tmp_path / 'run' / LAST} written; the same command with --resume continues the run")
    assert not (tmp_path / "run" / "final.safetensors").exists()  # the run did not finish: no final weights

    rc, _, err = _train(capsys, "--config", str(cfg), "--data-root", str(root), "--resume", "--steps", str(step + 2))
    assert rc == 0, err
    ref = _cfg(tmp_path / "r.json", tmp_path / "ref", **{**over, "steps": step + 2})
    rc, _, err = _train(capsys, "--config", str(ref), "--data-root", str(root))
    assert rc == 0, err
    assert _losses(tmp_path / "run") == _losses(tmp_path / "ref")  # the same computation: bitwise
    a, b = load_checkpoint(tmp_path / "run" / LAST), load_checkpoint(tmp_path / "ref" / LAST)
    assert a["step"] == b["step"] == step + 2
    assert all(bool((a["model"][k] == b["model"][k]).all()) for k in b["model"])


def test_an_ignored_sigint_stays_ignored_and_handlers_come_back(tmp_path, capsys):
    """``nohup``/background jobs ignore SIGINT: the trainer keeps it so; after the run the
    previous handlers are in place again."""
    root = _data(tmp_path / "d")
    before_term = signal.getsignal(signal.SIGTERM)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        rc, _, err = _train(capsys, "--config", str(_cfg(tmp_path / "c.json", tmp_path / "out")), "--data-root",
                            str(root))
        assert rc == 0, err
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, old)
    assert signal.getsignal(signal.SIGTERM) == before_term
    assert json.loads((tmp_path / "out" / "config.json").read_text())["steps"] == 2


def test_a_model_field_error_names_the_field_once():
    """ModelConfig's own messages say ``model.NAME``; the training config added 'model: ' in front
    ('training config: model: model.token_budget must be ...')."""
    from mutualfuse.errors import ParameterError
    from mutualfuse.train.config import TrainConfig

    with pytest.raises(ParameterError) as e:
        TrainConfig.from_dict({"model": {"depth": 0}})
    assert "model.depth" in str(e.value) and "model: model." not in str(e.value), str(e.value)
