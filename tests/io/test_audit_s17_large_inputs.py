"""Large inputs and resource limits (audit session 17). Limits are simulated (a patched
:func:`mutualfuse.runner.available_memory`, small thresholds), so nothing here allocates more
than a few MB.

* a pair that cannot fit in the available memory ran for minutes and was killed by the
  kernel's out-of-memory killer (a whole ``fuse-dir`` batch with it, or the web server); it is
  now refused from the headers, before decoding, with a one-line error (exit 2, no output);
* a pyramidal TIFF (reduced-resolution pages: COG overviews, slide scanners) was refused as a
  multi-page file; it is read at its full-resolution page;
* a strip longer than JPEG's 65500 px (DICOM's 65535) was fused first and then failed at the
  write, with libjpeg's line and a pydicom traceback folded into one line;
* a TIFF output of more than 4 GB went through Pillow, which writes classic TIFF only;
* :func:`header_size` gave None for a PNG over Pillow's own bomb limit (2 × 89.5 MP), so
  callers could not see its size below ``--max-pixels``.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import mutualfuse.image_io as image_io
import mutualfuse.runner as runner
from mutualfuse.cli import main
from mutualfuse.errors import InputError

tifffile = pytest.importorskip("tifffile")


def _one_error_line(capfd):
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mutualfuse: error: "), err
    return err[0]


def _pair(tmp_path, h, w, names=("a", "b"), seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for n in names:
        p = tmp_path / f"{n}.png"
        Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8)).save(p)
        out.append(p)
    return out


def test_a_pair_that_cannot_fit_is_refused_before_it_is_read(tmp_path, capfd, monkeypatch):
    a, b = _pair(tmp_path, 256, 256)
    out = tmp_path / "f.png"
    monkeypatch.setattr(runner, "available_memory", lambda: 1_000_000)  # 1 MB; the pair needs 1.5 MB
    reads = []
    real = image_io.read_image
    monkeypatch.setattr(image_io, "read_image", lambda *x, **k: reads.append(x) or real(*x, **k))
    rc = main(["fuse", str(a), str(b), "-o", str(out), "--method", "average"])
    line = _one_error_line(capfd)
    assert rc == 2 and not out.exists() and reads == []
    assert str(a) in line and "256x256 pair" in line and "GB of memory" in line and "method average" in line, line


def test_the_network_suggests_a_tile_size_that_fits(tmp_path, capfd, monkeypatch):
    from mutualfuse.api import Fuser

    a, b = _pair(tmp_path, 1200, 1200)
    f = Fuser("default", device="cpu")
    full, tiled = f.min_memory(1200, 1200), None
    f.tile = 512
    tiled = f.min_memory(1200, 1200)
    assert tiled < full
    monkeypatch.setattr(runner, "available_memory", lambda: (full + tiled) // 2)
    out = tmp_path / "f.png"
    rc = main(["fuse", str(a), str(b), "-o", str(out), "--device", "cpu"])
    line = _one_error_line(capfd)
    assert rc == 2 and not out.exists()
    # the size fitted to the image (s21: tiling.fitted_tile; 443 here: the same 3x3 tiles as 512,
    # overlapping by 64 px), and it fits
    from mutualfuse.tiling import fitted_tile

    t = fitted_tile(1200, 1200, 512, 64)
    assert "with the network" in line and f"--tile {t}" in line, line
    assert f.min_memory(1200, 1200, tile=t) <= (full + tiled) // 2


def test_the_api_refuses_an_array_pair_the_network_cannot_hold(monkeypatch):
    from mutualfuse.api import Fuser

    f = Fuser("default", device="cpu")
    x = np.zeros((64, 64), np.uint8)
    need = f.runner.min_bytes(64, 64)
    monkeypatch.setattr(runner, "available_memory", lambda: need - 1)
    with pytest.raises(InputError, match=r"64x64 image with the network needs at least .* GB of memory"):
        f.fuse(x, x)
    monkeypatch.setattr(runner, "available_memory", lambda: None)  # unknown (not Linux): never refused
    assert f.fuse(x, x).shape == (64, 64)


def test_fuse_dir_refuses_the_huge_pair_and_fuses_the_others(tmp_path, capfd, monkeypatch):
    da, db, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    da.mkdir()
    db.mkdir()
    rng = np.random.default_rng(1)
    for name, side in (("big.png", 256), ("small.png", 32)):
        for d in (da, db):
            Image.fromarray(rng.integers(0, 256, (side, side), dtype=np.uint8)).save(d / name)
    monkeypatch.setattr(runner, "available_memory", lambda: 1_000_000)
    rc = main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average", "-q"])
    err = capfd.readouterr().err
    assert rc == 2 and (out / "small.png").exists() and not (out / "big.png").exists()
    assert "big.png" in err and "GB of memory" in err, err


def test_available_memory_reads_meminfo():
    got = runner.available_memory()
    assert got is None or got > 0


def test_a_pyramidal_tiff_is_read_at_full_resolution(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 65536, (64, 96), dtype=np.uint16)
    p = tmp_path / "pyr.tif"
    with tifffile.TiffWriter(p) as tw:
        tw.write(x)
        tw.write(x[::2, ::2], subfiletype=1)
        tw.write(x[::4, ::4], subfiletype=1)
    raw, depth, reader = image_io.read_samples(p)
    assert depth == 16 and reader == "tiff" and np.array_equal(raw, x)
    assert image_io.header_size(p) == (96, 64)


def test_a_tiff_of_two_full_images_is_still_refused(tmp_path):
    rng = np.random.default_rng(3)
    p = tmp_path / "two.tif"
    with tifffile.TiffWriter(p) as tw:
        tw.write(rng.integers(0, 256, (32, 32), dtype=np.uint8))
        tw.write(rng.integers(0, 256, (16, 16), dtype=np.uint8))  # smaller, but not flagged reduced
    with pytest.raises(InputError, match="holds 2 pages"):
        image_io.read_samples(p)


@pytest.mark.parametrize("suffix,limit", [(".jpg", 65500), (".dcm", 65535)])
def test_a_strip_longer_than_the_format_holds_is_refused_before_fusing(tmp_path, capfd, monkeypatch, suffix, limit):
    if suffix == ".dcm":
        pytest.importorskip("pydicom")
    a, b = _pair(tmp_path, 8, 65536 + 8)
    out = tmp_path / f"f{suffix}"
    from mutualfuse.api import Fuser

    monkeypatch.setattr(Fuser, "fuse_arrays", lambda *x, **k: pytest.fail("fused before the size check"))
    rc = main(["fuse", str(a), str(b), "-o", str(out), "--method", "average"])
    line = _one_error_line(capfd)
    assert rc == 2 and not out.exists()
    assert str(out) in line and f"at most {limit} pixels a side" in line and "65544x8" in line, line


@pytest.mark.parametrize("depth,dtype", [(8, np.uint8), (16, np.uint16), (32, np.float32)])
def test_a_tiff_over_the_bigtiff_threshold_is_written_as_bigtiff(tmp_path, monkeypatch, depth, dtype):
    from tolerance import assert_close

    monkeypatch.setattr(image_io, "BIGTIFF_BYTES", 0)  # every TIFF is "over 4 GB"
    x = np.random.default_rng(4).random((24, 40))
    p = image_io.write_image(tmp_path / "o.tif", x, bit_depth=depth)
    with tifffile.TiffFile(p) as tf:
        assert tf.is_bigtiff
        got = tf.asarray()
    assert got.dtype == dtype
    if depth == 32:
        assert_close(got, x.astype(np.float32))
    else:
        assert np.array_equal(got, image_io.to_uint(x, depth))


def test_header_size_sees_past_pillows_own_bomb_limit(tmp_path, monkeypatch):
    p = tmp_path / "x.png"
    Image.new("L", (64, 48)).save(p)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow raises over 2x this at open
    assert image_io.header_size(p) == (64, 48)
    assert Image.MAX_IMAGE_PIXELS == 100


@pytest.mark.parametrize("depth", [8, 16])
def test_to_uint_holds_one_float_copy_and_gives_the_same_values(depth):
    """The clip, the scaling and the rounding each made a float64 copy: two to three at once,
    1.0-1.5 GB of temporaries for a 64-megapixel output (measured peak RSS of a 64 MP 16-bit
    TIFF output with ``average``: 3.40 GB, against 2.62 GB for a float output)."""
    import tracemalloc

    rng = np.random.default_rng(5)
    x = rng.random((1000, 1000)) * 1.2 - 0.1
    x[0, :3] = (np.nan, np.inf, -np.inf)
    top, dt = (65535.0, np.uint16) if depth == 16 else (255.0, np.uint8)
    want = np.round(np.clip(np.nan_to_num(x, nan=0.0), 0.0, 1.0) * top).astype(dt)  # the old formula
    tracemalloc.start()
    try:
        got = image_io.to_uint(x, depth)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.array_equal(got, want) and got.dtype == dt
    assert peak < x.nbytes + got.nbytes + 2 ** 20, peak  # one float copy and the result
    assert np.array_equal(image_io.to_uint(x.astype(np.float32), depth),
                          np.round(np.clip(np.nan_to_num(x.astype(np.float32), nan=0.0), 0.0, 1.0) * top).astype(dt))
