"""Signed integer TIFFs as a CT or thermal user has them (session 27).

A signed 16-bit TIFF (a CT slice exported in Hounsfield units, a thermal camera's signed counts)
with a negative sample was refused ("save it as a float32 TIFF"), while a DICOM of the same
signed samples was read. It is now read as that DICOM is (no window): ``auto`` and
``percentile`` by the slice's percentiles, ``full`` by the type's range -32768..32767, a flat
slice at its place in that range. An int32 TIFF whose values fit signed 16 bits (what Pillow
writes for ``Image.fromarray(int16)``, its mode ``I``) reads as the int16 one; integers that fit
neither 0..65535 nor -32768..32767 are still refused in one line naming the float route.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.image_io import read_image, read_samples
from one_line_error import assert_one_line_error
from tiff_codecs import no_codecs  # noqa: F401  (the fixture)
from tolerance import assert_close

tifffile = pytest.importorskip("tifffile")

H, W = 40, 48
RNG = np.random.default_rng(27)
# a CT slice in HU: air, soft tissue and bone, plus a few outliers for the percentiles to ignore
CT = RNG.normal(40, 300, (H, W)).clip(-1024, 3071).astype(np.int16)
CT[0, :3] = (-3024, 3071, 2000)
THERMAL = (RNG.normal(0, 50, (H, W)) + np.linspace(-200, 200, W)).astype(np.int16)


def _signed_dicom(path, arr: np.ndarray) -> None:
    """A DICOM of ``arr`` as stored signed 16-bit samples (PixelRepresentation 1, BitsStored 16),
    no rescale and no window: the reading the signed TIFF is to match."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "CT"
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.PixelData = arr.astype("<i2").tobytes()
    ds.save_as(str(path), enforce_file_format=True)


@pytest.mark.parametrize("normalize", ["auto", "full", "percentile"])
@pytest.mark.parametrize("which", ["ct", "thermal", "flat", "no negative"])
def test_a_signed_16bit_tiff_reads_as_the_same_signed_dicom(tmp_path, normalize, which):
    pytest.importorskip("pydicom")
    arr = {"ct": CT, "thermal": THERMAL, "flat": np.full((H, W), -1000, np.int16),
           "no negative": np.abs(CT)}[which]  # by the type, not the values: mapped as the others
    tif, dcm = tmp_path / "s.tif", tmp_path / "s.dcm"
    tifffile.imwrite(tif, arr)
    _signed_dicom(dcm, arr)
    x, info = read_image(tif, normalize=normalize)
    want, winfo = read_image(dcm, normalize=normalize)
    assert info.bit_depth == 16 and info.source == "tiff" and info.mode == "L"
    assert_close(x, want)
    if which != "flat":
        assert info.normalization == winfo.normalization, (info, winfo)
        assert x.max() > x.min()
    elif normalize != "full":  # as a flat unsigned TIFF: the note says it was not stretched
        assert info.scaling == ("is flat (every sample -1000): not stretched, kept at its place in the signed "
                                "16-bit range (-32768 → 0, 32767 → 1)"), info
    if normalize == "full":  # -32768 → 0, 32767 → 1: -1000 HU just below the middle
        assert_close(x, (arr.astype(np.float64) + 32768) / 65535)


def test_read_samples_gives_the_stored_signed_values(tmp_path):
    f = tmp_path / "ct.tif"
    tifffile.imwrite(f, CT)
    raw, depth, reader = read_samples(f)
    assert raw.dtype == np.int16 and depth == 16 and reader == "tiff"
    assert np.array_equal(raw, CT)


def test_an_int32_tiff_of_signed_16bit_values_reads_as_the_int16_one(tmp_path):
    """Pillow's mode I (``Image.fromarray`` of an int16 CT) is written as an int32 TIFF."""
    a, b = tmp_path / "a16.tif", tmp_path / "a32.tif"
    tifffile.imwrite(a, CT)
    Image.fromarray(CT).save(b)
    with tifffile.TiffFile(b) as tf:
        assert tf.pages[0].dtype == np.int32  # what Pillow wrote
    for normalize in ("auto", "full"):
        assert np.array_equal(read_image(a, normalize=normalize)[0], read_image(b, normalize=normalize)[0])


@pytest.mark.parametrize("dtype,lo,hi,what", [(np.int32, -100000, 200000, "signed 32-bit"),
                                              (np.uint32, 0, 100000, "unsigned 32-bit"),
                                              (np.int32, -40000, 100, "signed 32-bit")])
