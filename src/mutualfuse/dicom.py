"""DICOM input and output (optional extra: ``pip install mutualfuse[dicom]``, which installs pydicom).

A single-frame DICOM image is read as follows:

1. ``pixel_array`` (pydicom decodes uncompressed and, with its plugins, compressed syntaxes; a
   syntax no installed plugin decodes is refused in one line naming the ``pip install`` of each
   plugin that would);
2. the modality LUT / rescale (``RescaleSlope``, ``RescaleIntercept``: CT in Hounsfield units;
   or a ``ModalityLUTSequence``); in an enhanced image of one frame (Enhanced CT/MR/PET, legacy
   converted), the rescale and window of its Pixel Value Transformation and Frame VOI LUT
   functional groups, per-frame before shared (:func:`_frame_groups`);
3. intensity normalisation to [0, 1] (``normalize``): ``"auto"`` uses the file's VOI: the first
   table of a ``VOILUTSequence`` (:func:`_voi_lut`; preferred to a window, as pydicom's
   ``apply_voi_lut``), else the window (``WindowCenter``/``WindowWidth``, first value, by its
   ``VOILUTFunction``: LINEAR, LINEAR_EXACT or SIGMOID), else per-image percentiles;
   ``"percentile"`` always uses percentiles; ``"full"`` maps the stored range
   ``0 … 2**BitsStored − 1`` (signed samples: ``−2**(BitsStored−1) … 2**(BitsStored−1) − 1``),
   after rescale (a modality LUT: its output range), to [0, 1];
4. ``MONOCHROME1`` (white = 0) is inverted so that bright means high signal, as in
   ``MONOCHROME2``; ``RGB`` and ``YBR_FULL``/``YBR_FULL_422``/``YBR_ICT``/``YBR_RCT`` colour images
   (colour PET/SPECT maps) come back as RGB and go through the colour path (fuse luminance, keep
   chroma); other colour spaces are refused with a one-line error;
5. pixel padding (``PixelPaddingValue``, up to ``PixelPaddingRangeLimit``: a CT's outside of the
   scan circle, compared as stored values) takes no part in the percentiles or the flat test and
   comes out 0 (black) under every normalisation (:func:`_padding_mask`).

Multi-frame files (volumes, cine, an enhanced image of several frames), a DICOMDIR and float
pixel data are refused with a one-line error: pick a slice first.

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


def headerless_dicom(p: Path) -> bool:
    """Whether ``p`` looks like a DICOM data set stored without the Part 10 preamble and ``DICM``
    marker (older scanners and PACS exports, ACR-NEMA style files, often without a name
    extension): it starts with a little-endian element of group 0002 or 0008 whose VR
    (explicit) or length (implicit) is plausible. pydicom reads such a file with ``force=True``
    (:func:`read_dataset`'s ``force``); dcm2niix and viewers read them too."""
    import struct

    try:
        with open(p, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    if len(head) < 8 or head[128:132] == b"DICM":
        return False
    group, element = struct.unpack_from("<HH", head, 0)
    if group not in (0x0002, 0x0008) or element > 0x2000:
        return False
    vr = head[4:6]
    if vr.isalpha() and vr.isupper():  # explicit VR
        return True
    return struct.unpack_from("<I", head, 4)[0] < 0x10000  # implicit VR: a plausible value length


def read_dataset(p: Path, max_pixels: int | None, *, stop_before_pixels: bool = False, force: bool = False):
    """:func:`dcmread_checked` with one-line errors: a file pydicom cannot parse is "not a
    readable DICOM file (its reason)"; one without pixel data (a report, a DICOMDIR) says what
    it is (unless ``stop_before_pixels``, where only the header is read). Used for single files
    (:func:`read_dicom`) and for every file of a series (:mod:`mutualfuse.dicom_series`).
    ``force``: a file without the preamble and meta group (:func:`headerless_dicom`), read as
    its encoding says, its transfer syntax set from that encoding (pydicom cannot decode its
    pixels without one)."""
    try:
        ds = dcmread_checked(p, max_pixels, stop_before_pixels=stop_before_pixels, force=force)
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - pydicom raises many types for broken files
        raise InputError(f"{p}: not a readable DICOM file ({str(e).splitlines()[0][:160] if str(e) else type(e).__name__})") from None
    if force and "TransferSyntaxUID" not in getattr(ds, "file_meta", {}):
        from pydicom.dataset import FileMetaDataset
        from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

        implicit, little = getattr(ds, "original_encoding", (True, True))[:2]
        if getattr(ds, "file_meta", None) is None:
            ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                          ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    if not stop_before_pixels and "PixelData" not in ds:
        raise InputError(f"{p}: {_no_pixels(ds)}")
    return ds


def read_dicom(path, max_pixels: int | None = None, normalize: str = "auto",
               percentiles: tuple[float, float] = (0.1, 99.9)):
    """→ (float64 array in [0, 1], :class:`~mutualfuse.io.samples.ImageInfo`)."""
    from .io.samples import ImageInfo, check_pixels, normalize_samples, percentile_scale

    p = Path(path)
    pydicom = _pydicom()
    if pydicom is None:
        raise InputError(f"{p}: {EXTRA_HINT}")
    ds = read_dataset(p, max_pixels, force=headerless_dicom(p))  # x.dcm without the DICM preamble too
    rows, cols = int(getattr(ds, "Rows", 0) or 0), int(getattr(ds, "Columns", 0) or 0)
    check_pixels(p, rows, cols, max_pixels)
    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    if frames > 1:
        raise InputError(f"{p}: multi-frame DICOM ({frames} frames) is not supported; export one slice")
    try:
        arr, photometric = _decode(ds)
    except Exception as e:  # noqa: BLE001
        raise _decode_error(p, ds, e) from None
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
        # a 16-bit (or 32-bit) colour file is deep data, as a 16-bit colour PNG: its bit depth
        # decides the output's (was 8, so a .tif output of it was written at 8 bits)
        return data, ImageInfo(str(p), "RGB", 8 if arr.dtype == np.uint8 else 16, "dicom", how, "".join(detail))
    if spp != 1:
        raise InputError(f"{p}: unsupported channel count {spp} in DICOM")
    if photometric == "PALETTE COLOR":
        raise InputError(f"{p}: PALETTE COLOR DICOM is not supported")
    x, pad, lut_bits, slope, intercept = _modality(p, ds, arr)
    how = None
    detail: list[str] = []
    if pad is not None and pad.all():  # nothing but padding: no image to scale
        data, how, detail = np.zeros_like(x), "full", []
    elif normalize == "auto" and ds.get("VOILUTSequence"):
        # a lookup table in place of the window (CR/DX/MG): it was ignored, and percentiles taken
        try:
            data = _voi_lut(ds, x)
        except Exception as e:  # noqa: BLE001 - a malformed LUT
            raise InputError(f"{p}: cannot apply the DICOM VOI LUT Sequence "
                             f"({' '.join(str(e).split())[:200] or type(e).__name__})") from None
        how = "window"
        detail.append("scaled by its VOI LUT (VOILUTSequence)")
    elif normalize == "auto" and "WindowCenter" in ds and "WindowWidth" in ds:
        wc, ww = _first_number(ds, "WindowCenter"), _first_number(ds, "WindowWidth")
        data = None if wc is None or ww is None else _voi_window(
            x, wc, ww, str(getattr(ds, "VOILUTFunction", "") or "LINEAR").strip().upper())
        if data is not None:
            how = "window"
    if how is None:
        # a flat slice (one value everywhere) has no percentile range: like a flat 16-bit PNG it
        # keeps its value, in the stored range (was clipped to 1.0, white, for any value > 1)
        xv = x if pad is None else x[~pad]  # padding takes no part in the range
        flat = normalize in ("auto", "percentile") and xv.size and float(xv.min()) == float(xv.max())
        if normalize == "full" or flat:
            # the stored range: 0 … 2**bits − 1, or −2**(bits−1) … 2**(bits−1) − 1 for signed
            # samples (PixelRepresentation 1: a CT in HU; was clipped below 0), after rescale
            s_lo = -(2 ** (bits - 1)) if int(getattr(ds, "PixelRepresentation", 0) or 0) == 1 else 0
            s_hi = s_lo + 2 ** bits - 1
            lo = min(slope * s_lo, slope * s_hi) + intercept
            rng = abs(slope) * (2 ** bits - 1)
            if lut_bits is not None:  # a Modality LUT's output: 0 … 2**(bits of its entries) − 1
                lo, rng = 0.0, float(2 ** lut_bits - 1)
            data = np.clip((x - lo) / rng, 0.0, 1.0) if rng > 0 else np.zeros_like(x)
            how = "full"
        elif normalize in ("auto", "percentile"):
            if pad is None:
                data = percentile_scale(x, *percentiles, detail=detail)
            else:  # the percentiles of the image without its padding (which dominated them)
                mapped: list = []
                percentile_scale(xv, *percentiles, detail=detail, mapped=mapped)
                a, b = mapped[0]
                data = np.clip((x - a) / (b - a), 0.0, 1.0)
            how = "percentile"
        else:
            data, how = normalize_samples(x, 16, normalize, percentiles, p, detail)
    if photometric == "MONOCHROME1":
        data = 1.0 - data
    if pad is not None:
        data[pad] = 0.0  # padding is no image: black, whatever the window or photometric
        if how in ("percentile", "window"):  # the note of a scaled input says so
            detail = ["".join(detail) or f"scaled by {how}",
                      f", without its {int(pad.sum())} padding pixels (PixelPaddingValue), which are black"]
    return data, ImageInfo(str(p), "L", 16 if bits > 8 else 8, "dicom", how, "".join(detail))


def _modality(p: Path, ds, arr: np.ndarray):
    """The modality values of a gray image's stored samples ``arr`` (its Modality LUT's output,
    else ``RescaleSlope`` · stored + ``RescaleIntercept``; an enhanced image's from its functional
    groups) → (values as float64, padding mask or None, bits of the Modality LUT's entries or
    None, slope, intercept)."""
    # an enhanced (multi-frame IOD) file of one frame keeps its rescale and window in functional
    # groups; they were ignored: the window not applied, a negative slope not applied
    _frame_groups(ds)
    pad = _padding_mask(ds, arr)
    lut_bits = None
    if "ModalityLUTSequence" in ds:
        # a lookup table in place of the rescale (PS3.3 C.11.1; pydicom's precedence): it was
        # ignored, and the stored values were read as if they were the modality's values
        try:
            from pydicom.pixels import apply_modality_lut

            x = np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)
            lut_bits = int(ds.ModalityLUTSequence[0].LUTDescriptor[2])
        except Exception as e:  # noqa: BLE001 - a malformed LUT
            raise InputError(f"{p}: cannot apply the DICOM Modality LUT Sequence "
                             f"({' '.join(str(e).split())[:200] or type(e).__name__})") from None
        slope, intercept = 1.0, 0.0
    else:
        x = arr.astype(np.float64)
        slope, intercept = _first_number(ds, "RescaleSlope"), _first_number(ds, "RescaleIntercept")
        for k, v in (("RescaleSlope", slope), ("RescaleIntercept", intercept)):
            if v is None and k in ds and not ds[k].is_empty:  # was "internal error: ValueError"
                raise InputError(f"{p}: DICOM {k} is not a number")
        if slope == 0:  # every pixel would be the intercept (dicom_series refuses it too); was read as 1
            raise InputError(f"{p}: DICOM RescaleSlope is 0")
        slope, intercept = slope or 1.0, intercept or 0.0  # absent or empty: the identity, as before
        x = x * slope + intercept
    if not np.isfinite(x).all():
        raise InputError(f"{p}: DICOM pixel data contains NaN or infinite values")
    return x, pad, lut_bits, slope, intercept


def read_dicom_values(path, max_pixels: int | None = None) -> tuple[np.ndarray, bool]:
    """A gray single-frame DICOM image's modality values (what :func:`read_dicom` scales by
    percentiles: ``RescaleSlope`` · stored + ``RescaleIntercept``, or its Modality LUT's output)
    as float64, NaN at its padding pixels (:func:`_padding_mask`) → (values, whether it is
    ``MONOCHROME1``). A focus stack of slices whose rescale differs (PET, some CT) maps these
    jointly: their stored values are on different scales."""
    p = Path(path)
    ds = read_dataset(p, max_pixels, force=headerless_dicom(p))
    try:
        arr, photometric = _decode(ds)
    except Exception as e:  # noqa: BLE001
        raise _decode_error(p, ds, e) from None
    if arr.ndim != 2:
        raise InputError(f"{p}: not a single gray DICOM image (pixel layout {arr.shape})")
    x, pad, _, _, _ = _modality(p, ds, arr)
    if pad is not None:
        x[pad] = np.nan
    return x, photometric == "MONOCHROME1"


def rescale_of(path) -> tuple:
    """What maps a DICOM image's stored values to its modality values, from its header: its
    Modality LUT Sequence (as bytes of its first item's descriptor and data), else
    (``RescaleSlope``, ``RescaleIntercept``), absent ones as the identity's 1 and 0; an enhanced
    image's from its functional groups. Two images with the same one have stored values on one
    scale."""
    p = Path(path)
    ds = read_dataset(p, None, stop_before_pixels=True, force=headerless_dicom(p))
    _frame_groups(ds)
    if "ModalityLUTSequence" in ds:
        try:
            item = ds.ModalityLUTSequence[0]
            return ("lut", repr(item.get("LUTDescriptor")), repr(item.get("LUTData")))
        except Exception:  # noqa: BLE001 - a malformed LUT: unlike any other
            return ("lut", str(p))
    slope, intercept = _first_number(ds, "RescaleSlope"), _first_number(ds, "RescaleIntercept")
    return (1.0 if slope is None else slope, intercept or 0.0)  # a slope of 0 is not 1 (reading refuses it)


def window_of(path) -> tuple:
    """A DICOM image's VOI from its header, as :func:`read_dicom` applies it under ``auto``: its
    VOI LUT Sequence (as text), else its first ``WindowCenter``/``WindowWidth`` and
    ``VOILUTFunction``; an enhanced image's from its functional groups. Two images with the same
    one are shown alike."""
    p = Path(path)
    ds = read_dataset(p, None, stop_before_pixels=True, force=headerless_dicom(p))
    _frame_groups(ds)
    if ds.get("VOILUTSequence"):
        return ("lut", repr(ds.VOILUTSequence[0].get("LUTDescriptor")), repr(ds.VOILUTSequence[0].get("LUTData")))
    return (_first_number(ds, "WindowCenter"), _first_number(ds, "WindowWidth"),
            str(getattr(ds, "VOILUTFunction", "") or "LINEAR").strip().upper())


def declares_padding(path) -> bool:
    """Whether a DICOM image's header declares pixel padding (``PixelPaddingValue``: a CT's
    outside of the scan circle), which :func:`read_dicom` leaves out of its percentiles."""
    p = Path(path)
    ds = read_dataset(p, None, stop_before_pixels=True, force=headerless_dicom(p))
    return "PixelPaddingValue" in ds


#: functional group sequences of an enhanced image (DICOM PS3.3 C.7.6.16) whose elements stand
#: for the classic top-level ones: the rescale (C.7.6.16.2.9) and the window (C.7.6.16.2.10)
_FRAME_GROUPS = ("PixelValueTransformationSequence", "FrameVOILUTSequence")
#: those holding an enhanced image's place: pixel spacing and slice thickness (C.7.6.16.2.1),
#: position (C.7.6.16.2.3) and orientation (C.7.6.16.2.4) of its frame
_GEOMETRY_GROUPS = ("PixelMeasuresSequence", "PlanePositionSequence", "PlaneOrientationSequence")
_FUNCTIONAL_GROUPS = ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence")


def _frame_groups(ds, names=_FRAME_GROUPS) -> None:
    """Copy the elements of the functional groups ``names`` (default: the rescale and window) of
    the (first) frame of an enhanced image to the top level of ``ds``, where the classic
    attributes are read: from its Per-frame Functional Groups item, or else from the Shared
    Functional Groups (C.7.6.16: a per-frame group overrides a shared one)."""
    groups = [ds.get(k) for k in _FUNCTIONAL_GROUPS]
    for name in names:
        for g in groups:
            if g and len(g) and g[0].get(name):
                for elem in g[0][name][0]:
                    ds[elem.tag] = elem
                break


def _padding_mask(ds, arr: np.ndarray) -> np.ndarray | None:
    """Where the stored values ``arr`` of a grayscale image are padding (DICOM PS3.3 C.7.5.1.1.2):
    equal to ``PixelPaddingValue``, or between it and ``PixelPaddingRangeLimit`` (inclusive) where
    that is given; both are stored values, compared before the rescale. ``None`` without padding.
    A value written with the wrong sign for ``PixelRepresentation`` (US 0xF830 in a signed image,
    SS −1 in an unsigned one) is read as its 16 bits in the image's own representation."""
    if "PixelPaddingValue" not in ds:
        return None
    signed = int(getattr(ds, "PixelRepresentation", 0) or 0) == 1

    def stored(keyword):
        v = _first_number(ds, keyword)
        if v is None:
            return None
        v = int(v)
        if signed and v >= 2 ** 15:
            v -= 2 ** 16
        elif not signed and v < 0:
            v += 2 ** 16
        return v

    lo = stored("PixelPaddingValue")
    if lo is None:
        return None
    hi = stored("PixelPaddingRangeLimit") if "PixelPaddingRangeLimit" in ds else None
    lo, hi = (lo, lo) if hi is None else (min(lo, hi), max(lo, hi))
    mask = (arr >= lo) & (arr <= hi)
    return mask if mask.any() else None


def _voi_lut(ds, x: np.ndarray) -> np.ndarray:
    """The first VOI LUT of ``ds`` (DICOM PS3.3 C.11.2.1.1) applied to the modality values ``x``,
    mapped to [0, 1] from its output range ``0 … 2**n − 1`` (n: the third ``LUTDescriptor`` value).
    An input below the first mapped value takes the first entry, one above the last the last
    entry, a non-integer input (a fractional rescale) the nearest entry. pydicom's ``apply_voi``
    does the same for integer inputs within 65 535 of the first mapped value, but wraps beyond
    that (a uint16 index) and truncates fractions, and reads 8-bit entries packed two to a word
    as 16-bit words; hence this one."""
    item = ds.VOILUTSequence[0]
    desc = [int(v) for v in item.LUTDescriptor]
    if len(desc) != 3:
        raise ValueError(f"LUT Descriptor has {len(desc)} values, not 3")
    n, first, bits = desc[0] or 2 ** 16, desc[1], desc[2]
    if not 8 <= bits <= 16:
        raise ValueError(f"{bits} bits per LUT entry (8 to 16 are defined)")
    value = item["LUTData"].value
    if isinstance(value, (bytes, bytearray)):  # OW
        little = getattr(ds, "original_encoding", (None, True))[1]
        little = True if little is None else little
        if bits == 8 and len(value) in (n, n + 1):  # 8-bit entries, as with 8 bits allocated
            table = np.frombuffer(bytes(value), dtype=np.uint8, count=n)
        else:
            table = np.frombuffer(bytes(value), dtype="<u2" if little else ">u2", count=len(value) // 2)
    else:  # US: a number or a list of them
        table = np.atleast_1d(np.asarray(value if not hasattr(value, "__len__") else list(value), dtype=np.int64))
    if table.size < n:
        raise ValueError(f"LUT Data has {table.size} entries, its descriptor says {n}")
    if first >= 2 ** 15 and x.size and float(x.min()) < 0:  # an SS first value read as US
        first -= 2 ** 16
    idx = np.clip(np.floor(x + 0.5) - first, 0, n - 1).astype(np.intp)
    return np.clip(table[:n].astype(np.float64)[idx] / float(2 ** bits - 1), 0.0, 1.0)


#: Media Storage Directory Storage: a DICOMDIR, the index of a DICOM CD or folder
MEDIA_DIRECTORY = "1.2.840.10008.1.3.10"


def _no_pixels(ds) -> str:
    """Why the data set ``ds`` without ``PixelData`` is no image (was "DICOM file has no pixel
    data" for each: a DICOMDIR and a float image said nothing of what they are)."""
    sop = str(getattr(getattr(ds, "file_meta", None), "MediaStorageSOPClassUID", "")
              or getattr(ds, "SOPClassUID", ""))
    if sop == MEDIA_DIRECTORY or "DirectoryRecordSequence" in ds:
        return "a DICOMDIR (the index of a DICOM disc or folder), not an image: give the image files it lists"
    for k in ("FloatPixelData", "DoubleFloatPixelData"):
        if k in ds:
            return f"DICOM {k} (float samples) is not supported; export the image with integer Pixel Data"
    return "DICOM file has no pixel data"


def _pip(requirement: str) -> str:
    """``pip install ...`` for one of pydicom's missing decoder dependencies, as its decoders
    name them (``'pylibjpeg - requires pylibjpeg>=2.0 and pylibjpeg-libjpeg>=2.1'``); the gdcm
    module is the ``python-gdcm`` package."""
    reqs = requirement.split(" - requires ", 1)[-1].split(" and ")
    reqs = [r.strip() for r in reqs if r.strip() and r.strip() != "numpy"]
    reqs = ["python-" + r if r.startswith("gdcm") else r for r in reqs]
    return "pip install " + " ".join(f"'{r}'" for r in reqs)


def _decode_error(p: Path, ds, e: Exception) -> InputError:
    """One line for pixel data pydicom cannot decode: the transfer syntax, why (each plugin's
    reason on one line) and, where decoders for a compressed syntax are not installed, the
    ``pip install`` of each (the error was cut at the first line of pydicom's message, "...
    because all plugins are missing dependencies:", which named none of them)."""
    why = " ".join(str(e).split()) or type(e).__name__
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax is None or not getattr(syntax, "is_compressed", False):
        return InputError(f"{p}: cannot decode DICOM pixel data ({why[:300]})")
    try:
        from pydicom.pixels import get_decoder

        decoder = get_decoder(syntax)
        available, missing = tuple(decoder.available_plugins), list(decoder.missing_dependencies)
    except Exception:  # noqa: BLE001 - a syntax pydicom has no decoder for at all
        available, missing = (), []
    name = getattr(syntax, "name", "") or str(syntax)
    if not available:
        why = "no decoder for it is installed"
    elif ":" in why and "plugins" in why.split(":", 1)[0]:
        why = why.split(":", 1)[1].strip()  # "Unable to decode as exceptions were raised by all ...: pillow: ..."
    hint = ("; to decode it: " + ", or ".join(_pip(m) for m in missing)) if missing else ""
    return InputError(f"{p}: cannot decode DICOM pixel data in {name} ({why[:300]}){hint}")


def _first_number(ds, keyword: str) -> float | None:
    """The first value of the numeric element ``keyword`` of ``ds``; None where it is empty or
    does not parse (an anonymiser's blanked WindowCenter: float(None) raised TypeError, an
    "internal error" instead of the percentile fallback)."""
    try:
        v = ds[keyword].value
        if v is None or isinstance(v, (str, bytes)) and not v.strip():
            return None
        if not isinstance(v, (str, bytes)) and hasattr(v, "__len__"):
            if not len(v):
                return None
            v = v[0]
        return float(v)
    except Exception:  # noqa: BLE001 - a malformed DS ('abc'): no window
        return None


def _voi_window(x: np.ndarray, wc: float, ww: float, function: str) -> np.ndarray | None:
    """The VOI window (``WindowCenter`` ``wc``, ``WindowWidth`` ``ww``) of the rescaled values
    ``x`` mapped to [0, 1] by the file's ``VOILUTFunction`` (DICOM PS3.3 C.11.2.1.2-3):
    ``LINEAR`` (the default, and any unknown value), ``LINEAR_EXACT`` or ``SIGMOID`` (was read
    as ``LINEAR`` whatever the function: a SIGMOID window differed by up to 0.10 of the range).
    None for a width the function cannot use (LINEAR: 1 or less, a threshold; the others: 0 or
    less): the caller falls back to percentiles."""
    if not (np.isfinite(wc) and np.isfinite(ww)):
        return None
    if function == "SIGMOID":
        if ww <= 0:
            return None
        return 1.0 / (1.0 + np.exp(np.clip(-4.0 * (x - wc) / ww, -700.0, 700.0)))
    if function == "LINEAR_EXACT":
        if ww <= 0:
            return None
        return np.clip((x - (wc - ww / 2)) / ww, 0.0, 1.0)
    if ww <= 1:
        return None
    lo = wc - 0.5 - (ww - 1) / 2
    return np.clip((x - lo) / (ww - 1), 0.0, 1.0)


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

#: Type 2 attributes (present, possibly empty) of the Secondary Capture Image IOD's General Study,
#: General Series and General Image modules (DICOM PS3.3 C.7.2.1, C.7.3.1, C.7.6.1; PatientOrientation:
#: an SC image has no Image Plane module to stand for it); they were left out, which a validator
#: such as dciodvfy reports as an error. The Patient module's Type 2 attributes (name, ID, birth
#: date, sex) are written only as the reference lends them.
_TYPE2 = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",  # Patient module
          "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
          "SeriesNumber", "InstanceNumber", "PatientOrientation")


def write_dicom(path, arr: np.ndarray, bit_depth: int, sources=(), description: str = "", setting: str = "") -> None:
    """Write a [0, 1] gray (H, W) or colour (H, W, 3) array as a DICOM Secondary Capture image.

    The pixels are the fused image as ``fuse`` writes a PNG (8 or 16 bits, gray ``MONOCHROME2``;
    colour 8-bit ``RGB``) with a VOI window over the whole stored range, so a viewer, and
    :func:`read_dicom`, shows exactly the written values. ``sources``: the input paths; the
    first that is a DICOM file (the reference) lends its patient, study, frame-of-reference and
    image-plane tags (position, orientation, spacing), so the fused slice files under the same
    study at the same place, and every DICOM input is listed in ``SourceImageSequence``. DICOM
    sources at different positions (a ``fuse-stack`` of slices) place it at their slab's centre
    with the slab's thickness, or without a position where they lie in different planes
    (:func:`_place_of_sources`; the DerivationDescription says which). The
    series UID is derived deterministically from the reference's series UID, ``setting`` (how it
    was fused, without the file names) and the stored format (bit depth, gray or RGB): the slices
    of one series fused with one setting form one new series; the instance UID from the sources'
    instance UIDs, ``setting`` and the stored samples, so that two different images never share
    one and a rerun that writes the same samples gets the same UIDs. Without a DICOM input they
    derive from the pixel data.
    ``ImageType`` is DERIVED\\SECONDARY and ``DerivationDescription`` says how it was made.
    """
    from .image_io import quiet_decoders

    if _pydicom() is None:
        raise InputError(f"{path}: {WRITE_HINT}")
    # pydicom's warnings about a source's malformed tags (a 100-character LO, a DA written
    # 2026-12-06) went to stderr as UserWarning lines beside the one-line output
    with quiet_decoders():
        _write_dicom(path, arr, bit_depth, sources, description, setting)


def _copy_tag(ds, ref, keyword: str) -> None:
    """Set ``keyword`` of ``ds`` to the reference ``ref``'s value, where ``ref`` has one that
    parses; a malformed one (a DS that is no number) is left out: copying it raised ValueError,
    an "internal error" after the fuse."""
    if keyword not in ref:
        return
    try:
        setattr(ds, keyword, ref.data_element(keyword).value)
    except Exception:  # noqa: BLE001 - pydicom raises ValueError/TypeError/... for malformed values
        if keyword in ds:
            del ds[keyword]


def declared_text(ds, text: str) -> str:
    """``text`` (a description we write: it may hold a file name, 'Müller_T1.dcm') as it can be
    stored under ``ds``'s Specific Character Set. Non-ASCII text in a dataset that declares none
    (or plain ASCII, ``ISO_IR 6``) declares UTF-8 (``ISO_IR 192``, of which ASCII is a part): it
    was written as Latin-1 bytes in a file that declared plain ASCII. Under a declared set, a
    character none of its character sets holds is written as '?' (pydicom writes the others,
    with ISO 2022 escape sequences where the set is one)."""
    if text.isascii():
        return text
    cs = ds.get("SpecificCharacterSet")
    values = [] if not cs else [str(cs)] if isinstance(cs, str) else [str(v) for v in cs]
    names = [v.strip() for v in values]
    if not any(names) or names == ["ISO_IR 6"]:
        ds.SpecificCharacterSet = "ISO_IR 192"
        return text
    import warnings

    try:
        from pydicom.charset import convert_encodings

        with warnings.catch_warnings():
            warnings.simplefilter("error")  # an unknown set is not read as Latin-1 here: ASCII only
            codecs = list(convert_encodings(values))
    except Exception:  # noqa: BLE001 - an unknown character set: ASCII only
        codecs = []
    if names and names[0] in ("", "ISO_IR 6", "ISO 2022 IR 6"):  # the default repertoire: ASCII (pydicom reads it leniently)
        codecs = codecs[1:]
    return "".join(c if c.isascii() or any(_encodes(c, k) for k in codecs) else "?" for c in text)


def _encodes(c: str, codec: str) -> bool:
    try:
        c.encode(codec)
        return True
    except (UnicodeError, LookupError):
        return False


def _write_dicom(path, arr: np.ndarray, bit_depth: int, sources, description: str, setting: str) -> None:
    import hashlib

    from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    refs = []
    for s in sources:
        try:
            if _looks_dicom(Path(s)):
                r = dcmread_checked(s, None, stop_before_pixels=True, force=headerless_dicom(Path(s)))
                # an enhanced image keeps its place in functional groups: the fused slice was
                # written without spacing, position and orientation
                _frame_groups(r, _GEOMETRY_GROUPS)
                refs.append(r)
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
        # the reference's character set with its text: a name in another repertoire ('Müller' in
        # ISO_IR 100, '山田^太郎' in ISO_IR 192) was written without it, as Latin-1 bytes in a file
        # that declared plain ASCII, or as '??^??' with a UserWarning on stderr
        for k in ("SpecificCharacterSet",) + _COPIED:
            _copy_tag(ds, ref, k)
    for k in _TYPE2:  # present, empty, where the reference does not lend them (or there is none)
        if k not in ds:
            setattr(ds, k, None)
    ds.SOPClassUID = SECONDARY_CAPTURE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=series_seed)
    if "StudyInstanceUID" not in ds:
        ds.StudyInstanceUID = generate_uid(entropy_srcs=series_seed + ["study"])
    ds.Modality = "OT"
    ds.ConversionType = "WSD"  # workstation: made by software
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.SeriesDescription = "mutualfuse fused"
    place = _place_of_sources(ds, refs)  # sources at several positions (a focus stack): the slab's place
    if place:
        description = description[:1023 - len(place)].rstrip() + " " + place
    ds.DerivationDescription = declared_text(ds, description[:1024])  # in the file's character set
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


