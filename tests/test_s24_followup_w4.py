"""Session 24 follow-ups (helper W4), each failing on the code before it:

* ``--chroma RULE`` typed with inputs it cannot act on (both gray; one colour input, whose Cb/Cr
  are kept under every rule but gray) changed nothing and said nothing: ``fuse`` and
  ``fuse-stack`` now print one ``note:``; the default rule (no ``--chroma``) says nothing, and
  the help text is unchanged (the argparse default became None, applied in ``make_fuser``);
* ``validation.check_batch_pair`` (``Fuser.fuse`` of arrays) said "image is 1x1, smaller than
  8x8" without naming the inputs;
* fuse-stack decided "one multi-page TIFF" by the file name (a z-stack named ``.png`` was "a
  stack needs at least 2 images"), and ``header_is_colour`` (the memory estimate) read a colour
  PNG named ``.tif`` as gray; both now go by the file's first bytes, as reading does;
  fuse-stack's ``--percentiles`` that changed nothing (8-bit planes under auto) is said as fuse
  says it;
* a BMP with a negative width was "image is 4294967291x10 pixels ... decompression bomb guard";
* ``evaluate -o a.csv -o b.json``: a failure writing the second left the first written.
"""
from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from one_line_error import assert_one_line_error

RNG = np.random.default_rng(24)


def _gray(path: Path, seed: int, shape=(24, 32)) -> str:
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)).save(path)
    return str(path)


def _rgb(path: Path, seed: int, shape=(24, 32), fmt: str | None = None) -> str:
    arr = np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path, format=fmt)
    return str(path)


def _run(capsys, argv: list[str]) -> tuple[str, str]:
    from mutualfuse.cli import main

    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 0, (rc, out, err)
    return out, err


def _notes(err: str, start: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("note: " + start)]


# -- 1. --chroma that changed nothing ----------------------------------------------------------
@pytest.mark.parametrize("rule", ["saturation", "mean", "gray"])
def test_fuse_typed_chroma_with_two_gray_inputs_is_said(tmp_path, capsys, rule):
    a, b = _gray(tmp_path / "a.png", 1), _gray(tmp_path / "b.png", 2)
    out = str(tmp_path / "o.png")
    _, err = _run(capsys, ["fuse", a, b, "-o", out, "--method", "average", "--chroma", rule])
    assert _notes(err, "--chroma") == [f"note: --chroma {rule} had no effect: both inputs are gray "
                                       "(the output is gray)"], err
    _, err = _run(capsys, ["fuse", a, b, "-o", out, "--method", "average"])  # the default: no word
    assert not _notes(err, "--chroma"), err
    out_q, err = _run(capsys, ["fuse", a, b, "-o", out, "--method", "average", "--chroma", rule, "-q"])
    assert out_q == "" and err == ""


def test_fuse_typed_chroma_with_one_colour_input_is_said_and_is_true(tmp_path, capsys):
    a, b = _gray(tmp_path / "a.png", 1), _rgb(tmp_path / "b.png", 2)
    fused = {}
    for rule in ("saturation", "a", "b", "mean"):
        out = tmp_path / f"o_{rule}.png"
        _, err = _run(capsys, ["fuse", a, b, "-o", str(out), "--method", "average", "--chroma", rule])
        assert _notes(err, "--chroma") == [
            f"note: --chroma {rule} had no effect: only b (the second input) is colour, and its Cb/Cr are kept "
            "under every rule but gray (saturation, a, b and mean choose between two colour inputs)"], err
        fused[rule] = np.asarray(Image.open(out))
    for rule in ("a", "b", "mean"):  # what the note says: the same output under every rule
        assert np.array_equal(fused[rule], fused["saturation"]), rule
    _, err = _run(capsys, ["fuse", a, b, "-o", str(tmp_path / "g.png"), "--method", "average", "--chroma", "gray"])
    assert not _notes(err, "--chroma"), err  # gray made the output gray: it had an effect


