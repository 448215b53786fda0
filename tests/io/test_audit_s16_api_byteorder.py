"""Audit s16: big-endian numpy samples (FITS data, some TIFF readers give ``>u2`` / ``>f4``).

Before: ``Fuser.fuse(a.astype('>u2'), b.astype('>u2'))`` was refused as "unsupported array
dtype >u2 (use uint8, uint16 ...)" although it is uint16; and ``Fuser('default').fuse_gray``
/ ``fuse_arrays`` of ``>f8`` arrays raised torch's ValueError "given numpy array has byte order
different from the native byte order". The result must equal the native-order call's, in the
input's dtype.
"""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse import Fuser

H, W = 48, 40


@pytest.fixture(scope="module", params=["average", "default"])
def fuser(request):
    return Fuser(request.param, device="cpu")


def _rng():
    return np.random.default_rng(5)


def test_big_endian_uint16(fuser):
    rng = _rng()
    a, b = (rng.integers(0, 65536, (H, W), dtype=np.uint16) for _ in range(2))
    got = fuser.fuse(a.astype(">u2"), b.astype(">u2"))
    want = fuser.fuse(a, b)
    assert got.dtype == np.dtype(">u2")
    assert np.array_equal(got.astype(np.uint16), want)
    assert any("16-bit" in n for n in fuser.report.notes)


def test_big_endian_uint16_stack(fuser):
    rng = _rng()
    a, b = (rng.integers(0, 65536, (H, W), dtype=np.uint16) for _ in range(2))
    assert np.array_equal(fuser.fuse_stack([a.astype(">u2"), b.astype(">u2"), a]), fuser.fuse_stack([a, b, a]))


@pytest.mark.parametrize("call", ["fuse_gray", "fuse_arrays", "fuse"])
def test_big_endian_float(fuser, call):
    rng = _rng()
    a, b = rng.random((H, W)), rng.random((H, W))
    if call == "fuse_arrays":
        a, b = a[None], b[None]
    got = getattr(fuser, call)(a.astype(">f8"), b.astype(">f8"))
    want = getattr(fuser, call)(a, b)
    assert np.array_equal(got, want)
