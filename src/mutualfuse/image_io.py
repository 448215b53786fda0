"""Reading and writing images with one-line errors and atomic writes.

Reading returns float arrays in [0, 1] plus an :class:`ImageInfo` saying how to write the
result back in the inputs' format. Formats:

* PNG, JPEG, BMP (Pillow): 8-bit gray/colour, 16-bit gray, gray + alpha and colour PNG (at 16
  bits); palette images are expanded,
  alpha is dropped, EXIF orientation is applied (JPEG/TIFF/PNG with an Orientation tag).
* TIFF (tifffile when installed, else Pillow): 8/16-bit gray or RGB(A), signed 16-bit gray
  (mapped as a signed DICOM: :func:`mutualfuse.io.samples.normalize_samples`), 32/64-bit float
  gray or RGB, MinIsWhite (inverted) and palette (looked up); CMYK and CIELab refused; the
  Orientation tag is applied.
* DICOM (``.dcm`` or the ``DICM`` magic; needs ``pip install mutualfuse[dicom]``, see
  :mod:`mutualfuse.dicom`).

TIFF or not is decided by a file's first bytes, whatever its name; a PNG is checked to its end
(every chunk's CRC, the ``IEND`` chunk: :func:`check_png_chunks`).

Intensity normalisation (``normalize``):

* ``"auto"`` (default): 8-bit data at full range (``v / 255``), float data already in [0, 1]
  as is; 16-bit integer data, float data outside [0, 1] (e.g. kelvin) and DICOM data
  per image by percentiles (``p0.1 → 0``, ``p99.9 → 1``, clipped). Thermal cameras store
  14 bits in 16 and use a narrow band of them, so the full 0…65535 range would give an almost
  black, low-contrast image the network was never trained on; DICOM with a VOI window
  (WindowCenter/WidthCenter) uses that window instead.
* ``"full"``: integer data by its type's full range (``v / 255``, ``v / 65535``); float data is
  taken as already in [0, 1] (values outside → error); DICOM by the stored bit depth.
* ``"percentile"``: every image by its own percentiles (``percentiles=(lo, hi)``), 8-bit too.

Every failure is an :class:`~mutualfuse.errors.InputError` naming the file and the problem.
"""
from __future__ import annotations

import contextlib
import contextvars
import io
import logging
import os
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .errors import InputError
from .io.pil_modes import palette_is_colour, pil_samples  # noqa: E402
from .io.samples import (  # noqa: E402,F401  (public here too: image_io was their home)
    DEFAULT_PERCENTILES, MAX_PIXELS, NORMALIZE_MODES, ImageInfo, check_pixels, normalize_samples, percentile_scale,
    sixteen_bit_kind)

# the former private names, for code written against them
_check_pixels = check_pixels
_percentile_scale = percentile_scale
_palette_is_colour = palette_is_colour

IMAGE_SUFFIXES = {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".dcm", ".dicom"}
#: suffixes of raster images that ``mutualfuse fuse`` reads (through Pillow) but that folders do
#: not pair (:data:`IMAGE_SUFFIXES`): :func:`mutualfuse.io.pairing.other_images` counts them
OTHER_IMAGE_SUFFIXES = frozenset({
    ".webp", ".gif", ".apng", ".jfif", ".jpe", ".jp2", ".j2k", ".j2c", ".jpc", ".jpf", ".jpx", ".pgm", ".ppm",
    ".pnm", ".pbm", ".pfm", ".tga", ".qoi", ".avif", ".avifs", ".dib", ".pcx", ".psd", ".sgi", ".ras", ".ico"})
OUTPUT_FORMATS = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP",
                  ".dcm": "DICOM", ".dicom": "DICOM"}


def _err(path, msg: str) -> InputError:
    return InputError(f"{path}: {msg}")


def not_a_regular_file(p: str | os.PathLike) -> str | None:
    """Why an input that exists and is no folder cannot be read as a file, when it is a FIFO, a
    device or a socket (a shell's ``<(...)`` is a pipe, ``/dev/fd/63``); None otherwise. Such an
    input was "file is empty" (its size is 0), or, for a named FIFO nobody writes to, a command
    that waited forever: images, videos and volumes are opened more than once (header, then
    data), and a pipe can be read only once."""
    from .io.atomic import special_kind

    try:
        what = special_kind(os.stat(p).st_mode)
    except (OSError, ValueError):
        return None
    if what is None:
        return None
    return f"is {what}, not a regular file (it is read more than once; save it to a file first)"


def _regular_file(path) -> bool:
    """Whether ``path`` is a regular file (following links): the header peeks open nothing else
    (opening a FIFO no one writes to waits forever)."""
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False


def _refuse_long_name(p: Path, what: str = "") -> None:
    """A one-line error for a path the system refuses as too long (``ENAMETOOLONG``: a name over
    255 bytes, a path over 4096): ``Path.exists()`` raised it, an "internal error: OSError"."""
    import errno

    try:
        os.lstat(p)
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG:
            raise _err(p, f"{what}file name too long for the file system") from None
    except ValueError:  # a NUL byte: open() says so below
        pass


def _check_path(p: Path) -> None:
    _refuse_long_name(p)
    if not p.exists():
        if p.is_symlink():
            raise _err(p, "broken or looping symbolic link")
        raise _err(p, "file not found")
    if p.is_dir():
        raise _err(p, "is a directory, expected an image file")
    special = not_a_regular_file(p)
    if special:
        raise _err(p, special)
    if not os.access(p, os.R_OK):
        raise _err(p, "file is not readable (permission denied)")
    if p.stat().st_size == 0:
        raise _err(p, "file is empty")


def _png_header_size(p: Path) -> tuple[int, int] | None:
    """(width, height) from a PNG IHDR, for explaining files Pillow refuses."""
    try:
        with open(p, "rb") as fh:
            head = fh.read(24)
    except OSError:
        return None
    if len(head) == 24 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        return struct.unpack(">II", head[16:24])
    return None


def _png_ihdr(p: Path) -> tuple[int, int, int, int] | None:
    """(width, height, bit depth, colour type) of a PNG file, or None for other files."""
    try:
        with open(p, "rb") as fh:
            head = fh.read(26)
    except OSError:
        return None
    if len(head) == 26 and head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR":
        w, h = struct.unpack(">II", head[16:24])
        return w, h, head[24], head[25]
    return None


#: PNG chunk data is CRC-checked in blocks of this many bytes (an IDAT chunk may be 2 GiB)
_PNG_CRC_BLOCK = 1 << 20


def check_png_chunks(p: Path, ends: bool = True) -> None:
    """Refuse (one-line :class:`InputError` naming ``p``) a PNG file whose chunks up to ``IEND``
    are damaged: a chunk whose CRC does not match its type and data, a chunk type that is no four
    ASCII letters, a chunk length over the PNG limit (2**31 - 1), or a file that ends before its
    ``IEND`` chunk (truncated). Bytes after ``IEND`` are ignored, as libpng does.

    Pillow checks the CRCs of the chunks before the image data only: a PNG cut anywhere in its
    last ``IDAT``'s CRC or in ``IEND``, or with a bad CRC in ``IDAT``, ``IEND`` or a chunk after
    the image data, was read without a word (libpng refuses a bad CRC in a critical chunk). Every
    chunk is checked, ancillary ones too: a PNG's CRCs are written with it, so a mismatch means
    the file was damaged after it was written. Reads the file once, in 1 MiB blocks.

    ``ends=False``: a file that ends early passes (only damaged chunks are refused): for a file
    Pillow could not open, whose own error then says what it found."""
    try:
        with open(p, "rb") as fh:
            if fh.read(8) != b"\x89PNG\r\n\x1a\n":
                return  # not a PNG: Pillow says what it is
            at = 8
            while True:
                head = fh.read(8)
                if len(head) < 8:
                    if not ends:
                        return
                    raise _err(p, f"truncated PNG: the file ends at byte {at + len(head)}, before its IEND chunk")
                n, kind = struct.unpack(">I4s", head)
                name = kind.decode("latin-1")
                if not all(65 <= c <= 90 or 97 <= c <= 122 for c in kind):
                    raise _err(p, f"corrupt PNG: invalid chunk type {ascii(name)} at byte {at}")
                if n > 2 ** 31 - 1:
                    raise _err(p, f"corrupt PNG: the {name} chunk at byte {at} declares {n} bytes, more than a "
                                  "PNG chunk may hold")
                crc = zlib.crc32(kind)
                left = n
                while left:
                    block = fh.read(min(left, _PNG_CRC_BLOCK))
                    if not block:
                        break
                    crc = zlib.crc32(block, crc)
                    left -= len(block)
                stored = fh.read(4) if not left else b""
                if left or len(stored) < 4:
                    if not ends:
                        return
                    raise _err(p, f"truncated PNG: the file ends inside its {name} chunk (at byte {at}), "
                                  "before its IEND chunk")
                if struct.unpack(">I", stored)[0] != crc & 0xFFFFFFFF:
                    raise _err(p, f"corrupt PNG: bad CRC in the {name} chunk at byte {at} (the file is damaged)")
                if kind == b"IEND":
                    return
                at += 12 + n
    except OSError as e:
        raise _err(p, f"cannot read file ({e.strerror or e})") from None


#: 16-bit colour PNG colour types → Pillow mode after decoding (8-bit) and channel count
_PNG16_COLOUR = {2: ("RGB", 3), 6: ("RGBA", 4)}


def _read_png16_colour(p: Path, mode: str, max_pixels: int | None) -> np.ndarray:
    """A 16-bit colour (or gray + alpha) PNG at its full 16 bits → uint16 (H, W, C).

    Pillow has no 16-bit colour mode: its decoder unfilters the 16-bit rows and its unpacker
    keeps one byte per sample. Decoding twice, keeping the first byte of each big-endian
    sample (``;16B``) and then the second (``;16L`` reads the second as the high byte of a
    little-endian sample), and joining them gives the stored samples exactly.
    """
    halves = []
    for raw in (f"{mode};16B", f"{mode};16L"):
        im = _open_pillow(p, max_pixels, tile_rawmode=raw)
        try:
            im = ImageOps.exif_transpose(im)
        except Exception:  # noqa: BLE001 - as in read_image
            pass
        halves.append(np.asarray(im, dtype=np.uint16))
    return (halves[0] << 8) | halves[1]


def _read_png16_gray_alpha(p: Path, max_pixels: int | None) -> np.ndarray:
    """A 16-bit gray + alpha PNG at its full 16 bits → uint16 (H, W), the alpha dropped.

    Pillow opens it as 8-bit RGBA (rawmode ``LA;16B``: the high byte of gray thrice, then of
    alpha): it was refused. A pixel's four stored bytes (gray high, gray low, alpha high, alpha
    low) are as many as an 8-bit RGBA pixel's, so decoding them with rawmode ``RGBA`` (the same 4
    bytes a pixel for PNG's unfiltering) gives each stored byte unchanged, and gray is
    ``R << 8 | G``."""
    im = _open_pillow(p, max_pixels, tile_rawmode="RGBA")
    if im.mode != "RGBA":  # not how this Pillow opens it: nothing to join
        raise _err(p, f"16-bit gray + alpha PNG opened as mode {im.mode} by this Pillow; "
                      "save it without the alpha channel")
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - as in read_image
        pass
    a = np.asarray(im)
    return (a[..., 0].astype(np.uint16) << 8) | a[..., 1]


