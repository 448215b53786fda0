"""``mutualfuse demo``: nothing written (not even its folder) when it cannot do the work."""
from __future__ import annotations

import pytest
from one_line_error import assert_one_line_error  # tests/ is on sys.path

from mutualfuse.cli import main


def test_an_output_it_cannot_write_is_refused_before_any_pair_is_fused(tmp_path, capsys):
    """The third pair's output being a folder was found after the first two were fused and
    written (exit 2 beside two new files)."""
    out = tmp_path / "demo"
    (out / "tno-01-fused.png").mkdir(parents=True)
    assert_one_line_error(capsys, ["demo", "-o", str(out), "--device", "cpu"], "tno-01-fused.png", "directory")
    assert sorted(p.name for p in out.iterdir()) == ["tno-01-fused.png"]


def test_a_failure_before_any_output_leaves_no_new_folder(tmp_path, capsys, monkeypatch):
    """Weights that cannot be loaded (here: missing from the installation) left the new, empty
    output folder (and its new parents) behind."""
    import mutualfuse.weights as W

    monkeypatch.setattr(W, "HERE", tmp_path / "no-weights-here")
    out = tmp_path / "new" / "demo"
    assert_one_line_error(capsys, ["demo", "-o", str(out), "--device", "cpu"], "missing from the installation")
    assert not (tmp_path / "new").exists()
    existing = tmp_path / "mine"
    existing.mkdir()
    assert_one_line_error(capsys, ["demo", "-o", str(existing), "--device", "cpu"], "missing from the installation")
    assert existing.is_dir()  # a folder that was there stays


def test_a_broken_link_as_the_output_folder_says_so(tmp_path, capsys):
    """Was "cannot create output folder (File exists)"."""
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "gone" / "demo")
    assert_one_line_error(capsys, ["demo", "-o", str(link), "--device", "cpu", "--pair", "tno-01"],
                       "broken symbolic link")
    assert not (tmp_path / "gone").exists()


def test_an_unwritable_folder_names_a_file_the_demo_writes(tmp_path, capsys, monkeypatch):
    """The check named ``demo.png``, a file the demo never writes."""
    import tempfile

    real = tempfile.mkstemp
    out = tmp_path / "demo"
    out.mkdir()

    def read_only(*a, dir=None, **k):  # a read-only folder (the tests may run as root)
        if dir is not None and str(dir) == str(out):
            raise PermissionError(13, "Permission denied")
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    rc = main(["demo", "-o", str(out), "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 2 and "Permission denied" in err and "demo.png" not in err and "-fused.png" in err, err
