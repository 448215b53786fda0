"""Reading DICOM as a radiologist's files have it (session 22): the VOI LUT Sequence (a table in
place of the window: CR/DX/MG), pixel padding outside a CT's scan circle, the rescale and window
of an enhanced (functional-group) single-frame CT, and the pixel layouts pydicom must decode as
the standard says (high-bit garbage, signed samples, planar configuration, MONOCHROME1)."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.image_io import read_image
from one_line_error import assert_one_line_error
from tolerance import assert_close

pydicom = pytest.importorskip("pydicom")

CT = "1.2.840.10008.5.1.4.1.1.2"
ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"


def _dicom(path, arr, bits_stored=12, signed=0, raw=None, sop=CT, photometric="MONOCHROME2", **kw):
    """A 16-bit-allocated grayscale DICOM file of ``arr`` (or of the bytes ``raw``), with ``kw``."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = sop, meta.MediaStorageSOPInstanceUID, "CT"
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits_stored, bits_stored - 1, signed
    for k, v in kw.items():
        setattr(ds, k, v)
    ds.PixelData = raw if raw is not None else arr.astype(np.int16 if signed else np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)
    return path


def _lut_item(descriptor, data, descriptor_vr="US", data_vr="OW"):
    from pydicom.dataset import Dataset

    item = Dataset()
    item.add_new(0x00283002, descriptor_vr, list(descriptor))
    item.add_new(0x00283006, data_vr, data)
    return item


RAMP = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (4, 1))  # 12-bit CR-like stored values
GAMMA = np.round(65535 * (np.arange(4096) / 4095.0) ** 0.5).astype(np.uint16)  # a non-linear 16-bit VOI LUT


# --- 1. VOI LUT Sequence (PS3.3 C.11.2.1.1) -------------------------------------------------

@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_a_voi_lut_sequence_is_applied(tmp_path, photometric):
    """A VOI LUT Sequence was ignored: the image was scaled by percentiles (linearly) instead of
    through the file's table. Within the table's range the result is pydicom's ``apply_voi``,
    mapped from the table's output range 0 … 2**16 − 1; MONOCHROME1 is inverted after it."""
    from pydicom.pixels import apply_voi

    from pydicom.sequence import Sequence

    f = _dicom(tmp_path / "cr.dcm", RAMP, photometric=photometric,
               VOILUTSequence=Sequence([_lut_item([4096, 0, 16], GAMMA.tobytes())]))
    arr, info = read_image(f)
    assert info.normalization == "window" and info.scaled_how() == "scaled by its VOI LUT (VOILUTSequence)"
    want = apply_voi(RAMP, pydicom.dcmread(f)).astype(np.float64) / 65535
    assert_close(arr, want if photometric == "MONOCHROME2" else 1.0 - want, dtype=np.float64)


def test_the_voi_lut_is_preferred_to_a_window_and_follows_the_rescale(tmp_path):
    """Both a table and a window: the table is applied (as pydicom's ``apply_voi_lut`` prefers it),
    to the rescaled values (HU), whose first mapped value is negative (SS, or SS read as US);
    values outside the table take its first or last entry."""
    from pydicom.sequence import Sequence

    stored = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (2, 1))
    hu = stored.astype(np.int64) - 1024
    table = np.linspace(0, 4095, 1000).round().astype(np.uint16)  # 1000 entries from -500 HU, 12 bits
    want = table[np.clip(hu + 500, 0, 999)] / 4095.0
    for name, vr, first in (("ss.dcm", "SS", -500), ("us.dcm", "US", 65536 - 500)):
        f = _dicom(tmp_path / name, stored, RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=40, WindowWidth=400,
                   VOILUTSequence=Sequence([_lut_item([1000, first, 12], table.tobytes(), descriptor_vr=vr)]))
        arr, info = read_image(f)
        assert info.normalization == "window"
        assert_close(arr, want, dtype=np.float64)
    # normalize 'full' and 'percentile' still ignore the VOI (they do not use the window either)
    full, info = read_image(tmp_path / "ss.dcm", normalize="full")
    assert info.normalization == "full"
    assert_close(full, stored / 4095.0, dtype=np.float64)