def _place_of_sources(ds, refs: list) -> str:
    """Where the DICOM sources ``refs`` lie at different positions (``fuse-stack`` of a series'
    slices: an extended-depth image of a slab), the place written in ``ds`` instead of the first
    source's, and the words the DerivationDescription adds; "" where they share one position
    (a registered pair; ``ds`` keeps the first source's). On one orientation and frame of
    reference: ``ImagePositionPatient`` the slab's centre (the midpoint of the outermost sources
    along the slice normal), ``SliceLocation`` the midpoint of theirs (left out unless every
    source has one), ``SliceThickness`` the slab's (the outermost sources' distance plus their
    own thickness), ``InstanceNumber`` the middle of theirs (rounded down; empty unless every
    source has one). Otherwise no position (and no ``SliceLocation``) is written: there is no one
    plane. Sources on different frames of reference keep the first source's place (their
    positions are in two coordinate systems). The first source's was copied, so a viewer showed
    the stack's image at its first slice."""
    pos = [_numbers(r.get("ImagePositionPatient")) if r.get("ImagePositionPatient") else None for r in refs]
    known = [np.array(v, dtype=np.float64) for v in pos if v is not None and len(v) == 3]
    if len(known) < 2 or all(np.allclose(v, known[0], atol=1e-3) for v in known):
        return ""
    n = len(refs)
    frames = {str(r.get("FrameOfReferenceUID", "") or "").strip() for r in refs}
    if len(known) != n:  # a source without a position: no slab to place (the reference's, as before)
        return ""
    if len(frames) > 1:  # two patient coordinate systems (a CT and an MR of two sessions): the
        return ""  # numbers are no two places in one; the output is in the reference's, as before
    orient = [_numbers(r.get("ImageOrientationPatient")) if r.get("ImageOrientationPatient") else None for r in refs]
    one = (all(o is not None and len(o) == 6 for o in orient)
           and all(np.allclose(o, orient[0], atol=1e-4) for o in orient))
    if not one:
        for k in ("ImagePositionPatient", "SliceLocation"):
            if k in ds:
                del ds[k]
        return (f"Its {n} DICOM sources lie at different positions in different planes: "
                "no ImagePositionPatient written.")
    row, col = np.array(orient[0][:3]), np.array(orient[0][3:])
    normal = np.cross(row, col)
    normal /= np.linalg.norm(normal) or 1.0
    along = [float(v @ normal) for v in known]
    lo, hi = int(np.argmin(along)), int(np.argmax(along))
    centre = (known[lo] + known[hi]) / 2
    ds.ImagePositionPatient = [f"{v:.10g}" for v in centre]
    locs = [_first_number(r, "SliceLocation") if "SliceLocation" in r else None for r in refs]
    if all(v is not None for v in locs):
        ds.SliceLocation = f"{(min(locs) + max(locs)) / 2:.10g}"
    elif "SliceLocation" in ds:
        del ds["SliceLocation"]
    span = along[hi] - along[lo]
    thick = [_first_number(r, "SliceThickness") if "SliceThickness" in r else None for r in refs]
    own = max((t for t in thick if t is not None and t > 0), default=0.0)
    ds.SliceThickness = f"{span + own:.10g}"
    # the middle of the sources' instance numbers (the first's was copied: the slab's image sorted
    # at its first slice, beside the slab of the next slices in one fused series); empty (Type 2)
    # unless every source has one
    nums = [_first_number(r, "InstanceNumber") if "InstanceNumber" in r else None for r in refs]
    ds.InstanceNumber = (int((min(nums) + max(nums)) // 2)
                         if all(v is not None and float(v).is_integer() for v in nums) else None)
    return (f"Placed at the centre of its {n} DICOM sources, a slab {span + own:g} mm thick "
            f"({along[lo]:g} to {along[hi]:g} mm along the slice normal{f', slices {own:g} mm' if own else ''}): "
            "ImagePositionPatient, SliceLocation, SliceThickness and InstanceNumber are the slab's.")


def _looks_dicom(p: Path) -> bool:
    from .image_io import _is_dicom

    return p.is_file() and _is_dicom(p)


#: tags two DICOM sources of one fused pair are expected to share (a registered pair: the same
#: grid, orientation and frame of reference, one patient); a difference is noted, not refused
_PAIR_TAGS = ("PixelSpacing", "ImageOrientationPatient", "FrameOfReferenceUID", "PatientID")
_PAIR_NUMBERS = ("PixelSpacing", "ImageOrientationPatient")  # compared as numbers; the others as text


def _numbers(v) -> list[float] | None:
    """A tag value as numbers (one, or each of a multi-value), or ``None`` for text (a UID)."""
    try:
        return [float(v)] if isinstance(v, (str, int, float)) else [float(x) for x in v]
    except (TypeError, ValueError):
        return None


def pair_mismatch_note(a_path, b_path) -> str | None:
    """A note when two DICOM sources disagree on :data:`_PAIR_TAGS` (both present and different:
    numbers beyond 1e-3 relative, texts as written). The pair is fused pixel for pixel as
    registered, and a DICOM output carries the first source's tags, so a CT and an MR on other
    grids, or of two patients, would otherwise be fused and filed without a word. Values of
    identifying tags (PatientID) are not printed. ``None`` when they agree, when either file is
    not DICOM, or when a header cannot be read (the reading says what is wrong with it)."""
    a, b = Path(a_path), Path(b_path)
    differ = _differ(a, b)
    if not differ:
        return None
    return (f"{a} and {b} differ in {', '.join(differ)}: they are fused pixel for pixel as a registered pair "
            f"(a DICOM output carries {a.name}'s tags)")


def pixel_spacing_mm(path) -> tuple[float, float] | None:
    """A DICOM image's ``PixelSpacing`` (PS3.3 C.7.6.2.1.1: the spacing between rows, then between
    columns, in mm; an enhanced image's from its Pixel Measures functional group) as (row spacing,
    column spacing), or None where it is absent, not two positive numbers, or the header cannot be
    read (the image reading says what is wrong with it). ``fuse-stack`` writes it as a TIFF
    output's pixel size."""
    p = Path(path)
    try:
        h = dcmread_checked(p, None, stop_before_pixels=True, force=headerless_dicom(p),  # no preamble too
                            specific_tags=["PixelSpacing", *_FUNCTIONAL_GROUPS])
        _frame_groups(h, _GEOMETRY_GROUPS)
    except Exception:  # noqa: BLE001 - the image reading reports a broken file in its own words
        return None
    v = _numbers(h.get("PixelSpacing")) if h.get("PixelSpacing") else None
    if v is None or len(v) != 2 or not all(np.isfinite(x) and x > 0 for x in v):
        return None
    return float(v[0]), float(v[1])


def positions_along_normal(paths) -> list[float] | None:
    """Each DICOM file's position along the slice normal, ``ImagePositionPatient · (r × c)``
    (as a series is ordered, :mod:`mutualfuse.dicom_series`), where every file is DICOM with a
    position and all share one ``ImageOrientationPatient``; else None (no one axis to order by)."""
    out, first = [], None
    for p in paths:
        p = Path(p)
        if not _looks_dicom(p):
            return None
        try:
            h = dcmread_checked(p, None, stop_before_pixels=True, force=headerless_dicom(p),
                                specific_tags=["ImagePositionPatient", "ImageOrientationPatient", *_FUNCTIONAL_GROUPS])
            _frame_groups(h, _GEOMETRY_GROUPS)
        except Exception:  # noqa: BLE001 - the image reading reports a broken file in its own words
            return None
        pos = _numbers(h.get("ImagePositionPatient")) if h.get("ImagePositionPatient") else None
        ori = _numbers(h.get("ImageOrientationPatient")) if h.get("ImageOrientationPatient") else None
        if pos is None or ori is None or len(pos) != 3 or len(ori) != 6:
            return None
        if first is None:
            first = ori
        elif not np.allclose(ori, first, atol=1e-4):
            return None
        out.append(float(np.dot(pos, np.cross(first[:3], first[3:]))))
    return out


def stack_mismatch_note(paths) -> str | None:
    """A note naming the DICOM images of a ``fuse-stack`` that differ from its first DICOM image
    in :data:`_PAIR_TAGS` (as :func:`pair_mismatch_note` compares a pair): a localizer (scout)
    or a slice of another orientation, grid, frame of reference or patient in the series' folder
    was fused into the stack without a word. ``None`` where they agree or fewer than two are DICOM."""
    dicoms = [Path(p) for p in dict.fromkeys(paths) if _looks_dicom(Path(p))]
    if len(dicoms) < 2:
        return None
    odd = [(p, d) for p in dicoms[1:] for d in [_differ(dicoms[0], p)] if d]
    if not odd:
        return None
    shown = "; ".join(f"{p.name}: {', '.join(d)}" for p, d in odd[:3]) + ("; ..." if len(odd) > 3 else "")
    return (f"{len(odd)} of the stack's {len(dicoms)} DICOM images differ from {dicoms[0].name} ({shown}): a "
            "localizer or a slice of another series among the planes? They are fused pixel for pixel as one "
            "registered stack")


def _differ(a: Path, b: Path) -> list[str]:
    """The :data:`_PAIR_TAGS` in which DICOM files ``a`` and ``b`` differ, as :func:`pair_mismatch_note`
    shows them; [] where they agree, where one is no DICOM file or a header cannot be read."""
    if not (_looks_dicom(a) and _looks_dicom(b)):
        return []
    try:
        ha, hb = (dcmread_checked(p, None, stop_before_pixels=True, force=headerless_dicom(p),
                                  specific_tags=list(_PAIR_TAGS + _FUNCTIONAL_GROUPS)) for p in (a, b))
        for h in (ha, hb):  # an enhanced image's spacing and orientation (were not compared)
            _frame_groups(h, _GEOMETRY_GROUPS)
    except Exception:  # noqa: BLE001 - the image reading reports a broken file in its own words
        return []
    differ = []
    for k in _PAIR_TAGS:
        va, vb = ha.get(k), hb.get(k)
        if va is None or vb is None or va == "" or vb == "":
            continue
        na, nb = (_numbers(va), _numbers(vb)) if k in _PAIR_NUMBERS else (None, None)
        if na is not None and nb is not None:
            same = len(na) == len(nb) and bool(np.allclose(na, nb, rtol=1e-3, atol=1e-6))
            shown = " ({} vs {})".format("\\".join(f"{x:g}" for x in na), "\\".join(f"{x:g}" for x in nb))
        else:
            same = str(va).strip() == str(vb).strip()
            shown = ""
        if not same:
            differ.append(k + ("" if k == "PatientID" else shown))
    return differ
