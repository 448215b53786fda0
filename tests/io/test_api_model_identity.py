"""Which model the Python API and the web page's cache use: ``fuse()`` (and the page) keep the last
Fuser, and a weights file rewritten in place at the same path is a new model (the cache was
keyed by the path only, so the old network kept fusing); ``Fuser`` takes ``method=`` /
``weights=`` as ``fuse()`` does (``Fuser(method='cbf')`` was a confusing 'the network takes no
method parameters (got method)')."""
from __future__ import annotations

import argparse
import shutil

import numpy as np
import pytest
import torch

import mutualfuse.api as api
from mutualfuse import Fuser, fuse
from mutualfuse.errors import ParameterError
from mutualfuse.model import ModelConfig, build_model
from mutualfuse.weights import file_identity, save_weights, shipped_path


def _save(path, seed):
    torch.manual_seed(seed)
    cfg = ModelConfig(widths=(4, 8, 8))
    save_weights(path, build_model(cfg), cfg)


@pytest.fixture()
def pair():
    rng = np.random.default_rng(5)
    return rng.random((24, 20)), rng.random((24, 20))


def test_fuse_reads_weights_rewritten_at_the_same_path(tmp_path, pair):
    path = tmp_path / "mine.safetensors"
    shutil.copyfile(shipped_path("paper-3000"), path)
    first = fuse(*pair, weights=str(path), device="cpu")
    assert np.array_equal(fuse(*pair, weights=str(path), device="cpu"), first)  # same file: same result
    shutil.copyfile(shipped_path("paper"), path)  # trained on, exported over the old file
    second = fuse(*pair, weights=str(path), device="cpu")
    assert np.array_equal(second, Fuser(str(path), device="cpu").fuse(*pair))
    assert np.abs(second - first).max() > 0.01  # another network: not the cached one


def test_file_identity_changes_with_the_file_and_its_sidecar(tmp_path):
    path = tmp_path / "w.safetensors"
    assert file_identity(path) is None and file_identity("default") is None and file_identity(None) is None
    _save(path, 0)
    one = file_identity(path)
    assert one is not None and file_identity(str(path)) == one
    side = tmp_path / "w.safetensors.sha256"
    side.write_text("0" * 64 + "  w.safetensors\n")  # a sidecar edited alone: a different verdict
    assert file_identity(path) != one
    assert file_identity(tmp_path) is None  # a folder is not a weights file


def test_web_cache_builds_a_new_fuser_when_the_weights_file_changes(tmp_path):
    from mutualfuse.web import core

    path = tmp_path / "served.safetensors"
    _save(path, 0)
    ns = core._namespace(core.Settings(device="cpu"))
    ns = argparse.Namespace(**{**vars(ns), "weights": str(path)})
    cache = core.FuserCache()
    f1 = cache.get(ns)
    assert cache.get(ns) is f1
    _save(path, 1)
    assert cache.get(ns) is not f1


def test_fuser_takes_method_and_weights_by_keyword_as_fuse_does(pair, tiny_weights):
    assert np.array_equal(Fuser(method="dwt", levels=2).fuse(*pair), Fuser("dwt", levels=2).fuse(*pair))
    assert Fuser(method="average").method == "average"
    by_kw = Fuser(weights=str(tiny_weights), device="cpu")
    assert by_kw.weights_spec == str(tiny_weights)
    assert np.array_equal(by_kw.fuse(*pair), Fuser(str(tiny_weights), device="cpu").fuse(*pair))


@pytest.mark.parametrize("args,kw,words", [
    (("cbf",), dict(method="dwt"), "given twice: 'cbf' and method='dwt'"),
    (("paper",), dict(weights="blend"), "given twice"),
    ((), dict(method="cbf", weights="paper"), "applies to the network; method 'cbf' takes no weights"),
    ((), dict(method=3), None),
])
def test_fuser_refuses_a_model_given_twice_or_weights_with_a_classical_method(args, kw, words):
    if words is None:
        with pytest.raises(TypeError, match="method must be"):
            Fuser(*args, **kw)
        return
    with pytest.raises(ParameterError, match=words) as e:
        Fuser(*args, **kw)
    assert "\n" not in str(e.value)


def test_the_api_cache_holds_one_fuser(pair):
    api._CACHE.clear()
    fuse(*pair, method="average")
    fuse(*pair, method="max")
    assert len(api._CACHE) == 1


def test_fuser_repr_names_the_model_and_the_settings_that_differ():
    assert repr(Fuser("cbf", ksize=11)) == "Fuser('cbf', ksize=11)"
    assert repr(Fuser(method="average")) == "Fuser('average')"
    r = repr(Fuser("paper", device="cpu", normalize="full", tile=128))
    assert r == "Fuser('paper', device='cpu', dtype=torch.float32, task='stored', normalize='full', tile=128)"
