"""TIFF PhotometricInterpretation: tifffile returns a page's stored samples as they are, and the
reader took them as gray or RGB whatever the tag said. A MinIsWhite scan (fax, document and some
X-ray TIFFs) was fused as its negative, a palette TIFF as its index values (gray), a CIELab TIFF
as R = L*, G = a*, B = b*, all without a word; a CMYK TIFF was refused as "unsupported channel
count 4". Now MinIsWhite is inverted and a palette looked up (as Pillow and every viewer show
them), and the interpretations that are no gray/RGB values are refused in one line naming them.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.image_io import read_samples, read_tiff_stack
from one_line_error import assert_one_line_error

tifffile = pytest.importorskip("tifffile")

H, W = 24, 32
RNG = np.random.default_rng(25)
G8 = RNG.integers(0, 256, (H, W), dtype=np.uint8)
G16 = RNG.integers(0, 65536, (H, W), dtype=np.uint16)
BITS = RNG.random((H, W)) > 0.5
RGB8 = RNG.integers(0, 256, (H, W, 3), dtype=np.uint8)


def test_miniswhite_is_read_as_displayed(tmp_path):
    for data, want in ((G8, 255 - G8.astype(int)), (G16, 65535 - G16.astype(int)), (BITS, np.where(BITS, 0, 255))):
        f = tmp_path / f"mw_{data.dtype}.tif"
        tifffile.imwrite(f, data, photometric="miniswhite")
        got, depth, _ = read_samples(f)
        assert got.shape == (H, W) and depth == (16 if data.dtype == np.uint16 else 8)
        assert np.array_equal(got.astype(int), want), f.name
        if data.dtype != np.uint16:  # Pillow (8-bit and 1-bit) shows them so too
            assert np.array_equal(got, np.asarray(Image.open(f).convert("L")))


def test_palette_tiff_is_looked_up(tmp_path):
    # tifffile's own ColorMap (16-bit entries, 8-bit values stored as v * 257)
    cmap = np.zeros((3, 256), np.uint16)
    cmap[0], cmap[1] = np.arange(256) * 257, (255 - np.arange(256)) * 257
    f = tmp_path / "pal.tif"
    tifffile.imwrite(f, G8, photometric="palette", colormap=cmap)
    got, depth, _ = read_samples(f)
    assert depth == 8 and got.shape == (H, W, 3)
    assert np.array_equal(got, np.stack([G8, 255 - G8, np.zeros_like(G8)], -1))
    assert np.array_equal(got, np.asarray(Image.open(f).convert("RGB")))
    # Pillow's palette TIFF (entries v * 256): the same colours as Pillow reads
    q = Image.fromarray(RGB8).quantize(32)
    f2 = tmp_path / "pil_pal.tif"
    q.save(f2)
    got, depth, _ = read_samples(f2)
    assert depth == 8 and np.array_equal(got, np.asarray(q.convert("RGB")))
    # a gray palette is gray, as a gray PNG palette is
    f3 = tmp_path / "gray_pal.tif"
    Image.fromarray(G8).convert("P").save(f3)
    got, depth, _ = read_samples(f3)
    assert depth == 8 and np.array_equal(got, np.asarray(Image.open(f3).convert("L")))
    # 16-bit entries that are no 8-bit values: read at 16 bits
    c16 = RNG.integers(0, 65536, (3, 256)).astype(np.uint16)
    f4 = tmp_path / "pal16.tif"
    tifffile.imwrite(f4, G8, photometric="palette", colormap=c16)
    got, depth, _ = read_samples(f4)
    assert depth == 16 and np.array_equal(got, np.moveaxis(c16[:, G8], 0, -1))


def test_fuse_reads_a_miniswhite_tiff_as_its_minisblack_twin(tmp_path, capsys):
    mw, mb, other = tmp_path / "mw.tif", tmp_path / "mb.png", tmp_path / "b.png"
    tifffile.imwrite(mw, G8, photometric="miniswhite")
    Image.fromarray((255 - G8).astype(np.uint8)).save(mb)
    Image.fromarray(RGB8[..., 0]).save(other)
    outs = []
    for a in (mw, mb):
        out = tmp_path / f"out_{a.stem}.png"
        assert main(["fuse", str(a), str(other), "-o", str(out), "--method", "average", "-q"]) == 0
        outs.append(np.asarray(Image.open(out)))
    assert np.array_equal(outs[0], outs[1])


def test_a_miniswhite_stack_is_inverted_plane_by_plane(tmp_path):
    planes = RNG.integers(0, 256, (3, H, W), dtype=np.uint8)
    f = tmp_path / "stack.tif"
    tifffile.imwrite(f, planes, photometric="miniswhite")
    got, depth = read_tiff_stack(f)
    assert depth == 8 and len(got) == 3
    for g, p in zip(got, planes):
        assert np.array_equal(g.astype(int), 255 - p.astype(int))


@pytest.mark.parametrize("kind, needle", [("lab", "CIELab samples (PhotometricInterpretation 8)"),
                                          ("cmyk", "CMYK / separated ink samples (PhotometricInterpretation 5)")])
def test_lab_and_cmyk_tiff_are_refused_in_one_line(tmp_path, capsys, kind, needle):
    f = tmp_path / f"{kind}.tif"
    if kind == "lab":
        Image.fromarray(RGB8).convert("LAB").save(f)  # Pillow writes CIELab (8)
    else:
        tifffile.imwrite(f, RNG.integers(0, 256, (H, W, 4), dtype=np.uint8), photometric="separated")
    other, out = tmp_path / "b.png", tmp_path / "out.png"
    Image.fromarray(G8).save(other)
    assert_one_line_error(capsys, ["fuse", str(f), str(other), "-o", str(out), "--method", "average"],
                          str(f), needle, "save it as gray or RGB")
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == sorted(["b.png", f.name])


def test_an_imagej_lut_is_a_display_choice_not_the_data(tmp_path):
    """ImageJ saves an 8-bit image with a colour LUT (Green, Fire) as a palette TIFF: its indices
    are the intensities measured, read as gray (as before), one image or a stack."""
    cmap = np.zeros((3, 256), np.uint16)
    cmap[1] = np.arange(256) * 257  # ImageJ's "Green"
    one, stack = tmp_path / "one.tif", tmp_path / "stack.tif"
    tifffile.imwrite(one, G8, imagej=True, colormap=cmap)
    planes = RNG.integers(0, 256, (3, H, W), dtype=np.uint8)
    tifffile.imwrite(stack, planes, imagej=True, colormap=cmap, metadata={"axes": "ZYX"})
    got, depth, _ = read_samples(one)
    assert depth == 8 and np.array_equal(got, G8)
    got, depth = read_tiff_stack(stack)
    assert all(np.array_equal(g, p) for g, p in zip(got, planes))