def test_8_bit_voi_lut_entries_and_a_fractional_rescale(tmp_path):
    """8-bit entries stored as with 8 bits allocated (256 bytes of OW for 256 entries: pydicom's
    ``apply_voi`` reads them as 16-bit words and fails); a fractional rescale output takes the
    nearest entry (pydicom truncates)."""
    from pydicom.sequence import Sequence

    stored = np.array([[0, 1, 3, 100, 255, 400, 511, 4095]], dtype=np.uint16)
    table = (255 - np.arange(256)).astype(np.uint8)  # an inverting table
    f = _dicom(tmp_path / "lut8.dcm", stored, RescaleSlope=0.5, RescaleIntercept=0,
               VOILUTSequence=Sequence([_lut_item([256, 0, 8], table.tobytes())]))
    arr, _ = read_image(f)
    x = stored * 0.5  # 0, 0.5, 1.5, 50, 127.5, 200, 255.5, 2047.5
    want = table[np.clip(np.floor(x + 0.5), 0, 255).astype(int)] / 255.0
    assert_close(arr, want, dtype=np.float64)


def test_a_malformed_voi_lut_is_refused_in_one_line(tmp_path, capsys):
    from pydicom.sequence import Sequence

    bad = _dicom(tmp_path / "bad.dcm", RAMP, VOILUTSequence=Sequence([_lut_item([4096, 0, 16], GAMMA[:10].tobytes())]))
    good = _dicom(tmp_path / "good.dcm", RAMP)
    assert_one_line_error(capsys, ["fuse", str(bad), str(good), "-o", str(tmp_path / "f.png"), "--method", "average"],
                          "bad.dcm: cannot apply the DICOM VOI LUT Sequence (LUT Data has 10 entries")
    assert not (tmp_path / "f.png").exists()


# --- 2. Pixel Padding Value / Range Limit (PS3.3 C.7.5.1.1.2) --------------------------------

def _ct_slice(n=64):
    """HU of a synthetic CT slice: a disc of soft tissue (40 HU) with air (-1000) and bone (1000)
    inside, and the corners outside the scan circle (the caller pads them)."""
    yy, xx = np.mgrid[:n, :n] - (n - 1) / 2
    r = np.hypot(yy, xx)
    hu = np.full((n, n), 40.0)
    hu[r < n / 8] = 1000.0
    hu[(np.abs(yy) < 3) & (xx > n / 6)] = -1000.0
    hu += np.arange(n)[None, :] % 7  # some texture, so the percentiles are not at a plateau
    return hu, r > n / 2 - 1


@pytest.mark.parametrize("case", ["signed_low", "unsigned_high", "range_limit"])
def test_padding_is_left_out_of_the_range_and_comes_out_black(tmp_path, case):
    """Padding outside the scan circle (26 % of the slice) was part of the percentiles: at
    -2000 HU the slice's p0.1 landed on it, at 0xFFFF its p99.9 did (the body squeezed into a
    quarter of the range). It is now left out and read as 0."""
    hu, outside = _ct_slice()
    if case == "signed_low":  # PixelRepresentation 1, no intercept, padding -2000
        stored = hu.copy()
        stored[outside] = -2000
        f = _dicom(tmp_path / "ct.dcm", stored, bits_stored=16, signed=1, RescaleSlope=1, RescaleIntercept=0,
                   PixelPaddingValue=-2000)
    elif case == "unsigned_high":  # unsigned, intercept -1024, padding 0xFFFF
        stored = hu + 1024
        stored[outside] = 0xFFFF
        f = _dicom(tmp_path / "ct.dcm", stored, bits_stored=16, RescaleSlope=1, RescaleIntercept=-1024,
                   PixelPaddingValue=0xFFFF)
    else:  # a range of padding values, limit given before the value
        stored = hu + 1024
        stored[outside] = np.arange(int(outside.sum())) % 20  # 0 … 19 (air is stored at 24 …)
        f = _dicom(tmp_path / "ct.dcm", stored, bits_stored=16, RescaleSlope=1, RescaleIntercept=-1024,
                   PixelPaddingValue=19, PixelPaddingRangeLimit=0)
    arr, info = read_image(f)
    assert info.normalization == "percentile"
    # the note of a scaled input says so (fuse: "<file>: 16-bit input scaled by percentile, ...")
    assert info.scaled_how() == f"scaled by percentile, without its {int(outside.sum())} padding pixels " \
                                "(PixelPaddingValue), which are black"
    a, b = np.percentile(hu[~outside], [0.1, 99.9])
    want = np.clip((hu - a) / (b - a), 0, 1)
    want[outside] = 0.0
    assert_close(arr, want, dtype=np.float64)


