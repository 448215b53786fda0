"""Audit s17 (a researcher training on their own data): config knobs as people write them.

* YAML numbers in exponent form without a dot (``1e-2``) were text to PyYAML (YAML 1.1), so
  ``min_lr_ratio: 1e-2``, ``truth_weight: 1e-1``, ``lr_mult: {fusion: 1e1}`` were refused as "not
  a number" and ``loss_params: {grad_weight: 1e-1}`` failed inside the loss; only ``lr`` was
  converted. They are numbers now, as in TOML and JSON.
* Knobs that did nothing were silently ignored: ``warmup_steps`` / ``min_lr_ratio`` with the
  constant schedule, and the synthetic multi-focus settings (``multifocus_sigma``, ``_psf``,
  ``_breathing``) without synthetic samples (``multifocus: 0``). They are refused, naming the key,
  as ``truth_weight`` without ``multifocus`` already was.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.train import TrainConfig
from mutualfuse.train.config import _yaml_load

from train_cli_helpers import TINY
from train_cli_helpers import data as _data
from train_cli_helpers import refused as _refused
from train_cli_helpers import train as _train

REPO = Path(__file__).resolve().parents[2]


def _yaml(path: Path, out: Path, extra: str) -> Path:
    """TINY as YAML text with ``extra`` lines (their keys replace TINY's) and ``out_dir``."""
    import json

    import yaml

    over = yaml.safe_load(extra) or {}
    lines = [f"{k}: {json.dumps(v)}" for k, v in TINY.items() if k not in over]  # JSON is YAML
    path.write_text("\n".join(lines) + "\n" + extra + f"\nout_dir: {json.dumps(str(out))}\n")
    return path


@pytest.mark.parametrize("text, value", [("1e-4", 1e-4), ("5e3", 5000.0), ("1.0e4", 1e4), ("-2E+2", -200.0),
                                         (".5e-3", 5e-4), ("1.0e-4", 1e-4), ("12", 12), ("'1e-4'", "1e-4"),
                                         ("1e", "1e"), ("e5", "e5")])
def test_yaml_numbers_in_exponent_form_are_numbers(text, value):
    got = _yaml_load(f"k: {text}\n")["k"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("extra, check", [
    ("lr_schedule: cosine\nmin_lr_ratio: 1e-2", lambda c: c.min_lr_ratio == 0.01),
    ("truth_weight: 1e-1\ndata: {sets: [s], val_pairs: 1, crop: 16, multifocus: 5e-1}",
     lambda c: c.truth_weight == 0.1 and c.data.multifocus == 0.5),
    ("loss: var_ssim_grad\nloss_params: {grad_weight: 1e-1}", lambda c: c.loss_params == {"grad_weight": 0.1}),
    ("lr_mult: {fusion: 1e1}", lambda c: c.lr_mult == {"fusion": 10.0}),
])
def test_a_config_written_with_exponents_trains(tmp_path, capsys, extra, check):
    """Was: 'min_lr_ratio must be a number in [0, 1], got '1e-2'' (and the like), exit 2."""
    root = _data(tmp_path / "d")
    c = _yaml(tmp_path / "c.yaml", tmp_path / "out", extra)
    assert check(TrainConfig.load(c))
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root), "-q")
    assert rc == 0, err
    assert (tmp_path / "out" / "final.safetensors").is_file()


@pytest.mark.parametrize("extra, key", [
    ("warmup_steps: 10", "warmup_steps"),
    ("min_lr_ratio: 0.1", "min_lr_ratio"),
    ("data: {sets: [s], val_pairs: 1, crop: 16, multifocus_psf: disc}", "data.multifocus_psf"),
    ("data: {sets: [s], val_pairs: 1, crop: 16, multifocus_sigma: [2, 3]}", "data.multifocus_sigma"),
    ("data: {sets: [s], val_pairs: 1, crop: 16, multifocus_breathing: [0.01, 0.02]}", "data.multifocus_breathing"),
])
def test_a_knob_that_would_be_ignored_is_refused_before_any_output(tmp_path, capsys, extra, key):
    """Was: trained, exit 0, the knob without effect (a constant schedule has no warm-up or floor;
    there are no synthetic multi-focus samples to blur or magnify)."""
    root = _data(tmp_path / "d")
    c = _yaml(tmp_path / "c.yaml", tmp_path / "out", extra)
    _refused(capsys, ["--config", str(c), "--data-root", str(root)], [f"training config: {key} must be"])
    assert not (tmp_path / "out").exists()


def test_the_same_knobs_are_taken_where_they_act():
    c = TrainConfig.from_dict({"lr_schedule": "cosine", "warmup_steps": 10, "min_lr_ratio": 0.1,
                               "data": {"multifocus": 0.3, "multifocus_psf": "disc", "multifocus_sigma": [2, 3],
                                        "multifocus_breathing": [0.01, 0.02]}})
    assert c.warmup_steps == 10 and c.data.multifocus_psf == "disc"
    # the defaults stay valid everywhere, as printed by --print-config
    TrainConfig.from_dict({"data": {"multifocus": 0, "multifocus_sigma": [1, 4], "multifocus_psf": "gaussian",
                                    "multifocus_breathing": [0, 0]}, "warmup_steps": 0, "min_lr_ratio": 0})
    with pytest.raises(ParameterError, match="warmup_steps must be 0 unless lr_schedule is 'cosine'"):
        TrainConfig.from_dict({"warmup_steps": 5})


def test_every_repository_config_and_recipe_still_loads():
    """The new checks refuse nothing that the project's own configs (and so the shipped weights'
    recipes) say."""
    files = [f for f in sorted((REPO / "configs").rglob("*.yaml")) if f.parent.name != "benchmark"]  # not training
    files += sorted((REPO / "src/mutualfuse/train/recipes").glob("*.yaml"))
    assert len(files) > 20
    for f in files:
        TrainConfig.load(f)