def test_fuse_chroma_with_two_colour_inputs_says_nothing(tmp_path, capsys):
    a, b = _rgb(tmp_path / "a.png", 1), _rgb(tmp_path / "b.png", 2)
    _, err = _run(capsys, ["fuse", a, b, "-o", str(tmp_path / "o.png"), "--method", "average", "--chroma", "mean"])
    assert not _notes(err, "--chroma"), err


def test_fuse_files_carries_the_note_that_fuse_dir_receives(tmp_path):
    """fuse-dir gets each pair's notes from fuse_files (its summary keeps the counted ones)."""
    import argparse

    from mutualfuse.cli import build_parser
    from mutualfuse.cli.fuse import fuse_files, make_fuser

    a, b = _gray(tmp_path / "a.png", 1), _gray(tmp_path / "b.png", 2)
    parser = build_parser()
    for extra, want in ((["--chroma", "b"], True), ([], False)):
        args = parser.parse_args(["fuse", a, b, "-o", str(tmp_path / "o.png"), "--method", "average", *extra])
        assert isinstance(args, argparse.Namespace)
        info = fuse_files(make_fuser(args), a, b, str(tmp_path / "o.png"))
        assert any(n.startswith("--chroma b had no effect: both inputs are gray") for n in info["notes"]) == want


def test_fuse_stack_typed_chroma_that_changed_nothing_is_said(tmp_path, capsys):
    g = [_gray(tmp_path / f"z{i}.png", i) for i in range(3)]
    out = str(tmp_path / "o.png")
    _, err = _run(capsys, ["fuse-stack", *g, "-o", out, "--method", "average", "--chroma", "mean"])
    assert _notes(err, "--chroma") == ["note: --chroma mean had no effect: every image of the stack is gray "
                                       "(the output is gray)"], err
    _, err = _run(capsys, ["fuse-stack", *g, "-o", out, "--method", "average"])
    assert not _notes(err, "--chroma"), err
    # one colour image: every fusion has at most one colour input, so the rule changes nothing
    c = _rgb(tmp_path / "c.png", 7)
    fused = {}
    for rule in ("saturation", "mean"):
        o = tmp_path / f"s_{rule}.png"
        _, err = _run(capsys, ["fuse-stack", g[0], c, g[1], "-o", str(o), "--method", "average", "--chroma", rule])
        assert _notes(err, "--chroma") == [
            f"note: --chroma {rule} had no effect: only image 2 of the stack is colour, and its Cb/Cr are kept "
            "under every rule but gray (saturation, a, b and mean choose between two colour inputs)"], err
        fused[rule] = np.asarray(Image.open(o))
    assert np.array_equal(fused["mean"], fused["saturation"])
    c2 = _rgb(tmp_path / "c2.png", 8)  # two colour images: the rule acts
    _, err = _run(capsys, ["fuse-stack", c, g[1], c2, "-o", out, "--method", "average", "--chroma", "mean"])
    assert not _notes(err, "--chroma"), err


