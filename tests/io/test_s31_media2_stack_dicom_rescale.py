"""A focus stack of DICOM slices without a window whose rescale differs (PET: a RescaleSlope per
slice; some CT) shares one mapping on the slices' modality values (slope · stored + intercept),
what fuse and fuse-dir scale a DICOM image's percentiles on. The joint mapping was taken on the
stored values: three slices storing the same numbers for activities 0.1x, 1x and 0.5x came out
equally bright."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.cli import main

pydicom = pytest.importorskip("pydicom")
tifffile = pytest.importorskip("tifffile")


def _slice(path, stored: np.ndarray, **kw) -> str:
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.128"  # PET
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality = "PT"
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, kw.pop("photometric", "MONOCHROME2")
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    for k, v in kw.items():
        setattr(ds, k, v)
    ds.PixelData = stored.astype(np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return str(path)


def _stack(tmp_path, photometric="MONOCHROME2"):
    base = np.random.default_rng(3).random((40, 48)) * 4000  # the activity of the brightest slice
    activity, paths = [], []
    for i, f in enumerate((0.1, 1.0, 0.5)):  # dim, bright, middle: each stored on its full 16 bits
        slope = f / 8
        stored = np.rint(base * f / slope)
        paths.append(_slice(tmp_path / f"PT{i:03d}.dcm", stored, RescaleSlope=f"{slope:.6g}", RescaleIntercept="0",
                            photometric=photometric))
        activity.append(stored * float(f"{slope:.6g}"))
    return paths, np.stack(activity)


def _expected(activity, invert=False):
    a, b = np.percentile(activity, [0.1, 99.9])
    y = np.clip((activity - a) / (b - a), 0, 1)
    return (1 - y if invert else y).mean(axis=0)


@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_slices_of_other_rescale_are_mapped_on_their_modality_values(tmp_path, capsys, photometric):
    paths, activity = _stack(tmp_path, photometric)
    out = tmp_path / "edf.tif"
    assert main(["fuse-stack", *paths, "-o", str(out), "--method", "average", "--bit-depth", "32"]) == 0
    err = capsys.readouterr().err
    got = tifffile.imread(out).astype(np.float64)
    # one mapping of the activities, to within the joint histogram's 1/65535 of the range; on the
    # stored values the three slices were mapped alike (0.3 of the range off)
    assert np.abs(got - _expected(activity, photometric == "MONOCHROME1")).max() < 2e-3
    assert "3 of 3 images (DICOM of differing RescaleSlope/RescaleIntercept) scaled by the joint 0.1-99.9" in err, err
    assert "input scaled by percentile" not in err, err  # one note, not one a slice


def test_padding_takes_no_part_and_stays_black(tmp_path, capsys):
    """A slice's PixelPaddingValue pixels are left out of the joint percentiles and come out 0,
    as fuse makes them."""
    paths, activity = _stack(tmp_path)
    ds = pydicom.dcmread(paths[1])
    stored = ds.pixel_array.copy()
    stored[:, :4] = 0
    ds.add_new((0x0028, 0x0120), "US", 0)  # PixelPaddingValue
    ds.PixelData = stored.astype(np.uint16).tobytes()
    ds.save_as(paths[1])
    out = tmp_path / "edf.tif"
    assert main(["fuse-stack", *paths, "-o", str(out), "--method", "average", "--bit-depth", "32", "-q"]) == 0
    capsys.readouterr()
    act = activity.copy()
    act[1][:, :4] = np.nan
    a, b = np.nanpercentile(act, [0.1, 99.9])
    y = np.clip((act - a) / (b - a), 0, 1)
    y[1][:, :4] = 0
    got = tifffile.imread(out).astype(np.float64)
    assert np.abs(got - y.mean(axis=0)).max() < 2e-3


def test_ct_slices_of_one_rescale_leave_their_padding_out(tmp_path, capsys):
    """CT slices of one rescale whose outside of the scan circle is padding (PixelPaddingValue):
    the padding takes no part in the joint percentiles, as fuse leaves it out of a slice's, and
    stays black; it took part (read as black), so the mapping began at the padding."""
    base = np.random.default_rng(4).random((40, 48)) * 1500 + 1000  # stored; HU = stored - 1024
    paths, hu = [], []
    for i, f in enumerate((0.6, 1.0, 0.8)):
        stored = np.rint(base * f)
        stored[:, :6] = 0  # the padding
        p = _slice(tmp_path / f"CT{i}.dcm", stored, RescaleSlope="1", RescaleIntercept="-1024")
        ds = pydicom.dcmread(p)
        ds.add_new((0x0028, 0x0120), "US", 0)  # PixelPaddingValue
        ds.save_as(p)
        paths.append(p)
        v = stored - 1024.0
        v[:, :6] = np.nan
        hu.append(v)
    out = tmp_path / "edf.tif"
    assert main(["fuse-stack", *paths, "-o", str(out), "--method", "average", "--bit-depth", "32"]) == 0
    err = capsys.readouterr().err
    act = np.stack(hu)
    a, b = np.nanpercentile(act, [0.1, 99.9])
    y = np.nan_to_num(np.clip((act - a) / (b - a), 0, 1), nan=0.0)
    assert np.abs(tifffile.imread(out).astype(np.float64) - y.mean(axis=0)).max() < 2e-3
    assert "3 of 3 images (DICOM with pixel padding) scaled by the joint" in err, err


def test_slices_each_with_a_window_of_its_own_share_one_mapping(tmp_path, capsys):
    """MR slices with an automatic window per image (centre and width from each slice's range):
    each was stretched by its own window, so a dim slice came out as bright as the brightest;
    they now share one window, the median of theirs. Slices of one window keep it."""
    base = np.random.default_rng(6).random((40, 48)) * 3000
    paths, vals = [], []
    for i, f in enumerate((0.3, 1.0, 0.6)):
        stored = np.rint(base * f)
        paths.append(_slice(tmp_path / f"MR{i}.dcm", stored, WindowCenter=f"{1500 * f:g}", WindowWidth=f"{3000 * f:g}"))
        vals.append(stored)
    out = tmp_path / "edf.tif"
    assert main(["fuse-stack", *paths, "-o", str(out), "--method", "average", "--bit-depth", "32"]) == 0
    err = capsys.readouterr().err
    wc, ww = 1500 * 0.6, 3000 * 0.6  # the median centre and width
    want = np.clip((np.stack(vals) - (wc - 0.5 - (ww - 1) / 2)) / (ww - 1), 0, 1).mean(axis=0)
    assert np.abs(tifffile.imread(out).astype(np.float64) - want).max() < 1e-4
    assert ("3 of 3 images (DICOM of differing windows) scaled by one window, the median of theirs (WindowCenter "
            "900, WindowWidth 1800) instead of a window each") in err, err
    assert "scaled by window" not in err, err
    for p in paths:  # one window for all: each slice by it, as before
        ds = pydicom.dcmread(p)
        ds.WindowCenter, ds.WindowWidth = "1500", "3000"
        ds.save_as(p)
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "one.tif"), "--method", "average", "--bit-depth", "32"]) == 0
    err = capsys.readouterr().err
    assert "differing windows" not in err and err.count("scaled by window") == 3, err
