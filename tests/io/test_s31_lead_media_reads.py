"""s31 (patch of the media helper, applied by the lead):

* a TIFF written plane by plane (``with TiffWriter(f) as w: for p in planes: w.write(p)``), one
  "shaped" series a page, which Fiji opens as a stack, is read by ``fuse-stack`` as a stack of
  those planes (it was refused: "TIFF holds 3 image series ...");
* ``fuse`` reads a single DICOM slice stored without the preamble and ``DICM`` marker and named
  without an extension (a PACS export's UID name): it was not recognised as DICOM at all."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

tifffile = pytest.importorskip("tifffile")

from mutualfuse.cli import main  # noqa: E402


def test_a_tiff_written_plane_by_plane_is_a_stack(tmp_path, capsys):
    rng = np.random.default_rng(31)
    planes = rng.integers(0, 256, (3, 40, 48)).astype(np.uint8)
    loop, ij = tmp_path / "loop.tif", tmp_path / "ij.tif"
    with tifffile.TiffWriter(loop) as w:
        for p in planes:
            w.write(p)
    tifffile.imwrite(ij, planes, imagej=True, metadata={"axes": "ZYX"})
    assert main(["fuse-stack", str(loop), "-o", str(tmp_path / "a.png"), "--method", "average", "-q"]) == 0, \
        capsys.readouterr().err
    assert main(["fuse-stack", str(ij), "-o", str(tmp_path / "b.png"), "--method", "average", "-q"]) == 0
    from PIL import Image

    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a.png")), np.asarray(Image.open(tmp_path / "b.png")))


def test_a_single_headerless_dicom_without_extension_is_read(tmp_path, capsys):
    pydicom = pytest.importorskip("pydicom")
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.filewriter import dcmwrite
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rng = np.random.default_rng(7)
    paths = []
    for i in range(2):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
        ds.SOPInstanceUID = generate_uid()
        ds.Modality = "MR"
        ds.Rows, ds.Columns = 32, 40
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = rng.integers(0, 4000, (32, 40)).astype(np.uint16).tobytes()
        ds.preamble = None
        del ds.file_meta
        p = tmp_path / f"1.2.826.0.1.{i}"
        dcmwrite(p, ds, enforce_file_format=False, implicit_vr=False, little_endian=True)
        assert p.read_bytes()[128:132] != b"DICM"
        paths.append(p)
    out = tmp_path / "o.png"
    assert main(["fuse", str(paths[0]), str(paths[1]), "-o", str(out), "--method", "average", "-q"]) == 0, \
        capsys.readouterr().err
    assert out.is_file()
