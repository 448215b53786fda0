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
    import pydicom

    from mutualfuse.dicom import INFLATE_SLACK
    from mutualfuse.image_io import header_size

    h = _security_helpers()
    p = tmp_path / "bomb.dcm"
    h._write(p, h._image(np.arange(64, dtype=np.uint8).reshape(8, 8)), zeros_before=2 * INFLATE_SLACK)
    ok = tmp_path / "ok.dcm"
    h._write(ok, h._image(np.arange(64, dtype=np.uint8).reshape(8, 8)))
    real, calls = pydicom.dcmread, []

    def spy(path, *a, **k):
        calls.append(Path(path).name)
        return real(path, *a, **k)

    monkeypatch.setattr(pydicom, "dcmread", spy)
    assert header_size(p) is None  # refused by the guard: the full read then says why
    assert "bomb.dcm" not in calls
    assert header_size(ok) == (8, 8)
