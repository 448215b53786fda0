"""Audit s16: numpy subclasses a notebook hands over (np.matrix, np.ma.MaskedArray).

Before: ``Fuser.fuse_gray(np.asmatrix(a), b)`` raised numpy's TypeError "__array_prepare__ must
return an ndarray ..."; ``Fuser.fuse(np.ma.masked_array(a, mask=...), b)`` returned a result
that was not the fusion of the values (nor said anything about the mask). A masked array with
masked pixels is now a one-line InputError; without any, and np.matrix, fuse as their values.
"""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.errors import InputError

H, W = 48, 40


@pytest.fixture(scope="module")
def avg():
    return Fuser("average", device="cpu")


def _pair():
    rng = np.random.default_rng(11)
    return rng.integers(0, 256, (H, W), dtype=np.uint8), rng.integers(0, 256, (H, W), dtype=np.uint8)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_matrix(avg):
    a, b = _pair()
    assert np.array_equal(avg.fuse_gray(np.asmatrix(a / 255.0), b / 255.0), avg.fuse_gray(a / 255.0, b / 255.0))
    got = avg.fuse(np.asmatrix(a), b)
    assert type(got) is np.ndarray and np.array_equal(got, avg.fuse(a, b))
    assert np.array_equal(avg.fuse_stack([np.asmatrix(a), b]), avg.fuse_stack([a, b]))


def test_masked_array(avg):
    a, b = _pair()
    m = np.ma.masked_array(a, mask=a > 200)
    with pytest.raises(InputError, match=r"a: masked array with \d+ masked pixels"):
        avg.fuse(m, b)
    with pytest.raises(InputError, match="masked"):
        avg.fuse_gray(np.ma.masked_array(a / 255.0, mask=a > 200), b / 255.0)
    with pytest.raises(InputError, match="image 2: masked"):
        avg.fuse_stack([b, m])
    assert np.array_equal(avg.fuse(np.ma.masked_array(a), b), avg.fuse(a, b))
    assert np.array_equal(avg.fuse(m.filled(0), b), avg.fuse(np.where(a > 200, 0, a).astype(np.uint8), b))
