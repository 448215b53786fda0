"""The card of one's own weights (``methods --card OUT/final.safetensors``) shows the run's last
validation scores (they were only in ``log.csv``: "no validation record") and that a
``--time-limit`` stopped the run early (the card said "budget: N steps" with no word of it)."""
from __future__ import annotations

import csv
import json
import re

from safetensors import safe_open

from mutualfuse.weights.card import file_card
from train_cli_helpers import cfg, data, train


def test_the_card_shows_the_last_validation(tmp_path, capsys):
    root = data(tmp_path / "d", n=6, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "steps": 3, "val_every": 2})
    rc, _, err = train(capsys, "--config", str(c))
    assert rc == 0, err
    final = out / "final.safetensors"
    with safe_open(str(final), "np") as f:
        v = json.loads(f.metadata()["validation"])
    last = list(csv.DictReader((out / "log.csv").open()))[-1]
    assert v["step"] == 3 and int(last["step"]) == 3
    for k in ("val_loss", "val_sf", "val_ei", "val_qabf", "val_mf_psnr"):
        assert abs(v[k] - float(last[k])) <= 0.5e-4 * max(1.0, abs(v[k])), (k, v[k], last[k])
    card = file_card(str(final))
    line = next(ln for ln in card.splitlines() if ln.startswith("validation:"))
    assert f"loss={v['val_loss']:.4g}" in line and "logged at step 3" in line, card
    assert "no validation record" not in card
    assert re.search(r"\d (min|s) wall of training steps \(validation excluded\)", card), card


def test_the_card_says_a_time_limit_stopped_the_run(tmp_path, capsys):
    root = data(tmp_path / "d", n=6, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "steps": 100000})
    rc, _, err = train(capsys, "--config", str(c), "--time-limit", "1")
    assert rc == 0, err
    card = file_card(str(out / "final.safetensors"))
    assert "stopped:     time limit 1 s reached at step" in card and "of 100000" in card, card


def test_export_weights_of_the_last_checkpoint_carries_the_same_metadata(tmp_path, capsys):
    """export-weights OUT/last.ckpt lost machine, precision, the last loss (and now validation)
    that final.safetensors has; the tensors were already identical."""
    from mutualfuse.cli import main

    root = data(tmp_path / "d", n=6, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "steps": 3, "val_every": 3})
    assert train(capsys, "--config", str(c))[0] == 0
    exported = tmp_path / "e.safetensors"
    assert main(["export-weights", str(out / "last.ckpt"), "-o", str(exported)]) == 0
    with safe_open(str(out / "final.safetensors"), "np") as f:
        want = f.metadata()
    with safe_open(str(exported), "np") as f:
        got = f.metadata()
    for k in ("machine", "precision", "final_train_loss", "validation", "steps", "wall_time_s"):
        assert got.get(k) == want.get(k) and want.get(k), k
