"""s17 security audit: a deflated DICOM (transfer syntax 1.2.840.10008.1.2.1.99) is inflated by
pydicom in one piece before any tag is read; a 1.5 MB file that inflated to 1.5 GB took 3 GB of
memory and 24 s to be read as an 8×8 image (`mutualfuse fuse`, or an upload to `mutualfuse
serve`). :func:`mutualfuse.dicom.read_dicom` now counts the inflated size first and refuses a
data set larger than its own pixel data needs."""
from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

pydicom = pytest.importorskip("pydicom")

from pydicom.dataset import Dataset, FileMetaDataset  # noqa: E402
from pydicom.filebase import DicomFileLike  # noqa: E402
from pydicom.filewriter import write_dataset, write_file_meta_info  # noqa: E402
from pydicom.uid import DeflatedExplicitVRLittleEndian  # noqa: E402

from mutualfuse.dicom import INFLATE_SLACK, read_dicom  # noqa: E402
from mutualfuse.errors import InputError  # noqa: E402


def _ob(group: int, elem: int, n: int) -> bytes:
    """An explicit-VR little-endian OB element header of ``n`` bytes."""
    return struct.pack("<HH", group, elem) + b"OB\0\0" + struct.pack("<I", n)


def _write(path, ds: Dataset, zeros_before: int = 0, zeros_after: int = 0) -> None:
    """``ds`` as a deflated DICOM file, with a private OB element of ``zeros_*`` zero bytes before
    (group 0009) or after (group 7FE1) the image's elements, written without holding it."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    body = io.BytesIO()
    fp = DicomFileLike(body)
    fp.is_little_endian, fp.is_implicit_VR = True, False
    write_dataset(fp, ds)
    raw = body.getvalue()
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = []

    def zeros(n):
        mb = bytes(1 << 20)
        while n > 0:
            parts.append(c.compress(mb[:min(n, len(mb))]))
            n -= len(mb)

    # the 0009 element sorts after (0008,xxxx) and before (0028,xxxx): split the body there
    cut = raw.index(struct.pack("<HH", 0x0028, 0x0002))
    parts.append(c.compress(raw[:cut]))
    if zeros_before:
        parts.append(c.compress(_ob(0x0009, 0x1010, zeros_before)))
        zeros(zeros_before)
    parts.append(c.compress(raw[cut:]))
    if zeros_after:
        parts.append(c.compress(_ob(0x7FE1, 0x1010, zeros_after)))
        zeros(zeros_after)
    parts.append(c.flush())
    head = io.BytesIO()
    head.write(b"\0" * 128 + b"DICM")
    hf = DicomFileLike(head)
    hf.is_little_endian, hf.is_implicit_VR = True, False
    write_file_meta_info(hf, meta, enforce_standard=True)
    path.write_bytes(head.getvalue() + b"".join(parts))


def _image(pixels: np.ndarray) -> Dataset:
    ds = Dataset()
    ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.7", "1.2.3.4"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = pixels.shape
    bits = 8 * pixels.dtype.itemsize
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    ds.PixelData = pixels.tobytes()
    return ds


SMALL = np.arange(64, dtype=np.uint8).reshape(8, 8)


def test_deflate_bomb_after_the_pixels_is_refused(tmp_path):
    p = tmp_path / "bomb.dcm"
    _write(p, _image(SMALL), zeros_after=3 * INFLATE_SLACK)  # 48 MiB of zeros in a ~50 kB file
    assert p.stat().st_size < 200_000
    with pytest.raises(InputError) as e:
        read_dicom(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: ") and "decompression bomb guard" in msg and "\n" not in msg


def test_deflate_bomb_before_the_image_tags_is_refused(tmp_path):
    p = tmp_path / "bomb-head.dcm"
    _write(p, _image(SMALL), zeros_before=2 * INFLATE_SLACK)
    with pytest.raises(InputError, match="decompression bomb guard"):
        read_dicom(p)


def test_deflated_image_over_the_pixel_limit_is_refused_before_it_is_inflated(tmp_path):
    p = tmp_path / "big.dcm"
    big = np.zeros((3000, 3000), np.uint16)  # 18 MB inflated, over INFLATE_SLACK
    _write(p, _image(big))
    with pytest.raises(InputError, match="more than the limit of 1000000"):
        read_dicom(p, max_pixels=1_000_000)


def test_deflated_image_larger_than_the_slack_still_reads(tmp_path):
    p = tmp_path / "ok.dcm"
    big = (np.arange(3000 * 3000, dtype=np.uint32) % 65521).astype(np.uint16).reshape(3000, 3000)
    _write(p, _image(big))
    arr, info = read_dicom(p, normalize="full")
    assert arr.shape == (3000, 3000) and info.bit_depth == 16
    assert np.array_equal(np.rint(arr * 65535).astype(np.uint16), big)
    small = tmp_path / "small.dcm"
    _write(small, _image(SMALL))
    arr, _ = read_dicom(small, normalize="full")
    assert np.array_equal(np.rint(arr * 255).astype(np.uint8), SMALL)


def test_cli_refuses_the_bomb_with_exit_2_and_no_output(tmp_path):
    p = tmp_path / "bomb.dcm"
    _write(p, _image(SMALL), zeros_after=3 * INFLATE_SLACK)
    out = tmp_path / "fused.png"
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "fuse", str(p), str(p), "-o", str(out), "--method",
                        "average", "-q"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "decompression bomb guard" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()
