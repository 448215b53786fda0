"""Session 24 (helper X7): the Python API's input errors name the file of a PIL image opened
from one (``PIL.Image.open(path)`` keeps the path as ``.filename``), as the command line names
its files; any other input keeps its a / b / image k wording. Each fixed message fails on the
code before it:

* ``Fuser.fuse`` / ``mutualfuse.fuse`` of two opened files said "a and b: images are 1x1, ...",
  "size mismatch: a is 30x20, b is 31x20", "a: float image contains 1 NaN ...", "b: 32-bit
  integer image ...", "batch mismatch: a has 1 images, ...": now the files' names;
* a truncated file (Pillow reads lazily) was a bare ``OSError: image file is truncated``, and an
  image whose file was closed (``with Image.open(p) as im: pass``) a bare ``AssertionError``:
  now a one-line :class:`InputError` naming the file (or ``a`` for an unnamed image);
* ``Fuser.fuse_stack``: each image's errors name its file (size mismatch: also the first
  image's file); a stack of images smaller than 8x8 said "a and b: images are 4x4, ..." (a stack
  has no a and b): now "image 1: image is 4x4, ..." (or its file); one opened PIL image given as
  the stack names its file;
* the same file twice is named both ways (``a (x.png)``, ``b (x.png)``), so the two stay apart.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image

from mutualfuse import Fuser, fuse
from mutualfuse.errors import InputError

RNG = np.random.default_rng(2407)


def _gray(h: int, w: int) -> np.ndarray:
    return RNG.integers(0, 256, (h, w), dtype=np.uint8)


@pytest.fixture
def files(tmp_path, monkeypatch):
    """Small files in a temporary folder, made the working folder so that they open as ``ir.png``."""
    monkeypatch.chdir(tmp_path)
    Image.fromarray(_gray(1, 1)).save("ir1.png")
    Image.fromarray(_gray(1, 1)).save("vis1.png")
    Image.fromarray(_gray(20, 30)).save("ir.png")
    Image.fromarray(_gray(20, 31)).save("vis.png")
    Image.fromarray(_gray(4, 4)).save("s4.png")
    f = RNG.random((20, 30)).astype(np.float32)
    f[3, 3] = np.nan
    Image.fromarray(f).save("nan.tif")
    Image.new("I", (30, 20), 70000).save("big.tif")
    Image.fromarray(_gray(64, 64)).save("noise.png")
    noise = (tmp_path / "noise.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(noise[: len(noise) // 2])
    return tmp_path


def _refused(pattern: str, call, *args, **kwargs) -> str:
    with pytest.raises(InputError) as e:
        call(*args, **kwargs)
    msg = str(e.value)
    assert "\n" not in msg, msg
    assert re.fullmatch(pattern, msg), (pattern, msg)
    return msg


# -- pairs: the files' names ----------------------------------------------------------------------
def test_pair_errors_name_the_files(files):
    f, o = Fuser("average"), Image.open
    _refused(r"ir1\.png and vis1\.png: images are 1x1, smaller than 8x8", f.fuse, o("ir1.png"), o("vis1.png"))
    _refused(r"size mismatch: ir\.png is 30x20, vis\.png is 31x20", f.fuse, o("ir.png"), o("vis.png"))
    _refused(r"nan\.tif: float image contains 1 NaN or infinite values", f.fuse, o("nan.tif"), o("ir.png"))
    _refused(r"big\.tif: 32-bit integer image with values 70000\.\.70000, outside 0\.\.65535 and -32768\.\.32767, "
             r"is not supported; as a float image \(PIL mode F: im\.convert\('F'\), or a float32 TIFF\) it is read and scaled by its "
             r"percentiles",
             f.fuse, o("ir.png"), o("big.tif"))
    _refused(r"batch mismatch: a has 5 images, ir\.png has 1", f.fuse, np.zeros((5, 20, 30), np.uint8), o("ir.png"))
    # the module-level function too
    _refused(r"size mismatch: vis\.png is 31x20, ir\.png is 30x20", fuse, o("vis.png"), o("ir.png"), method="average")


def test_the_file_as_given(files):
    """An absolute path stays as given (what the caller passed to Image.open)."""
    p = str(files / "vis.png")
    _refused(rf"size mismatch: ir\.png is 30x20, {re.escape(p)} is 31x20",
             Fuser("average").fuse, Image.open("ir.png"), Image.open(p))


def test_unreadable_file_is_one_line_naming_it(files):
    f = Fuser("average")
    _refused(r"cut\.png: PIL image cannot be read: image file is truncated.*", f.fuse,
             Image.open("cut.png"), _gray(64, 64))
    with Image.open("noise.png") as closed:
        pass
    _refused(r"noise\.png: PIL image cannot be read: its file was closed before the samples were read .*",
             f.fuse, _gray(64, 64), closed)
    with Image.open("noise.png") as loaded:
        loaded.load()  # read inside the with block: fuses after it
    assert f.fuse(loaded, _gray(64, 64)).size == (64, 64)


def test_same_file_twice_named_both_ways(files):
    _refused(r"a \(s4\.png\) and b \(s4\.png\): images are 4x4, smaller than 8x8",
             Fuser("average").fuse, Image.open("s4.png"), Image.open("s4.png"))


def test_notes_name_the_file(files):
    Image.fromarray(_gray(20, 30)).convert("P").save("pal.png")
    f = Fuser("average")
    f.fuse(Image.open("pal.png"), _gray(20, 30))
    assert any(n.startswith("pal.png: PIL mode P read as L") for n in f.report.notes), f.report.notes


# -- everything else: unchanged wording ----------------------------------------------------------
def test_unnamed_inputs_keep_a_and_b(files):
    f = Fuser("average")
    _refused(r"a and b: images are 1x1, smaller than 8x8", f.fuse, _gray(1, 1), _gray(1, 1))
    _refused(r"size mismatch: a is 30x20, b is 31x20", f.fuse, _gray(20, 30), _gray(20, 31))
    bad = RNG.random((20, 30))
    bad[1, 1] = np.nan
    _refused(r"b: float image contains 1 NaN or infinite values", f.fuse, _gray(20, 30), bad)
    _refused(r"a: unsupported array dtype int32 .*", f.fuse, _gray(20, 30).astype(np.int32) * 1000, _gray(20, 30))
    _refused(r"a: unsupported channel count 2 in shape \(20, 30, 2\) .*", f.fuse,
             np.zeros((20, 30, 2), np.uint8), _gray(20, 30))
    _refused(r"batch mismatch: a has 5 images, b has 1", f.fuse, np.zeros((5, 20, 30), np.uint8), _gray(20, 30))
    # PIL images made in memory, or converted from an opened one, have no file
    opened = Image.open("ir.png")
    _refused(r"size mismatch: a is 30x20, b is 31x20", f.fuse, opened.convert("L"),
             Image.fromarray(_gray(20, 31)))
    _refused(r"a and b: images are 2x2, smaller than 8x8", f.fuse, Image.new("L", (2, 2)), Image.new("L", (2, 2)))


# -- stacks ----------------------------------------------------------------------------------------
def test_stack_errors_name_the_files(files):
    f, o = Fuser("average"), Image.open
    _refused(r"vis\.png: size mismatch: 31x20, ir\.png is 30x20 \(a stack must be registered\)",
             f.fuse_stack, [o("ir.png"), _gray(20, 30), o("vis.png")])
    _refused(r"image 2: size mismatch: 31x20, ir\.png is 30x20 \(a stack must be registered\)",
             f.fuse_stack, [o("ir.png"), _gray(20, 31)])
    _refused(r"nan\.tif: float image contains 1 NaN or infinite values", f.fuse_stack, [o("ir.png"), o("nan.tif")])
    _refused(r"s4\.png: image is 4x4, smaller than 8x8", f.fuse_stack, [o("s4.png"), _gray(4, 4)])
    _refused(r"image 2 \(ir\.png\): size mismatch: 30x20, image 1 is 31x20 \(a stack must be registered\)",
             f.fuse_stack, [_gray(20, 31), o("ir.png"), o("ir.png")])
    _refused(r"a stack takes a sequence of images .*, got one PIL image \(ir\.png, 30x20, mode L\)",
             f.fuse_stack, o("ir.png"))


def test_stack_of_arrays_wording(files):
    f = Fuser("average")
    _refused(r"image 3: size mismatch: 31x20, image 1 is 30x20 \(a stack must be registered\)",
             f.fuse_stack, [_gray(20, 30), _gray(20, 30), _gray(20, 31)])
    _refused(r"image 2: a stack takes single images, got a batch of 3",
             f.fuse_stack, [_gray(20, 30), np.zeros((3, 20, 30), np.uint8)])
    _refused(r"a stack takes a sequence of images .*, got one PIL image \(30x20, mode L\)",
             f.fuse_stack, Image.new("L", (30, 20)))
    # was "a and b: images are 4x4, ..." (a stack has no a and b)
    _refused(r"image 1: image is 4x4, smaller than 8x8", f.fuse_stack, [_gray(4, 4), _gray(4, 4), _gray(4, 4)])
