"""``mutualfuse fuse-stack STACK.tif``: a focus stack held in ONE TIFF (multi-page, ImageJ or
OME-TIFF z-stack), as microscopes and Fiji save them, fuses exactly as its planes saved as
separate files; files that are not one axis of depth planes are refused with one line."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import mutualfuse.runner as runner
from mutualfuse.cli import main
from mutualfuse.image_io import read_image, read_tiff_stack, tiff_plane_count
from one_line_error import assert_one_line_error

tifffile = pytest.importorskip("tifffile")


def _planes16(n=5, shape=(40, 56), seed=0) -> np.ndarray:
    """Smooth 16-bit planes in a narrow band (as a camera's 12 bits in 16): the joint
    percentile mapping matters."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[: shape[0], : shape[1]]
    out = [1000 + 200 * k + 800 * np.sin(x / (3 + k)) * np.cos(y / 5) + rng.integers(0, 50, shape) for k in range(n)]
    return np.clip(np.stack(out), 0, 65535).astype(np.uint16)


def _as_files(tmp_path, planes: np.ndarray) -> list[str]:
    files = []
    for i, p in enumerate(planes):
        f = tmp_path / f"z{i + 1}.tif"
        tifffile.imwrite(f, p, photometric="rgb" if p.ndim == 3 else "minisblack")
        files.append(str(f))
    return files


@pytest.mark.parametrize("writer", ["shaped", "imagej", "ome", "pages"])
def test_one_tiff_fuses_as_its_planes_saved_as_files(tmp_path, capsys, writer):
    planes = _planes16()
    stack = tmp_path / ("stack.ome.tif" if writer == "ome" else "stack.tif")
    if writer == "shaped":
        tifffile.imwrite(stack, planes, photometric="minisblack")
    elif writer == "imagej":
        tifffile.imwrite(stack, planes, imagej=True, metadata={"axes": "ZYX"})
    elif writer == "ome":
        tifffile.imwrite(stack, planes, metadata={"axes": "ZYX"})
    else:  # one page at a time, no shape metadata (as many acquisition programs write)
        with tifffile.TiffWriter(stack) as w:
            for p in planes:
                w.write(p, metadata=None)
    assert tiff_plane_count(stack) == 5
    one, sep = tmp_path / "one.png", tmp_path / "sep.png"
    assert main(["fuse-stack", str(stack), "-o", str(one), "--method", "lp"]) == 0
    out = capsys.readouterr().out
    assert "5 planes, 4 fusions" in out and "16-bit" in out, out
    assert main(["fuse-stack", *_as_files(tmp_path, planes), "-o", str(sep), "--method", "lp"]) == 0
    a, b = np.asarray(Image.open(one)), np.asarray(Image.open(sep))
    assert a.dtype == np.uint16 and np.array_equal(a, b)


def test_colour_planes_contiguous_or_planar(tmp_path, capsys):
    rng = np.random.default_rng(1)
    planes = rng.integers(0, 256, (3, 40, 48, 3), dtype=np.uint8)
    contiguous, planar = tmp_path / "c.tif", tmp_path / "p.tif"
    tifffile.imwrite(contiguous, planes, photometric="rgb")
    tifffile.imwrite(planar, np.moveaxis(planes, -1, 1), photometric="rgb", planarconfig="separate")
    for f in (contiguous, planar):
        got, depth = read_tiff_stack(f)
        assert depth == 8 and len(got) == 3 and all(np.array_equal(g, p) for g, p in zip(got, planes))
    outs = []
    for f in (contiguous, planar):
        o = tmp_path / f"{f.stem}.png"
        assert main(["fuse-stack", str(f), "-o", str(o), "--method", "average"]) == 0
        outs.append(np.asarray(Image.open(o)))
    assert "3 planes, 2 fusions" in capsys.readouterr().out
    sep = tmp_path / "sep.png"
    assert main(["fuse-stack", *_as_files(tmp_path, planes), "-o", str(sep), "--method", "average"]) == 0
    assert outs[0].shape == (40, 48, 3) and np.array_equal(outs[0], outs[1])
    assert np.array_equal(outs[0], np.asarray(Image.open(sep)))


def test_the_network_fuses_a_tiff_stack(tmp_path, capsys):
    planes = _planes16(n=3)
    stack = tmp_path / "s.tif"
    tifffile.imwrite(stack, planes, imagej=True, metadata={"axes": "ZYX"})
    out = tmp_path / "edf.tif"
    assert main(["fuse-stack", str(stack), "-o", str(out), "--device", "cpu"]) == 0
    assert "3 planes, 2 fusions" in capsys.readouterr().out
    assert tifffile.imread(out).shape == planes.shape[1:]


@pytest.mark.parametrize("axes,shape,needles", [
    ("ZCYX", (3, 2, 40, 48), ("3 depth planes (Z) by 2 channels (C)",)),
    ("CYX", (3, 40, 48), ("3 channels (C)",)),
    ("TYX", (4, 40, 48), ("4 time points (T)",)),
])
def test_channels_and_time_are_not_focal_planes(tmp_path, capsys, axes, shape, needles):
    f = tmp_path / "hyper.tif"
    tifffile.imwrite(f, np.zeros(shape, np.uint16), imagej=True, metadata={"axes": axes})
    out = tmp_path / "o.png"
    assert_one_line_error(capsys, ["fuse-stack", str(f), "-o", str(out)], str(f), *needles)
    assert not out.exists()


def test_pages_of_different_sizes_are_refused(tmp_path, capsys):
    f = tmp_path / "mixed.tif"
    with tifffile.TiffWriter(f) as w:
        w.write(np.zeros((40, 48), np.uint8))
        w.write(np.zeros((20, 24), np.uint8))
    out = tmp_path / "o.png"
    assert_one_line_error(capsys, ["fuse-stack", str(f), "-o", str(out)], str(f), "2 image series", "40x48, 20x24")
    assert not out.exists()


def test_one_image_is_not_a_stack(tmp_path, capsys):
    f = tmp_path / "one.tif"
    tifffile.imwrite(f, np.zeros((40, 48), np.uint8))
    assert tiff_plane_count(f) == 1
    assert_one_line_error(capsys, ["fuse-stack", str(f), "-o", str(tmp_path / "o.png")], str(f),
                          "at least 2 images", "multi-page TIFF")


def test_fuse_names_fuse_stack_for_a_multipage_tiff(tmp_path, capsys):
    f = tmp_path / "s.tif"
    tifffile.imwrite(f, _planes16(n=2), photometric="minisblack")
    png = tmp_path / "b.png"
    Image.fromarray(np.zeros((40, 56), np.uint8)).save(png)
    assert_one_line_error(capsys, ["fuse", str(f), str(png), "-o", str(tmp_path / "o.png")], str(f),
                          "2 pages", "fuse-stack")
    with pytest.raises(Exception, match="fuse-stack"):
        read_image(f)


def test_a_stack_that_cannot_fit_is_refused_before_decoding(tmp_path, capsys, monkeypatch):
    """The memory check counts the file's planes, not one image per path."""
    f = tmp_path / "s.tif"
    tifffile.imwrite(f, _planes16(n=5, shape=(64, 64)), photometric="minisblack")
    from mutualfuse.api import Fuser

    need2, need5 = (Fuser(method="average").min_memory(64, 64, n) for n in (2, 5))
    assert need5 > need2
    monkeypatch.setattr(runner, "available_memory", lambda: (need2 + need5) // 2)
    decoded = []
    monkeypatch.setattr(tifffile.TiffPageSeries, "asarray",
                        lambda self, *a, **k: decoded.append(1) or np.zeros(self.shape, self.dtype))
    out = tmp_path / "o.png"
    assert_one_line_error(capsys, ["fuse-stack", str(f), "-o", str(out), "--method", "average"], str(f),
                          "64x64 stack", "memory")
    assert decoded == [] and not out.exists()


def test_a_corrupt_tiff_stack_is_one_line(tmp_path, capsys):
    f = tmp_path / "s.tif"
    tifffile.imwrite(f, _planes16(n=4), photometric="minisblack")
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    out = tmp_path / "o.png"
    rc = main(["fuse-stack", str(f), "-o", str(out), "--method", "average"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"mutualfuse: error: {f}") and err.count("\n") == 1, err
    assert not out.exists()


def test_progress_reports_every_fusion():
    from mutualfuse import Fuser

    calls = []
    Fuser(method="average").fuse_stack([np.zeros((16, 16))] * 5, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_the_bar_is_drawn_at_a_terminal_only(tmp_path, capsys, monkeypatch):
    import sys

    planes = _planes16(n=4)
    stack = tmp_path / "s.tif"
    tifffile.imwrite(stack, planes, photometric="minisblack")
    assert main(["fuse-stack", str(stack), "-o", str(tmp_path / "o.png"), "--method", "average"]) == 0
    assert "fuse-stack" not in capsys.readouterr().err  # piped: no bar
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main(["fuse-stack", str(stack), "-o", str(tmp_path / "o.png"), "--method", "average"]) == 0
    assert "fuse-stack:" in capsys.readouterr().err  # the bar over the 3 fusions (tqdm may skip redraws)


def test_the_decoded_series_is_checked_against_max_bytes(tmp_path):
    from mutualfuse.errors import InputError

    f = tmp_path / "s.tif"
    tifffile.imwrite(f, _planes16(n=3), photometric="minisblack")
    with pytest.raises(InputError, match=r"its 3 planes of 56x40 decode to 0\.00 GiB, more than"):
        read_tiff_stack(f, max_bytes=1000)
    assert len(read_tiff_stack(f, max_bytes=3 * 40 * 56 * 2)[0]) == 3
