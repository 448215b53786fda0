"""Empty paths, pairs lists that are no file, and looping links (s22 input audit).

* ``fuse-dir A B -o ""`` (an unset ``$OUT``) fused every pair into the working folder, exit 0;
  ``fuse "" b.png`` said ".: is a directory", ``benchmark --out ""`` wrote its report into the
  working folder. An empty path argument is now a usage error.
* ``fuse-dir --pairs <(...)`` (a pipe) and ``--pairs FOLDER`` said "pairs list not found".
* a pair of symbolic links that point at each other was "a broken symbolic link (to b.png,
  which does not exist)", b.png being there.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from one_line_error import assert_one_line_error
from tests.test_s22_fuzz_paths import _png


@pytest.fixture()
def folders(tmp_path) -> tuple[Path, Path]:
    da, db = tmp_path / "A", tmp_path / "B"
    da.mkdir()
    db.mkdir()
    _png(da / "x.png", 0)
    _png(db / "x.png", 1)
    return da, db


def test_fuse_dir_empty_output_does_not_fuse_into_the_working_folder(tmp_path, folders, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert_one_line_error(capsys, ["fuse-dir", str(folders[0]), str(folders[1]), "-o", "", "--method", "average"],
                          "fuse-dir: argument -o/--out: must not be empty")
    assert list(work.iterdir()) == []


@pytest.mark.parametrize("argv, option", [
    (["fuse", "", "B/x.png", "-o", "o.png"], "argument a"),
    (["fuse", "A/x.png", "B/x.png", "-o", ""], "argument -o/--out"),
    (["fuse-dir", "", "B", "-o", "out"], "argument dir_a"),
    (["fuse-dir", "--pairs", "", "-o", "out"], "argument --pairs"),
    (["fuse-volume", "", "b.nii", "-o", "o.nii"], "argument a"),
    (["fuse-video", "A/x.png", "", "-o", "o.mp4"], "argument b"),
    (["export-onnx", "-o", ""], "argument -o/--out"),
    (["benchmark", "--out", "", "--data-root", "A"], "argument -o/--out"),
    (["benchmark", "--cache", "", "--data-root", "A"], "argument --cache"),
    (["benchmark", "--data-root", ""], "argument --data-root"),
])
def test_empty_path_arguments_are_usage_errors(tmp_path, folders, capsys, monkeypatch, argv, option):
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_one_line_error(capsys, argv, f"{argv[0]}: {option}: must not be empty")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_pairs_list_through_a_pipe_is_named_as_such(tmp_path, capsys):
    r, w = os.pipe()
    try:
        os.write(w, b"a,b\nx.png,y.png\n")
        os.close(w)
        assert_one_line_error(capsys, ["fuse-dir", "--pairs", f"/dev/fd/{r}", "-o", str(tmp_path / "out"),
                                       "--method", "average"],
                              f"/dev/fd/{r}: pairs list is a FIFO (named pipe), not a file (its relative paths are "
                              "taken from its folder; save it to a file first)")
    finally:
        os.close(r)
    assert not (tmp_path / "out").exists()


def test_pairs_list_that_is_a_folder(tmp_path, folders, capsys):
    assert_one_line_error(capsys, ["fuse-dir", "--pairs", str(folders[0]), "-o", str(tmp_path / "out"),
                                   "--method", "average"],
                          f"{folders[0]}: pairs list is a folder, not a CSV file of rows a,b[,out]")


def test_looping_links_are_named_looping(tmp_path, folders, capsys):
    from mutualfuse.cli import main

    da, db = folders
    (da / "p.png").symlink_to("q.png")
    (da / "q.png").symlink_to("p.png")
    rc = main(["fuse-dir", str(da), str(db), "-o", str(tmp_path / "out"), "--method", "average", "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert f"  {da / 'p.png'}: is a looping symbolic link (to q.png, which leads back to it)" in err.splitlines()
    assert f"  {da / 'q.png'}: is a looping symbolic link (to p.png, which leads back to it)" in err.splitlines()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.png"]


def test_dangling_link_is_still_named_broken(tmp_path, folders, capsys):
    """The control of the test above: a link to a missing file keeps its wording."""
    from mutualfuse.cli import main

    da, db = folders
    (da / "p.png").symlink_to("gone.png")
    assert main(["fuse-dir", str(da), str(db), "-o", str(tmp_path / "out"), "--method", "average", "-q"]) == 2
    assert f"  {da / 'p.png'}: is a broken symbolic link (to gone.png, which does not exist)" in \
        capsys.readouterr().err.splitlines()