@pytest.mark.parametrize("photometric,padding", [("MONOCHROME2", 0xFFFF), ("MONOCHROME1", 0)])
def test_padding_is_black_under_a_window_and_full(tmp_path, photometric, padding):
    """Under the file's window, 0xFFFF padding (64511 HU after the intercept) was windowed to 1:
    white corners around the body; in MONOCHROME1 (high values dark) padding stored as 0 was
    windowed to 0 and inverted to white. Padding is no image: 0 under every normalisation."""
    hu, outside = _ct_slice(32)
    stored = hu + 1024
    stored[outside] = padding
    f = _dicom(tmp_path / "ct.dcm", stored, bits_stored=16, photometric=photometric, RescaleSlope=1,
               RescaleIntercept=-1024, WindowCenter=40, WindowWidth=400, PixelPaddingValue=padding)
    invert = (lambda v: 1.0 - v) if photometric == "MONOCHROME1" else (lambda v: v)
    arr, info = read_image(f)
    assert info.normalization == "window"
    want = invert(np.clip((hu - (40 - 0.5 - 399 / 2)) / 399, 0, 1))
    want[outside] = 0.0
    assert_close(arr, want, dtype=np.float64)
    full, _ = read_image(f, normalize="full")
    want = invert(stored / 65535.0)
    want[outside] = 0.0
    assert_close(full, want, dtype=np.float64)


def test_a_padding_value_no_pixel_has_changes_nothing(tmp_path):
    hu, _ = _ct_slice(32)
    plain = _dicom(tmp_path / "plain.dcm", hu + 1024, RescaleSlope=1, RescaleIntercept=-1024)
    padded = _dicom(tmp_path / "padded.dcm", hu + 1024, RescaleSlope=1, RescaleIntercept=-1024, PixelPaddingValue=0)
    assert np.array_equal(read_image(plain)[0], read_image(padded)[0])


# --- 3. Enhanced CT: rescale and window in functional groups (PS3.3 C.7.6.16) ----------------

def _groups(**seqs):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    g = Dataset()
    for name, kw in seqs.items():
        item = Dataset()
        for k, v in kw.items():
            setattr(item, k, v)
        setattr(g, name, Sequence([item]))
    return Sequence([g])


HU_RAMP = RAMP.astype(np.float64) - 1024


