"""Session 21 (lead, from the DICOM audit): a DICOMDIR in a folder of slices is not a slice
(fuse-dir listed it as a failed pair, exit 2, though every image fused)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.io.pairing import is_image_file

pydicom = pytest.importorskip("pydicom")


def _dicom_like(path):
    # the DICM magic after a 128-byte preamble is what makes a file a DICOM file by content
    path.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)


def test_dicomdir_is_not_an_image(tmp_path):
    d = tmp_path / "DICOMDIR"
    _dicom_like(d)
    other = tmp_path / "IM0001"
    _dicom_like(other)
    assert not is_image_file(d)
    assert is_image_file(other)  # other DICOM files without a suffix still are


def test_fuse_dir_with_dicomdirs_fuses_the_slices(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for side in ("a", "b"):
        (tmp_path / side).mkdir()
        Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(tmp_path / side / "s1.png")
        _dicom_like(tmp_path / side / "DICOMDIR")
    rc = main(["fuse-dir", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "out"),
               "--method", "average", "-q"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["s1.png"]
