"""EXIF / TIFF orientation: every value 1-8 is applied on reading, as Pillow's
``ImageOps.exif_transpose`` shows the image, in PNG, JPEG and TIFF, and the header size agrees;
``fuse`` and ``fuse-stack`` read a turned file as its displayed pixels (one reader, image_io).
``turned_note`` says what a size-mismatch line needs to be clear: a file stored 56x40 and turned
by its orientation tag is read 40x56."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageOps

from mutualfuse.cli import main
from mutualfuse.image_io import header_size, read_samples, turned_note

tifffile = pytest.importorskip("tifffile")

H, W = 24, 36
RGB8 = np.random.default_rng(3).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _oriented(tmp_path, o: int, ext: str):
    f = tmp_path / f"or{o}.{ext}"
    if ext == "tif":
        tifffile.imwrite(f, RGB8, photometric="rgb", extratags=[(274, 3, 1, o, True)])
    else:
        ex = Image.Exif()
        ex[0x0112] = o
        Image.fromarray(RGB8).save(f, exif=ex, **({"quality": 95} if ext == "jpg" else {}))
    return f


@pytest.mark.parametrize("ext", ["png", "jpg", "tif"])
def test_every_orientation_is_applied_as_pillow_shows_it(tmp_path, ext):
    for o in range(1, 9):
        f = _oriented(tmp_path, o, ext)
        got = read_samples(f)[0]
        with Image.open(f) as im:
            want = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        assert np.array_equal(got, want), (ext, o)
        assert header_size(f) == (got.shape[1], got.shape[0]), (ext, o)
        note = turned_note(f)
        if o in (5, 6, 7, 8):
            tag = "TIFF Orientation tag" if ext == "tif" else "EXIF orientation"
            assert note == f" (stored {W}x{H}, turned by its {tag} {o})", note
        else:
            assert note == ""


def test_fuse_and_fuse_stack_read_a_turned_file_as_displayed(tmp_path):
    turned = _oriented(tmp_path, 6, "png")
    shown = tmp_path / "shown.png"
    Image.fromarray(np.ascontiguousarray(np.rot90(RGB8, -1))).save(shown)  # orientation 6, applied
    other = tmp_path / "other.png"
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (W, H), dtype=np.uint8)).save(other)
    outs = []
    for a in (turned, shown):
        for cmd in ("fuse", "fuse-stack"):
            out = tmp_path / f"{cmd}_{a.stem}.png"
            assert main([cmd, str(a), str(other), "-o", str(out), "--method", "average", "-q"]) == 0
            outs.append(np.asarray(Image.open(out)))
    assert outs[0].shape[:2] == (W, H)
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])
