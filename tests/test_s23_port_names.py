"""fuse-dir output names on macOS and Windows, simulated on Linux (not run there).

* A case-folding file system (APFS, NTFS by default) takes ``P.png`` and ``p.png`` as one file:
  two pairs whose outputs differ only in case overwrote each other (or the second was skipped as
  "already done"). The file system is probed (:func:`mutualfuse.io.pairing.folds_case`); the tests
  make that probe answer "folds" and check the refusal.
* Windows cannot hold some output names a pairs list may give (``CON.png``, ``x:y.png``); and on
  Windows ``C:x.png`` / ``\\x.png`` are not absolute, so ``out / rel`` left the output folder.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np
import pytest
from PIL import Image

import mutualfuse.io.pairing as pairing
from mutualfuse.cli import main


def _img(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(path)


def _failures(err: str) -> list[str]:
    return [ln.strip() for ln in err.replace("\r", "\n").splitlines() if ln.startswith("  ")]


def test_outputs_differing_only_in_case_refused_on_a_case_folding_file_system(tmp_path, monkeypatch, capfd):
    da, db, out = tmp_path / "A", tmp_path / "B", tmp_path / "out"
    da.mkdir()
    db.mkdir()
    for i, name in enumerate(("P.png", "p.png", "q.png")):
        _img(da / name, i)
        _img(db / name, 10 + i)
    # what the probe says on APFS / NTFS (this Linux file system keeps both names apart)
    monkeypatch.setattr(pairing, "folds_case", lambda folder: True, raising=False)
    rc = main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average"])
    o, err = capfd.readouterr()
    assert rc == 2, (o, err)
    assert o.startswith("fused 2, skipped 0 already done, failed 1 "), o
    lines = _failures(err)
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{da / 'p.png'}: output {out / 'p.png'} would also be written by the pair of "
                               f"{da / 'P.png'} as {out / 'P.png'} (this file system does not tell names apart "
                               "by case"), lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["P.png", "q.png"]


def test_outputs_differing_only_in_case_kept_where_the_file_system_tells_them_apart(tmp_path, capfd):
    da, db, out = tmp_path / "A", tmp_path / "B", tmp_path / "out"
    da.mkdir()
    db.mkdir()
    for i, name in enumerate(("P.png", "p.png")):
        _img(da / name, i)
        _img(db / name, 10 + i)
    assert main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average"]) == 0
    capfd.readouterr()
    assert sorted(p.name for p in out.iterdir()) == ["P.png", "p.png"]


def test_case_probe(tmp_path, monkeypatch):
    assert pairing.folds_case(tmp_path) is False  # this file system (Linux tmp) is case-sensitive
    assert pairing.folds_case(tmp_path / "not" / "yet") is False  # the nearest existing folder is probed
    assert list(tmp_path.iterdir()) == []  # the probe's file is removed
    real = os.path.exists

    def folding_exists(p):  # a lookup as a case-folding file system answers it
        d, n = os.path.split(p)
        return real(p) or any(x.lower() == n.lower() for x in os.listdir(d or "."))

    monkeypatch.setattr(os.path, "exists", folding_exists)
    assert pairing.folds_case(tmp_path) is True
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_folded_name():
    nfc, nfd = "caf\u00e9.png", "cafe\u0301.png"
    assert pairing.folded_name("Out/CAF\u00c9.PNG") == pairing.folded_name("out/" + nfd) == pairing.folded_name("out/" + nfc)
    assert pairing.folded_name("stra\u00dfe.png") != pairing.folded_name("strasse.png")  # no full case folding


@pytest.mark.parametrize("name, why", [
    ("CON.png", "'CON' is a device name"), ("nul.tif", "'nul' is a device name"), ("com1.png", "device name"),
    ("x:y.png", "holds ':'"), ("a?.png", "holds '?'"), ("a|b<c.png", "holds '<' '|'"), ("x.png.", "ends with a dot"),
    ("tab\t.png", "holds '\\t'"),
])
def test_windows_name_problem(name, why):
    assert why in pairing.windows_name_problem(name)


@pytest.mark.parametrize("name", ["0001.png", "console.png", "CON1.png", "com0.png", "a b.png", "été.png"])
def test_windows_name_accepted(name):
    assert pairing.windows_name_problem(name) is None


def test_pairs_list_outputs_windows_cannot_hold_refused_on_windows(tmp_path, monkeypatch, capfd):
    from mutualfuse.cli import fuse_dir

    _img(tmp_path / "a.png", 1)
    _img(tmp_path / "b.png", 2)
    lst = tmp_path / "pairs.csv"
    lst.write_text("a,b,out\na.png,b.png,CON.png\na.png,b.png,x:y.png\na.png,b.png,sub?/z.png\na.png,b.png,ok.png\n")
    out = tmp_path / "out"
    monkeypatch.setattr(fuse_dir, "on_windows", lambda: True, raising=False)  # as on Windows
    rc = main(["fuse-dir", "--pairs", str(lst), "-o", str(out), "--method", "average"])
    o, err = capfd.readouterr()
    assert rc == 2, (o, err)
    assert o.startswith("fused 1, skipped 0 already done, failed 3 "), o
    lines = _failures(err)
    assert [re.sub(r":.*", "", ln.split(": output ", 1)[1].split(out.name + os.sep, 1)[1]) for ln in lines] == \
        ["CON.png", "x", "sub?/z.png"], lines
    assert "'CON' is a device name on Windows" in lines[0] and "holds ':'" in lines[1] and "holds '?'" in lines[2]
    assert sorted(p.name for p in out.iterdir()) == ["ok.png"]


def test_pairs_list_output_anchored_on_windows_is_outside_the_output_folder():
    from mutualfuse.cli.fuse_dir import outside_out

    # the bug: not absolute on Windows, and joining them onto the output folder leaves it
    assert not PureWindowsPath("C:x.png").is_absolute() and PureWindowsPath("out") / "C:x.png" == PureWindowsPath("C:x.png")
    assert PureWindowsPath("out") / "\\x.png" == PureWindowsPath("\\x.png")
    for rel in ("C:x.png", "\\x.png", "/x.png", "C:\\x.png", "..\\x.png", "sub\\..\\..\\x.png"):
        assert outside_out(rel, PureWindowsPath), rel
    for rel in ("x.png", "sub\\x.png", "sub/x.png"):
        assert not outside_out(rel, PureWindowsPath), rel
    assert not outside_out("C:x.png", PurePosixPath)  # a plain file name on Linux and macOS
    assert outside_out("/x.png", PurePosixPath) and outside_out("../x.png", PurePosixPath)
    assert sys.platform != "win32" or outside_out("C:x.png")
