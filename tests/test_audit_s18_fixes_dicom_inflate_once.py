"""The deflate bomb guard (:func:`mutualfuse.dicom.dcmread_checked`) inflates a deflated DICOM
once, and only through public pydicom API.

Before: the guard inflated the whole data set to measure it (with pydicom's private
``_read_file_meta_info``), then handed the path to ``pydicom.dcmread``, which inflated it a
second time with ``zlib.decompress``. Now the guard inflates it once, bounded, and pydicom reads
the data set from those bytes."""
from __future__ import annotations

import ast
import importlib.util
import zlib
from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")

from mutualfuse.dicom import dcmread_checked, read_dicom  # noqa: E402
from mutualfuse.errors import InputError  # noqa: E402
from mutualfuse.image_io import header_size  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _helpers():
    spec = importlib.util.spec_from_file_location("s17sec", Path(__file__).parent / "test_audit_s17_security_dicom.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


H = _helpers()
#: over INFLATE_SLACK (16 MiB) once inflated, so that the size limit is computed and applied
BIG = (np.arange(3000 * 3000, dtype=np.uint32) % 65521).astype(np.uint16).reshape(3000, 3000)
SMALL = np.arange(64, dtype=np.uint8).reshape(8, 8)


class _Count:
    """zlib's decompressobj and decompress, counting the objects made, the calls and the bytes out."""

    def __init__(self, monkeypatch):
        self.objects, self.decompress_calls, self.out = 0, 0, 0
        real_obj, real_dec = zlib.decompressobj, zlib.decompress
        count = self

        class Obj:
            def __init__(self, *a, **k):
                count.objects += 1
                self._d = real_obj(*a, **k)

            def decompress(self, *a, **k):
                out = self._d.decompress(*a, **k)
                count.out += len(out)
                return out

            def __getattr__(self, name):
                return getattr(self._d, name)

        def dec(*a, **k):
            count.decompress_calls += 1
            out = real_dec(*a, **k)
            count.out += len(out)
            return out

        monkeypatch.setattr(zlib, "decompressobj", Obj)
        monkeypatch.setattr(zlib, "decompress", dec)


@pytest.mark.parametrize("pixels", [BIG, SMALL], ids=["over-the-slack", "small"])
def test_a_deflated_dicom_is_inflated_once(tmp_path, monkeypatch, pixels):
    p = tmp_path / "d.dcm"
    H._write(p, H._image(pixels))
    count = _Count(monkeypatch)
    arr, _ = read_dicom(p, normalize="full")
    scale = 65535 if pixels.dtype == np.uint16 else 255
    assert np.array_equal(np.rint(arr * scale).astype(pixels.dtype), pixels)
    # one inflation: one decompressor, no zlib.decompress of the whole file, and the bytes out
    # are the data set once (its pixel data and a few hundred bytes of other elements)
    assert (count.objects, count.decompress_calls) == (1, 0)
    assert pixels.nbytes <= count.out < pixels.nbytes + 4096


def test_a_header_read_inflates_once_and_stops_before_the_pixels(tmp_path, monkeypatch):
    p = tmp_path / "d.dcm"
    H._write(p, H._image(BIG))
    count = _Count(monkeypatch)
    ds = dcmread_checked(p, None, stop_before_pixels=True)
    assert "PixelData" not in ds and (ds.Rows, ds.Columns) == (3000, 3000)
    assert (count.objects, count.decompress_calls) == (1, 0) and count.out < BIG.nbytes + 4096
    assert header_size(p) == (3000, 3000)


def test_the_read_data_set_is_what_pydicom_reads(tmp_path):
    """The data set read from the inflated bytes equals pydicom's own read of the file: the same
    elements, file meta (transfer syntax still Deflated), preamble and file name."""
    p = tmp_path / "d.dcm"
    ds0 = H._image(SMALL)
    ds0.PatientName, ds0.SpecificCharacterSet = "Müller^Jörg", "ISO_IR 100"
    H._write(p, ds0)
    ours, theirs = dcmread_checked(p, None), pydicom.dcmread(p)
    assert ours == theirs and ours.file_meta == theirs.file_meta
    assert ours.file_meta.TransferSyntaxUID == pydicom.uid.DeflatedExplicitVRLittleEndian
    assert ours.preamble == theirs.preamble and ours.filename == theirs.filename == str(p)
    assert ours.original_encoding == theirs.original_encoding
    assert str(ours.PatientName) == "Müller^Jörg"
    only = dcmread_checked(p, None, specific_tags=["Rows"])
    assert "Rows" in only and "Columns" not in only and "PixelData" not in only


def test_a_truncated_deflated_stream_is_a_one_line_error(tmp_path):
    p = tmp_path / "d.dcm"
    H._write(p, H._image(BIG))
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 2000])
    with pytest.raises(InputError) as e:
        read_dicom(p)
    assert str(e.value).startswith(f"{p}: not a readable DICOM file") and "\n" not in str(e.value)


def test_the_guard_needs_no_private_pydicom_name(tmp_path, monkeypatch):
    # behaviour: with pydicom's private file meta and command set readers, and the file reader
    # that inflates a deflated data set whole (read_partial, under dcmread), out of use, a
    # deflated file still reads
    import pydicom.filereader as fr

    def gone(*a, **k):
        raise AssertionError("pydicom's own file reader was called")

    for name in ("_read_file_meta_info", "_read_command_set_elements", "read_partial"):
        monkeypatch.setattr(fr, name, gone)
    p = tmp_path / "d.dcm"
    H._write(p, H._image(SMALL))
    arr, _ = read_dicom(p, normalize="full")
    assert np.array_equal(np.rint(arr * 255).astype(np.uint8), SMALL)
    assert header_size(p) == (8, 8)


def test_dicom_module_imports_no_private_pydicom_name():
    # the source: no `from pydicom... import _x` and no `pydicom..._x` attribute
    tree = ast.parse((ROOT / "src/mutualfuse/dicom.py").read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pydicom"):
            bad += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            bad += [node.module] if any(part.startswith("_") for part in node.module.split(".")) else []
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id == "pydicom":
                bad.append(ast.unparse(node))
    assert not bad, bad
