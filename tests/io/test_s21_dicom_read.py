"""Reading DICOM as a CT/MR/PET fusion user has it (audit s21): the file's VOI LUT function, the
refusal of a compressed syntax no installed decoder reads (naming what to install), a DICOMDIR
and float pixel data named as what they are, 16-bit colour read as 16-bit."""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from mutualfuse.image_io import read_image
from one_line_error import assert_one_line_error
from tolerance import assert_close

pydicom = pytest.importorskip("pydicom")


def _dicom(path, arr, bits_stored=12, **kw):
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
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, bits_stored, bits_stored - 1, 0
    for k, v in kw.items():
        setattr(ds, k, v)
    ds.PixelData = arr.astype(np.uint16).tobytes()
    ds.save_as(str(path), enforce_file_format=True)


def _testdata(name: str) -> str:
    from pydicom.data import get_testdata_file

    got = get_testdata_file(name, download=False)  # shipped inside the pydicom wheel: never fetched
    if got is None:
        pytest.skip(f"pydicom's test file {name} is not installed")
    return got


RAMP = np.tile(np.arange(0, 4096, 32, dtype=np.uint16), (4, 1))  # a 12-bit ramp; CT with intercept -1024
HU = RAMP.astype(np.float64) - 1024


@pytest.mark.parametrize("function,expect", [
    ("SIGMOID", 1.0 / (1.0 + np.exp(-4.0 * (HU - 40) / 400))),  # PS3.3 C.11.2.1.3.1
    ("LINEAR_EXACT", np.clip((HU - (40 - 400 / 2)) / 400, 0, 1)),  # PS3.3 C.11.2.1.3.2
    ("LINEAR", np.clip((HU - (40 - 0.5 - 399 / 2)) / 399, 0, 1)),  # PS3.3 C.11.2.1.2.1
])
def test_the_voi_lut_function_is_applied(tmp_path, function, expect):
    """A window of VOILUTFunction SIGMOID was read as LINEAR (up to 0.10 of the range apart),
    LINEAR_EXACT as LINEAR (0.002 apart); the first of several windows is used."""
    _dicom(tmp_path / "ct.dcm", RAMP, RescaleSlope=1, RescaleIntercept=-1024, WindowCenter=[40, 400],
           WindowWidth=[400, 2000], VOILUTFunction=function)
    arr, info = read_image(tmp_path / "ct.dcm")
    assert info.normalization == "window"
    assert_close(arr, expect, dtype=np.float64)


def test_compressed_syntax_without_a_decoder_names_what_to_install(tmp_path, capsys):
    """JPEG-LS (and JPEG Lossless, the usual lossless CT syntax) needs pylibjpeg-libjpeg or gdcm:
    the error was cut at pydicom's first line, "... because all plugins are missing
    dependencies:", naming none. Where a decoder is installed, the file reads as its
    uncompressed original."""
    from pydicom.pixels import get_decoder
    from pydicom.uid import JPEGLSLossless

    ls = tmp_path / "ls.dcm"
    shutil.copy(_testdata("MR_small_jpeg_ls_lossless.dcm"), ls)
    if get_decoder(JPEGLSLossless).available_plugins:
        got, _ = read_image(ls)
        want, _ = read_image(_testdata("MR_small.dcm"))
        assert np.array_equal(got, want)
        return
    err = assert_one_line_error(capsys, ["fuse", str(ls), str(ls), "-o", str(tmp_path / "f.png"), "--method", "average"],
                                "ls.dcm: cannot decode DICOM pixel data in JPEG-LS Lossless", "no decoder for it is installed",
                                "pip install 'pylibjpeg")
    assert "'pylibjpeg-libjpeg" in err and "python-gdcm" in err
    assert sorted(os.listdir(tmp_path)) == ["ls.dcm"]


def test_a_decoder_that_fails_says_why_and_what_else_decodes_it(tmp_path, capsys):
    """12-bit JPEG Extended: Pillow, the installed plugin, cannot; its reason and the other
    decoders' installs are in the one line."""
    from pydicom.pixels import get_decoder
    from pydicom.uid import JPEGExtended12Bit

    f = tmp_path / "j12.dcm"
    shutil.copy(_testdata("JPGExtended.dcm"), f)
    dec = get_decoder(JPEGExtended12Bit)
    if tuple(dec.available_plugins) != ("pillow",):
        pytest.skip(f"decoders installed for JPEG Extended: {dec.available_plugins}")
    assert_one_line_error(capsys, ["fuse", str(f), str(f), "-o", str(tmp_path / "f.png"), "--method", "average"],
                          "j12.dcm: cannot decode DICOM pixel data in JPEG Extended", "pillow: ", "12-bit",
                          "pip install 'pylibjpeg>=")
    assert sorted(os.listdir(tmp_path)) == ["j12.dcm"]