#: containers a video command takes, by their first bytes: (offset, bytes, what the file is)
_VIDEO_MAGIC = (
    (4, b"ftyp", "an MP4/QuickTime video"), (4, b"moov", "a QuickTime video"), (4, b"mdat", "a QuickTime video"),
    (4, b"wide", "a QuickTime video"), (0, b"\x1a\x45\xdf\xa3", "a Matroska/WebM video"),
    (0, b"FLV\x01", "an FLV video"), (0, b"YUV4MPEG2", "a Y4M video"), (0, b"\x00\x00\x01\xba", "an MPEG video"),
)


def is_nifti_header(head: bytes) -> bool:
    """Whether a file's first bytes (at least 348) are an uncompressed NIfTI-1 or NIfTI-2 header."""
    return head[344:348] in (b"n+1\x00", b"ni1\x00") or head[4:8] == b"n+2\x00"


#: ISO base-media brands of single-image files (HEIF, AVIF), which share MP4's ``ftyp`` box
HEIF_BRANDS = (b"heic", b"heix", b"mif1", b"avif")


def not_an_image(p: Path) -> str | None:
    """What a file Pillow could not open is instead, when it is a video or a volume (by its first
    bytes, or the ``.nii``/``.nii.gz`` name), with the command that fuses such files: "an
    MP4/QuickTime video, not an image (`mutualfuse fuse-video` fuses two videos)"; None otherwise.
    (``mutualfuse fuse v1.mp4 v2.mp4`` said only "not a readable image (cannot identify image
    file ...)".) HEIF/AVIF stills share MP4's ``ftyp`` box and are named as such."""
    try:
        with open(p, "rb") as fh:
            head = fh.read(376)
    except OSError:
        return None
    name = str(p).lower()
    if name.endswith((".nii", ".nii.gz")) or is_nifti_header(head):
        return "a NIfTI volume, not an image (`mutualfuse fuse-volume` fuses two volumes)"
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        return ("a HEIF/AVIF image, which this installation cannot decode (convert it to PNG or TIFF, "
                "e.g. with `heif-convert` or ImageMagick)")
    what = next((w for at, magic, w in _VIDEO_MAGIC if head[at:at + len(magic)] == magic), None)
    if what is None and head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        what = "an AVI video"
    if what is None and len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        what = "an MPEG transport stream video"
    if what is None:
        return None
    return f"{what}, not an image (`mutualfuse fuse-video` fuses two videos)"


def _is_dicom(p: Path) -> bool:
    """A DICOM file: named .dcm / .dicom, or with the Part 10 ``DICM`` marker, or (a name of no
    image format: UID names without an extension, as PACS exports write them) a data set without
    the preamble (:func:`mutualfuse.dicom.headerless_dicom`)."""
    if p.suffix.lower() in (".dcm", ".dicom"):
        return True
    try:
        with open(p, "rb") as fh:
            fh.seek(128)
            if fh.read(4) == b"DICM":
                return True
    except OSError:
        return False
    if p.suffix.lower() in IMAGE_SUFFIXES or p.suffix.lower() in OTHER_IMAGE_SUFFIXES:
        return False  # a name of an image format (a TGA can start with the bytes of a DICOM group)
    from .dicom import headerless_dicom  # a data set without the preamble (older scanners, PACS exports)

    return headerless_dicom(p)


def _bmp_header_problem(p: Path) -> str | None:
    """What is wrong with a BMP's stated size, from its header, or None (not a BMP, or a size that
    may be valid). The width of a Windows BMP header is a signed 32-bit number that must be
    positive (a negative height is a top-down image, valid); Pillow reads the width unsigned, so a
    width of -5 was refused as "image is 4294967291x10 = ... pixels ... (decompression bomb guard)"
    and a width or height of 0 as "cannot identify image file"."""
    try:
        with open(p, "rb") as fh:
            head = fh.read(26)
    except OSError:
        return None
    if len(head) < 26 or not head.startswith(b"BM"):
        return None
    size = struct.unpack_from("<I", head, 14)[0]
    if size == 12:  # BITMAPCOREHEADER (OS/2 1.x): unsigned 16-bit width and height
        w, h = struct.unpack_from("<HH", head, 18)
    elif size in (40, 52, 56, 64, 108, 124):  # BITMAPINFOHEADER and its successors: signed 32-bit
        w, h = struct.unpack_from("<ii", head, 18)
    else:
        return None
    if w <= 0:
        return f"invalid BMP header: its width is {w} (it must be a positive number of pixels)"
    if h == 0:
        return "invalid BMP header: its height is 0 (it must be a number of rows other than 0)"
    return None


