"""DICOM output (``fuse ... -o out.dcm``, ``fuse-dir --ext .dcm``): a Secondary Capture image that
files under the sources' patient and study, at their position, and reads back to the values a
PNG of the same fuse holds."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.image_io import read_image

pydicom = pytest.importorskip("pydicom")
sys.path.insert(0, str(Path(__file__).parent))
from test_io_read import _dicom  # noqa: E402

sys.path.pop(0)

TAGS = dict(PatientName="Test^Fusion", PatientID="P001", StudyInstanceUID="1.2.3.4.5.6", SeriesInstanceUID="1.2.3.4.5.7",
            FrameOfReferenceUID="1.2.3.4.5.8", PixelSpacing=[0.5, 0.5], ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
            WindowCenter=1500, WindowWidth=2000)


def _series(folder: Path, n: int, seed: int, series: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        p = folder / f"IM{i:04d}"
        _dicom(p, rng.integers(0, 4096, (40, 48)).astype(np.uint16), **{**TAGS, "SeriesInstanceUID": series},
               ImagePositionPatient=[0.0, 0.0, 2.5 * i], SOPInstanceUID=f"{series}.{seed}.{i}")
        out.append(p)
    return out


def test_fuse_writes_a_secondary_capture_that_reads_back_as_the_png(tmp_path, capsys):
    a = _series(tmp_path / "ct", 1, 1, "1.2.3.4.5.7.1")[0]
    b = _series(tmp_path / "mr", 1, 2, "1.2.3.4.5.7.2")[0]
    for out in ("f.dcm", "f.png"):
        assert main(["fuse", str(a), str(b), "-o", str(tmp_path / out), "--method", "dwt", "-q"]) == 0
    capsys.readouterr()
    ds = pydicom.dcmread(tmp_path / "f.dcm")
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7" and list(ds.ImageType) == ["DERIVED", "SECONDARY"]
    assert (str(ds.PatientName), ds.PatientID, ds.StudyInstanceUID, ds.FrameOfReferenceUID) == (
        "Test^Fusion", "P001", "1.2.3.4.5.6", "1.2.3.4.5.8")
    assert [float(v) for v in ds.ImagePositionPatient] == [0.0, 0.0, 0.0] and [float(v) for v in ds.PixelSpacing] == [0.5, 0.5]
    assert ds.SeriesInstanceUID not in ("1.2.3.4.5.7.1", "1.2.3.4.5.7.2")  # a new, derived series
    assert [it.ReferencedSOPInstanceUID for it in ds.SourceImageSequence] == ["1.2.3.4.5.7.1.1.0", "1.2.3.4.5.7.2.2.0"]
    assert "fused by method dwt" in ds.DerivationDescription and ds.BitsStored == 16
    got, info = read_image(tmp_path / "f.dcm")
    png, _ = read_image(tmp_path / "f.png")
    assert info.normalization == "window" and np.array_equal(got, png)  # the same 16-bit values


def test_fuse_dir_ext_dcm_makes_one_new_series_with_stable_uids(tmp_path, capsys):
    _series(tmp_path / "ct", 3, 1, "1.2.3.9.1")
    _series(tmp_path / "mr", 3, 2, "1.2.3.9.2")
    args = ["fuse-dir", str(tmp_path / "ct"), str(tmp_path / "mr"), "-o", str(tmp_path / "out"), "--ext", ".dcm", "-q"]
    assert main(args) == 0, capsys.readouterr().err
    assert sorted(os.listdir(tmp_path / "out")) == ["IM0000.dcm", "IM0001.dcm", "IM0002.dcm"]
    first = [pydicom.dcmread(tmp_path / "out" / f"IM000{i}.dcm") for i in range(3)]
    assert len({d.SeriesInstanceUID for d in first}) == 1  # the slices of one series stay one series
    assert len({d.SOPInstanceUID for d in first}) == 3
    assert [float(d.ImagePositionPatient[2]) for d in first] == [0.0, 2.5, 5.0]
    assert main(args + ["--overwrite"]) == 0
    again = [pydicom.dcmread(tmp_path / "out" / f"IM000{i}.dcm") for i in range(3)]
    assert [d.SOPInstanceUID for d in again] == [d.SOPInstanceUID for d in first]  # a rerun: the same UIDs
    capsys.readouterr()
    assert main(["evaluate", "--a", str(tmp_path / "ct"), "--b", str(tmp_path / "mr"), "--fused", str(tmp_path / "out"),
                 "--metrics", "Qabf", "-q"]) == 0  # DICOM outputs score against DICOM sources


def test_dcm_output_from_png_inputs_and_in_colour(tmp_path, capsys):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (32, 40), dtype=np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)).save(tmp_path / "b.png")
    assert main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.dcm"),
                 "--method", "average", "-q"]) == 0
    ds = pydicom.dcmread(tmp_path / "f.dcm")
    assert ds.PhotometricInterpretation == "RGB" and ds.BitsStored == 8 and ds.PatientName == "" and ds.PatientID == ""  # Type 2: present, empty (s21)
    assert main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.png"),
                 "--method", "average", "-q"]) == 0
    assert np.array_equal(ds.pixel_array, np.asarray(Image.open(tmp_path / "f.png")))


@pytest.mark.parametrize("extra,must", [(["--bit-depth", "float"], ".dcm cannot hold float samples"),
                                        ([], "writing DICOM needs pydicom")])
def test_dcm_output_refusals_write_nothing(tmp_path, capsys, monkeypatch, extra, must):
    rng = np.random.default_rng(0)
    for n in "ab":
        Image.fromarray(rng.integers(0, 256, (32, 40), dtype=np.uint8)).save(tmp_path / f"{n}.png")
    if not extra:
        import mutualfuse.dicom as dicom

        monkeypatch.setattr(dicom, "_pydicom", lambda: None)
    rc = main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.dcm"),
               "--method", "average", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and must in err[0], err
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png"]
