"""Embedded ICC profiles: mutualfuse does no colour management, and an image with an Adobe RGB,
Display P3 or gray gamma-1.0 profile was fused as if its samples were sRGB without a word. The
samples are still fused as stored (the pixels read are unchanged), but the profile is named:
``embedded_profile_note(path)`` for files (PNG iCCP, JPEG APP2, TIFF InterColorProfile) and a
note in ``Fuser.report.notes`` for PIL images passed to ``Fuser.fuse``. An sRGB profile, or none,
says nothing. The profiles are built here by hand (ICC v2, the tags a viewer needs)."""
from __future__ import annotations

import struct

import numpy as np
import pytest
from PIL import Image

import mutualfuse
from mutualfuse.image_io import embedded_profile_note, read_samples
from mutualfuse.io.pil_modes import icc_profile_name

H, W = 20, 28
RNG = np.random.default_rng(7)
RGB8 = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)
G8 = RNG.integers(0, 256, (H, W), dtype=np.uint8)


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _icc(desc: str, space: bytes, gamma: float, primaries=None) -> bytes:
    """A minimal ICC v2 display profile: desc, wtpt (D50), a gamma curve per channel, and for RGB
    the colorants (XYZ, D50-adapted)."""
    def xyz(x, y, z):
        return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)
    a = desc.encode("ascii") + b"\0"
    tags = [(b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(a)) + a + b"\0" * 12 + b"\0" * 67),
            (b"wtpt", xyz(0.9642, 1.0, 0.8249))]
    curv = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    if space == b"GRAY":
        tags.append((b"kTRC", curv))
    else:
        for sig, c in zip((b"rXYZ", b"gXYZ", b"bXYZ"), primaries):
            tags.append((sig, xyz(*c)))
        tags += [(b"rTRC", curv), (b"gTRC", curv), (b"bTRC", curv)]
    table, body, off = b"", b"", 128 + 4 + 12 * len(tags)
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += struct.pack(">4sII", sig, off + len(body), len(data))
        body += data
    size = off + len(body)
    header = (struct.pack(">I", size) + b"none" + bytes([2, 0x10, 0, 0]) + b"mntr" + space + b"XYZ "
              + b"\0" * 12 + b"acsp" + b"\0" * 24 + b"\0" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249)
              + b"\0" * 48)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


ADOBE = _icc("Adobe RGB (1998)", b"RGB ", 2.2, [(0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609),
                                                 (0.1492, 0.0632, 0.7446)])
GRAY1 = _icc("Gray Gamma 1.0", b"GRAY", 1.0)
SRGB = _icc("sRGB IEC61966-2.1", b"RGB ", 2.2, [(0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971),
                                                 (0.1431, 0.0606, 0.7141)])


def test_the_profiles_built_here_are_what_lcms_reads():
    ImageCms = pytest.importorskip("PIL.ImageCms")
    import io

    for data, desc, space in ((ADOBE, "Adobe RGB (1998)", "RGB"), (GRAY1, "Gray Gamma 1.0", "GRAY")):
        assert ImageCms.ImageCmsProfile(io.BytesIO(data)).profile.profile_description == desc
        assert icc_profile_name(data) == (desc, space)
    # a v4 profile (mluc description), as lcms writes its sRGB
    srgb4 = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    assert icc_profile_name(srgb4) == (ImageCms.ImageCmsProfile(io.BytesIO(srgb4)).profile.profile_description, "RGB")


@pytest.mark.parametrize("fmt", ["png", "jpg", "tif"])
def test_a_file_with_a_non_srgb_profile_is_named_and_read_as_stored(tmp_path, fmt):
    for arr, profile, want in ((RGB8, ADOBE, "'Adobe RGB (1998)' (RGB)"), (G8, GRAY1, "'Gray Gamma 1.0' (GRAY)"),
                               (RGB8, SRGB, None), (RGB8, None, None)):
        f = tmp_path / f"{want is None}_{arr.ndim}_{profile is None}.{fmt}"
        plain = tmp_path / f"plain_{arr.ndim}.{fmt}"
        kw = {"quality": 95} if fmt == "jpg" else {}
        Image.fromarray(arr).save(f, **kw, **({"icc_profile": profile} if profile else {}))
        Image.fromarray(arr).save(plain, **kw)
        note = embedded_profile_note(f)
        if want is None:
            assert note is None, (f.name, note)
        else:
            assert note is not None and note.startswith(f"{f}: embedded ICC profile {want} not applied"), note
        assert np.array_equal(read_samples(f)[0], read_samples(plain)[0])  # the pixels read are unchanged


def test_fuser_notes_the_profile_of_a_pil_image(tmp_path):
    f = tmp_path / "vis.jpg"
    Image.fromarray(RGB8).save(f, quality=95, icc_profile=ADOBE)
    fuser = mutualfuse.Fuser(method="average")
    with Image.open(f) as im:
        im.load()
        out = fuser.fuse(im, Image.fromarray(G8))
    notes = [n for n in fuser.report.notes if "ICC" in n]
    assert len(notes) == 1 and "'Adobe RGB (1998)' (RGB) not applied" in notes[0] and "vis.jpg" in notes[0], notes
    plain = Image.open(f)
    plain.info.pop("icc_profile")
    again = fuser.fuse(plain, Image.fromarray(G8))
    assert not [n for n in fuser.report.notes if "ICC" in n]
    assert np.array_equal(np.asarray(out), np.asarray(again))
