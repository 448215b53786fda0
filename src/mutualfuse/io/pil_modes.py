"""The one table from Pillow image modes to samples, shared by the file reader and the API.

:func:`pil_samples` turns a PIL image into integer or float samples plus their bit depth;
:mod:`mutualfuse.image_io` (files) and :mod:`mutualfuse.convert` (PIL images passed to the API)
both use it, so a mode means the same whichever way an image arrives.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from ..errors import InputError

#: modes read as 16-bit gray
GRAY16_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
#: modes read as 8-bit gray (palette modes only when the palette is gray)
GRAY8_MODES = ("1", "L", "LA", "La")
#: modes converted to 8-bit RGB
COLOUR_MODES = ("RGB", "RGBA", "RGBa", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV", "RGBX")


def palette_is_colour(im: Image.Image) -> bool:
    """True when a palette image has colours other than grays."""
    rgb = np.asarray(im.convert("RGB"))
    return not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))


def pil_samples(im: Image.Image, name) -> tuple[np.ndarray, int]:
    """A PIL image → (samples, bit depth): (H, W) gray or (H, W, 3) RGB; uint8 (8), uint16 (16)
    or float64 (32). Alpha is dropped; unsupported modes raise :class:`InputError` naming ``name``.
    Mode ``I`` (32-bit integers) by its values, as the command line reads an int32 TIFF: 0..65535
    as uint16, else -32768..32767 as signed 16-bit (int16: a signed TIFF, a CT slice in HU, which
    Pillow opens as mode I); others are refused."""
    mode = im.mode
    if mode in GRAY16_MODES:
        arr = np.asarray(im)
        if mode == "I":
            arr = arr.astype(np.int64)
            if arr.size and arr.min() < 0 and arr.min() >= -32768 and arr.max() <= 32767:
                return arr.astype(np.int16), 16
            if arr.size and (arr.min() < 0 or arr.max() > 65535):
                raise InputError(f"{name}: 32-bit integer image with values {int(arr.min())}..{int(arr.max())}, outside "
                                 "0..65535 and -32768..32767, is not supported; as a float image (PIL mode F: "
                                 "im.convert('F'), or a float32 TIFF) it is read and scaled by its percentiles")
        return arr.astype(np.uint16), 16
    if mode == "F":
        return np.asarray(im, dtype=np.float64), 32
    if mode in GRAY8_MODES or (mode in ("P", "PA") and not palette_is_colour(im)):
        if mode == "La":  # premultiplied alpha: Pillow converts La to LA (un-premultiplied) only
            im = im.convert("LA")
        return np.asarray(im.convert("L")), 8
    if mode in COLOUR_MODES:
        return np.asarray(im.convert("RGB")), 8
    raise InputError(f"{name}: unsupported image mode {mode!r}")


def icc_profile_name(data: bytes) -> tuple[str, str] | None:
    """(description, colour space) of an ICC profile's bytes, e.g. ``("Adobe RGB (1998)", "RGB")``,
    read from its header and its ``desc`` tag (v2 ``desc`` or v4 ``mluc``, the first record);
    None for bytes that are no ICC profile. Needs no colour-management library."""
    import struct

    if not isinstance(data, (bytes, bytearray)) or len(data) < 132 or data[36:40] != b"acsp":
        return None
    space = data[16:20].decode("latin-1").strip() or "?"
    desc = ""
    try:
        (n,) = struct.unpack_from(">I", data, 128)
        for i in range(min(n, 256)):
            sig, off, size = struct.unpack_from(">4sII", data, 132 + 12 * i)
            if sig != b"desc" or off + 12 > len(data):
                continue
            kind = data[off:off + 4]
            if kind == b"desc":
                (count,) = struct.unpack_from(">I", data, off + 8)
                desc = data[off + 12:off + 12 + count].split(b"\0")[0].decode("latin-1")
            elif kind == b"mluc":
                (records,) = struct.unpack_from(">I", data, off + 8)
                if records:
                    length, at = struct.unpack_from(">II", data, off + 16 + 4)
                    desc = data[off + at:off + at + length].decode("utf-16-be", "replace").split("\0")[0]
            break
    except struct.error:
        pass
    desc = " ".join(desc.split())[:80]
    return (desc or "unnamed", space)


def icc_profile_note(name, data) -> str | None:
    """The note for an image with an embedded ICC profile other than sRGB: mutualfuse does no
    colour management, so the samples are fused as stored (as sRGB, which an image without a
    profile is taken to be) and the output carries no profile. None without a profile, for an
    sRGB RGB profile (its description names sRGB), and for bytes that are no ICC profile.

    A CMYK profile (a print JPEG's) is said so: its samples are not fused as stored but turned
    into RGB by Pillow's plain formula, ``R = (255 - C)(255 - K) / 255`` (G and B likewise),
    which ignores the profile (the note said "its samples are fused as stored", true of RGB and
    gray only)."""
    if not data:
        return None
    got = icc_profile_name(bytes(data))
    if got is None:
        return None
    desc, space = got
    if space == "RGB" and "srgb" in desc.lower():
        return None
    if space == "CMYK":
        return (f"{name}: embedded ICC profile {desc!r} (CMYK) not applied: its CMYK samples are turned into RGB "
                "by the plain formula R = (255 - C)(255 - K)/255 (G, B likewise) and taken as sRGB, so colours "
                "can differ from a colour-managed viewer's (no colour management; the output carries no profile)")
    return (f"{name}: embedded ICC profile {desc!r} ({space}) not applied: its samples are fused as stored, "
            "taken as sRGB (no colour management; the output carries no profile)")


def cmyk_note(name) -> str:
    """The note for a CMYK image without an ICC profile (a print JPEG saved without one): its
    samples are turned into RGB by Pillow's plain formula, as a CMYK profile's are
    (:func:`icc_profile_note`), with no profile to say what the inks were, so the colours are
    approximate; nothing was said of it."""
    return (f"{name}: CMYK image without an ICC profile: its CMYK samples are turned into RGB by the plain formula "
            "R = (255 - C)(255 - K)/255 (G, B likewise) and taken as sRGB, so colours are approximate "
            "(no colour management; for faithful colours convert it to RGB with the press profile it was made for)")
