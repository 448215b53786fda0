"""DICOM files stored without the Part 10 preamble and ``DICM`` marker (older scanners' and PACS
exports, often named by UID with no extension) are DICOM all the same: pydicom reads them with
``force=True``, dcm2niix and viewers read them. A series folder of them was refused as "a folder
with no DICOM image files", and one such slice named ``.dcm`` as "not a readable DICOM file".
They are read now, their transfer syntax taken from their encoding."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

from test_s23_series_read import make_series  # noqa: E402

from mutualfuse.cli import main  # noqa: E402


def _headerless_copy(src: Path, dst: Path, implicit: bool) -> None:
    from pydicom.filewriter import dcmwrite

    dst.mkdir()
    for i, p in enumerate(sorted(src.iterdir())):
        ds = pydicom.dcmread(p)
        ds.preamble = None
        del ds.file_meta
        dcmwrite(dst / f"1.2.826.0.{i}", ds, enforce_file_format=False, implicit_vr=implicit, little_endian=True)


@pytest.mark.parametrize("implicit", [True, False], ids=["implicit-vr", "explicit-vr"])
def test_a_series_without_preambles_is_read(tmp_path, capsys, implicit):
    stored = np.random.default_rng(4).integers(0, 4000, (20, 24, 4))
    make_series(tmp_path / "mr", stored)
    _headerless_copy(tmp_path / "mr", tmp_path / "old", implicit)
    (tmp_path / "old" / "README").write_bytes(b"\x08\x00\x10\x00" + b"not a DICOM file at all" * 4)
    out, ref = tmp_path / "o.nii", tmp_path / "r.nii"
    assert main(["fuse-volume", str(tmp_path / "old"), str(tmp_path / "mr"), "-o", str(out), "--method",
                 "average"]) == 0, capsys.readouterr().err
    assert main(["fuse-volume", str(tmp_path / "mr"), str(tmp_path / "mr"), "-o", str(ref), "--method", "average",
                 "-q"]) == 0
    a, b = nib.load(out), nib.load(ref)
    assert np.allclose(a.affine, b.affine, atol=1e-5)
    assert np.array_equal(a.get_fdata(), b.get_fdata())


def test_one_slice_without_preamble_named_dcm_is_read(tmp_path, capsys):
    stored = np.random.default_rng(5).integers(0, 4000, (20, 24, 1))
    make_series(tmp_path / "mr", stored)
    _headerless_copy(tmp_path / "mr", tmp_path / "old", implicit=True)
    old = tmp_path / "old.dcm"
    next((tmp_path / "old").iterdir()).rename(old)
    new = next((tmp_path / "mr").iterdir())
    assert main(["fuse", str(old), str(new), "-o", str(tmp_path / "a.png"), "--method", "average", "-q"]) == 0, \
        capsys.readouterr().err
    assert main(["fuse", str(new), str(new), "-o", str(tmp_path / "b.png"), "--method", "average", "-q"]) == 0
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