def test_dicomdir_and_float_pixel_data_are_named(tmp_path, capsys):
    """Both said "DICOM file has no pixel data"."""
    from pathlib import Path

    dicomdir = tmp_path / "DICOMDIR"
    shutil.copy(Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests" / "DICOMDIR", dicomdir)
    ok = tmp_path / "ok.dcm"
    _dicom(ok, RAMP)
    assert_one_line_error(capsys, ["fuse", str(dicomdir), str(ok), "-o", str(tmp_path / "f.png"), "--method", "average"],
                          "DICOMDIR: a DICOMDIR", "give the image files it lists")
    ds = pydicom.dcmread(ok)
    del ds.PixelData, ds.BitsStored, ds.HighBit, ds.PixelRepresentation
    ds.BitsAllocated = 32
    ds.FloatPixelData = RAMP.astype(np.float32).tobytes()
    ds.save_as(tmp_path / "float.dcm")
    assert_one_line_error(capsys, ["fuse", str(tmp_path / "float.dcm"), str(ok), "-o", str(tmp_path / "f.png"),
                                   "--method", "average"], "float.dcm: DICOM FloatPixelData (float samples) is not supported")
    assert sorted(os.listdir(tmp_path)) == ["DICOMDIR", "float.dcm", "ok.dcm"]


def test_stored_bits_signed_samples_and_16bit_colour(tmp_path):
    """12 bits in 16 with garbage above the high bit (overlay bits, as old scanners wrote) and
    12-bit two's complement samples read as their stored values; a 16-bit colour file is 16-bit
    (its ImageInfo said 8, so a .tif output of it was written at 8 bits)."""
    _dicom(tmp_path / "hi.dcm", RAMP | 0xF000)
    full, _ = read_image(tmp_path / "hi.dcm", normalize="full")
    assert_close(full, RAMP / 4095.0, dtype=np.float64)
    signed = (RAMP.astype(np.int32) - 2048).astype(np.int16)
    _dicom(tmp_path / "s.dcm", signed.view(np.uint16) & 0x0FFF, PixelRepresentation=1)
    full, _ = read_image(tmp_path / "s.dcm", normalize="full")
    assert_close(full, (signed + 2048) / 4095.0, dtype=np.float64)
    arr, info = read_image(_testdata("SC_rgb_rle_16bit.dcm"))
    assert arr.ndim == 3 and info.mode == "RGB" and info.bit_depth == 16


def test_a_modality_lut_sequence_is_applied(tmp_path):
    """A Modality LUT Sequence in place of RescaleSlope/Intercept was ignored: the stored values
    were read as the modality's. Here a decreasing, squared LUT of 16-bit entries."""
    from pydicom.dataset import Dataset

    _dicom(tmp_path / "lut.dcm", RAMP)
    ds = pydicom.dcmread(tmp_path / "lut.dcm")
    table = ((4095 - np.arange(4096, dtype=np.float64)) ** 2 / 4095 ** 2 * 65535).round().astype(np.uint16)
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.ModalityLUTType = "US"
    item.LUTData = table.tobytes()
    ds.ModalityLUTSequence = [item]
    ds.save_as(tmp_path / "lut.dcm")
    full, info = read_image(tmp_path / "lut.dcm", normalize="full")
    assert info.normalization == "full"
    assert_close(full, table[RAMP] / 65535.0, dtype=np.float64)
    auto, info = read_image(tmp_path / "lut.dcm")
    assert info.normalization == "percentile" and auto[0, 0] == 1.0 and auto[0, -1] == 0.0  # bright where stored 0


def test_a_blank_window_falls_back_and_a_malformed_rescale_is_refused(tmp_path, capsys):
    """An empty WindowCenter/WindowWidth (as anonymisers leave them) raised TypeError, an
    "internal error" (exit 1): it is no window, so percentiles. A RescaleSlope that is no number
    raised ValueError likewise: refused in one line (the values' meaning is unknown)."""
    from mutualfuse.image_io import read_image as read

    _dicom(tmp_path / "blank.dcm", RAMP, WindowCenter=None, WindowWidth=None)
    _, info = read(tmp_path / "blank.dcm")
    assert info.normalization == "percentile"
    _dicom(tmp_path / "half.dcm", RAMP, WindowCenter="", WindowWidth="400")
    _, info = read(tmp_path / "half.dcm")
    assert info.normalization == "percentile"
    _dicom(tmp_path / "bad.dcm", RAMP, RescaleSlope="1.5", RescaleIntercept="-1024")
    raw = (tmp_path / "bad.dcm").read_bytes()
    assert raw.count(b"1.5 ") == 1
    (tmp_path / "bad.dcm").write_bytes(raw.replace(b"1.5 ", b"a.5 "))
    assert_one_line_error(capsys, ["fuse", str(tmp_path / "bad.dcm"), str(tmp_path / "blank.dcm"), "-o",
                                   str(tmp_path / "f.png"), "--method", "average"],
                          "bad.dcm: DICOM RescaleSlope is not a number")
    assert not (tmp_path / "f.png").exists()
