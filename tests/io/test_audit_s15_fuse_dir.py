"""``fuse-dir`` audit (session 15): what is skipped as done, what is refused, what is said.

* a folder or an empty file at an output path was counted as "skipped already done" (exit 0);
* with every output present, a mistyped ``--method`` / ``--weights`` or a bad option value
  passed as "fused 0, skipped N" with exit 0 (the fuser was only built when there was work);
* DIR_A = DIR_B fused every image with itself, silently;
* a file whose partner key is taken by a same-name pair was told "no file named X (or K.*)"
  while K.png was right there;
* temporaries of killed runs in a ``--pairs`` output subfolder were never removed.
"""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from mutualfuse.cli import main


def _png(path, seed, shape=(24, 32)):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(path)
    return path


def _folders(tmp_path, names=("01.png", "02.png")):
    da, db = tmp_path / "a", tmp_path / "b"
    da.mkdir()
    db.mkdir()
    for i, n in enumerate(names):
        _png(da / n, 2 * i)
        _png(db / n, 2 * i + 1)
    return da, db


def _err_lines(capfd):
    return [ln for ln in capfd.readouterr().err.splitlines() if "%|" not in ln]


def test_a_folder_or_an_empty_file_at_an_output_path_is_not_skipped_as_done(tmp_path, capfd):
    da, db = _folders(tmp_path, ("01.png", "02.png", "03.png"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "01.png").mkdir()  # not a result
    (out / "02.png").write_bytes(b"")  # not a result either (mutualfuse never leaves an empty output)
    capfd.readouterr()
    rc = main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average"])
    cap = capfd.readouterr()
    assert rc == 2, cap.err
    assert "fused 2, skipped 0 already done, failed 1" in cap.out, cap.out
    assert "01.png: output path is a directory" in cap.err, cap.err
    assert Image.open(out / "02.png").size == (32, 24)  # redone
    # a real output is still skipped
    rc = main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average"])
    cap = capfd.readouterr()
    assert "fused 0, skipped 2 already done, failed 1" in cap.out, cap.out


def test_options_are_checked_when_every_output_exists(tmp_path, capfd):
    da, db = _folders(tmp_path)
    out = tmp_path / "out"
    assert main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average", "-q"]) == 0
    before = sorted(os.listdir(out))
    capfd.readouterr()
    for extra, must in ((["--method", "nosuch"], "nosuch"),
                        (["--weights", str(tmp_path / "none.safetensors")], "none.safetensors"),
                        (["--method", "dwt", "--param", "levels=99"], "levels"),
                        (["--method", "average", "--blend-temperature", "0.5"], "blend-temperature")):
        rc = main(["fuse-dir", str(da), str(db), "-o", str(out), *extra])
        lines = _err_lines(capfd)
        assert rc == 2, (extra, lines)
        assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: ") and must in lines[0], (extra, lines)
    assert sorted(os.listdir(out)) == before


def test_the_same_folder_as_both_sources_is_refused(tmp_path, capfd):
    da, _ = _folders(tmp_path)
    (tmp_path / "link").symlink_to(da)
    for db in (da, tmp_path / "link"):
        rc = main(["fuse-dir", str(da), str(db), "-o", str(tmp_path / "out"), "--method", "average"])
        lines = _err_lines(capfd)
        assert rc == 2
        assert len(lines) == 1 and "same folder" in lines[0] and str(db) in lines[0], lines
    assert not (tmp_path / "out").exists()


def test_a_file_whose_key_is_taken_by_a_same_name_pair_is_told_so(tmp_path, capfd):
    da, db = _folders(tmp_path, ("08.png",))
    _png(db / "08.bmp", 9)
    rc = main(["fuse-dir", str(da), str(db), "-o", str(tmp_path / "out"), "--method", "average"])
    err = capfd.readouterr().err
    assert rc == 2
    line = next(ln for ln in err.splitlines() if "08.bmp" in ln)
    assert "08.*" not in line and "08.png" in line and "already pair" in line, line
    assert (tmp_path / "out" / "08.png").is_file()


def test_stale_temporaries_in_a_pairs_list_subfolder_are_removed(tmp_path, capfd):
    _png(tmp_path / "x.png", 0)
    _png(tmp_path / "y.png", 1)
    lst = tmp_path / "list.csv"
    lst.write_text("a,b,out\nx.png,y.png,sub/f.png\n")
    sub = tmp_path / "out" / "sub"
    sub.mkdir(parents=True)
    # a pid that is not running: the temporary of a run killed with kill -9
    pid = 2 ** 22 + 12345
    while True:
        try:
            os.kill(pid, 0)
            pid += 1
        except ProcessLookupError:
            break
        except PermissionError:
            pid += 1
    stale = sub / f".f.png.{pid}.abc123.part.png"
    stale.write_bytes(b"half")
    assert main(["fuse-dir", "--pairs", str(lst), "-o", str(tmp_path / "out"), "--method", "average", "-q"]) == 0
    assert sorted(os.listdir(sub)) == ["f.png"]


def test_the_depth_and_scaling_notes_of_the_pairs_are_summed_up_not_dropped(tmp_path, capfd):
    """docs/inputs.md: when the output format cannot hold the inputs' depth, "the output is written
    at 8 bits and a note says so". fuse-dir kept only the mapping/tiling notes of its pairs: 16-bit
    inputs written as .jpg came out 8-bit without a word."""
    da, db = tmp_path / "a", tmp_path / "b"
    da.mkdir()
    db.mkdir()
    rng = np.random.default_rng(5)
    for n in ("1.png", "2.png"):
        Image.fromarray(rng.integers(1000, 5000, (24, 32), dtype=np.uint16)).save(da / n)
        _png(db / n, 7)
    rc = main(["fuse-dir", str(da), str(db), "-o", str(tmp_path / "out"), "--ext", ".jpg", "--method", "average"])
    err = capfd.readouterr().err
    assert rc == 0, err
    assert "note: .jpg cannot hold 16-bit data; wrote 8-bit (2 pair(s))" in err, err
    assert "note: 2 input(s): 16-bit input scaled by percentile" in err, err