def test_chroma_help_and_other_commands_are_unchanged(capsys):
    from mutualfuse.cli import build_parser

    parser = build_parser()
    for cmd in ("fuse", "fuse-dir", "fuse-stack", "fuse-video"):
        with pytest.raises(SystemExit):
            parser.parse_args([cmd, "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert "per-pixel weighting by saturation |C-128| (default saturation)" in out, (cmd, out)
        assert "(default None)" not in out, cmd
    with pytest.raises(SystemExit):
        parser.parse_args(["fuse-volume", "--help"])
    assert "--chroma" not in capsys.readouterr().out  # hidden there, and refused where given (as before)


# -- 2. check_batch_pair names the inputs ------------------------------------------------------
def test_tiny_array_pair_names_its_inputs():
    from mutualfuse import Fuser
    from mutualfuse.errors import InputError
    from mutualfuse.validation import check_batch_pair

    with pytest.raises(InputError, match=r"^a and b: images are 1x1, smaller than 8x8$"):
        Fuser("average").fuse(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.uint8))
    x = np.zeros((1, 5, 6))
    with pytest.raises(InputError, match=r"^ir\.png and vis\.png: images are 6x5, smaller than 8x8$"):
        check_batch_pair(x, x, names=("ir.png", "vis.png"))


# -- 3. TIFF by content in fuse-stack and the colour guess; fuse-stack --percentiles -----------
def _zstack(path: Path) -> str:
    import tifffile

    tifffile.imwrite(path, RNG.integers(0, 256, (3, 24, 32), dtype=np.uint8), photometric="minisblack")
    return str(path)


def test_fuse_stack_reads_a_z_stack_named_png_as_its_planes(tmp_path, capsys):
    from mutualfuse.image_io import tiff_plane_count

    tif = _zstack(tmp_path / "z.tif")
    png = tmp_path / "z.png"
    png.write_bytes(Path(tif).read_bytes())
    assert tiff_plane_count(png) == 3
    outs = []
    for src in (tif, str(png)):
        o = tmp_path / f"out_{Path(src).suffix[1:]}.png"
        out, _ = _run(capsys, ["fuse-stack", src, "-o", str(o), "--method", "average"])
        assert "(3 planes, 2 fusions," in out, out
        outs.append(np.asarray(Image.open(o)))
    assert np.array_equal(outs[0], outs[1])
    pngtif = tmp_path / "p.tif"  # a PNG named .tif: no TIFF planes
    _gray(pngtif, 3)
    Image.open(pngtif).save(pngtif, format="PNG")
    assert tiff_plane_count(pngtif) is None


def test_colour_guess_of_the_memory_estimate_goes_by_content(tmp_path):
    import tifffile

    from mutualfuse.cli.fuse import header_is_colour

    assert header_is_colour(_rgb(tmp_path / "c.tif", 1, fmt="PNG"))  # a colour PNG named .tif
    t = tmp_path / "c.png"  # a colour TIFF named .png
    tifffile.imwrite(t, RNG.integers(0, 65536, (24, 32, 3), dtype=np.uint16), photometric="rgb")
    assert header_is_colour(t)
    g = tmp_path / "g.tif"  # a gray PNG named .tif
    Image.fromarray(np.zeros((24, 32), np.uint8)).save(g, format="PNG")
    assert not header_is_colour(g)


def test_fuse_stack_percentiles_that_changed_nothing_are_said(tmp_path, capsys):
    g = [_gray(tmp_path / f"z{i}.png", i) for i in range(3)]
    _, err = _run(capsys, ["fuse-stack", *g, "-o", str(tmp_path / "o.png"), "--method", "average",
                           "--percentiles", "1", "99"])
    assert _notes(err, "--percentiles") == [
        "note: --percentiles 1 99 had no effect: no input was scaled by percentiles (--normalize auto reads 8-bit "
        "inputs as v/255, float inputs in [0, 1] as they are and DICOM through its window; --normalize percentile "
        "scales every input)"], err
    _, err = _run(capsys, ["fuse-stack", *g, "-o", str(tmp_path / "o.png"), "--method", "average",
                           "--percentiles", "1", "99", "--normalize", "percentile"])
    assert not _notes(err, "--percentiles"), err


# -- 4. BMP with a negative width --------------------------------------------------------------
def _bmp(path: Path, w: int, h: int) -> str:
    row = ((24 * max(abs(w), 1) + 31) // 32) * 4
    data = b"\x00" * row * max(abs(h), 1)
    path.write_bytes(b"BM" + struct.pack("<IHHI", 54 + len(data), 0, 0, 54)
                     + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(data), 2835, 2835, 0, 0) + data)
    return str(path)


@pytest.mark.parametrize("w, h, needle", [
    (-5, 10, "invalid BMP header: its width is -5 (it must be a positive number of pixels)"),
    (0, 10, "invalid BMP header: its width is 0"),
    (20, 0, "invalid BMP header: its height is 0"),
])
def test_bmp_with_an_invalid_size_says_so(tmp_path, capsys, w, h, needle):
    bad = _bmp(tmp_path / "bad.bmp", w, h)
    good = _gray(tmp_path / "g.png", 1)
    err = assert_one_line_error(capsys, ["fuse", bad, good, "-o", str(tmp_path / "o.png"), "--method", "average"],
                                f"{bad}: {needle}")
    assert "4294967" not in err and "bomb" not in err
    root = tmp_path / "ev"
    for d, src in (("a", bad), ("b", good), ("f", good)):
        (root / d).mkdir(parents=True)
        (root / d / f"x{Path(src).suffix}").write_bytes(Path(src).read_bytes())
    assert_one_line_error(capsys, ["evaluate", "--a", str(root / "a"), "--b", str(root / "b"), "--fused",
                                   str(root / "f"), "-q"], needle)


def test_bmp_with_a_negative_height_is_still_read(tmp_path):
    from mutualfuse.image_io import header_size, read_image

    p = _bmp(tmp_path / "top_down.bmp", 20, -12)  # top-down rows: valid
    assert header_size(p) == (20, 12)
    assert read_image(p)[0].shape == (12, 20, 3)


# -- 5. evaluate -o: all outputs or none -------------------------------------------------------
@pytest.fixture
def folders(tmp_path):
    root = tmp_path / "ev"
    for d, seed in (("a", 1), ("b", 2), ("f", 3)):
        (root / d).mkdir(parents=True)
        _gray(root / d / "x.png", seed)
    return root


def _evaluate(root: Path, outs: list[Path]) -> list[str]:
    argv = ["evaluate", "--a", str(root / "a"), "--b", str(root / "b"), "--fused", str(root / "f"),
            "--metrics", "EN@vifb", "SD@vifb", "-q"]
    for o in outs:
        argv += ["-o", str(o)]
    return argv


def _state(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_ino) for p in folder.iterdir() if p.is_file()}