def _open_pillow(p: Path, max_pixels: int | None, tile_rawmode: str | None = None,
                 first_frame: bool = False) -> Image.Image:
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # we check against max_pixels ourselves, before decoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            try:
                im = Image.open(p)
            except (OSError, SyntaxError, ValueError) as e:
                bad = _bmp_header_problem(p)  # a BMP width or height of 0: "cannot identify image file"
                if bad is not None:
                    raise _err(p, bad) from None
                size = _png_header_size(p)
                if size is not None and 0 in size:
                    raise _err(p, f"image has 0 pixels ({size[0]}x{size[1]})") from None
                if size is not None:  # a PNG: a damaged chunk before the image data is named as such
                    check_png_chunks(p, ends=False)  # (Pillow said "cannot identify image file")
                other = not_an_image(p)
                if other is not None:
                    raise _err(p, other) from None
                raise _err(p, f"not a readable image ({_first_line(e, p)})") from None
            try:
                # a BMP's negative width, which Pillow reads as 4294967291 (the bomb guard's line)
                bad = _bmp_header_problem(p) if im.format == "BMP" else None
                if bad is not None:
                    raise _err(p, bad)
                check_pixels(p, im.height, im.width, max_pixels)
                frames = int(getattr(im, "n_frames", 1) or 1)
                if frames > 1 and not first_frame and not _mpo_previews_only(im):
                    # first_frame: a pyramid TIFF, read at its full level; an MPO JPEG's previews: its image
                    raise _err(p, f"file holds {frames} frames/pages; mutualfuse reads one image per file "
                                  "(save the frame you want as its own file)")
            except InputError:
                im.close()
                raise
            if tile_rawmode is not None:
                im.tile = [t._replace(args=tile_rawmode if isinstance(t.args, str) else (tile_rawmode, *t.args[1:]))
                           for t in im.tile]
            try:
                im.load()
            except (OSError, SyntaxError, ValueError, EOFError) as e:
                raise _err(p, f"truncated or corrupt image data ({_first_line(e, p)})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old
    return im


#: MPType names (Pillow's) of the Multi-Picture entries that are previews of the primary image
_MPO_PREVIEWS = ("Large Thumbnail (VGA Equivalent)", "Large Thumbnail (Full HD Equivalent)")


def _mpo_previews_only(im: Image.Image) -> bool:
    """Whether ``im``, a JPEG with Multi-Picture extensions (Pillow's MPO: many cameras, phones and
    DJI drones write their photos so), holds one image, its first (primary) one, and only previews
    of it: every other entry is a Large Thumbnail or has fewer pixels. Such a photo, shown by every
    viewer as its primary image, was refused as "file holds 2 frames/pages". Entries of the
    primary's size (a stereo pair, a multi-angle or panorama set) are images of their own: False."""
    if im.format != "MPO":
        return False
    try:
        w, h = im.size
        entries = (getattr(im, "mpinfo", None) or {}).get(0xB002) or []
        kinds = [(e.get("Attribute") or {}).get("MPType") for e in entries]
        for i in range(1, int(im.n_frames)):
            if i < len(kinds) and kinds[i] in _MPO_PREVIEWS:
                continue
            im.seek(i)
            if im.size[0] * im.size[1] >= w * h:
                return False
        return True
    except Exception:  # noqa: BLE001 - an entry that cannot be read: not known to be a preview
        return False
    finally:
        with contextlib.suppress(Exception):
            im.seek(0)


def _first_line(e: BaseException, p=None) -> str:
    """The first line of a library's message, at most 160 characters; the path ``p`` in it (the
    error line names the file already) shortened to its name first, so that a long path is not
    cut in its middle (the web page swaps whole paths for upload names)."""
    s = str(e).splitlines()[0] if str(e) else type(e).__name__
    if p is not None and str(p) and Path(p).name:
        s = s.replace(str(p), Path(p).name)
    return s[:160]


def _channels_to_image(arr: np.ndarray, p, alpha_ok: bool = True) -> np.ndarray:
    """(H, W), (H, W, 1..4) → (H, W) or (H, W, 3); other channel counts are refused."""
    if arr.ndim == 2:
        return arr
    if arr.ndim != 3:
        raise _err(p, f"unsupported image layout with shape {arr.shape} (expected one 2-D gray or colour image)")
    c = arr.shape[-1]
    if c == 1:
        return arr[..., 0]
    if c == 3:
        return arr
    if c == 4 and alpha_ok:
        return arr[..., :3]
    if c == 2 and alpha_ok:
        return arr[..., 0]
    raise _err(p, f"unsupported channel count {c} (expected 1 gray, 3 RGB, or with alpha 2 / 4)")


def apply_orientation(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Samples (H, W[, C]) as stored → as displayed, for a TIFF/EXIF ``Orientation`` value 1–8
    (the transforms of Pillow's ``ImageOps.exif_transpose``; other values: unchanged)."""
    ops = {
        2: lambda x: x[:, ::-1],                      # mirrored left-right
        3: lambda x: x[::-1, ::-1],                   # rotated 180°
        4: lambda x: x[::-1],                         # mirrored top-bottom
        5: lambda x: x.swapaxes(0, 1),                # transposed
        6: lambda x: np.rot90(x, -1),                 # rotated 90° clockwise to display
        7: lambda x: x[::-1, ::-1].swapaxes(0, 1),    # transversed
        8: lambda x: np.rot90(x, 1),                  # rotated 90° counter-clockwise to display
    }
    op = ops.get(int(orientation))
    return np.ascontiguousarray(op(arr)) if op else arr


def _png_orientation(path: str | os.PathLike) -> int | None:
    """The EXIF orientation of a PNG's ``eXIf`` chunk (before or after the pixel data, as
    Pillow's reader finds it), or None, from the chunk headers alone: each chunk's length and
    type are read and its data skipped up to ``eXIf`` or ``IEND``, so nothing is decompressed
    (Pillow's ``getexif()`` on a PNG without an ``eXIf`` chunk before ``IDAT`` decodes the image)."""
    with open(path, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            return None
        while True:
            head = f.read(8)
            if len(head) < 8:
                return None
            n, kind = struct.unpack(">I4s", head)
            if kind == b"eXIf":
                exif = Image.Exif()
                exif.load(f.read(n))
                return exif.get(0x0112)
            if kind == b"IEND":
                return None
            f.seek(n + 4, os.SEEK_CUR)  # the data and its CRC


def embedded_profile_note(path: str | os.PathLike) -> str | None:
    """The note for an image file with an embedded ICC profile other than sRGB (PNG ``iCCP``,
    JPEG ``APP2``, TIFF ``InterColorProfile``), naming the profile: ``read_image`` does no colour
    management (the samples are fused as stored, taken as sRGB, and outputs carry no profile);
    for a CMYK JPEG without a profile, that its colours are approximate
    (:func:`~mutualfuse.io.pil_modes.cmyk_note`: it was read without a word); None for a file
    without one or with an sRGB one, and for DICOM and files that cannot be opened (reading them
    says why). From the header alone: nothing is decoded."""
    from .io.pil_modes import cmyk_note, icc_profile_note

    p = Path(path)
    if not _regular_file(p) or _is_dicom(p):
        return None
    data = None
    try:
        if _reads_as_tiff(p):
            import tifffile

            with quiet_decoders(), tifffile.TiffFile(p) as tf:
                tag = tf.pages[0].tags.get(34675) if tf.pages else None
                data = tag.value if tag is not None else None
        else:
            old = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                with quiet_decoders(), Image.open(p) as im:
                    data = im.info.get("icc_profile")
                    if not data and im.mode == "CMYK":
                        return cmyk_note(p)
            finally:
                Image.MAX_IMAGE_PIXELS = old
    except Exception:  # noqa: BLE001 - an unreadable file: reading it says why
        return None
    return icc_profile_note(p, data)


def header_reads_as_colour(path: str | os.PathLike) -> bool:
    """Whether :func:`read_image` will read an image file as RGB, from its header alone (nothing is
    decoded), for a memory bound that counts an RGB input's larger buffers: DICOM
    ``SamplesPerPixel`` 3; TIFF samples per pixel 3 or 4, or a palette page whose ColorMap holds a
    colour (an ImageJ lookup table is read as gray, and is so here); PNG by its IHDR colour type (RGB
    or RGBA, or a palette with a colour entry; gray + alpha is gray at 16 bits too, which Pillow
    opens as RGBA); other files by their Pillow mode (a palette as for PNG). False when unsure (an
    unreadable header), so that such a bound stays a lower bound. A palette image that uses only
    the gray entries of a palette holding colours too is read as gray and counted RGB: the one
    case it counts high, which needs the pixels to tell."""
    p = Path(path)
    if not _regular_file(p):
        return False
    try:
        with quiet_decoders():
            if _is_dicom(p):
                from .dicom import dcmread_checked

                return int(getattr(dcmread_checked(p, None, stop_before_pixels=True), "SamplesPerPixel", 1)) == 3
            if _reads_as_tiff(p):
                import tifffile

                with tifffile.TiffFile(p) as tf:
                    page = tf.pages[0]
                    if int(page.samplesperpixel) in (3, 4):
                        return True
                    if int(page.photometric) != 3 or getattr(tf, "is_imagej", False):
                        return False
                    cmap = getattr(page, "colormap", None)
                    return cmap is not None and _entries_have_colour(np.asarray(cmap).T)
            ihdr = _png_ihdr(p)
            if ihdr is not None and ihdr[3] != 3:  # 0 gray, 2 RGB, 4 gray + alpha, 6 RGBA
                return ihdr[3] in (2, 6)
            old = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None  # as header_size: the caller checks the size against its limit
            try:
                with Image.open(p) as im:
                    if im.mode in ("P", "PA"):
                        pal = im.palette
                        data = getattr(pal, "palette", None)
                        if pal is None or getattr(pal, "rawmode", None) or not data or len(pal.mode) not in (3, 4):
                            return False
                        n = len(pal.mode)
                        return _entries_have_colour(np.frombuffer(bytes(data), np.uint8)[: len(data) // n * n]
                                                    .reshape(-1, n)[:, :3])
                    return im.mode in _COLOUR_MODES_READ
            finally:
                Image.MAX_IMAGE_PIXELS = old
    except Exception:  # noqa: BLE001 - the full read says what is wrong with the file
        return False


#: Pillow modes that :func:`mutualfuse.io.pil_modes.pil_samples` always reads as RGB (not ``P``/``PA``:
#: a palette is RGB when it holds a colour)
_COLOUR_MODES_READ = ("RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV")


def _entries_have_colour(entries: np.ndarray) -> bool:
    """Whether a palette's (N, 3) entries hold one that is not gray."""
    return bool(entries.size) and not (np.array_equal(entries[:, 0], entries[:, 1])
                                       and np.array_equal(entries[:, 1], entries[:, 2]))


def turned_note(path: str | os.PathLike) -> str:
    """" (stored 56x40, turned by its EXIF orientation 6)" for an image file whose orientation tag
    (EXIF in JPEG/PNG, the TIFF Orientation tag) turns it by a quarter on reading, so that its size
    as read is its stored size swapped; "" otherwise (no tag, a flip or a half turn, DICOM, a file
    whose header cannot be read). For size-mismatch messages: a phone photo stored 4032x3024 with
    orientation 6 is read 3024x4032, which its file's own size does not say (as video's rotation
    tag is named there). From the header alone."""
    p = Path(path)
    if not _regular_file(p) or _is_dicom(p):
        return ""
    try:
        if _reads_as_tiff(p):
            import tifffile

            with quiet_decoders(), tifffile.TiffFile(p) as tf:
                page = tf.pages[0]
                w, h = int(page.imagewidth), int(page.imagelength)
                tag = page.tags.get("Orientation")
                orient, what = (int(tag.value) if tag is not None else None), "TIFF Orientation tag"
        else:
            old = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                with quiet_decoders(), Image.open(p) as im:
                    w, h = im.size
                    orient = _png_orientation(p) if im.format == "PNG" else im.getexif().get(0x0112)
                    what = "EXIF orientation"
            finally:
                Image.MAX_IMAGE_PIXELS = old
    except Exception:  # noqa: BLE001 - reading the file says what is wrong with it
        return ""
    if orient not in (5, 6, 7, 8):
        return ""
    return f" (stored {w}x{h}, turned by its {what} {orient})"


def header_size(path: str | os.PathLike) -> tuple[int, int] | None:
    """(width, height) of an image as it will be read (orientation applied), from its header
    only (no decoding); None when the header cannot be read (the full read then says why)."""
    if not _regular_file(path):  # a FIFO: opening it waited for a writer, before the read said why
        return None
    if _is_dicom(Path(path)):
        try:
            from .dicom import dcmread_checked

            # through the deflate bomb guard: pydicom alone inflates a deflated file whole first
            ds = dcmread_checked(path, None, stop_before_pixels=True)
            w, h = int(ds.Columns), int(ds.Rows)
            return (w, h) if w > 0 and h > 0 else None
        except Exception:  # noqa: BLE001 - pydicom missing or a broken file: the full read says why
            return None
    # as _decode_samples reads it: a TIFF by tifffile (Pillow's size of a rotated TIFF is not the
    # stored one), by content (a PNG named .tif by Pillow)
    if _reads_as_tiff(Path(path)):
        try:
            import tifffile

            with tifffile.TiffFile(path) as tf:
                page = tf.pages[0]
                w, h = int(page.imagewidth), int(page.imagelength)
                tag = page.tags.get("Orientation")
            return (h, w) if tag is not None and int(tag.value) in (5, 6, 7, 8) else (w, h)
        except ImportError:  # pragma: no cover - Pillow reads TIFF then
            pass
        except Exception:  # noqa: BLE001
            return None
    if _bmp_header_problem(Path(path)) is not None:  # a negative width read as 4294967291: the read says why
        return None
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # as _open_pillow: the caller checks the size against its own limit
    try:
        with Image.open(path) as im:
            w, h = im.size
            try:
                # Pillow's PNG getexif() decodes the whole image when no eXIf chunk precedes the
                # pixel data (one may follow it): the chunk headers are walked instead
                orient = _png_orientation(path) if im.format == "PNG" else im.getexif().get(0x0112)
                if orient in (5, 6, 7, 8):  # transposed / rotated by 90°
                    w, h = h, w
            except Exception:  # noqa: BLE001 - a broken EXIF block is ignored by the reader too
                pass
            return int(w), int(h)
    except Exception:  # noqa: BLE001
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = old


#: TIFF ExtraSamples values that are alpha (1 associated, 2 unassociated): the extra channel
#: that may be dropped (docs/inputs.md, Formats)
_TIFF_ALPHA = (1, 2)


def _is_pyramid(tf) -> bool:
    """Whether a multi-page TIFF is one image with reduced-resolution copies (a pyramid: a
    Cloud-Optimised GeoTIFF's overviews, a slide scanner's levels): the first page is a full
    image and every other page is flagged reduced-resolution (NewSubfileType bit 0) and no
    larger than it. Such a file is read at its first page; any other multi-page TIFF is refused."""
    first = tf.pages[0]
    if int(getattr(first, "subfiletype", 0) or 0) & 1:
        return False
    h, w = int(first.imagelength), int(first.imagewidth)
    for page in tf.pages[1:]:
        if not int(getattr(page, "subfiletype", 0) or 0) & 1:
            return False
        if int(page.imagelength) > h or int(page.imagewidth) > w:
            return False
    return True


def _read_tiff(p: Path, max_pixels: int | None) -> tuple | None:
    """Read a TIFF with tifffile → (samples, bit depth[, reader]); None if tifffile is not
    installed. A compression this tifffile cannot decode goes through Pillow (reader "pillow")."""
    try:
        import tifffile
    except ImportError:  # a broken install: Pillow reads the layouts it reads as tifffile would
        return _read_tiff_without_tifffile(p, max_pixels)
    try:
        with tifffile.TiffFile(p) as tf:
            if not tf.pages:
                raise _err(p, "TIFF has no images")
            if len(tf.pages) > 1 and not _is_pyramid(tf):
                raise _err(p, f"TIFF holds {len(tf.pages)} pages; mutualfuse reads one image per file "
                              "(save the page you want as its own file; a focus stack: mutualfuse fuse-stack FILE)")
            page = tf.pages[0]  # a pyramid's full-resolution level
            preview = _preview_refusal(tf, page)
            if preview:
                raise _err(p, preview)
            spp, extras, orientation = _page_layout(p, page, max_pixels)
            photometric = _tiff_photometric(p, page, bool(getattr(tf, "is_imagej", False)))
            bits = int(getattr(page, "bitspersample", 8) or 8)
            codec = _missing_codec(tifffile, page)
            if codec is not None:  # LZW, JPEG, ... without imagecodecs: Pillow (libtiff) decodes them
                _check_tiff_samples(p, spp, extras)
                want = _pillow_fallback_layout(page)
                pyramid = len(tf.pages) > 1
            else:
                arr = page.asarray()
    except InputError:
        raise
    except Exception as e:  # noqa: BLE001 - tifffile raises many types for broken files
        raise _err(p, f"truncated or corrupt TIFF ({_first_line(e, p)})") from None
    if codec is not None:
        return _read_tiff_pillow(p, max_pixels, codec, want, pyramid, photometric, bits)
    return _tiff_convert(p, arr, spp, extras, orientation, photometric, bits)


def _preview_refusal(tf, page) -> str | None:
    """Why a TIFF whose first image is a reduced-resolution copy of one kept in a SubIFD is
    refused, or None: a DNG (camera raw: a drone's or a phone's) stores a small RGB preview first
    (NewSubfileType 1) and its full raw image in a SubIFD, and that preview (e.g. 256x171) was
    read as the image, without a word; it is the image no longer. A first image flagged so
    without SubIFDs is read (nothing else is there)."""
    try:
        reduced = int(getattr(page, "subfiletype", 0) or 0) & 1
        subifds = getattr(page, "subifds", None)
        dng = bool(getattr(tf, "is_dng", False))
    except Exception:  # noqa: BLE001 - an unreadable tag: the reading says what is wrong
        return None
    if not reduced or not (subifds or dng):
        return None
    size = f"{int(page.imagewidth)}x{int(page.imagelength)}"
    if dng:
        return (f"a DNG (camera raw) file, whose first image is its {size} preview; mutualfuse fuses developed "
                "images: develop it first (e.g. dcraw -T -4 FILE.dng, or darktable / RawTherapee) and fuse the TIFF")
    return (f"TIFF whose first image is a reduced-resolution {size} copy (NewSubfileType 1) of an image kept in a "
            "SubIFD, which mutualfuse does not read; save the full-resolution image as its own file")


def _missing_codec(tifffile, page) -> str | None:
    """The name of the compression (or predictor) of a TIFF page that this tifffile cannot
    decode (it needs the optional ``imagecodecs`` package for LZW, JPEG, Deflate with the float
    predictor, ...), or None when it can. Before, such a file, the usual output of Pillow,
    ImageMagick and many thermal cameras and microscopes (LZW), was refused as "truncated or
    corrupt TIFF"."""
    try:
        comp = page.compression
        if int(comp) != 1 and comp not in tifffile.TIFF.DECOMPRESSORS:
            return getattr(comp, "name", str(int(comp)))
        pred = page.predictor
        if int(pred) > 1 and pred not in tifffile.TIFF.PREDICTORS:
            return f"{getattr(comp, 'name', str(int(comp)))} with the {getattr(pred, 'name', int(pred))} predictor"
        bits = int(page.bitspersample)
        if int(page.sampleformat) == 1 and bits not in (1, 8, 16, 32, 64) and not _has_imagecodecs():
            # 2/4/12-bit samples: tifffile unpacks them only with imagecodecs ("truncated or corrupt
            # TIFF (packints_decode of 4-bit integers requires the 'imagecodecs' package)")
            return f"{bits}-bit packed samples"
    except Exception:  # noqa: BLE001 - an unknown tag value: asarray() says what is wrong
        return None
    return None


def _has_imagecodecs() -> bool:
    try:
        import imagecodecs  # noqa: F401
    except ImportError:
        return False
    return True


def _codec_hint(codec: str) -> str:
    """What a TIFF needs that tifffile lacks here, for :func:`_missing_codec`'s name."""
    if codec.endswith("packed samples"):
        return f"TIFF of {codec}, which tifffile unpacks only with the imagecodecs package (pip install imagecodecs)"
    return f"TIFF compressed with {codec}, which tifffile decodes only with the imagecodecs package (pip install imagecodecs)"


#: the layout :func:`_pillow_fallback_layout` gives a palette page (1 to 8-bit indices): decoded by
#: Pillow as indices (mode ``P``), looked up in the page's ColorMap as tifffile's are
_PALETTE_INDICES = (0, 8)
#: the layout :func:`_pillow_fallback_layout` gives a signed 16-bit gray page: Pillow decodes it as
#: its mode ``I`` (int32), whose values are the stored ones, kept as int16 as :func:`_tiff_convert` keeps them
_SIGNED16 = (1, -16)
#: and a signed 32-bit gray page (what Pillow writes for its mode I): its values as
#: :func:`_wide_integers` reads tifffile's
_SIGNED32 = (1, -32)


def _pillow_fallback_layout(page) -> tuple[int, int | str] | None:
    """(channels, bit depth) a TIFF page must come out of Pillow with, for the layouts Pillow
    decodes as tifffile would: gray (MinIsBlack) 8/16-bit integer or 32-bit float, RGB 8-bit
    (also JPEG's YCbCr), gray 2/4-bit (Pillow scales them to 8 bits as :func:`_tiff_convert` does)
    and 12-bit (as stored, in 16), bilevel (1-bit) and 8-bit MinIsWhite (Pillow inverts them as
    :func:`_apply_photometric` does), and :data:`_PALETTE_INDICES` for a palette of 1 to 8-bit
    indices; None for any other layout (16-bit colour, which Pillow reduces to 8 bits, 16-bit
    MinIsWhite or palette, CMYK, ...). MinIsWhite, bilevel and palette pages were refused (a
    palette TIFF that Pillow writes with ``compression="tiff_lzw"``: "without it only gray ...
    TIFFs are read") although Pillow decodes them."""
    phot, bits = int(page.photometric), int(page.bitspersample)
    fmt, spp = int(page.sampleformat), int(page.samplesperpixel)
    if phot == 3 and spp == 1 and fmt == 1 and bits in (1, 2, 4, 8):
        return _PALETTE_INDICES
    if phot in (0, 1) and spp == 1 and fmt == 1 and bits in (1, 8):
        return 1, 8
    if phot == 1 and spp in (1, 2) and ((fmt == 1 and bits in (8, 16)) or (fmt == 3 and bits == 32)):
        return 1, (32 if fmt == 3 else bits)
    if phot == 1 and spp == 1 and fmt == 2 and bits in (16, 32):
        return _SIGNED16 if bits == 16 else _SIGNED32
    if phot == 1 and spp == 1 and fmt == 1 and bits == 32:
        return _UNSIGNED32
    if phot == 1 and spp == 1 and fmt == 1 and bits in (2, 4, 12):  # Pillow: L (scaled as below), I;16 (as stored)
        return 1, (8 if bits < 8 else 16)
    if phot in (2, 6) and spp in (3, 4) and fmt == 1 and bits == 8:
        return 3, 8
    return None


#: the layout :func:`_pillow_fallback_layout` gives an unsigned 32-bit gray page: Pillow decodes it as
#: its mode ``I`` (int32, the bits of values over 2**31 - 1 read as negative ones), whose values
#: :func:`_wide_integers` reads as it reads tifffile's
_UNSIGNED32 = (1, "uint32")


#: what the Pillow fallback reads, for its refusal
_PILLOW_TIFF_LAYOUTS = ("gray 1/2/4/8/12/16/32-bit (signed 16 and 32-bit too), float32, 8-bit RGB, 8-bit MinIsWhite "
                        "and 1 to 8-bit palette TIFFs")


#: what a TIFF read without tifffile needs, for :func:`_read_tiff_pillow`'s refusal
_NO_TIFFFILE_HINT = "TIFF read without tifffile, which is not installed (pip install tifffile)"


def _pillow_tiff_page(p: Path):
    """The tags of a TIFF's first page that :func:`_pillow_fallback_layout`,
    :func:`_check_tiff_samples` and :func:`_tiff_photometric` read, from Pillow's header reading
    (no decoding), as a tifffile page holds them: ``(page, ExtraSamples, ImageJ file)``."""
    from types import SimpleNamespace

    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # the size is checked against max_pixels by _open_pillow
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(p) as im:
                tags, size, frames = dict(im.tag_v2), im.size, int(getattr(im, "n_frames", 1) or 1)
    except Exception as e:  # noqa: BLE001 - Pillow raises many types for broken files and layouts it lacks
        raise _err(p, f"{_NO_TIFFFILE_HINT}; Pillow could not read it either ({_first_line(e, p)})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old

    def first(tag: int, default: int) -> int:
        v = tags.get(tag, default)
        if isinstance(v, (tuple, list)):
            v = v[0] if v else default
        try:
            return int(v)
        except (TypeError, ValueError):
            return default

    spp, bits = first(277, 1), first(258, 1)
    cmap = tags.get(320)
    if cmap is not None:
        cmap = np.asarray(cmap, dtype=np.uint16)
        cmap = cmap.reshape(3, -1) if cmap.size and cmap.size % 3 == 0 else None
    extras = tags.get(338, ())
    extras = tuple(extras) if isinstance(extras, (tuple, list)) else (extras,)
    imagej = str(tags.get(270, "")).startswith("ImageJ=")
    page = SimpleNamespace(photometric=first(262, 1), bitspersample=bits, sampleformat=first(339, 1),
                           samplesperpixel=spp, colormap=cmap, imagewidth=size[0], imagelength=size[1], pages=frames,
                           subfiletype=first(254, 0), subifds=tags.get(330) or None)
    page.is_dng = 50706 in tags  # DNGVersion
    return page, extras, imagej


def _read_tiff_without_tifffile(p: Path, max_pixels) -> tuple[np.ndarray, int, str]:
    """A TIFF where tifffile is not installed (it is a dependency: a broken install), through
    Pillow, with the rules of the fallback for compressions tifffile cannot decode
    (:func:`_read_tiff_pillow`): the layouts Pillow decodes as tifffile would are read, the
    others refused in one line naming ``pip install tifffile``. Pillow was given any TIFF: an
    int8 page came out as unsigned bytes (-100 read as 156), a 16-bit RGB one at 8 bits without a
    word, a float64 one "cannot identify image file"."""
    page, extras, imagej = _pillow_tiff_page(p)
    preview = _preview_refusal(page, page)  # a DNG's preview (its is_dng: the DNGVersion tag)
    if preview:
        raise _err(p, preview)
    check_pixels(p, page.imagelength, page.imagewidth, max_pixels)  # as _read_tiff: refusals, not read failures
    if page.pages > 1:
        raise _err(p, f"TIFF holds {page.pages} pages; mutualfuse reads one image per file (save the page you "
                      "want as its own file)")
    photometric = _tiff_photometric(p, page, imagej)
    _check_tiff_samples(p, int(page.samplesperpixel), extras)
    return _read_tiff_pillow(p, max_pixels, "", _pillow_fallback_layout(page), False, photometric,
                             int(page.bitspersample), hint=_NO_TIFFFILE_HINT)


def _read_tiff_pillow(p: Path, max_pixels, codec: str, want: tuple[int, int] | None,
                      pyramid: bool, photometric: tuple[int, np.ndarray | None] | None = None,
                      bits: int = 8, hint: str | None = None) -> tuple[np.ndarray, int, str]:
    """A TIFF that tifffile cannot decode here, through Pillow: its samples must come out with
    the channels and bit depth the TIFF's tags say (``want``), or it is refused with a one-line
    error saying what to install; nothing is silently reduced (Pillow reads 16-bit colour at 8).
    A palette page (``want`` :data:`_PALETTE_INDICES`) is read as its indices and looked up in
    the ColorMap as tifffile's are (``photometric``, ``bits``: from :func:`_tiff_photometric`, an
    ImageJ lookup table's indices as gray), not through Pillow's palette (which takes the high
    byte of every entry: libtiff's 8-bit entries became black). ``hint``: what is missing, said in
    a refusal (default: the imagecodecs package, for ``codec``)."""
    hint = _codec_hint(codec) if hint is None else hint
    if want is None:
        raise _err(p, f"{hint}; without it only {_PILLOW_TIFF_LAYOUTS} are read (through Pillow)")
    try:
        im = _open_pillow(p, max_pixels, first_frame=pyramid)
        try:
            im = ImageOps.exif_transpose(im)  # the TIFF Orientation tag, as tifffile's reading applies it
        except Exception:  # noqa: BLE001 - as in _decode_samples
            pass
        if want == _PALETTE_INDICES:
            if im.mode != "P":
                raise _err(p, f"palette TIFF decoded as mode {im.mode!r}, not as indices")
            raw = _apply_photometric(p, np.asarray(im), photometric, bits)
            if raw.dtype == np.uint16:
                raw = raw.astype(np.int32)  # a 16-bit ColorMap's values, as _tiff_convert gives them
            return raw, (16 if raw.dtype == np.int32 else 8), "pillow"
        if want == _SIGNED16:
            if im.mode != "I":
                raise _err(p, f"signed 16-bit TIFF decoded as mode {im.mode!r}, not as 32-bit integers")
            raw = np.asarray(im)
            if raw.size and (raw.min() < -32768 or raw.max() > 32767):  # not what a 16-bit page holds
                raise _err(p, "signed 16-bit TIFF decoded to values outside -32768..32767 (corrupt TIFF)")
            return raw.astype(np.int16), 16, "pillow"
        if want in (_SIGNED32, _UNSIGNED32):
            if im.mode != "I":
                raise _err(p, f"{'signed' if want == _SIGNED32 else 'unsigned'} 32-bit TIFF decoded as mode "
                              f"{im.mode!r}, not as 32-bit integers")
            raw, depth = np.asarray(im), 0  # its values decide (below: Pillow did read it)
            if want == _UNSIGNED32:
                raw = raw.astype(np.int32, copy=False).view(np.uint32)  # the stored bits, unsigned
        else:
            raw, depth = pil_samples(im, p)
    except InputError as e:
        raise _err(p, f"{hint}; Pillow could not read it either ({str(e).removeprefix(f'{p}: ')})") from None
    if want in (_SIGNED32, _UNSIGNED32):
        return (*_wide_integers(p, raw), "pillow")
    if (raw.shape[2] if raw.ndim == 3 else 1, depth) != want:
        raise _err(p, f"{hint}; without it only {_PILLOW_TIFF_LAYOUTS} are read (through Pillow)")
    if depth == 16:
        raw = raw.astype(np.int32)  # as _tiff_convert gives tifffile's 16-bit samples
    return raw, depth, "pillow"


#: TIFF PhotometricInterpretation values refused, with what they are: their samples are no gray,
#: RGB or palette values (CIELab's L*a*b* were fused as R, G and B; CMYK was "channel count 4")
_TIFF_PHOTOMETRIC_REFUSED = {
    4: "a transparency mask (PhotometricInterpretation 4)",
    5: "CMYK / separated ink samples (PhotometricInterpretation 5)",
    8: "CIELab samples (PhotometricInterpretation 8)", 9: "ICCLab samples (PhotometricInterpretation 9)",
    10: "ITULab samples (PhotometricInterpretation 10)",
    32803: "raw colour-filter-array (Bayer) samples (PhotometricInterpretation 32803)",
    32844: "LogL samples (PhotometricInterpretation 32844)", 32845: "LogLuv samples (PhotometricInterpretation 32845)",
    34892: "LinearRaw camera samples (PhotometricInterpretation 34892)",
}


def _tiff_photometric(p, page, imagej: bool = False) -> tuple[int, np.ndarray | None]:
    """A TIFF page's (PhotometricInterpretation, colormap of a palette page or None); refuses (one
    line naming ``p``) the interpretations whose samples are no gray, RGB or palette values, and a
    MinIsWhite page of float or signed samples (no defined white). MinIsWhite (0) and Palette (3)
    are decoded by :func:`_apply_photometric`: tifffile returns their stored samples as they are
    (a MinIsWhite scan was read as its negative, a palette image as its gray index values)."""
    try:
        phot = int(page.photometric)
    except Exception:  # noqa: BLE001 - no tag: tifffile's reading decides, as before
        return 1, None
    what = _TIFF_PHOTOMETRIC_REFUSED.get(phot)
    if what is not None:
        raise _err(p, f"TIFF holds {what}, which mutualfuse does not convert; save it as gray or RGB "
                      "(e.g. with ImageMagick: convert IN -colorspace sRGB OUT.tif)")
    if phot == 0 and int(getattr(page, "sampleformat", 1) or 1) != 1:
        raise _err(p, "MinIsWhite TIFF with float or signed samples is not supported (no defined white); "
                      "save it as MinIsBlack")
    if phot == 3 and imagej:
        # ImageJ writes an 8-bit image with a colour lookup table (Green, Fire, ...) as a palette
        # TIFF: there the indices are the measured intensities and the table is a display choice,
        # so they are read as gray, as before (a microscope's stack is not re-coloured)
        return 1, None
    if phot == 3:
        cmap = getattr(page, "colormap", None)
        if cmap is None:
            raise _err(p, "palette TIFF without a ColorMap tag (corrupt TIFF)")
        return 3, np.asarray(cmap)
    return phot, None


def _apply_photometric(p, arr: np.ndarray, photometric: tuple[int, np.ndarray | None] | None,
                       bits: int) -> np.ndarray:
    """Stored samples (as tifffile returns them) → gray or RGB values: MinIsWhite inverted
    (``2**bits - 1 - v``; 1-bit: black ↔ white), a palette's indices looked up in its ColorMap
    (16-bit entries: 8-bit values where every entry stores 8 bits, as ``v * 256`` (Pillow) or
    ``v * 257``, or all entries are under 256 (libtiff's rule for old writers), else 16-bit; gray
    (H, W) where the three are equal, as for a gray PNG palette)."""
    if photometric is None:
        return arr
    phot, cmap = photometric
    if phot == 0:
        if arr.dtype == bool:
            return ~arr
        if np.issubdtype(arr.dtype, np.unsignedinteger):
            top = (1 << bits) - 1 if 0 < bits <= 8 * arr.dtype.itemsize else np.iinfo(arr.dtype).max
            return (top - arr).astype(arr.dtype)
        return arr
    if phot == 3 and cmap is not None and arr.ndim == 2:
        idx = arr.astype(np.intp)
        if idx.size and idx.max() >= cmap.shape[-1]:
            raise _err(p, f"palette TIFF has index {int(idx.max())} beyond its {cmap.shape[-1]}-entry ColorMap (corrupt TIFF)")
        cm = cmap.astype(np.uint16)
        hi, lo = cm >> 8, cm & 0xFF
        if cm.max() < 256:  # 8-bit entries (some old writers): as libtiff reads them
            cm = cm.astype(np.uint8)
        elif np.all((lo == 0) | (lo == hi)):  # 8-bit values stored as v * 256 (Pillow) or v * 257
            cm = hi.astype(np.uint8)
        if np.array_equal(cm[0], cm[1]) and np.array_equal(cm[1], cm[2]):
            return cm[0][idx]
        return np.stack([cm[0][idx], cm[1][idx], cm[2][idx]], axis=-1)
    return arr


def _page_layout(p, page, max_pixels: int | None) -> tuple[int, tuple, int]:
    """A TIFF page's (samples per pixel, ExtraSamples, Orientation), after the size check."""
    check_pixels(p, int(page.imagelength), int(page.imagewidth), max_pixels)
    tag = page.tags.get("Orientation")
    return (int(getattr(page, "samplesperpixel", 1)), tuple(getattr(page, "extrasamples", ()) or ()),
            int(tag.value) if tag is not None else 1)


def _check_tiff_samples(p, spp: int, extras: tuple) -> None:
    """Refuse a TIFF's samples per pixel unless gray or RGB, optionally with alpha (one-line error)."""
    if spp not in (1, 3) and not (extras and spp in (2, 4)):
        raise _err(p, f"unsupported channel count {spp} (expected 1 gray or 3 RGB, optionally with alpha)")
    if spp in (2, 4) and not all(int(e) in _TIFF_ALPHA for e in extras):
        # ExtraSamples 0 is "unspecified" data (a near-infrared band, a mask, a depth): not alpha,
        # so not a channel to drop without a word
        raise _err(p, f"unsupported channel count {spp}: its extra sample is not alpha (TIFF ExtraSamples "
                      f"{', '.join(str(int(e)) for e in extras)}, unspecified data); expected 1 gray or 3 RGB, "
                      "optionally with an alpha channel (save the bands you want to fuse as their own image)")


def _tiff_convert(p, arr: np.ndarray, spp: int, extras: tuple, orientation: int,
                  photometric: tuple[int, np.ndarray | None] | None = None, bits: int = 8) -> tuple[np.ndarray, int]:
    """One TIFF image's decoded samples → (samples as displayed, bit depth): channels checked
    (:func:`_check_tiff_samples`), planar layout made contiguous, alpha dropped, MinIsWhite and
    palette decoded (``photometric``, from :func:`_tiff_photometric`; ``bits``: BitsPerSample),
    orientation applied, 16-bit and other small unsigned integers as int32, signed 16-bit samples (and
    32/64-bit integers whose values fit them) as int16, floats as float64."""
    _check_tiff_samples(p, spp, extras)
    if arr.ndim == 3 and arr.shape[0] == spp and arr.shape[-1] != spp:  # planar → contiguous
        arr = np.moveaxis(arr, 0, -1)
    arr = _channels_to_image(arr, p)
    arr = _apply_photometric(p, arr, photometric, bits)
    if (1 < bits < 8 and np.issubdtype(arr.dtype, np.unsignedinteger) and arr.dtype != bool
            and (photometric is None or photometric[0] != 3)):
        # 2/4-bit samples (0..3, 0..15) as 8-bit ones: v * 255 / (2**bits - 1), as Pillow and viewers
        # show them (they were read as v / 255, near black); a palette's indices are not values
        top = (1 << bits) - 1
        arr = ((arr.astype(np.uint16) * 255 + top // 2) // top).astype(np.uint8)
    arr = apply_orientation(arr, orientation)
    if arr.dtype == np.uint8:
        depth = 8
    elif arr.dtype == np.uint16:
        arr, depth = arr.astype(np.int32), 16
    elif arr.dtype.kind == "i" and arr.dtype.itemsize == 2:
        # signed 16-bit (a CT slice in HU, a thermal camera's signed counts): kept int16, which
        # normalize_samples maps as a signed DICOM (percentiles; "full": -32768 … 32767); was refused
        arr, depth = arr.astype(np.int16, copy=False), 16
    elif arr.dtype == bool:
        arr, depth = arr.astype(np.uint8) * 255, 8
    elif np.issubdtype(arr.dtype, np.floating):
        arr, depth = arr.astype(np.float64), 32
    elif np.issubdtype(arr.dtype, np.integer) and arr.size:
        arr, depth = _wide_integers(p, arr)
    else:
        raise _err(p, f"unsupported TIFF sample type {arr.dtype}")
    return arr, depth


def _wide_integers(p, arr: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer TIFF samples of another type than (u)int16 and uint8 (int32, uint32, int8, ...) →
    16-bit samples where their values fit: 0..65535 as unsigned (int32), else -32768..32767 as
    signed (int16: Pillow saves its mode I, e.g. a CT slice made with ``Image.fromarray(int16)``,
    as int32); refused in one line (:func:`_integer_tiff_refusal`) where they fit neither."""
    kind = sixteen_bit_kind(int(arr.min()), int(arr.max()))
    if kind is not None:
        facts = _READ_FACTS.get()
        if facts is not None:  # what the notes call it (ImageInfo.stored): not a "16-bit input"
            facts["stored"] = f"{'signed' if arr.dtype.kind == 'i' else 'unsigned'} {8 * arr.dtype.itemsize}-bit"
    if kind == "unsigned":
        return arr.astype(np.int32), 16
    if kind == "signed":
        return arr.astype(np.int16), 16
    raise _err(p, _integer_tiff_refusal(f"{'signed' if arr.dtype.kind == 'i' else 'unsigned'} "
                                        f"{8 * arr.dtype.itemsize}-bit", arr))


#: while :func:`read_image` decodes a file: a dict of what its :class:`ImageInfo` says beyond the
#: samples: ``"stored"``, the file's own sample type ("signed 8-bit") where :func:`_wide_integers`
#: reads the samples as 16-bit ones; ``"reduced"``, where Pillow decoded fewer bits than the
#: file holds (:func:`_reduced_depth`)
_READ_FACTS: contextvars.ContextVar[dict | None] = contextvars.ContextVar("_READ_FACTS", default=None)


def _integer_tiff_refusal(what: str, arr: np.ndarray) -> str:
    """Why integer TIFF samples that fit neither 0..65535 nor -32768..32767 (a 32-bit count) are
    refused, and what to do: the message said only "unsupported TIFF sample type int32", with no
    way forward. Integer samples are read as 8/16-bit values, unsigned or signed (whose full
    ranges, ``--normalize full``, are 0..255, 0..65535 and -32768..32767); a float TIFF of the same
    values is read, scaled by its percentiles under ``auto`` as a signed DICOM or NIfTI CT is."""
    lo, hi = int(arr.min()), int(arr.max())
    return (f"{what} TIFF samples with values {lo}..{hi}, outside 0..65535 and -32768..32767, are not supported "
            "(integer samples are read as 8/16-bit values); save it as a float32 TIFF, e.g. "
            "tifffile.imwrite(OUT, tifffile.imread(IN).astype('float32')), which is read and scaled by its "
            "percentiles (--normalize auto, as a signed DICOM CT)")


#: tifffile's axis codes that may hold the planes of a focus stack: Z (depth), and Q, I, P
#: (unknown, image sequence, pages: a multi-page file without axis metadata)
STACK_AXES = "ZQIP"
_AXIS_NAMES = {"T": "time points", "C": "channels", "Z": "depth planes", "Q": "planes", "I": "images",
               "P": "pages", "R": "tiles", "S": "samples", "E": "lambda", "H": "lifetime histogram bins",
               "A": "angles", "L": "exposures", "V": "events", "M": "mosaic tiles"}


def tiff_plane_count(path: str | os.PathLike) -> int | None:
    """How many images a TIFF holds as one series of same-size planes (a multi-page or ImageJ /
    OME z-stack), from its headers; 1 for a single image or a pyramid (one image with reduced
    copies); None when tifffile is missing or the file is not a readable TIFF (reading it then
    says why). Counts the planes of every axis but the image's own (Y, X, samples). A TIFF by its
    content, as :func:`read_image` decides (:func:`_reads_as_tiff`): a z-stack named ``.png`` is
    one, a PNG named ``.tif`` is not."""
    p = Path(path)
    if not _regular_file(p) or _is_dicom(p) or not _reads_as_tiff(p):
        return None
    try:
        import tifffile
    except ImportError:  # pragma: no cover
        return None
    try:
        with quiet_decoders(), tifffile.TiffFile(p) as tf:
            if not tf.pages:
                return None
            if len(tf.pages) == 1 or _is_pyramid(tf):
                return 1
            if len(tf.series) != 1:  # pages of different sizes: read_tiff_stack says why it is not a stack
                return len(tf.pages)
            s = tf.series[0]
            return int(np.prod([n for a, n in zip(s.axes, s.shape) if a not in "YXS"], dtype=np.int64))
    except Exception:  # noqa: BLE001
        return None


def _one_page_series(tf):
    """The series of a TIFF written plane by plane with tifffile's own shape metadata
    (``with TiffWriter(f) as w: for p in planes: w.write(p)``: one "shaped" series a page), where
    there are two or more, each of one page, all of one shape and type: ImageJ/Fiji opens such a
    file as a stack of those pages; else None."""
    ss = list(tf.series)
    if len(ss) < 2 or any(getattr(s, "kind", "") != "shaped" or len(s.pages) != 1 for s in ss):
        return None
    if any(tuple(s.shape) != tuple(ss[0].shape) or s.axes != ss[0].axes or s.dtype != ss[0].dtype for s in ss):
        return None
    return ss


def read_tiff_stack(path: str | os.PathLike, max_pixels: int | None = MAX_PIXELS,
                    max_bytes: int | None = None) -> tuple[list[np.ndarray], int]:
    """The planes of a focus stack stored in ONE TIFF (a multi-page file; an ImageJ or OME-TIFF
    z-stack) → (samples of each plane, bit depth), each decoded as :func:`read_samples` decodes
    a one-image TIFF (channels checked, alpha dropped, orientation applied).

    The file must hold one series of same-size planes along one stack axis: Z (depth), or a
    multi-page file's unnamed one (tifffile's Q, I, P). Refused with a one-line error naming the
    file: a single image or a pyramid (not a stack), several series (pages of different sizes,
    an OME file with several images), and a series with a second axis of more than one plane or
    a stack axis of another kind (channels C, time points T, ...: those are not focal planes).
    ``max_pixels`` applies to each plane; ``max_bytes`` (optional) to the decoded series.
    """
    p = Path(path)
    try:
        import tifffile
    except ImportError:  # pragma: no cover
        raise _err(p, "reading a multi-page TIFF needs tifffile: pip install tifffile") from None
    with quiet_decoders():
        _check_path(p)
        try:
            with tifffile.TiffFile(p) as tf:
                if not tf.pages:
                    raise _err(p, "TIFF has no images")
                if len(tf.pages) == 1 or _is_pyramid(tf):
                    raise _err(p, "TIFF holds one image, not a stack of planes")
                loop = _one_page_series(tf)  # written plane by plane: TiffWriter.write(plane) in a loop
                if len(tf.series) != 1 and loop is None:
                    shapes = ", ".join("x".join(map(str, s.shape)) for s in tf.series[:4])
                    raise _err(p, f"TIFF holds {len(tf.series)} image series ({shapes}{', ...' if len(tf.series) > 4 else ''}); "
                                  "a stack is one series of same-size planes (save the stack as its own file)")
                series = tf.series[0]
                axes, shape = series.axes, tuple(series.shape)
                if loop is not None:  # one page a series: the pages are the planes (axis P)
                    axes, shape = "P" + axes, (len(loop),) + shape
                extra = [(a, n) for a, n in zip(axes, shape) if a not in "YXS" and n > 1]
                if len(extra) != 1 or extra[0][0] not in STACK_AXES:
                    what = " by ".join(f"{n} {_AXIS_NAMES.get(a, 'planes')} ({a})" for a, n in extra)
                    raise _err(p, f"TIFF holds {what}; a focus stack is one axis of depth planes (Z): save each "
                                  "channel's or time point's planes as their own file")
                page = tf.pages[0]
                spp, extras, orientation = _page_layout(p, page, max_pixels)
                _check_tiff_samples(p, spp, extras)
                photometric = _tiff_photometric(p, page, bool(getattr(tf, "is_imagej", False)))
                bits = int(getattr(page, "bitspersample", 8) or 8)
                codec = _missing_codec(tifffile, page)
                if codec is not None:
                    raise _err(p, _codec_hint(codec))
                nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(series.dtype).itemsize
                if max_bytes is not None and nbytes > max_bytes:
                    raise _err(p, f"its {extra[0][1]} planes of {int(page.imagewidth)}x{int(page.imagelength)} "
                                  f"decode to {nbytes / 2**30:.2f} GiB, more than the {max_bytes / 2**30:.2f} GiB "
                                  "available")
                data = np.stack([x.asarray() for x in loop]) if loop is not None else series.asarray()
        except InputError:
            raise
        except Exception as e:  # noqa: BLE001 - tifffile raises many types for broken files
            raise _err(p, f"truncated or corrupt TIFF ({_first_line(e, p)})") from None
    # (stack, Y, X[, S]): the stack axis first, singleton axes dropped, samples last
    stack_axis = axes.index(extra[0][0])
    keep = [i for i, (a, n) in enumerate(zip(axes, shape)) if i == stack_axis or a in "YXS"]
    data = data.reshape([shape[i] for i in keep])  # the axes left out have one plane each
    sub = "".join(axes[i] for i in keep)
    order = [sub.index(extra[0][0]), sub.index("Y"), sub.index("X")] + ([sub.index("S")] if "S" in sub else [])
    data = np.transpose(data, order)
    planes, depth = [], 8
    for i in range(data.shape[0]):
        arr, depth = _tiff_convert(f"{p} (plane {i + 1})", data[i], spp, extras, orientation, photometric, bits)
        planes.append(arr)
    return planes, depth


@contextlib.contextmanager
def quiet_decoders():
    """Silence the warnings and log records of the decoders (Pillow, tifffile, pydicom,
    imageio-ffmpeg) while reading: a problem they notice either makes the read fail, with our
    one-line error, or is harmless; either way it must not add lines of its own to the output."""
    loggers = [logging.getLogger(n) for n in ("tifffile", "pydicom", "PIL", "imageio_ffmpeg")]
    levels = [lg.level for lg in loggers]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for lg in loggers:
                lg.setLevel(logging.CRITICAL + 1)
            yield
    finally:
        for lg, lv in zip(loggers, levels):
            lg.setLevel(lv)


def read_image(path: str | os.PathLike, max_pixels: int | None = MAX_PIXELS, normalize: str = "auto",
               percentiles: tuple[float, float] = DEFAULT_PERCENTILES,
               percentile_samples: list | None = None) -> tuple[np.ndarray, ImageInfo]:
    """Read an image as float64 in [0, 1]: (H, W) for gray, (H, W, 3) for colour.

    See the module doc for formats and the ``normalize`` policy. EXIF orientation is applied.
    Multi-page files (TIFF pages, GIF/PNG animation frames) are refused rather than reduced to
    their first page; 16-bit colour PNG is read at 16 bits.

    ``percentile_samples``: where given, ``(samples, bit depth)`` of an integer image that the
    policy scaled by its own percentiles is appended to it (the decoded samples, as
    :func:`read_samples` returns them), ``None`` for any other image (8-bit under ``"auto"``,
    float, DICOM): a focus stack's joint percentile mapping starts from them
    (``normalize_samples(samples, depth, "full")``) instead of decoding the file again.
    """
    with quiet_decoders():
        return _read_image(path, max_pixels, normalize, percentiles, percentile_samples)


def _read_image(path, max_pixels, normalize, percentiles, percentile_samples=None) -> tuple[np.ndarray, ImageInfo]:
    p = Path(path)
    _check_path(p)
    if _is_dicom(p):
        from .dicom import read_dicom

        got = read_dicom(p, max_pixels=max_pixels, normalize=normalize, percentiles=percentiles)
        if percentile_samples is not None:
            percentile_samples.append(None)
        return got
    facts: dict[str, str] = {}
    token = _READ_FACTS.set(facts)
    try:
        raw, depth, reader = _decode_samples(p, max_pixels)
    finally:
        _READ_FACTS.reset(token)
    detail: list[str] = []
    arr, how = normalize_samples(raw, depth, normalize, percentiles, p, detail)
    if percentile_samples is not None:
        percentile_samples.append((raw, depth) if how == "percentile" and raw.dtype.kind in "ui" else None)
    scaling = "".join(detail)
    if not scaling and how == "percentile" and normalize == "auto" and raw.dtype.kind == "f":
        scaling = float_range_phrase(raw, percentiles)
    return arr, ImageInfo(str(p), "RGB" if arr.ndim == 3 else "L", depth, reader, how, scaling,
                          facts.get("stored", ""), facts.get("reduced", ""))


def float_range_phrase(raw: np.ndarray, percentiles) -> str:
    """How ``auto`` scaled float samples outside [0, 1] by their percentiles, completing
    "<file>: float input …", where the samples lie within 0..255 (a float TIFF saved from a 0-255
    pipeline): that they may be 8-bit values, and how to fuse them as ``v / 255`` (``auto`` does not
    guess that range; they were stretched by percentiles without a word on it); "" otherwise (a
    kelvin or HU image, whose range says nothing of a scale). The phrase names no value, so that
    the notes of many pairs (``fuse-dir``) read alike."""
    if not raw.size or float(raw.min()) < 0 or float(raw.max()) > 255:
        return ""
    lo, hi = percentiles
    return (f"scaled by percentile (p{lo:g} → 0, p{hi:g} → 1, clipped); its samples lie within 0..255, as 8-bit "
            "values do: to fuse them as v/255, save it as 8-bit or divide it by 255")


def read_samples(path: str | os.PathLike, max_pixels: int | None = MAX_PIXELS) -> tuple[np.ndarray, int, str]:
    """The stored samples of a non-DICOM image file, decoded as :func:`read_image` decodes them
    before its normalisation (EXIF / TIFF orientation applied, 16-bit colour PNG and TIFF at 16
    bits, alpha dropped, palettes expanded, multi-page files refused): ``(samples, bit depth,
    reader)``, samples (H, W) or (H, W, 3) as stored (integers, or floats for a float TIFF),
    reader ``"tiff"`` or ``"pillow"``. One-line errors naming the file."""
    p = Path(path)
    with quiet_decoders():
        _check_path(p)
        return _decode_samples(p, max_pixels)


#: first bytes of the formats Pillow reads here (PNG, JPEG, BMP), and of TIFF / BigTIFF
_PILLOW_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"BM")
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _reads_as_tiff(p: Path) -> bool:
    """Whether a (non-DICOM) image file is read as a TIFF (by tifffile): by its first bytes, whatever
    its name (a 16-bit colour TIFF named .png was read by Pillow, at 8 bits without a word; a PNG
    named .tif was "truncated or corrupt TIFF (not a TIFF file: header=b'\\x89PNG')"); a file that
    starts as neither a TIFF nor a PNG/JPEG/BMP by its ``.tif``/``.tiff`` suffix (its error then
    names TIFF)."""
    try:
        with open(p, "rb") as fh:
            head = fh.read(8)
    except OSError:
        head = b""
    if head.startswith(_TIFF_MAGIC):
        return True
    if head.startswith(_PILLOW_MAGIC):
        return False
    return p.suffix.lower() in (".tif", ".tiff")


def _decode_samples(p: Path, max_pixels) -> tuple[np.ndarray, int, str]:
    if _reads_as_tiff(p):  # by content: a TIFF named .png, a PNG named .tif
        got = _read_tiff(p, max_pixels)
        if got is not None:
            return got[0], got[1], (got[2] if len(got) > 2 else "tiff")
    ihdr = _png_ihdr(p)
    if ihdr is not None and ihdr[2] == 16 and ihdr[3] == 4:
        arr = _read_png16_gray_alpha(p, max_pixels)
        check_png_chunks(p)
        return arr, 16, "pillow"
    if ihdr is not None and ihdr[2] == 16 and ihdr[3] in _PNG16_COLOUR:
        arr = _read_png16_colour(p, _PNG16_COLOUR[ihdr[3]][0], max_pixels)
        check_png_chunks(p)
        return _channels_to_image(arr, p), 16, "pillow"
    ppm = _ppm16_colour_layout(p)
    im = _open_pillow(p, max_pixels)
    # a PNG's CRCs and its end, after Pillow's own checks (whose errors come first, as before):
    # Pillow checks neither past the image data
    check_png_chunks(p)
    if ppm is not None:  # Pillow read it (its checks passed) at 8 bits: the samples again, at 16
        im.close()
        return _read_ppm16_colour(p, *ppm), 16, "pillow"
    reduced = _reduced_depth(p, im)
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not make the image unreadable
        pass
    raw, depth = pil_samples(im, p)
    facts = _READ_FACTS.get()
    if reduced and depth == 8 and facts is not None:
        facts["reduced"] = reduced
    return raw, depth, "pillow"


def _reduced_depth(p: Path, im: Image.Image) -> str | None:
    """Where Pillow decodes a file's samples at 8 bits that hold more (it has no 16-bit colour
    mode): a 16-bit colour JPEG 2000, a 10/12-bit AVIF, a 16-bit colour SGI. The note's words
    ("16-bit colour JPEG 2000 read at 8 bits ..."), from the file's own header: the JPEG 2000
    codestream's SIZ marker, the AVIF's ``av1C`` box, the SGI header's bytes per channel; None
    for anything else. Such a file was fused and written at 8 bits without a word."""
    fmt = im.format
    if fmt not in ("JPEG2000", "AVIF", "SGI") or im.mode not in ("L", "LA", "RGB", "RGBA"):
        return None
    try:
        with open(p, "rb") as fh:
            head = fh.read(1 << 20)
    except OSError:
        return None
    bits = 0
    if fmt == "JPEG2000":
        i = head.find(b"\xff\x4f\xff\x51")  # SOC, SIZ
        if i >= 0 and len(head) >= i + 42:
            n = int.from_bytes(head[i + 40:i + 42], "big")
            comps = head[i + 42:i + 42 + 3 * n:3]
            bits = max(((c & 0x7F) + 1 for c in comps), default=0)
    elif fmt == "SGI":
        bits = 16 if len(head) > 3 and head[3] == 2 else 8  # BPC: 1 or 2 bytes a sample
    else:
        end = head.find(b"mdat")
        j = head.find(b"av1C", 0, end if end >= 0 else len(head))
        if j >= 0 and len(head) >= j + 7:
            flags = head[j + 6]  # seq_tier_0, high_bitdepth, twelve_bit, monochrome, ...
            bits = (12 if flags & 0x20 else 10) if flags & 0x40 else 8
    if bits <= 8:
        return None
    colour = "colour" if im.mode in ("RGB", "RGBA") else "gray"
    name = "JPEG 2000" if fmt == "JPEG2000" else fmt
    return (f"{bits}-bit {colour} {name} read at 8 bits a sample (Pillow, its reader, decodes it so; "
            "a 16-bit PNG or TIFF of it keeps every bit)")


def _ppm16_colour_layout(p: Path) -> tuple[int, int, int, int, bool] | None:
    """``(data offset, width, height, maxval, plain)`` of a colour PPM, binary (``P6``) or plain
    text (``P3``, ``plain``), of more than 8 bits a sample (maxval over 255: ``dcraw -4``'s linear
    16-bit output, a 10/12-bit camera's), from Pillow's header reading; None for any other file.
    Pillow has no 16-bit colour mode and reads such a file at 8 bits (as it did 16-bit colour
    PNG): it was fused at 8 bits without a word."""
    try:
        with open(p, "rb") as fh:
            if fh.read(2) not in (b"P6", b"P3"):
                return None
    except OSError:
        return None
    old = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None  # the size is checked by _open_pillow
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(p) as im:
                if im.format != "PPM" or im.mode != "RGB" or len(im.tile) != 1:
                    return None
                t = im.tile[0]
                args = t.args if isinstance(t.args, tuple) else (t.args,)
                codec = t.codec_name
                maxval = args[-1] if codec in ("ppm", "ppm_plain") and isinstance(args[-1], int) else None
                if maxval is None or maxval <= 255:
                    return None
                return int(t.offset), im.width, im.height, int(maxval), codec == "ppm_plain"
    except Exception:  # noqa: BLE001 - not such a PPM: the usual reading says what is wrong
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = old


def _read_ppm16_colour(p: Path, offset: int, w: int, h: int, maxval: int, plain: bool = False) -> np.ndarray:
    """The samples of a 16-bit PPM (:func:`_ppm16_colour_layout`; ``plain``: ``P3``, decimal
    text) → uint16 (H, W, 3), each mapped from 0 … maxval onto 0 … 65535 as Pillow maps a PGM's
    (``round(v / maxval · 65535)``, values above maxval clipped): a 12-bit PPM reads as a 12-bit
    PGM does. Pillow has read the file first (its checks passed: enough samples, none above
    maxval)."""
    n = w * h * 3
    try:
        with open(p, "rb") as fh:
            fh.seek(offset)
            data = fh.read() if plain else fh.read(2 * n)
    except OSError as e:
        raise _err(p, f"cannot read file ({e.strerror or e})") from None
    if plain:  # decimal numbers, whitespace apart; '#' to the end of a line is a comment (as Pillow reads it)
        import re

        text = re.sub(rb"#[^\r\n]*", b" ", data).decode("ascii", "replace")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # text after the samples (Pillow reads only the first n)
            v = np.fromstring(text, dtype=np.int64, sep=" ")[:n]
        if v.size < n:
            raise _err(p, f"truncated PPM: {v.size} samples, {n} expected")
        v = np.clip(v, 0, maxval).reshape(h, w, 3)
    elif len(data) < 2 * n:
        raise _err(p, f"truncated PPM: {len(data)} bytes of samples, {2 * n} expected")
    else:
        v = np.frombuffer(data, dtype=">u2").reshape(h, w, 3)
    if maxval == 65535:
        return v.astype(np.uint16)
    return np.minimum(65535.0, np.round(v / maxval * 65535.0)).astype(np.uint16)


def rgb_to_y(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma (full range): Y = 0.299 R + 0.587 G + 0.114 B."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def read_gray_float(path: str | os.PathLike, **kw) -> np.ndarray:
    """Read any supported image as a float32 gray array in [0, 1] (colour → BT.601 Y)."""
    arr, _ = read_image(path, **kw)
    if arr.ndim == 3:
        arr = rgb_to_y(arr)
    return arr.astype(np.float32)


def _same_file(p: Path, q: Path) -> bool:
    try:
        if p.exists() and q.exists():
            return os.path.samefile(p, q)
        return p.resolve() == q.resolve()
    except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
        return False


def check_writable(path: str | os.PathLike, inputs: tuple = (), formats: dict | None = None,
                   hint: bool | None = None) -> Path:
    """Fail early (before any work) if ``path`` cannot be written or equals an input.

    Every refusal is one line naming the path as typed (a control character in it, a newline of
    ``$'fused\\n.png'``, shown escaped, so that the line stays one). ``hint``: say, for an existing
    folder or ``-``, what to give instead (``-o DIR/fused.png``); default: where ``inputs`` are
    given (a command's own output, not one of fuse-dir's per-pair files, whose names it chooses)."""
    p = Path(path)
    formats = OUTPUT_FORMATS if formats is None else formats
    hint = bool(inputs) if hint is None else hint
    shown = _one_line_path(path)
    _refuse_long_name(p, "output ")
    if isinstance(path, str) and path.endswith("/") and p != Path(p.anchor):
        # Path() drops the slash: `-o out.png/` wrote out.png and said it wrote "out.png/"
        raise _err(shown, "output path ends in '/', which names a folder; give the file name without it")
    if str(path) == "-" and not p.exists():
        # was "unsupported output format '(no extension)'": no command writes to standard output
        raise _err(shown, "output to standard output ('-') is not supported; give a file name"
                          + (f", e.g. -o {_example_name(Path(), formats)}" if hint else ""))
    if p.is_dir():
        # before the format: `fuse-video a.mp4 b.mp4 -o DIR` said "unsupported output format '(no extension)'"
        raise _err(shown, "output path is a directory"
                          + (f"; give a file name in it, e.g. -o {_one_line_path(_example_name(p, formats))}"
                             if hint else ""))
    if p.suffix.lower() not in formats:
        raise _err(shown, f"unsupported output format {p.suffix or '(no extension)'!r}; use "
                          + ", ".join(sorted(formats)))
    if isinstance(formats, dict) and formats.get(p.suffix.lower()) == "DICOM":
        from .dicom import WRITE_HINT, _pydicom

        if _pydicom() is None:
            raise _err(shown, WRITE_HINT)
    for q in inputs:
        if _same_file(p, Path(q)):
            raise _err(shown, f"output path is the same file as input {_one_line_path(q)}")
    if p.is_symlink() and not p.exists():
        raise _err(shown, "output path is a broken or looping symbolic link")
    parent = p.parent if str(p.parent) else Path(".")
    from .wording import file_in_the_way

    in_the_way = file_in_the_way(p)  # `afile/x.png` and `afile/sub/x.png` (was "folder afile/sub does not exist")
    if in_the_way is not None:
        raise _err(shown, f"{_one_line_path(in_the_way)} exists and is not a folder")
    if not parent.exists():
        raise _err(shown, f"output folder {_one_line_path(parent)} does not exist")
    if not parent.is_dir():
        raise _err(shown, f"output folder {_one_line_path(parent)} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise _err(shown, f"output folder {_one_line_path(parent)} is not writable")
    if p.exists() and not os.access(p, os.W_OK):
        raise _err(shown, "output file exists and is not writable")
    from .io.atomic import probe_writable

    probe_writable(p)
    return p


#: the file name :func:`check_writable` suggests in a folder given as an output, by format
_EXAMPLE_STEMS = {".onnx": "model", ".safetensors": "weights", ".csv": "results", ".json": "results"}


def _example_name(folder: Path, formats) -> Path:
    """``folder/fused.png`` (``model.onnx``, ``results.csv``, ...): a file name of the first usual
    format of ``formats`` in ``folder``, for a folder given where a file is written."""
    order = (".png", ".mp4", ".nii.gz", ".csv", ".onnx", ".safetensors")
    ext = next((e for e in order if e in formats), None) or sorted(formats)[0]
    if ext == ".gz":
        ext = ".nii.gz"
    return folder / f"{_EXAMPLE_STEMS.get(ext, 'fused')}{ext}"


def _one_line_path(path) -> str:
    """``path`` as text on one line: a control character (a newline, a tab, an escape) shown
    escaped as ``repr`` does (``fused\\n.png``), so that a one-line error naming it stays one; a
    byte of a name that is not UTF-8 (Python's surrogate escape) as ``\\xff``, so that a line
    naming it can be printed on a strict UTF-8 stdout (a success line was "internal error:
    UnicodeEncodeError" after the file was written)."""
    text = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    if any(0xDC80 <= ord(c) <= 0xDCFF for c in text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if not any(ord(c) < 32 or ord(c) == 127 for c in text):
        return text
    return "".join(c.encode("unicode_escape").decode("ascii") if ord(c) < 32 or ord(c) == 127 else c
                   for c in text)


#: the largest width and height each output format can hold (JPEG: libjpeg's 65500; DICOM:
#: Rows/Columns are 16-bit; PNG: 2**31 - 1)
MAX_OUTPUT_SIDE = {"JPEG": 65500, "DICOM": 65535, "PNG": 2 ** 31 - 1, "BMP": 2 ** 31 - 1, "TIFF": 2 ** 32 - 1}
#: TIFF outputs of more sample bytes than this are written as BigTIFF (64-bit offsets; tifffile's own
#: threshold): a classic TIFF cannot address 4 GB
BIGTIFF_BYTES = 2 ** 32 - 2 ** 25


def check_output_size(path: str | os.PathLike, width: int, height: int, channels: int = 1) -> None:
    """Refuse (one-line :class:`InputError` naming ``path``) an output size its format cannot hold:
    a JPEG side over 65500 pixels, a DICOM side over 65535, a BMP of 4 GB or more. Called before
    fusing, so a long strip is not fused for minutes to fail at the write."""
    p = Path(path)
    fmt = OUTPUT_FORMATS.get(p.suffix.lower())
    top = MAX_OUTPUT_SIDE.get(fmt)
    if top is not None and max(width, height) > top:
        raise _err(p, f"{p.suffix.lower()} holds at most {top} pixels a side, the image is {width}x{height}; "
                      "write .png or .tif")
    if fmt == "BMP":
        row = (width * (24 if channels == 3 else 8) + 31) // 32 * 4
        if row * height + 1078 >= 2 ** 32:
            raise _err(p, f"a {width}x{height} image is 4 GB or more as BMP, more than BMP can hold; write .png or .tif")


#: elements :func:`to_uint` converts at a time: its float temporaries stay in the processor's
#: caches (whole-image copies took 0.15 s of CPU for a 2000x1500 colour image, 0.04 s in blocks)
TO_UINT_BLOCK = 1 << 16


def to_uint(arr: np.ndarray, bit_depth: int) -> np.ndarray:
    """[0, 1] floats → rounded uint8 / uint16: NaN → 0, clipped (±inf → 1 / 0), scaled, rounded.
    Converted a block of rows (:data:`TO_UINT_BLOCK` elements) at a time, each worked on in place
    in one float copy (a whole-image copy: 8 bytes a pixel of float64 temporaries, and the clip,
    the scaling and the rounding each made another before that); same values."""
    arr = np.asarray(arr)
    ft = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    out = np.empty(arr.shape, dtype=np.uint16 if bit_depth == 16 else np.uint8)
    scale = 65535.0 if bit_depth == 16 else 255.0
    if arr.ndim == 0 or arr.size == 0:
        blocks = [...]
    else:
        step = max(1, TO_UINT_BLOCK // max(1, arr.size // arr.shape[0]))
        blocks = [slice(r, r + step) for r in range(0, arr.shape[0], step)]
    for rows in blocks:
        x = np.array(arr[rows], dtype=ft)  # a copy
        np.copyto(x, 0.0, where=np.isnan(x))  # NaN → 0 (np.nan_to_num's masks took 3 bytes a pixel more)
        np.clip(x, 0.0, 1.0, out=x)  # ±inf → 1 / 0, as before
        x *= scale
        np.round(x, out=x)
        out[rows] = x  # as .astype
    return out


def output_depth(path: str | os.PathLike, depths: list[int], colour: bool, requested: int | None = None) -> tuple[int, str | None]:
    """The bit depth to write: ``requested`` or the deepest input the format can hold.

    Returns ``(depth, note)``; note says when the default had to be reduced.
    """
    suf = Path(path).suffix.lower()
    can = {".png": (8, 16), ".tif": (8, 16, 32), ".tiff": (8, 16, 32), ".jpg": (8,), ".jpeg": (8,), ".bmp": (8,),
           ".dcm": (8, 16), ".dicom": (8, 16)}.get(suf, (8,))
    if colour:  # Pillow writes 8-bit colour only; 16-bit colour goes through tifffile
        can = (8, 16) if suf in (".tif", ".tiff") else (8,)
    if requested is not None:
        if requested not in can:
            kind = "colour " if colour else ""
            raise _err(path, f"{suf or 'this format'} cannot hold {kind}{'float' if requested == 32 else f'{requested}-bit'} "
                             f"samples (possible: {', '.join(str(d) for d in can)})")
        return requested, None
    want = max(depths) if depths else 8
    if want in can:
        return want, None
    got = max(d for d in can if d <= want) if any(d <= want for d in can) else 8
    what = "float" if want == 32 else f"{want}-bit"
    return got, f"{suf} cannot hold {what} {'colour ' if colour else ''}data; wrote {got}-bit"


class _CheckedWrites(io.BufferedWriter):
    """A file Pillow writes through ``write()`` of Python, which retries a short write and raises
    the error of the next one (``ENOSPC``, ``EFBIG``, ``EDQUOT``). Given a path or a file with a
    ``fileno()``, Pillow's encoders write the file descriptor with C's ``write(2)`` and ignore a
    short count: on a disk that filled up during the write, a JPEG (written in one call) was cut
    at the free space and ``fuse`` said it was written, exit 0 (found by the s22 audit)."""

    def fileno(self) -> int:  # noqa: D102 - Pillow then writes through write()
        raise io.UnsupportedOperation("fileno")


def write_image(path: str | os.PathLike, arr: np.ndarray, bit_depth: int = 8, sources: tuple = (),
                description: str = "", setting: str = "", resolution: dict | None = None) -> Path:
    """Write a [0, 1] gray (H, W) or colour (H, W, 3) array atomically (temp file + rename).

    ``bit_depth``: 8, 16 (PNG/TIFF/DICOM; colour 16-bit only as TIFF) or 32 (float TIFF, gray).
    A ``.dcm``/``.dicom`` path is written as a DICOM Secondary Capture image
    (:func:`mutualfuse.dicom.write_dicom`: ``sources``, the input paths, lend a DICOM input's
    patient, study and position tags; ``description`` becomes its DerivationDescription, ``setting``
    (how it was fused) seeds its series and instance UIDs).
    ``resolution``: a TIFF's pixel size, ``{"resolution": (x, y), "resolutionunit": 1|2|3, "unit":
    str | None}`` (:func:`mutualfuse.cli.fuse_stack.stack_calibration`: XResolution/YResolution
    pixels a unit, ResolutionUnit NONE/INCH/CENTIMETER, an ImageJ ``unit``), written to a TIFF
    output (by tifffile; an ImageJ unit in an ImageJ description, as Fiji reads it); other
    formats ignore it.
    """
    from .io.atomic import atomic_write

    p = check_writable(path)
    depth, _ = output_depth(p, [bit_depth], arr.ndim == 3, requested=bit_depth)
    check_output_size(p, arr.shape[1], arr.shape[0], 3 if arr.ndim == 3 else 1)
    fmt = OUTPUT_FORMATS[p.suffix.lower()]
    samples = arr.size * (4 if depth == 32 else depth // 8)
    try:
        with atomic_write(p) as tmp:
            if fmt == "DICOM":
                from .dicom import write_dicom

                write_dicom(tmp, arr, depth, sources=sources, description=description, setting=setting)
            elif fmt == "TIFF" and (depth == 32 or (depth == 16 and arr.ndim == 3) or samples > BIGTIFF_BYTES
                                    or resolution is not None):
                _write_tiff_np(str(tmp), arr, depth, resolution)
            else:
                with _CheckedWrites(io.FileIO(tmp, "wb")) as fh:
                    Image.fromarray(to_uint(arr, depth)).save(fh, format=fmt,
                                                              **({"quality": 95} if fmt == "JPEG" else {}))
    except OSError as e:
        raise _err(p, f"cannot write output ({e.strerror or e})") from None
    return p


def _write_tiff_np(path: str, arr: np.ndarray, depth: int, resolution: dict | None = None) -> None:
    if depth == 32:
        data = np.clip(arr, 0, 1).astype(np.float32)
    else:
        data = to_uint(arr, depth)
    try:
        import tifffile

        big = data.nbytes > BIGTIFF_BYTES
        kw: dict = {}
        if resolution is not None:
            kw = dict(resolution=tuple(resolution["resolution"]), resolutionunit=resolution["resolutionunit"])
            # an ImageJ unit (micron) lives in ImageJ's description, which ImageJ formats hold:
            # gray 8/16-bit or float, 8-bit RGB, under 4 GB
            if resolution.get("unit") and not big and (data.ndim == 2 or data.dtype == np.uint8):
                kw.update(imagej=True, metadata={"unit": resolution["unit"]})
        # BigTIFF past 4 GB (tifffile would choose it too; said here, with the threshold in one place)
        tifffile.imwrite(path, data, photometric="rgb" if data.ndim == 3 else "minisblack",
                         **({} if kw.get("imagej") else {"bigtiff": big}), **kw)
    except ImportError:  # pragma: no cover
        if data.ndim == 3 or data.nbytes > BIGTIFF_BYTES:
            raise OSError("16-bit colour TIFF and TIFF over 4 GB need tifffile (pip install tifffile)")
        Image.fromarray(data).save(path, format="TIFF")
