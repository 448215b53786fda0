"""``image_io.header_size`` (the size check before decoding in fuse and in training's pair
checks) reads a DICOM header through the deflate bomb guard: a deflated bomb is never handed to
pydicom, which inflates the whole file before reading a tag."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pydicom")


def _security_helpers():
    spec = importlib.util.spec_from_file_location("s17sec", Path(__file__).parent / "test_audit_s17_security_dicom.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def test_header_size_does_not_inflate_a_deflate_bomb(tmp_path, monkeypatch):
    import zlib

    from mutualfuse.dicom import INFLATE_SLACK
    from mutualfuse.image_io import header_size

    h = _security_helpers()
    p = tmp_path / "bomb.dcm"
    h._write(p, h._image(np.arange(64, dtype=np.uint8).reshape(8, 8)), zeros_before=2 * INFLATE_SLACK)
    ok = tmp_path / "ok.dcm"
    h._write(ok, h._image(np.arange(64, dtype=np.uint8).reshape(8, 8)))
    # every inflated byte, by the guard or by pydicom (zlib.decompress of the whole data set)
    real_obj, real_dec, out = zlib.decompressobj, zlib.decompress, [0]

    class Obj:
        def __init__(self, *a, **k):
            self._d = real_obj(*a, **k)

        def decompress(self, *a, **k):
            r = self._d.decompress(*a, **k)
            out[0] += len(r)
            return r

        def __getattr__(self, name):
            return getattr(self._d, name)

    def dec(*a, **k):
        r = real_dec(*a, **k)
        out[0] += len(r)
        return r

    monkeypatch.setattr(zlib, "decompressobj", Obj)
    monkeypatch.setattr(zlib, "decompress", dec)
    assert header_size(p) is None  # refused by the guard: the full read then says why
    # the guard stops within a step (1 MiB) of the first INFLATE_SLACK bytes, where it finds no
    # image tags; handed to pydicom the bomb inflated whole (32 MiB and more)
    assert out[0] <= INFLATE_SLACK + 2 ** 20
    assert header_size(ok) == (8, 8)