def test_evaluate_outputs_are_all_or_none_when_a_write_fails(folders, tmp_path, capsys, monkeypatch):
    import mutualfuse.cli.evaluate as ev

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "old.csv").write_text("results of an earlier run\n")
    before = _state(out_dir)
    real = ev._write_results

    def failing(tmp, suffix, *a, **k):  # the second output's write fails (a full disk)
        if suffix == ".json":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(tmp, suffix, *a, **k)

    monkeypatch.setattr(ev, "_write_results", failing)
    outs = [out_dir / "old.csv", out_dir / "new.md", out_dir / "r.json", out_dir / "later.tex"]
    assert_one_line_error(capsys, _evaluate(folders, outs), f"{out_dir / 'r.json'}: cannot write output "
                                                           "(No space left on device)")
    assert _state(out_dir) == before  # nothing written, the earlier file untouched, no temporaries left
    monkeypatch.setattr(ev, "_write_results", real)
    from mutualfuse.cli import main

    assert main(_evaluate(folders, outs)) == 0  # the same run without the fault writes all four
    capsys.readouterr()
    # old.csv.meta.json: the CSV's record of how it was scored (s30)
    assert sorted(p.name for p in out_dir.iterdir()) == ["later.tex", "new.md", "old.csv", "old.csv.meta.json",
                                                         "r.json"]
    assert (out_dir / "old.csv").read_text().startswith("method,folder,image,EN@vifb,SD@vifb")


def test_evaluate_outputs_are_put_back_when_a_rename_fails(folders, tmp_path, capsys, monkeypatch):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "old.csv").write_text("results of an earlier run\n")
    (out_dir / "old.json").write_text("{}\n")
    before = _state(out_dir)
    real = os.replace
    target = str(out_dir / "old.json")

    def failing(src, dst, *a, **k):  # the third output's rename fails
        if str(dst) == target and ".part" in str(src) and not str(src).endswith(".part.old"):
            raise OSError(errno.EIO, "Input/output error")
        return real(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", failing)
    outs = [out_dir / "old.csv", out_dir / "new.md", out_dir / "old.json"]
    assert_one_line_error(capsys, _evaluate(folders, outs), f"{target}: cannot write output (Input/output error)")
    monkeypatch.setattr(os, "replace", real)
    assert _state(out_dir) == before  # old.csv put back (the same file), new.md removed, nothing else left
