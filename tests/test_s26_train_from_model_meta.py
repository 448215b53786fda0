"""s26: a network trained with ``data.normalize`` other than auto, loaded with ``load_model`` and
given to ``Fuser.from_model`` read its inputs with ``auto``, without a note, while ``Fuser(path)``
follows the weights' ``train_data`` (measured: a tiny random network recorded with ``percentile``
1/99, 40x48 8-bit pair: 1902 of 1920 pixels differed, by up to 94 grey levels). ``weights_meta``
(load_model's metadata) makes the in-memory fuser follow it, note included."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mutualfuse import Fuser
from mutualfuse.errors import ParameterError
from mutualfuse.model import ModelConfig, build_model
from mutualfuse.weights import load_model, save_weights


@pytest.fixture()
def recorded(tmp_path):
    torch.manual_seed(7)
    net = build_model(ModelConfig(widths=(4, 8, 8), depth=3, output="pyramid"))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    td = {"normalize": "percentile", "percentiles": [1.0, 99.0]}
    return save_weights(tmp_path / "w.safetensors", net, net.cfg, {"train_data": json.dumps(td)})


def test_the_recorded_input_policy_is_followed_with_weights_meta(recorded):
    rng = np.random.default_rng(1)
    a = (rng.random((40, 48)) * 150 + 50).astype(np.uint8)
    b = (rng.random((40, 48)) * 120).astype(np.uint8)
    disk = Fuser(recorded, device="cpu")
    want = disk.fuse(a, b)
    net, meta = load_model(recorded)
    mem = Fuser.from_model(net, device="cpu", weights_meta=meta)
    assert np.array_equal(mem.fuse(a, b), want)
    assert (mem.normalize, mem.percentiles) == ("percentile", (1.0, 99.0))
    assert any("--normalize percentile --percentiles 1 99" in n for n in mem.report.notes), mem.report.notes
    plain = Fuser.from_model(net, device="cpu")  # nothing recorded: the defaults, as Fuser(path, normalize="auto")
    assert np.array_equal(plain.fuse(a, b), Fuser(recorded, device="cpu", normalize="auto").fuse(a, b))
    with pytest.raises(ParameterError, match="weights_meta must be the metadata mapping"):
        Fuser.from_model(net, weights_meta=["train_data"])