def test_an_enhanced_single_frame_ct_is_read_through_its_functional_groups(tmp_path):
    """The rescale and window of an Enhanced CT live in its functional groups, not at the top
    level: they were ignored (percentiles of the stored values instead of the file's window; a
    negative slope not applied). A per-frame group overrides the shared one."""
    shared = _groups(PixelValueTransformationSequence={"RescaleSlope": 1, "RescaleIntercept": -1024, "RescaleType": "HU"},
                     FrameVOILUTSequence={"WindowCenter": 40, "WindowWidth": 400})
    f = _dicom(tmp_path / "enh.dcm", RAMP, sop=ENHANCED_CT, NumberOfFrames=1, SharedFunctionalGroupsSequence=shared,
               PerFrameFunctionalGroupsSequence=_groups())
    arr, info = read_image(f)
    assert info.normalization == "window"
    assert_close(arr, np.clip((HU_RAMP - (40 - 0.5 - 399 / 2)) / 399, 0, 1), dtype=np.float64)

    per = _groups(FrameVOILUTSequence={"WindowCenter": 500, "WindowWidth": 2000, "VOILUTFunction": "LINEAR_EXACT"})
    f = _dicom(tmp_path / "per.dcm", RAMP, sop=ENHANCED_CT, NumberOfFrames=1, SharedFunctionalGroupsSequence=shared,
               PerFrameFunctionalGroupsSequence=per)
    arr, _ = read_image(f)
    assert_close(arr, np.clip((HU_RAMP - (500 - 1000)) / 2000, 0, 1), dtype=np.float64)

    neg = _groups(PixelValueTransformationSequence={"RescaleSlope": -1, "RescaleIntercept": 4095})
    f = _dicom(tmp_path / "neg.dcm", RAMP, sop=ENHANCED_CT, NumberOfFrames=1, SharedFunctionalGroupsSequence=neg)
    arr, info = read_image(f, normalize="percentile")
    a, b = np.percentile(4095.0 - RAMP, [0.1, 99.9])
    assert_close(arr, np.clip((4095.0 - RAMP - a) / (b - a), 0, 1), dtype=np.float64)


def test_an_enhanced_multi_frame_ct_is_refused_in_one_line(tmp_path, capsys):
    shared = _groups(PixelValueTransformationSequence={"RescaleSlope": 1, "RescaleIntercept": -1024})
    three = np.concatenate([RAMP] * 3)
    f = _dicom(tmp_path / "vol.dcm", RAMP, raw=three.tobytes(), sop=ENHANCED_CT, NumberOfFrames=3,
               SharedFunctionalGroupsSequence=shared)
    good = _dicom(tmp_path / "good.dcm", RAMP)
    assert_one_line_error(capsys, ["fuse", str(f), str(good), "-o", str(tmp_path / "f.png"), "--method", "average"],
                          "vol.dcm: multi-frame DICOM (3 frames) is not supported; export one slice")
    assert not (tmp_path / "f.png").exists()


# --- 4. pixel layouts (PS3.5 8.1.1, PS3.3 C.7.6.3.1.3-4): decoded as the standard says ---------

def test_high_bit_garbage_and_signed_samples_below_bits_allocated(tmp_path):
    """BitsStored 12 of 16: the 4 bits above the high bit carry garbage (overlay bits of old
    scanners) that must be masked off; a signed 12-bit sample is sign-extended from bit 11."""
    vals = np.tile(np.arange(0, 4096, 512, dtype=np.uint16), (2, 1))
    f = _dicom(tmp_path / "garbage.dcm", vals, raw=(vals | 0xF000).astype(np.uint16).tobytes())
    full, _ = read_image(f, normalize="full")
    assert_close(full, vals / 4095.0, dtype=np.float64)

    s = np.array([[-2048, -1000, -1, 0, 1, 500, 2047, 100]], dtype=np.int16)
    f = _dicom(tmp_path / "s12.dcm", s, signed=1, raw=(s.astype(np.uint16) & 0x0FFF).tobytes(),
               RescaleSlope=1, RescaleIntercept=0)
    full, _ = read_image(f, normalize="full")
    assert_close(full, (s + 2048.0) / 4095.0, dtype=np.float64)


def test_planar_configuration_1_colour(tmp_path):
    """RGB stored colour-by-plane (PlanarConfiguration 1: RRR…GGG…BBB…) reads as the same
    image as colour-by-pixel."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    got = []
    for planar in (0, 1):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(tmp_path / f"p{planar}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 5, 7, 3, "RGB"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.PlanarConfiguration = planar
        ds.PixelData = (rgb if planar == 0 else np.ascontiguousarray(rgb.transpose(2, 0, 1))).tobytes()
        ds.save_as(str(tmp_path / f"p{planar}.dcm"), enforce_file_format=True)
        got.append(read_image(tmp_path / f"p{planar}.dcm")[0])
    assert np.array_equal(got[0], got[1])
    assert_close(got[1], rgb / 255.0, dtype=np.float64)
