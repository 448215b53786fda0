"""``lr_mult`` with nested prefixes: a parameter takes the multiplier of the longest prefix it
starts with, whatever the mapping's order. Until 2026-12-07 it took the first one listed, and a
longer prefix listed after a shorter one (``{enc: 2, enc_x: 3}``) was refused with a false
"matches no parameter of the model"."""
from __future__ import annotations

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.model import build_model
from mutualfuse.model.config import ModelConfig
from mutualfuse.train.loop import param_groups


@pytest.fixture(scope="module")
def model():
    return build_model(ModelConfig(widths=[4, 8, 8], depth=3))


def _mults(model, lr_mult):
    by_id = {}
    for g in param_groups(model, lr_mult):
        for p in g["params"]:
            assert id(p) not in by_id  # every parameter in one group
            by_id[id(p)] = g["lr_mult"]
    return {n: by_id[id(p)] for n, p in model.named_parameters()}


@pytest.mark.parametrize("lr_mult", [{"enc": 2.0, "enc_x": 3.0}, {"enc_x": 3.0, "enc": 2.0}],
                         ids=["short-first", "long-first"])
def test_the_longest_prefix_wins_in_either_order(model, lr_mult):
    mults = _mults(model, lr_mult)
    assert any(n.startswith("enc_x") for n in mults) and any(n.startswith("enc_y") for n in mults)
    for n, m in mults.items():
        assert m == (3.0 if n.startswith("enc_x") else 2.0 if n.startswith("enc") else 1.0), n


def test_a_prefix_left_with_nothing_says_why(model):
    with pytest.raises(ParameterError, match="under a longer prefix") as e:
        param_groups(model, {"enc": 2.0, "enc_x": 3.0, "enc_y": 3.0})
    assert "'enc'" in str(e.value)
    with pytest.raises(ParameterError, match="matches no parameter of the model"):
        param_groups(model, {"nosuch": 2.0})
