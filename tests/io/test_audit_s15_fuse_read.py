"""``fuse`` audit (session 15): inputs and messages.

* a TIFF whose extra sample is not alpha (ExtraSamples 0, "unspecified": RGB + near-infrared,
  gray + mask) was read with that channel silently dropped; docs/inputs.md says 2/4 channels
  only with an alpha extra-sample;
* a float input written to PNG/JPEG said ".png cannot hold 32-bit data" (it is float data);
* ``--weights FOLDER`` said "unknown method or weights"; it now says it is a folder.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main

tifffile = pytest.importorskip("tifffile")


def _one_error_line(capfd):
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), lines
    return lines[0]


@pytest.mark.parametrize("shape,photometric", [((24, 32, 4), "rgb"), ((24, 32, 2), "minisblack")])
def test_a_tiff_extra_sample_that_is_not_alpha_is_refused(tmp_path, capfd, shape, photometric):
    rng = np.random.default_rng(0)
    bands = tmp_path / "bands.tif"
    tifffile.imwrite(bands, rng.integers(0, 256, shape, dtype=np.uint8), photometric=photometric,
                     planarconfig="contig", extrasamples=[0])
    other = tmp_path / "b.png"
    Image.fromarray(rng.integers(0, 256, shape[:2], dtype=np.uint8)).save(other)
    out = tmp_path / "f.png"
    rc = main(["fuse", str(bands), str(other), "-o", str(out), "--method", "average"])
    line = _one_error_line(capfd)
    assert rc == 2 and not out.exists()
    assert "bands.tif" in line and "not alpha" in line, line


@pytest.mark.parametrize("shape,photometric", [((24, 32, 4), "rgb"), ((24, 32, 2), "minisblack")])
def test_a_tiff_alpha_channel_is_still_dropped(tmp_path, capfd, shape, photometric):
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, shape, dtype=np.uint8)
    p = tmp_path / "alpha.tif"
    tifffile.imwrite(p, x, photometric=photometric, planarconfig="contig", extrasamples=[2])
    other = tmp_path / "b.png"
    Image.fromarray(rng.integers(0, 256, shape[:2], dtype=np.uint8)).save(other)
    out = tmp_path / "f.tif"
    assert main(["fuse", str(p), str(other), "-o", str(out), "--method", "average", "-q"]) == 0
    assert tifffile.imread(out).shape == (shape[:2] + ((3,) if shape[2] == 4 else ()))


def test_the_depth_note_of_a_float_input_says_float(tmp_path, capfd):
    rng = np.random.default_rng(2)
    f = tmp_path / "f.tif"
    tifffile.imwrite(f, rng.random((24, 32)).astype(np.float32))
    g = tmp_path / "g.png"
    Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(g)
    assert main(["fuse", str(f), str(g), "-o", str(tmp_path / "o.png"), "--method", "average"]) == 0
    err = capfd.readouterr().err
    assert "note: .png cannot hold float data; wrote 16-bit" in err, err
    assert "32-bit" not in err


def test_weights_that_name_a_folder_say_so(tmp_path, capfd):
    rng = np.random.default_rng(3)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for p in (a, b):
        Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(p)
    folder = tmp_path / "weights"
    folder.mkdir()
    rc = main(["fuse", str(a), str(b), "-o", str(tmp_path / "o.png"), "--weights", str(folder)])
    line = _one_error_line(capfd)
    assert rc == 2 and not (tmp_path / "o.png").exists()
    assert f"{folder}: --weights is a folder" in line, line


@pytest.mark.parametrize("normalize,data,must", [
    ("auto", "kelvin", "its samples are outside [0, 1]; --normalize full takes float data in [0, 1] only"),
    ("percentile", "unit", "--normalize auto keeps float samples already in [0, 1] as they are"),
])
def test_the_note_on_a_float_input_scaled_by_percentile_gives_advice_that_works(tmp_path, capfd, normalize,
                                                                               data, must):
    """The note said "(--normalize full for the type's full range)" for float data too: for kelvin
    floats, `--normalize full` is an error, and a float has no "type's full range"."""
    rng = np.random.default_rng(4)
    x = rng.random((24, 32)).astype(np.float32)
    f = tmp_path / "f.tif"
    tifffile.imwrite(f, x * 300 + 250 if data == "kelvin" else x)
    g = tmp_path / "g.png"
    Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(g)
    assert main(["fuse", str(f), str(g), "-o", str(tmp_path / "o.tif"), "--method", "average",
                 "--normalize", normalize]) == 0
    err = capfd.readouterr().err
    line = next(ln for ln in err.splitlines() if ln.startswith(f"note: {f}:"))
    assert line == f"note: {f}: float input scaled by percentile ({must})", line
    assert "type's full range" not in line
