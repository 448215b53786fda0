"""DICOM input and output (optional extra: ``pip install mutualfuse[dicom]``, which installs pydicom).

A single-frame DICOM image is read as follows:

1. ``pixel_array`` (pydicom decodes uncompressed and, with its plugins, compressed syntaxes);
2. the modality LUT / rescale (``RescaleSlope``, ``RescaleIntercept``: CT in Hounsfield units);
3. intensity normalisation to [0, 1] (``normalize``): ``"auto"`` uses the file's VOI window
   (``WindowCenter``/``WindowWidth``, first value) when present, else per-image percentiles;
   ``"percentile"`` always uses percentiles; ``"full"`` maps the stored range
   ``0 … 2**BitsStored − 1`` (signed samples: ``−2**(BitsStored−1) … 2**(BitsStored−1) − 1``),
   after rescale, to [0, 1];
4. ``MONOCHROME1`` (white = 0) is inverted so that bright means high signal, as in
   ``MONOCHROME2``; ``RGB`` and ``YBR_FULL``/``YBR_FULL_422``/``YBR_ICT``/``YBR_RCT`` colour images
   (colour PET/SPECT maps) come back as RGB and go through the colour path (fuse luminance, keep
   chroma); other colour spaces are refused with a one-line error.

Multi-frame files (volumes, cine) are refused with a one-line error: pick a slice first.

A file in the Deflated Explicit VR Little Endian transfer syntax is inflated by pydicom in one
piece, before a tag is read (a 1.5 MB file that inflated to 1.5 GB took 3 GB of memory and 24 s
to read as an 8×8 image). :func:`dcmread_checked` inflates such a file itself instead, once, in
small steps: the tags in its first :data:`INFLATE_SLACK` inflated bytes (``Rows``, ``Columns``,
``SamplesPerPixel``, ``BitsAllocated``) say how many bytes the pixel data takes, and a data set
that inflates to more than that and twice :data:`INFLATE_SLACK` for its other elements, or whose
image is over ``max_pixels``, is refused with a one-line error as soon as the inflated bytes pass
that limit (what was inflated is dropped). Otherwise pydicom reads the data set from the inflated
bytes; only public pydicom API is used.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import InputError

EXTRA_HINT = "reading DICOM needs pydicom: pip install 'mutualfuse[dicom]'"


#: inflated bytes of a deflated DICOM's elements other than its pixel data that are allowed
#: before the pixel data, and as much again after it (the deflate bomb guard)
INFLATE_SLACK = 16 * 2 ** 20

_BOMB = "decompression bomb guard"


def _inflated_limit(p: Path, head: bytes, max_pixels: int | None) -> int:
    """The most bytes the data set whose first inflated bytes are ``head`` may take: its pixel
    data as its own tags describe it, and twice :data:`INFLATE_SLACK`."""
    from pydicom.filebase import DicomBytesIO
    from pydicom.filereader import read_dataset

    from .io.samples import check_pixels

    try:
        ds = read_dataset(DicomBytesIO(head), False, True, stop_when=lambda tag, vr, length: tag >= 0x7FE00010)
        if "Rows" not in ds or "Columns" not in ds:  # not reached within the first INFLATE_SLACK bytes
            raise ValueError("no image tags")
        rows, cols = int(getattr(ds, "Rows", 0) or 0), int(getattr(ds, "Columns", 0) or 0)
        spp, bits = int(getattr(ds, "SamplesPerPixel", 1) or 1), int(getattr(ds, "BitsAllocated", 16) or 16)
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    except Exception:  # noqa: BLE001 - cut short inside an element: more than INFLATE_SLACK before the pixels
        raise InputError(f"{p}: deflated DICOM data set has more than {INFLATE_SLACK} bytes of elements before "
                         f"its pixel data ({_BOMB})") from None
    if frames > 1:
        raise InputError(f"{p}: multi-frame DICOM ({frames} frames) is not supported; export one slice")
    check_pixels(p, rows, cols, max_pixels)
    return rows * cols * max(1, spp) * max(1, (bits + 7) // 8) + 2 * INFLATE_SLACK


def _pixel_tag(tag, vr, length) -> bool:
    """``stop_when`` of ``stop_before_pixels``: the pixel data elements (as pydicom's dcmread)."""
    return tag in (0x7FE00010, 0x7FE00009, 0x7FE00008)


def _read_meta(fh, force: bool):
    """(preamble, file meta) of the open DICOM file ``fh``, left at the first byte after the file
    meta group, as pydicom's dcmread reads them (explicit VR little endian, or implicit VR when
    that fails), with its public ``read_preamble`` and ``read_dataset``."""
    from pydicom.charset import default_encoding
    from pydicom.dataset import FileMetaDataset
    from pydicom.filereader import read_dataset, read_preamble

    def not_meta(tag, vr, length) -> bool:
        return tag >> 16 != 2

    preamble = read_preamble(fh, force)
    start = fh.tell()
    for implicit in (False, True):
        fh.seek(start)
        meta = FileMetaDataset(read_dataset(fh, implicit, True, stop_when=not_meta))
        meta.set_original_encoding(implicit, True, default_encoding)
        try:
            if len(meta):
                meta[next(iter(meta.keys()))]  # an explicit VR misread raises here (pydicom issue 503)
            return preamble, meta
        except NotImplementedError:
            if implicit:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _inflate_checked(p: Path, fh, max_pixels: int | None, chunk: int = 1 << 20):
    """The inflated data set of the deflated DICOM ``fh`` (positioned at its first deflated
    byte) as a file-like, inflated once in ``chunk``-sized steps, or :class:`InputError` as soon
    as it passes :func:`_inflated_limit`."""
    import io
    import zlib

    d = zlib.decompressobj(-zlib.MAX_WBITS)
    buf, limit = io.BytesIO(), None
    while not d.eof:
        data = d.unconsumed_tail or fh.read(chunk)
        if not data:
            raise ValueError("the deflated data set is truncated")
        buf.write(d.decompress(data, chunk))
        if limit is None and buf.tell() >= INFLATE_SLACK:
            limit = _inflated_limit(p, buf.getvalue(), max_pixels)
        if limit is not None and buf.tell() > limit:
            raise InputError(f"{p}: deflated DICOM data set inflates to more than {limit} bytes, more than "
                             f"its Rows x Columns pixel data needs ({_BOMB})")
    buf.seek(0)
    return buf


def dcmread_checked(path, max_pixels: int | None, *, stop_before_pixels: bool = False, force: bool = False,
                    specific_tags=None):
    """``pydicom.dcmread(path, ...)`` with the deflate bomb guard: a file in the Deflated Explicit
    VR Little Endian transfer syntax is inflated here, once and bounded (:func:`_inflate_checked`),
    and its data set read from the inflated bytes; any other file goes to ``pydicom.dcmread``
    (which also says what is wrong with a file that is not DICOM or has a broken meta group)."""
    import pydicom
    from pydicom.dataset import Dataset, FileDataset
    from pydicom.filereader import read_dataset
    from pydicom.tag import Tag
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    p = Path(path)
    kw = {"stop_before_pixels": stop_before_pixels, "force": force, "specific_tags": specific_tags}
    with open(p, "rb") as fh:
        try:
            preamble, meta = _read_meta(fh, force)
            deflated = meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian
        except Exception:  # noqa: BLE001 - not DICOM or a broken meta group: dcmread says why
            deflated = False
        if deflated:
            if fh.read(1) == b"":  # nothing after the meta group: an empty data set, as dcmread reads it
                body = None
            else:
                fh.seek(-1, 1)
                body = _inflate_checked(p, fh, max_pixels)
    if not deflated:
        return pydicom.dcmread(str(p), **kw)
    dataset = Dataset() if body is None else read_dataset(
        body, False, True, stop_when=_pixel_tag if stop_before_pixels else None,
        specific_tags=[Tag(t) for t in specific_tags] if specific_tags else None)
    ds = FileDataset(str(p), dataset, preamble, meta, is_implicit_VR=False, is_little_endian=True)
    ds.set_original_encoding(False, True, dataset.original_character_set)
    return ds


def _pydicom():
    try:
        import pydicom
    except ImportError:
        return None
    return pydicom


def read_dicom(path, max_pixels: int | None = None, normalize: str = "auto",
               percentiles: tuple[float, float] = (0.1, 99.9)):
    """→ (float64 array in [0, 1], :class:`~mutualfuse.io.samples.ImageInfo`)."""
    from .io.samples import ImageInfo, check_pixels, normalize_samples, percentile_scale

    p = Path(path)
    pydicom = _pydicom()
    if pydicom is None:
        raise InputError(f"{p}: {EXTRA_HINT}")
    try:
        ds = dcmread_checked(p, max_pixels)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - pydicom raises many types for broken files
        raise InputError(f"{p}: not a readable DICOM file ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None
    if "PixelData" not in ds:
        raise InputError(f"{p}: DICOM file has no pixel data")
    rows, cols = int(getattr(ds, "Rows", 0) or 0), int(getattr(ds, "Columns", 0) or 0)
    check_pixels(p, rows, cols, max_pixels)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > 1:
        raise InputError(f"{p}: multi-frame DICOM ({frames} frames) is not supported; export one slice")
    try:
        arr, photometric = _decode(ds)
    except Exception as e:  # noqa: BLE001
        raise InputError(f"{p}: cannot decode DICOM pixel data ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None
    spp = int(getattr(ds, "SamplesPerPixel", 1) or 1)
    bits = int(getattr(ds, "BitsStored", 8 * arr.dtype.itemsize) or 8)
    if spp == 3 or arr.ndim == 3:
        if arr.ndim != 3 or arr.shape[-1] != 3:
            raise InputError(f"{p}: unsupported DICOM pixel layout {arr.shape}")
        if photometric in ("YBR_FULL", "YBR_FULL_422"):  # pydicom 2 decodes them as stored
            try:
                from pydicom.pixels import convert_color_space
            except ImportError:  # pydicom 2
                from pydicom.pixel_data_handlers.util import convert_color_space
            arr = convert_color_space(arr, photometric, "RGB")
        elif photometric not in ("RGB", "YBR_ICT", "YBR_RCT"):  # ICT/RCT: the JPEG 2000 codec gives RGB
            raise InputError(f"{p}: DICOM colour space {photometric} is not supported")
        detail: list[str] = []
        data, how = normalize_samples(arr.astype(np.float64) if arr.dtype != np.uint8 else arr, 8 if arr.dtype == np.uint8 else 16,
                                      "full" if normalize == "auto" and arr.dtype == np.uint8 else normalize, percentiles, p,
                                      detail)
        return data, ImageInfo(str(p), "RGB", 8, "dicom", how, "".join(detail))
    if spp != 1:
        raise InputError(f"{p}: unsupported channel count {spp} in DICOM")
    if photometric == "PALETTE COLOR":
        raise InputError(f"{p}: PALETTE COLOR DICOM is not supported")
    x = arr.astype(np.float64)
    slope = float(getattr(ds, "RescaleSlope", 1) or 1)
    intercept = float(getattr(ds, "RescaleIntercept", 0) or 0)
    x = x * slope + intercept
    if not np.isfinite(x).all():
        raise InputError(f"{p}: DICOM pixel data contains NaN or infinite values")
    how = None
    detail: list[str] = []
    if normalize == "auto" and "WindowCenter" in ds and "WindowWidth" in ds:
        wc, ww = ds.WindowCenter, ds.WindowWidth
        wc = float(wc[0] if isinstance(wc, pydicom.multival.MultiValue) else wc)
        ww = float(ww[0] if isinstance(ww, pydicom.multival.MultiValue) else ww)
        if ww > 1:
            lo = wc - 0.5 - (ww - 1) / 2
            data = np.clip((x - lo) / (ww - 1), 0.0, 1.0)  # linear VOI function, DICOM PS3.3 C.11.2.1.2
            how = "window"
    if how is None:
        # a flat slice (one value everywhere) has no percentile range: like a flat 16-bit PNG it
        # keeps its value, in the stored range (was clipped to 1.0, white, for any value > 1)
        flat = normalize in ("auto", "percentile") and x.size and float(x.min()) == float(x.max())
        if normalize == "full" or flat:
            # the stored range: 0 … 2**bits − 1, or −2**(bits−1) … 2**(bits−1) − 1 for signed
            # samples (PixelRepresentation 1: a CT in HU; was clipped below 0), after rescale
            s_lo = -(2 ** (bits - 1)) if int(getattr(ds, "PixelRepresentation", 0) or 0) == 1 else 0
            s_hi = s_lo + 2 ** bits - 1
            lo = min(slope * s_lo, slope * s_hi) + intercept
            rng = abs(slope) * (2 ** bits - 1)
            data = np.clip((x - lo) / rng, 0.0, 1.0) if rng > 0 else np.zeros_like(x)
            how = "full"
        elif normalize in ("auto", "percentile"):
            data = percentile_scale(x, *percentiles, detail=detail)
            how = "percentile"
        else:
            data, how = normalize_samples(x, 16, normalize, percentiles, p, detail)
    if photometric == "MONOCHROME1":
        data = 1.0 - data
    return data, ImageInfo(str(p), "L", 16 if bits > 8 else 8, "dicom", how, "".join(detail))


def _decode(ds):
    """The decoded pixels of ``ds`` and the photometric interpretation they come in: pydicom 3
    converts ``YBR_FULL``/``YBR_FULL_422`` to RGB while decoding (which was converted a second
    time, wrong colours); pydicom 2 returns them as stored."""
    photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2")).upper()
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    try:
        from pydicom.pixels import get_decoder  # pydicom >= 3
    except ImportError:
        get_decoder = None
    if get_decoder is None or syntax is None:
        return ds.pixel_array, photometric
    decoder = get_decoder(syntax)
    arr, meta = decoder.as_array(ds, as_rgb=True)
    got = meta.get("photometric_interpretation", photometric)
    return arr, str(getattr(got, "value", got)).upper()


#: Secondary Capture Image Storage: a derived image made by software, as a fused slice is
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
WRITE_HINT = "writing DICOM needs pydicom: pip install 'mutualfuse[dicom]'"
#: tags copied from the reference source (when one input is DICOM), so that the fused slice
#: files under the same patient and study, on the same frame of reference, at the same place
_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "PatientAge",
           "StudyInstanceUID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber",
           "ReferringPhysicianName", "StudyDescription", "FrameOfReferenceUID", "PositionReferenceIndicator",
           "PixelSpacing", "ImagePositionPatient", "ImageOrientationPatient", "SliceThickness", "SliceLocation",
           "InstanceNumber", "Laterality", "BodyPartExamined")


def write_dicom(path, arr: np.ndarray, bit_depth: int, sources=(), description: str = "", setting: str = "") -> None:
    """Write a [0, 1] gray (H, W) or colour (H, W, 3) array as a DICOM Secondary Capture image.

    The pixels are the fused image as ``fuse`` writes a PNG (8 or 16 bits, gray ``MONOCHROME2``;
    colour 8-bit ``RGB``) with a VOI window over the whole stored range, so a viewer, and
    :func:`read_dicom`, shows exactly the written values. ``sources``: the input paths; the
    first that is a DICOM file (the reference) lends its patient, study, frame-of-reference and
    image-plane tags (position, orientation, spacing), so the fused slice files under the same
    study at the same place, and every DICOM input is listed in ``SourceImageSequence``. The
    series UID is derived deterministically from the reference's series UID, ``setting`` (how it
    was fused, without the file names) and the stored format (bit depth, gray or RGB): the slices
    of one series fused with one setting form one new series; the instance UID from the sources'
    instance UIDs, ``setting`` and the stored samples, so that two different images never share
    one and a rerun that writes the same samples gets the same UIDs. Without a DICOM input they
    derive from the pixel data.
    ``ImageType`` is DERIVED\\SECONDARY and ``DerivationDescription`` says how it was made.
    """
    import hashlib

    pydicom = _pydicom()
    if pydicom is None:
        raise InputError(f"{path}: {WRITE_HINT}")
    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    refs = []
    for s in sources:
        try:
            if _looks_dicom(Path(s)):
                refs.append(dcmread_checked(s, None, stop_before_pixels=True))
        except Exception:  # noqa: BLE001 - it was read as an image already; metadata is optional
            pass
    ref = refs[0] if refs else None
    from .image_io import to_uint

    x = np.asarray(arr, dtype=np.float64)
    if x.ndim == 3:
        bits, photometric = 8, "RGB"
    else:
        bits, photometric = (16 if bit_depth == 16 else 8), "MONOCHROME2"
    data = to_uint(x, bits)  # the samples a PNG of the same fuse stores
    # the stored samples themselves seed the instance UID: two different images never share one
    # (another temperature, bit depth or machine), and a rerun that writes the same samples
    # gets the same UID; the output format and the setting seed the series UID
    pixels = hashlib.sha256(f"{data.shape} {bits} {photometric}".encode() + data.tobytes()).hexdigest()
    fmt = f"{bits}-bit {photometric}"
    tag = (setting or description).encode()
    if ref is not None:
        series_seed = [str(getattr(ref, "SeriesInstanceUID", "")), setting, fmt]
        inst_seed = [str(getattr(r, "SOPInstanceUID", "")) for r in refs] + [setting, pixels]
    else:
        digest = hashlib.sha256(np.ascontiguousarray(arr).tobytes() + tag).hexdigest()
        series_seed, inst_seed = [digest, "series", fmt], [digest, "instance", pixels]

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SECONDARY_CAPTURE
    meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=inst_seed)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), Dataset(), file_meta=meta, preamble=b"\0" * 128)
    if ref is not None:
        for k in _COPIED:
            if k in ref:
                setattr(ds, k, ref.data_element(k).value)
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=series_seed)
    if "StudyInstanceUID" not in ds:
        ds.StudyInstanceUID = generate_uid(entropy_srcs=series_seed + ["study"])
    ds.Modality = "OT"
    ds.ConversionType = "WSD"  # workstation: made by software
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.SeriesDescription = "mutualfuse fused"
    ds.DerivationDescription = description[:1024]
    ds.Manufacturer = "mutualfuse"
    if refs:
        items = []
        for r in refs:
            it = Dataset()
            it.ReferencedSOPClassUID = getattr(r, "SOPClassUID", "")
            it.ReferencedSOPInstanceUID = getattr(r, "SOPInstanceUID", "")
            items.append(it)
        ds.SourceImageSequence = Sequence(items)
    if x.ndim == 3:
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, photometric, 0
    else:
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, photometric
        ds.WindowCenter, ds.WindowWidth = 2 ** (bits - 1), 2 ** bits  # the whole stored range
    ds.Rows, ds.Columns = data.shape[:2]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    ds.PixelData = data.tobytes()
    ds.save_as(str(path), enforce_file_format=True)


def _looks_dicom(p: Path) -> bool:
    from .image_io import _is_dicom

    return p.is_file() and _is_dicom(p)
