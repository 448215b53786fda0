"""s24: the model card of weights shared with ``--record-paths none`` (no ``data_root`` in their
``train_data``) says the data folder was not recorded, instead of ``under ?``."""
from __future__ import annotations

import json

from mutualfuse.weights.card import _data_lines


def _train_data(**over):
    d = {"train_pairs": 5, "held_out": 1, "sets": {"s": 6}, "pairs_sha256": "ab" * 32,
         "normalize": "full", "percentiles": [0.1, 99.9], "data_root": "/home/alice/clinic/data"}
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def test_card_without_data_root_says_not_recorded():
    line = _data_lines({"train_data": json.dumps(_train_data(data_root=None))})[0]
    assert line.startswith("trained on:  5 pairs, 1 held out (s 6; data folder not recorded; data sha256 abab")
    assert "?" not in line
    line = _data_lines({"train_data": json.dumps(_train_data(data_root="data"))})[0]
    assert "(s 6; under data; data sha256" in line
    line = _data_lines({"train_data": json.dumps(_train_data())})[0]
    assert "under /home/alice/clinic/data;" in line
