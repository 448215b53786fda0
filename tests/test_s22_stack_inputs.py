"""What a microscopist hands ``fuse-stack`` (s22 stack audit): a quoted pattern, a file given
twice, a 16-bit image among 8-bit ones.

* A pattern (``'z*.tif'``: quoted, or from a shell that does not expand it, Windows' cmd) was
  refused as "no such file or folder"; now it stands for the files it matches, in name order
  with numbers by value (as a folder), and one that matches nothing is refused with one line.
* A file given twice (``z*.png z1.png``) was fused twice without a word (with ``average`` it
  weighs double); now a note says so.
* One 16-bit image among 8-bit ones is scaled by its own percentiles (there is no joint
  mapping of one image), as ``fuse`` does, but unlike ``fuse`` no note said so (it was counted
  as one of the joint mapping's); now the note is there. (After the memory fix's streaming
  reader, before this commit, it also stopped with an internal error.)"""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.cli import main


def _folder(tmp_path, n=12, name="s"):
    folder = tmp_path / name
    folder.mkdir()
    rng = np.random.default_rng(n)
    planes = [rng.integers(0, 256, (40, 48), dtype=np.uint8) for _ in range(n)]
    for i, x in enumerate(planes, 1):
        Image.fromarray(x).save(folder / f"z{i}.png")  # z1 … z12, no zero padding
    return folder, planes


def test_a_quoted_pattern_is_the_files_it_matches_in_number_order(tmp_path, capsys):
    folder, planes = _folder(tmp_path)
    (folder / "notes.txt").write_text("log")
    out = tmp_path / "o.png"
    assert main(["fuse-stack", str(folder / "z*.png"), "-o", str(out), "--method", "lp", "--order", "sequential",
                 "-q"]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), Fuser("lp").fuse_stack(planes, order="sequential"))
    by_folder = tmp_path / "f.png"
    assert main(["fuse-stack", str(folder), "-o", str(by_folder), "--method", "lp", "--order", "sequential",
                 "-q"]) == 0
    assert out.read_bytes() == by_folder.read_bytes()


def test_a_pattern_leaves_the_output_out(tmp_path, capsys):
    folder, planes = _folder(tmp_path, 3)
    out = folder / "z_fused.png"
    for _ in range(2):  # the second run's pattern matches the first run's output
        assert main(["fuse-stack", str(folder / "z*.png"), "-o", str(out), "--method", "lp"]) == 0
        assert "3 images, 2 fusions" in capsys.readouterr().out


def test_a_pattern_that_matches_nothing_is_refused_in_one_line(tmp_path, capsys):
    folder, _ = _folder(tmp_path, 3)
    rc = main(["fuse-stack", str(folder / "q*.png"), "-o", str(tmp_path / "o.png"), "--method", "lp"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "q*.png: no file matches this pattern" in err[0], err
    assert not (tmp_path / "o.png").exists()


def test_a_file_given_twice_is_said(tmp_path, capsys):
    folder, _ = _folder(tmp_path, 3)
    args = [str(folder / "z*.png"), str(folder / "z2.png")]
    assert main(["fuse-stack", *args, "-o", str(tmp_path / "o.png"), "--method", "lp"]) == 0
    cap = capsys.readouterr()
    assert "4 images, 3 fusions" in cap.out
    assert f"{folder / 'z2.png'}: in the stack 2 times (images 2, 4), fused as often" in cap.err


def test_one_16bit_image_among_8bit_ones(tmp_path, capsys):
    rng = np.random.default_rng(9)
    a = rng.integers(0, 256, (40, 48), dtype=np.uint8)
    b = rng.integers(2000, 30000, (40, 48)).astype(np.uint16)
    c = rng.integers(0, 256, (40, 48), dtype=np.uint8)
    paths = []
    for name, x in (("b.png", b), ("a.png", a), ("c.png", c)):  # the API answers in the first's kind
        Image.fromarray(x).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "o.png"), "--method", "lp"]) == 0
    err = capsys.readouterr().err
    assert "b.png: 16-bit input scaled by" in err and "joint" not in err
    got = np.asarray(Image.open(tmp_path / "o.png"))
    assert got.dtype == np.uint16
    assert np.array_equal(got, Fuser("lp").fuse_stack([b, a, c]))
