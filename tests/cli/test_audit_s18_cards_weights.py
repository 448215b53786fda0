"""``mutualfuse methods --card NAME`` for every shipped weights: every figure it states is the
one the repository records (audit s18).

* steps, wall time and final training loss are the file's own metadata, and the last row of
  the run's log in ``runs-log/`` (where the run's log ships) says the same;
* the validation scores are the last validation row of that log, and the card says at which
  settings they were logged: the network as trained (``blend_temperature`` 1, ``map_min_pool``
  1, no ``base_brightness``), not the inference settings stored with the weights (the card
  printed them unqualified: `centred-bright`'s line is `centred`'s validation, without the
  base-band rule that is the whole of `centred-bright`);
* the training precision (bf16 autocast) and the training token budget are on the card.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from safetensors import safe_open

from mutualfuse.model.config import ModelConfig
from mutualfuse.weights import SHIPPED, shipped_path
from mutualfuse.weights.card import model_card

ROOT = Path(__file__).resolve().parents[2]
RUNS_LOG = ROOT / "runs-log"


def _meta(name: str) -> dict[str, str]:
    with safe_open(str(shipped_path(name)), framework="pt") as fh:
        return dict(fh.metadata() or {})


def _line(card: str, key: str) -> str:
    lines = [ln for ln in card.splitlines() if ln.startswith(f"{key}:")]
    assert len(lines) == 1, (key, card)
    return lines[0]


def _run_log(meta: dict[str, str]) -> Path | None:
    """The shipped log of the run that made the file: ``runs-log/`` + the run's folder name."""
    out = json.loads(meta["train_config"]).get("out_dir") or ""
    rel = Path(out)
    if rel.parts[:1] == ("runs",):
        rel = Path(*rel.parts[1:])
    log = RUNS_LOG / rel / "log.csv"
    return log if str(rel) not in ("", ".") and log.is_file() else None


@pytest.mark.parametrize("name", list(SHIPPED))
def test_every_shipped_card_states_the_files_run(name):
    meta = _meta(name)
    card = model_card(name)
    assert card.startswith(f"{name}\n")
    run = _line(card, "run")
    assert f"{meta['steps']} steps done" in run
    assert f"{float(meta['wall_time_s']) / 60:.1f} min wall of training steps (validation excluded)" in run
    assert " ".join(meta["machine"].split()) in run
    assert _line(card, "final loss").split()[2] == meta["final_train_loss"]
    tc = json.loads(meta["train_config"])
    assert f"{tc['steps']} steps x batch {tc['batch_size']}" in _line(card, "budget")
    if tc.get("train_token_budget"):
        assert f"pooled to {tc['train_token_budget']} tokens in training" in _line(card, "budget")
    if meta.get("precision"):
        assert meta["precision"] in _line(card, "precision")


@pytest.mark.parametrize("name", list(SHIPPED))
def test_every_shipped_cards_figures_are_its_logged_run(name):
    """The registry's validation scores and the file's steps, wall time and loss against the
    last rows of the run's shipped log (runs-log/RUN/log.csv)."""
    meta = _meta(name)
    log = _run_log(meta)
    if log is None:
        pytest.skip(f"{name}: no shipped log of its run ({json.loads(meta['train_config']).get('out_dir')})")
    rows = list(csv.DictReader(log.open()))
    last = rows[-1]
    assert int(last["step"]) == int(meta["steps"]), log
    assert float(last["elapsed_s"]) == pytest.approx(float(meta["wall_time_s"]), abs=0.05), log
    assert last["loss"] == meta["final_train_loss"], log
    val = [r for r in rows if r.get("val_loss")]
    w = SHIPPED[name]
    if not w.validation:
        return
    logged = {"loss": val[-1]["val_loss"], "sf": val[-1]["val_sf"], "ei": val[-1]["val_ei"],
              "qabf": val[-1]["val_qabf"], "mf_psnr": val[-1]["val_mf_psnr"]}
    for k, v in w.validation:  # the log's printed precision
        assert v == pytest.approx(float(logged[k]), abs=0.5 * 10 ** -len(logged[k].split(".")[1])), (name, k)
    shown = _line(model_card(name), "validation")
    for k, v in w.validation:
        assert f"{k}={v:.4g}" in shown


@pytest.mark.parametrize("name", [n for n in SHIPPED if SHIPPED[n].validation])
def test_the_validation_line_says_at_which_settings_it_was_logged(name):
    meta = _meta(name)
    trained = ModelConfig.from_dict(json.loads(meta["train_config"])["model"]).to_dict()
    stored = ModelConfig.from_dict(json.loads(meta["model_config"])).to_dict()
    differ = {k: v for k, v in trained.items() if k not in ("token_budget", "in_channels") and v != stored[k]}
    shown = _line(model_card(name), "validation")
    if differ:
        assert "of the network as trained" in shown, shown
        for k, v in differ.items():
            assert f"{k} {v}" in shown, (k, shown)
    else:
        assert "as trained" not in shown, shown


def test_centred_bright_says_its_validation_is_without_the_base_band_rule():
    shown = _line(model_card("centred-bright"), "validation")
    assert "base_brightness 0.0" in shown and "blend_temperature 1.0" in shown, shown


def test_every_card_is_plain_ascii(capsys):
    from mutualfuse.cli import main
    from mutualfuse.methods import METHODS

    argv = ["methods", "--card", "all"]
    for name in METHODS.names():
        argv += ["--card", name]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.isascii(), [ln for ln in out.splitlines() if not ln.isascii()][:3]
