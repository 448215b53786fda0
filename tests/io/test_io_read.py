"""Reading: bit depths, normalisation policy, EXIF orientation, TIFF/DICOM, atomic writes."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from mutualfuse.errors import InputError
from mutualfuse.image_io import output_depth, read_image, write_image


def test_8bit_gray_and_rgb_full_range(tmp_path):
    g = (np.arange(64 * 32) % 256).astype(np.uint8).reshape(32, 64)
    Image.fromarray(g).save(tmp_path / "g.png")
    arr, info = read_image(tmp_path / "g.png")
    assert info.bit_depth == 8 and info.mode == "L" and info.normalization == "full"
    assert np.array_equal(np.round(arr * 255).astype(np.uint8), g)
    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "c.bmp")
    arr, info = read_image(tmp_path / "c.bmp")
    assert arr.shape == (20, 30, 3) and info.mode == "RGB"
    assert np.array_equal(np.round(arr * 255).astype(np.uint8), rgb)


def test_16bit_png_full_and_percentile(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.integers(3000, 9000, (40, 50)).astype(np.uint16)  # 14-bit thermal in 16 bits
    Image.fromarray(x).save(tmp_path / "ir.png")
    full, info = read_image(tmp_path / "ir.png", normalize="full")
    assert info.bit_depth == 16
    assert np.allclose(full, x / 65535.0)
    auto, info = read_image(tmp_path / "ir.png")  # default: per-image percentiles
    assert info.normalization == "percentile"
    lo, hi = np.percentile(x, [0.1, 99.9])
    assert np.allclose(auto, np.clip((x - lo) / (hi - lo), 0, 1))
    assert auto.max() == 1.0 and auto.min() == 0.0


def test_float_tiff(tmp_path):
    import tifffile

    x = np.linspace(0, 1, 24 * 16, dtype=np.float32).reshape(24, 16)
    tifffile.imwrite(tmp_path / "f.tif", x)
    arr, info = read_image(tmp_path / "f.tif")
    assert info.bit_depth == 32 and np.allclose(arr, x)
    kelvin = (280 + 30 * x).astype(np.float32)
    tifffile.imwrite(tmp_path / "k.tif", kelvin)
    arr, info = read_image(tmp_path / "k.tif")
    assert info.normalization == "percentile" and arr.min() == 0 and arr.max() == 1
    with pytest.raises(InputError, match="k.tif: float samples are in"):
        read_image(tmp_path / "k.tif", normalize="full")


def test_float_tiff_overshoot_within_tolerance_is_clipped_and_said(tmp_path, capsys):
    import tifffile

    from mutualfuse.cli import main

    x = np.linspace(0, 1, 24 * 16, dtype=np.float32).reshape(24, 16)
    over = x.copy()
    over[0, 0], over[-1, -1] = -0.0004, 1.0005  # resize rounding, within the tolerance 0.001
    tifffile.imwrite(tmp_path / "o.tif", over)
    tifffile.imwrite(tmp_path / "x.tif", x)
    for normalize in ("auto", "full"):
        arr, info = read_image(tmp_path / "o.tif", normalize=normalize)
        assert info.normalization == "clipped" and arr.min() == 0.0 and arr.max() == 1.0
        assert np.array_equal(arr[1:-1], x[1:-1].astype(np.float64))
        assert read_image(tmp_path / "x.tif", normalize=normalize)[1].normalization == "full"
    out = tmp_path / "f.tif"
    assert main(["fuse", str(tmp_path / "o.tif"), str(tmp_path / "x.tif"), "-o", str(out), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert f"{tmp_path / 'o.tif'}: float samples up to 0.001 outside [0, 1] clipped" in err, err
    assert f"{tmp_path / 'x.tif'}:" not in err


def test_16bit_rgb_tiff(tmp_path):
    import tifffile

    x = np.random.default_rng(2).integers(0, 65536, (10, 12, 3)).astype(np.uint16)
    tifffile.imwrite(tmp_path / "c16.tif", x, photometric="rgb")
    arr, info = read_image(tmp_path / "c16.tif", normalize="full")
    assert arr.shape == (10, 12, 3) and info.bit_depth == 16 and np.allclose(arr, x / 65535)


def test_exif_orientation_is_applied(tmp_path):
    x = np.zeros((20, 40), np.uint8)
    x[:, :10] = 255  # bright left band
    im = Image.fromarray(x)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90° CW for display
    im.save(tmp_path / "o.jpg", exif=exif.tobytes(), quality=100)
    arr, _ = read_image(tmp_path / "o.jpg")
    assert arr.shape == (40, 20)
    assert arr[:10].mean() > 0.9 and arr[-10:].mean() < 0.1  # left band is now on top


def _dicom(path, arr, **kw):
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = kw.pop("photometric", "MONOCHROME2")
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    for k, v in kw.items():
        setattr(ds, k, v)
    ds.PixelData = arr.astype(np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    del pydicom


def test_dicom_window_rescale_and_monochrome1(tmp_path):
    x = np.tile(np.arange(0, 4096, 64, dtype=np.uint16), (16, 1))  # 16 x 64, 12-bit ramp
    _dicom(tmp_path / "ct.dcm", x, RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=40, WindowWidth=400)
    arr, info = read_image(tmp_path / "ct.dcm")
    hu = x.astype(float) - 1024
    expect = np.clip((hu - (40 - 0.5 - 399 / 2)) / 399, 0, 1)
    assert info.source == "dicom" and info.normalization == "window" and info.bit_depth == 16
    assert np.allclose(arr, expect)
    full, _ = read_image(tmp_path / "ct.dcm", normalize="full")
    assert np.allclose(full, x / 4095.0)
    _dicom(tmp_path / "m1.dat", x, photometric="MONOCHROME1")  # detected by the DICM magic
    inv, _ = read_image(tmp_path / "m1.dat", normalize="full")
    assert np.allclose(inv, 1 - x / 4095.0)


def test_flat_dicom_without_a_window_keeps_its_value(tmp_path):
    """A slice of one value has no percentile range: it keeps its value in the stored 12-bit
    range, as a flat 16-bit PNG does (was 1.0, white, for any value above 1)."""
    for v in (0, 1000, 4095):
        _dicom(tmp_path / f"f{v}.dcm", np.full((16, 16), v, np.uint16))
        arr, info = read_image(tmp_path / f"f{v}.dcm")
        assert np.allclose(arr, v / 4095.0) and info.normalization == "full"
    _dicom(tmp_path / "hu.dcm", np.full((16, 16), 1024, np.uint16), RescaleSlope=1, RescaleIntercept=-1024)
    arr, _ = read_image(tmp_path / "hu.dcm")  # 0 HU: the stored value 1024 of 0..4095
    assert np.allclose(arr, 1024 / 4095.0)


def test_fuse_dir_finds_dicom_files_without_a_dcm_suffix(tmp_path, capsys):
    """Scanners write DICOM as IM0001 or IM.0001: fuse-dir pairs them by their DICM magic, and
    the output keeps the whole name (IM.0001 and IM.0002 must not both become IM.png)."""
    from mutualfuse.cli import main

    rng = np.random.default_rng(3)
    for d in ("A", "B"):
        (tmp_path / d).mkdir()
        for name in ("IM0001", "IM.0001", "IM.0002"):
            _dicom(tmp_path / d / name, rng.integers(0, 4096, (24, 32)).astype(np.uint16))
        (tmp_path / d / "notes").write_text("not an image, not DICOM")  # neither paired nor a failure
    out = tmp_path / "O"
    rc = main(["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(out), "--method", "average", "-q"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(os.listdir(out)) == ["IM.0001.png", "IM.0002.png", "IM0001.png"]


def test_dicom_without_extra_says_how_to_install(tmp_path, monkeypatch):
    import mutualfuse.dicom as dicom

    _dicom(tmp_path / "a.dcm", np.zeros((8, 8), np.uint16))
    monkeypatch.setattr(dicom, "_pydicom", lambda: None)
    with pytest.raises(InputError, match=r"a.dcm: reading DICOM needs pydicom: pip install 'mutualfuse\[dicom\]'"):
        read_image(tmp_path / "a.dcm")


def test_write_round_trips_and_is_atomic(tmp_path):
    x = np.random.default_rng(3).random((17, 23))
    write_image(tmp_path / "o16.png", x, bit_depth=16)
    back, info = read_image(tmp_path / "o16.png", normalize="full")
    assert info.bit_depth == 16 and np.abs(back - x).max() <= 0.5 / 65535 + 1e-12
    write_image(tmp_path / "of.tif", x, bit_depth=32)
    back, info = read_image(tmp_path / "of.tif")
    assert info.bit_depth == 32 and np.allclose(back, x.astype(np.float32))
    c = np.random.default_rng(4).random((9, 11, 3))
    write_image(tmp_path / "c16.tif", c, bit_depth=16)
    back, _ = read_image(tmp_path / "c16.tif", normalize="full")
    assert np.abs(back - c).max() <= 0.5 / 65535 + 1e-12
    assert sorted(os.listdir(tmp_path)) == ["c16.tif", "o16.png", "of.tif"]  # no temp files left


def test_output_depth_follows_inputs():
    assert output_depth("o.png", [8, 16], colour=False) == (16, None)
    assert output_depth("o.tif", [32, 8], colour=False) == (32, None)
    d, note = output_depth("o.jpg", [16, 8], colour=False)
    assert d == 8 and "cannot hold 16-bit" in note
    d, note = output_depth("o.png", [16, 8], colour=True)
    assert d == 8 and note
    assert output_depth("o.tif", [16, 8], colour=True) == (16, None)
    with pytest.raises(InputError, match="cannot hold"):
        output_depth("o.jpg", [8], colour=False, requested=16)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_tiff_orientation_is_applied(tmp_path, orientation):
    """The Orientation tag as TIFF 6.0 defines it: where the stored 0th row and 0th column are
    on display (so a pair of a rotated TIFF and an upright image is the same size)."""
    from mutualfuse.image_io import header_size, read_image

    x = np.arange(20 * 30, dtype=np.uint8).reshape(20, 30)
    h, w = x.shape
    want = np.empty((w, h) if orientation >= 5 else (h, w), np.uint8)
    for i in range(h):  # stored row i, column j → displayed position
        for j in range(w):
            r, c = {1: (i, j), 2: (i, w - 1 - j), 3: (h - 1 - i, w - 1 - j), 4: (h - 1 - i, j),
                    5: (j, i), 6: (j, h - 1 - i), 7: (w - 1 - j, h - 1 - i), 8: (w - 1 - j, i)}[orientation]
            want[r, c] = x[i, j]
    p = tmp_path / f"o{orientation}.tif"
    tifffile = pytest.importorskip("tifffile")
    tifffile.imwrite(p, x, photometric="minisblack", extratags=[(274, "H", 1, orientation, True)])
    got, _ = read_image(p, normalize="full")
    assert np.array_equal(np.round(got * 255).astype(np.uint8), want)
    assert header_size(p) == (want.shape[1], want.shape[0])
