"""Output paths and pairs lists a demanding user gets wrong (s22 input audit).

* ``-o out.png/``: ``Path()`` drops the slash, so ``fuse`` wrote ``out.png`` and reported
  ``out.png/`` (exit 0); so did fuse-video, fuse-volume and export-onnx.
* a ``--pairs`` CSV row with a NUL byte: "internal error: ValueError: embedded null byte", exit 1.
* ``fuse-dir`` into an existing folder that cannot take a file: one failure line per pair.
* ``benchmark`` on a disk that fills up: "internal error: OSError", exit 1.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from one_line_error import assert_one_line_error

SLASH = "output path ends in '/', which names a folder; give the file name without it"


def _png(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray((rng.random((32, 32)) * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture()
def pair(tmp_path) -> tuple[Path, Path]:
    return _png(tmp_path / "a.png", 0), _png(tmp_path / "b.png", 1)


def test_fuse_output_with_a_trailing_slash(tmp_path, pair, capsys):
    out = f"{tmp_path}/fused.png/"
    assert_one_line_error(capsys, ["fuse", str(pair[0]), str(pair[1]), "-o", out, "--method", "average"],
                          f"{out}: {SLASH}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]


@pytest.mark.parametrize("command,name,needs", [("fuse-volume", "nii", ("nibabel",)),
                                                ("fuse-video", "mp4", ("imageio.v2", "imageio_ffmpeg"))])
def test_volume_and_video_output_with_a_trailing_slash(tmp_path, capsys, command, name, needs):
    for module in needs:
        pytest.importorskip(module)
    out = f"{tmp_path}/fused.{name}/"
    assert_one_line_error(capsys, [command, str(tmp_path / f"a.{name}"), str(tmp_path / f"b.{name}"), "-o", out,
                                   "--method", "average"], f"{out}: {SLASH}")
    assert list(tmp_path.iterdir()) == []


def test_export_onnx_output_with_a_trailing_slash(tmp_path, capsys):
    out = f"{tmp_path}/model.onnx/"
    assert_one_line_error(capsys, ["export-onnx", out, "--no-check", "-q"], f"{out}: {SLASH}")
    assert list(tmp_path.iterdir()) == []


def test_pairs_list_row_with_a_nul_byte_is_a_failed_row(tmp_path, pair, capsys):
    from mutualfuse.cli import main

    lst = tmp_path / "pairs.csv"
    lst.write_bytes(b"a,b,out\na.png,b.png,good.png\na\x00.png,b.png\na.png,b.png,bad\x00.png\n")
    out = tmp_path / "out"
    rc = main(["fuse-dir", "--pairs", str(lst), "-o", str(out), "--method", "average", "-q"])
    _, err = capsys.readouterr()
    assert rc == 2, err
    assert err.splitlines() == ["mutualfuse: error: 2 pair(s) failed:",
                                f"  {lst}:3: row holds a NUL byte, which no file name can",
                                f"  {lst}:4: row holds a NUL byte, which no file name can"]
    assert sorted(p.name for p in out.iterdir()) == ["good.png"]


def test_fuse_dir_into_a_folder_that_takes_no_file_is_one_line(tmp_path, pair, capsys, monkeypatch):
    """The folder exists and refuses new files (a read-only mount; simulated: root may write
    anywhere a mode bit forbids). Refused once, before any pair is read."""
    da, db, out = tmp_path / "A", tmp_path / "B", tmp_path / "out"
    for d in (da, db, out):
        d.mkdir()
    for i, n in enumerate(("x.png", "y.png", "z.png")):
        _png(da / n, i)
        _png(db / n, 10 + i)
    real = tempfile.mkstemp

    def read_only(*a, **kw):
        if Path(kw.get("dir", "")) == out:  # every writer passes dir=
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real(*a, **kw)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert_one_line_error(capsys, ["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average", "-q"],
                          f"{out}: output folder cannot be written (Read-only file system); nothing was fused")
    assert list(out.iterdir()) == []


def test_fuse_dir_with_every_output_done_needs_no_writable_folder(tmp_path, pair, capsys, monkeypatch):
    """Nothing left to do: the folder is not probed (a finished run on a now read-only mount is
    still a success)."""
    from mutualfuse.cli import main

    da, db, out = tmp_path / "A", tmp_path / "B", tmp_path / "out"
    for d in (da, db, out):
        d.mkdir()
    _png(da / "x.png", 0)
    _png(db / "x.png", 1)
    assert main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average", "-q"]) == 0
    real = tempfile.mkstemp

    def read_only(*a, **kw):
        if Path(kw.get("dir", "")) == out:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real(*a, **kw)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    assert main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average", "-q"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("inside", [True, False])
def test_benchmark_out_of_room_is_one_line(tmp_path, capsys, monkeypatch, inside):
    import mutualfuse.benchmark as bench

    out = tmp_path / "bench"
    where = (out / ".stage.part" / "tables" / "table1.csv") if inside else (tmp_path / "cache" / "x.json")

    def full(cfg):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))

    monkeypatch.setattr(bench, "run_benchmark", full)
    shown = out if inside else where
    assert_one_line_error(capsys, ["benchmark", "--data-root", str(tmp_path), "--out", str(out), "-q"],
                          f"{shown}: cannot write (No space left on device); {out} was left as it was")


def test_output_with_a_long_valid_name_is_written(tmp_path, pair, capsys):
    """A 250-byte file name is valid (255 is the limit); the temporary beside it was longer than
    that, so the output could not be written ("cannot write in FOLDER (File name too long)")."""
    from mutualfuse.cli import main
    from mutualfuse.io.atomic import host_tag, part_name, remove_stale_parts

    name = "é" * 123 + ".png"  # 250 bytes in UTF-8
    assert len(os.fsencode(name)) == 250
    out = tmp_path / name
    assert main(["fuse", str(pair[0]), str(pair[1]), "-o", str(out), "--method", "average", "-q"]) == 0, \
        capsys.readouterr().err
    assert out.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a.png", "b.png", name])
    # a killed run's temporary of that name is still found as such (by its cut name)
    dead = tmp_path / f".{part_name(name)}.999999999.h{host_tag()}_abcdefgh.part.png"
    dead.write_bytes(b"x")
    assert remove_stale_parts(tmp_path, name) == [dead]


@pytest.mark.parametrize("where", ["input", "output"])
def test_file_name_over_the_limit_is_one_line(tmp_path, pair, capsys, where):
    long = str(tmp_path / ("x" * 300 + ".png"))
    a, out = (long, str(tmp_path / "o.png")) if where == "input" else (str(pair[0]), long)
    what = "output file name" if where == "output" else "file name"
    assert_one_line_error(capsys, ["fuse", a, str(pair[1]), "-o", out, "--method", "average"],
                          f"{long}: {what} too long for the file system")