def test_integers_fitting_no_16bit_type_are_refused_in_one_line(tmp_path, capsys, dtype, lo, hi, what):
    f = tmp_path / "big.tif"
    tifffile.imwrite(f, np.linspace(lo, hi, H * W).reshape(H, W).astype(dtype))
    assert_one_line_error(capsys, ["fuse", str(f), str(f), "-o", str(tmp_path / "o.png"), "--method", "average"],
                          f"big.tif: {what} TIFF samples with values {lo}..{hi}, outside 0..65535 and -32768..32767",
                          "float32 TIFF")
    assert not (tmp_path / "o.png").exists()


def test_fuse_reads_a_signed_ct_pair_and_says_how_it_scaled_it(tmp_path, capsys):
    a, b, out = tmp_path / "ct.tif", tmp_path / "th.tif", tmp_path / "o.png"
    tifffile.imwrite(a, CT)
    tifffile.imwrite(b, THERMAL)
    assert main(["fuse", str(a), str(b), "-o", str(out), "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert f"note: {a}: 16-bit input scaled by percentile" in err, err
    fused = np.asarray(Image.open(out))
    assert fused.dtype == np.uint16  # a 16-bit input: a 16-bit output
    xa, xb = read_image(a)[0], read_image(b)[0]
    want = np.round((xa + xb) / 2 * 65535)
    assert np.abs(fused.astype(np.float64) - want).max() <= 1
    # --normalize full: the type's range, so -1000 HU and 1000 HU are about 2000/65535 apart
    assert main(["fuse", str(a), str(a), "-o", str(tmp_path / "f.png"), "--method", "average",
                 "--normalize", "full", "-q"]) == 0
    full = np.asarray(Image.open(tmp_path / "f.png")).astype(np.int64)
    assert np.abs(full - (CT.astype(np.int64) + 32768)).max() <= 1


def test_a_stack_of_signed_planes_shares_one_mapping(tmp_path, capsys):
    """fuse-stack's joint percentiles start from ``full``, which must keep the sign (a clip at 0
    made every negative sample one value)."""
    planes = [CT, (CT.astype(np.int32) - 300).astype(np.int16)]
    files = []
    for i, p in enumerate(planes):
        files.append(tmp_path / f"z{i}.tif")
        tifffile.imwrite(files[-1], p)
    out = tmp_path / "s.tif"
    assert main(["fuse-stack", *map(str, files), "-o", str(out), "--method", "average", "-q"]) == 0
    got = tifffile.imread(out).astype(np.float64) / 65535
    both = np.concatenate([p.ravel() for p in planes]).astype(np.float64)
    lo, hi = np.percentile(both, [0.1, 99.9])
    want = np.mean([np.clip((p - lo) / (hi - lo), 0, 1) for p in planes], axis=0)
    assert np.abs(got - want).max() <= 1 / 65535 + 1e-9


def test_a_compressed_signed_tiff_reads_through_pillow_as_through_tifffile(tmp_path, no_codecs):  # noqa: F811
    """Without imagecodecs a compressed TIFF goes through Pillow, which decodes signed 16-bit as its
    mode I: read as the same int16 samples (it was refused naming ``pip install imagecodecs``)."""
    plain, packed = tmp_path / "plain.tif", tmp_path / "packed.tif"
    tifffile.imwrite(plain, CT)
    tifffile.imwrite(packed, CT, compression="zlib")
    raw, depth, reader = read_samples(packed)
    assert reader == "pillow" and depth == 16 and raw.dtype == np.int16
    assert np.array_equal(raw, CT)
    for normalize in ("auto", "full"):
        assert np.array_equal(read_image(packed, normalize=normalize)[0], read_image(plain, normalize=normalize)[0])


def test_a_compressed_int32_tiff_from_pillow_reads_through_pillow_by_its_values(tmp_path, capsys,
                                                                              no_codecs):  # noqa: F811
    """Pillow writes its mode I compressed as signed 32-bit (``compression="tiff_lzw"``): read through
    Pillow by the same rules as tifffile's int32 (it was refused naming imagecodecs)."""
    ct, big = tmp_path / "ct.tif", tmp_path / "big.tif"
    Image.fromarray(CT.astype(np.int32)).save(ct, compression="tiff_lzw")
    raw, depth, reader = read_samples(ct)
    assert (raw.dtype, depth, reader) == (np.int16, 16, "pillow") and np.array_equal(raw, CT)
    Image.fromarray(CT.astype(np.int32) * 100).save(big, compression="tiff_lzw")
    assert_one_line_error(capsys, ["fuse", str(big), str(big), "-o", str(tmp_path / "o.png"), "--method", "average"],
                          f"big.tif: signed 32-bit TIFF samples with values {int(CT.min()) * 100}.."
                          f"{int(CT.max()) * 100}, outside 0..65535 and -32768..32767")
