"""The card of one's own weights shows what the run was trained on (pairs, held out, data digest),
how its inputs were read (the ``--normalize`` policy to fuse with) and, for a loss of one's own,
its code's file and sha256: ``mutualfuse train`` records ``train_data`` and ``loss_source`` since
session 23, and ``methods --card`` did not show them."""
from __future__ import annotations

import json

from safetensors import safe_open

from mutualfuse.weights.card import _data_lines, file_card
from train_cli_helpers import cfg, data, train


def test_the_card_says_what_the_run_was_trained_on(tmp_path, capsys):
    root = data(tmp_path / "d", n=6, size=(24, 32))
    out = tmp_path / "run"
    c = cfg(tmp_path / "c.json", out, **{"data.root": str(root), "steps": 2, "data.normalize": "full"})
    rc, _, err = train(capsys, "--config", str(c))
    assert rc == 0, err
    with safe_open(str(out / "final.safetensors"), "np") as f:
        d = json.loads(f.metadata()["train_data"])
    card = file_card(str(out / "final.safetensors"))
    line = next(ln for ln in card.splitlines() if ln.startswith("trained on:"))
    assert f"{d['train_pairs']} pairs, {d['held_out']} held out" in line, card
    assert d["pairs_sha256"] in line and str(d["data_root"]) in line, card
    inputs = next(ln for ln in card.splitlines() if ln.startswith("inputs:"))
    assert "--normalize full" in inputs and "--percentiles" not in inputs, card


def test_loss_source_and_garbled_metadata():
    meta = {"loss_source": json.dumps({"loss": "mine", "file": "/x/mine.py", "sha256": "ab" * 32})}
    assert _data_lines(meta) == [f"loss code:   mine from /x/mine.py (sha256 {'ab' * 32})"]
    meta = {"train_data": json.dumps({"train_pairs": 4, "held_out": 1, "sets": {"roadscene": 5},
                                      "normalize": "percentile", "percentiles": [1, 99]})}
    lines = _data_lines(meta)
    assert lines[0].startswith("trained on:  4 pairs, 1 held out (roadscene 5;"), lines
    assert "--normalize percentile --percentiles 1 99" in lines[1], lines
    assert _data_lines({"train_data": "{not json", "loss_source": "[1, 2]"}) == []
    assert _data_lines({}) == []
