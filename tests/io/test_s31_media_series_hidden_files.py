"""A DICOM series copied by macOS onto a FAT or exFAT stick has an AppleDouble file beside each
slice (``._IM0001.dcm``, ``.DS_Store``): named ``.dcm``, it was read as a slice and the whole
series refused ("not a readable DICOM file"). Hidden files are left out, as fuse-dir and
fuse-stack leave them out of a folder."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pydicom")
nib = pytest.importorskip("nibabel")

from test_s23_series_read import make_series  # noqa: E402

from mutualfuse.cli import main  # noqa: E402

APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + b"\x00" * 40


def test_appledouble_files_beside_the_slices_are_left_out(tmp_path, capsys):
    stored = np.random.default_rng(6).integers(0, 4000, (16, 20, 3))
    paths = make_series(tmp_path / "ct", stored, names=["IM0001.dcm", "IM0002.dcm", "IM0003.dcm"])
    ref = tmp_path / "ref.nii"
    assert main(["fuse-volume", str(tmp_path / "ct"), str(tmp_path / "ct"), "-o", str(ref), "--method", "average",
                 "-q"]) == 0
    for p in paths:
        (p.parent / f"._{p.name}").write_bytes(APPLEDOUBLE)
    (tmp_path / "ct" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    out = tmp_path / "o.nii"
    assert main(["fuse-volume", str(tmp_path / "ct"), str(tmp_path / "ct"), "-o", str(out), "--method", "average",
                 "-q"]) == 0, capsys.readouterr().err
    assert np.array_equal(nib.load(out).get_fdata(), nib.load(ref).get_fdata())
