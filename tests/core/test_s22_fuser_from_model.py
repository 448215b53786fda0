"""``Fuser.from_model(net)``: fuse with a network held in memory (a notebook's trained or loaded
network) exactly as with the same network saved to a weights file, without changing ``net``."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.errors import ParameterError
from mutualfuse.model import ModelConfig, build_model
from mutualfuse.weights import load_model, save_weights


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    samples = Path(__file__).resolve().parents[2] / "src" / "mutualfuse" / "data" / "samples"  # conftest's SAMPLES
    a, b = (np.asarray(Image.open(samples / "tno-01" / f"{n}.png").convert("L"))[:96, :128] for n in "ab")
    return a.copy(), b.copy()


def _net(output: str = "pyramid") -> torch.nn.Module:
    """A tiny network with non-trivial (seeded random) weights, left in train mode as training leaves it."""
    torch.manual_seed(7)
    net = build_model(ModelConfig(widths=(4, 8, 8), depth=3, output=output))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net.train()


def test_in_memory_fuses_bit_for_bit_as_the_saved_weights(tmp_path: Path, pair):
    net = _net()
    path = save_weights(tmp_path / "w.safetensors", net, net.cfg)
    a, b = pair
    mem = Fuser.from_model(net, device="cpu")
    disk = Fuser(path, device="cpu")
    assert disk.task_mode == "stored" == mem.task_mode  # a user's own weights default to "stored"
    fused = mem.fuse(a, b)
    assert fused.std() > 5  # a network that fuses (not a constant image)
    assert np.array_equal(fused, disk.fuse(a, b))
    fa, fb = a / 255.0, b / 255.0
    assert np.array_equal(mem.fuse(fa, fb), Fuser(path, device="cpu", task="stored").fuse(fa, fb))
    assert mem.report.method == "in-memory network" and mem.report.task == "stored"
    assert repr(mem).startswith("Fuser.from_model(<in-memory network>, device='cpu'")
    # the network that load_model returns, too; options as Fuser's (token budget, streaming windows)
    loaded, _ = load_model(path)
    opts = dict(device="cpu", token_budget=0, max_window_pixels=4096, blend_temperature=0.3, detail_gain=1.5,
                detail_activity=1000.0)
    want = Fuser(path, task="stored", **opts).fuse(a, b)
    assert np.array_equal(Fuser.from_model(loaded, **opts).fuse(a, b), want)
    assert not np.array_equal(want, disk.fuse(a, b))  # the options made a difference


def test_a_network_trained_from_python(tmp_path: Path, pair, monkeypatch):
    from mutualfuse.train import train
    from train_cli_helpers import TINY, data

    monkeypatch.delenv("MUTUALFUSE_DATA", raising=False)
    cfg = {**TINY, "data": {**TINY["data"], "root": str(data(tmp_path / "data", n=4))}, "out_dir": str(tmp_path / "r")}
    weights = train(cfg, progress=False, notes=False)["weights"]
    net, _ = load_model(weights)
    a, b = pair
    assert np.array_equal(Fuser.from_model(net, device="cpu").fuse(a, b), Fuser(weights, device="cpu").fuse(a, b))


def test_the_caller_s_network_is_not_changed_nor_followed(tmp_path: Path, pair):
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    cfg = net.cfg.to_dict()
    a, b = pair
    mem = Fuser.from_model(net, device="cpu", detail_gain=2.0, blend_temperature=0.2)
    first = mem.fuse(a, b)
    assert net.training and net.cfg.to_dict() == cfg
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    assert mem.net is not net and all(p.device.type == "cpu" for p in net.parameters())
    with torch.no_grad():  # training goes on: the fuser keeps the network it was given
        for p in net.parameters():
            p.mul_(0.5)
    assert np.array_equal(mem.fuse(a, b), first)


def test_refusals_are_one_line_parameter_errors():
    with pytest.raises(ParameterError, match="expected a mutualfuse network .* got Linear") as e:
        Fuser.from_model(torch.nn.Linear(2, 2))
    assert "\n" not in str(e.value)
    net = _net()
    for task in ("auto", "ir-vis", "multi-focus"):
        with pytest.raises(ParameterError, match=f"task '{task}' needs the per-task settings") as e:
            Fuser.from_model(net, task=task)
        assert "\n" not in str(e.value)
    with pytest.raises(ParameterError, match="detail_gain applies to pyramid models"):
        Fuser.from_model(_net("direct"), device="cpu", detail_gain=1.5)
    with torch.no_grad():
        next(net.parameters())[0] = float("nan")
    with pytest.raises(ParameterError, match="NaN or infinite"):
        Fuser.from_model(net, device="cpu")
    with pytest.raises(ParameterError, match="use_task"):
        Fuser.from_model(_net(), device="cpu").use_task("ir-vis")
