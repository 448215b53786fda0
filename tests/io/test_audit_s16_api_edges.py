"""Audit s16: inputs the API must refuse with a one-line InputError (not a deep torch/numpy
error), and a report that never keeps the notes of an earlier call.

Before: ``Fuser.fuse(torch.empty(48, 40, device="meta"), b)`` raised torch's
``NotImplementedError: Cannot copy out of meta tensor`` (a sparse tensor, another torch
error); ``fuse_gray_batch`` of an empty
(0, H, W) batch raised ``ValueError: need at least one array to stack`` (classical) or
``max() arg is an empty sequence`` (network); ``fuse_arrays`` of a (B, H, W, 4) array raised
numpy's ``matmul`` ValueError; a (0, 1, H, W) tensor was refused naming the internal shape
(0, 48, 40, 1); a call that failed left the previous call's notes in ``report.notes``.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from mutualfuse import Fuser
from mutualfuse.errors import InputError

H, W = 48, 40


@pytest.fixture(scope="module")
def avg():
    return Fuser("average", device="cpu")


def _pair(seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (H, W), dtype=np.uint8), rng.integers(0, 256, (H, W), dtype=np.uint8)


def test_meta_tensor_is_an_input_error(avg):
    b = torch.rand(H, W)
    with pytest.raises(InputError, match="meta"):
        avg.fuse(torch.empty(H, W, device="meta"), b)
    with pytest.raises(InputError, match="b: .*meta"):
        avg.fuse(b, torch.empty(1, H, W, device="meta"))
    with pytest.raises(InputError, match="sparse"):
        avg.fuse(b.to_sparse(), b)


def test_empty_torch_batch_names_the_callers_shape(avg):
    with pytest.raises(InputError, match=r"\(0, 1, 48, 40\)"):
        avg.fuse(torch.rand(0, 1, H, W), torch.rand(0, 1, H, W))


@pytest.mark.parametrize("model", ["average", "cbf"])
def test_fuse_gray_batch_empty_batch(model):
    f = Fuser(model, device="cpu")
    with pytest.raises(InputError, match="empty"):
        f.fuse_gray_batch(np.zeros((0, H, W)), np.zeros((0, H, W)))


@pytest.mark.parametrize("bad, what", [
    (np.zeros((1, H, W, 4)), "channel"),
    (np.zeros((1, H, W, 2)), "channel"),
    (np.zeros((1, H, W, 3), np.uint8), "float"),
    (np.full((1, H, W, 3), 255.0), r"\[0, 1\]"),
    (np.zeros((1, 1, H, W, 3)), "shape"),
])
def test_fuse_arrays_refuses_bad_colour(avg, bad, what):
    with pytest.raises(InputError, match=what):
        avg.fuse_arrays(bad, np.zeros((1, H, W)))
    with pytest.raises(InputError, match=what):
        avg.fuse_arrays(np.zeros((1, H, W)), bad)


def test_fuse_arrays_colour_unchanged(avg):
    rng = np.random.default_rng(1)
    c, g = rng.random((2, H, W, 3)), rng.random((2, H, W))
    c0, g0 = c.copy(), g.copy()
    out = avg.fuse_arrays(c, g)
    assert out.shape == (2, H, W, 3)
    assert np.array_equal(c, c0) and np.array_equal(g, g0)


def test_failed_call_leaves_no_stale_notes():
    f = Fuser("average", device="cpu")
    a16 = np.random.default_rng(2).integers(0, 65536, (H, W), dtype=np.uint16)
    a, b = _pair()
    f.fuse(a16, b)
    assert any("16-bit" in n for n in f.report.notes)
    with pytest.raises(InputError, match="size mismatch"):
        f.fuse(a, b[:-1])
    assert f.report.notes == []
    f.fuse(a16, b)
    with pytest.raises(InputError):
        f.fuse_stack([a16, b[:-1]])
    assert f.report.notes == [] and f.report.fusions == 1
    f.fuse(a16, b)
    with pytest.raises(InputError):
        f.fuse_gray(a / 255.0, b[:-1] / 255.0)
    assert f.report.notes == []
    f.fuse(a16, b)
    with pytest.raises(InputError):
        f.fuse_arrays(np.zeros((1, H, W, 4)), np.zeros((1, H, W)))
    assert f.report.notes == []
