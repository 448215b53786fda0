"""``Fuser.from_model`` takes the network a user who trained in Python holds (s24, P5): one
wrapped by ``torch.compile`` (``OptimizedModule``, the network as ``_orig_mod``),
``torch.nn.DataParallel`` or ``DistributedDataParallel`` (``.module``), nested in any order. They
were refused ("expected a mutualfuse network ..., got OptimizedModule"); now the network inside
is used, fusing bit for bit as the bare network, and a wrapper around anything else is refused
naming both."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mutualfuse import Fuser
from mutualfuse.errors import ParameterError
from mutualfuse.model import ModelConfig, build_model


def _net() -> torch.nn.Module:
    torch.manual_seed(7)
    net = build_model(ModelConfig(widths=(4, 8, 8), depth=3, output="pyramid"))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return net.train()


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(0)
    return rng.random((32, 40)), rng.random((32, 40))


def _same_as_bare(wrapped, net, pair):
    a, b = pair
    before = {k: v.clone() for k, v in net.state_dict().items()}
    want = Fuser.from_model(net, device="cpu").fuse(a, b)
    f = Fuser.from_model(wrapped, device="cpu")
    assert np.array_equal(f.fuse(a, b), want)
    assert f.report.method == "in-memory network"
    assert net.training  # the user's network is not changed (mode, parameters)
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in before.items())


def test_torch_compile(pair):
    net = _net()
    _same_as_bare(torch.compile(net), net, pair)  # never compiled: the fuser runs its own copy


def test_data_parallel(pair):
    net = _net()
    _same_as_bare(torch.nn.DataParallel(net), net, pair)


def test_nested_wrappers(pair):
    net = _net()
    _same_as_bare(torch.compile(torch.nn.DataParallel(net)), net, pair)


def test_distributed_data_parallel(tmp_path, pair):
    import torch.distributed as dist

    assert not dist.is_initialized()
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        net = _net()
        _same_as_bare(torch.nn.parallel.DistributedDataParallel(net), net, pair)
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("wrap", [torch.compile, torch.nn.DataParallel])
def test_a_wrapped_other_module_is_refused_naming_both(wrap):
    with pytest.raises(ParameterError, match=r"got Linear \(inside (OptimizedModule|DataParallel)\)"):
        Fuser.from_model(wrap(torch.nn.Linear(2, 2)))
