"""s24: fuse-dir (and train, evaluate) pair files by name, and names were compared as stored:
``café.png`` written on macOS (NFD: ``e`` + a combining accent) and ``café.png`` written on Linux
(NFC: one ``é``) did not pair ("no file named café.png in B", twice). Names are now compared in
NFC; the files are read by their real names, the output is named after the A file as stored;
two files of one folder whose names differ only in their Unicode form are a one-line error."""
from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from one_line_error import assert_one_line_error

NFC = unicodedata.normalize("NFC", "café")
NFD = unicodedata.normalize("NFD", "café")


def _png(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (20, 16), dtype=np.uint8)).save(path)
    return path


def _forms_kept(folder: Path) -> None:
    """Skip where the file system itself normalises names (macOS APFS/HFS+): the case cannot arise."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".{NFD}.probe"
    probe.write_bytes(b"")
    try:
        if NFD not in "".join(os.listdir(folder)) or (folder / f".{NFC}.probe").exists():
            pytest.skip("this file system normalises Unicode names")
    finally:
        probe.unlink()


def test_match_files_pairs_nfc_with_nfd_and_keeps_real_paths():
    from mutualfuse.io.pairing import match_files

    a, b = Path(f"A/{NFC}.png"), Path(f"B/{NFD}.png")
    m = match_files([a, Path("A/x.png")], [b, Path("B/x.png")])
    assert m.pairs == [(a, b), (Path("A/x.png"), Path("B/x.png"))]  # the real paths, sorted by A's name
    assert m.only_a == m.only_b == [] and m.ambiguous == {}
    # by the name without suffix too (IR as PNG, visible as JPEG), either way round
    m = match_files([Path(f"A/{NFD}.png")], [Path(f"B/{NFC}.jpg")])
    assert m.pairs == [(Path(f"A/{NFD}.png"), Path(f"B/{NFC}.jpg"))]


def test_match_files_refuses_two_forms_of_one_name_in_a_folder():
    from mutualfuse.errors import InputError
    from mutualfuse.io.pairing import match_files

    with pytest.raises(InputError, match="same name in two Unicode forms") as e:
        match_files([Path(f"A/{NFC}.png"), Path(f"A/{NFD}.png")], [Path(f"B/{NFC}.png")])
    assert "\n" not in str(e.value) and "caf\\xe9.png" in str(e.value) and "cafe\\u0301.png" in str(e.value)


@pytest.mark.parametrize("a_form,b_form", [(NFC, NFD), (NFD, NFC)])
def test_fuse_dir_pairs_across_forms(tmp_path, capsys, a_form, b_form):
    from mutualfuse.cli import main

    _forms_kept(tmp_path)
    a = _png(tmp_path / "A" / f"{a_form}.png", 1)
    b = _png(tmp_path / "B" / f"{b_form}.png", 2)
    _png(tmp_path / "A" / "plain.png", 3)
    _png(tmp_path / "B" / "plain.png", 4)
    out = tmp_path / "OUT"
    rc = main(["fuse-dir", str(a.parent), str(b.parent), "-o", str(out), "--method", "average"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert sorted(os.listdir(out)) == sorted([f"{a_form}.png", "plain.png"])  # A's name, as stored
    fused = np.asarray(Image.open(out / f"{a_form}.png"), dtype=np.float64)
    want = (np.asarray(Image.open(a), dtype=np.float64) + np.asarray(Image.open(b), dtype=np.float64)) / 2
    assert np.abs(fused - want).max() <= 1.0  # the average of these two files (8-bit rounding)
    # a second run finds it done (resumable under the same name)
    rc = main(["fuse-dir", str(a.parent), str(b.parent), "-o", str(out), "--method", "average"])
    assert rc == 0 and "skipped 2 already done" in capsys.readouterr().out


def test_fuse_dir_refuses_a_folder_with_both_forms(tmp_path, capsys):
    _forms_kept(tmp_path)
    _png(tmp_path / "A" / f"{NFC}.png", 1)
    _png(tmp_path / "A" / f"{NFD}.png", 2)
    _png(tmp_path / "B" / f"{NFC}.png", 3)
    out = tmp_path / "OUT"
    assert_one_line_error(capsys, ["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(out),
                                   "--method", "average"], "same name in two Unicode forms", str(tmp_path / "A"))
    assert not out.exists() or not os.listdir(out)
