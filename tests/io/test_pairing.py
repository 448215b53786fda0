"""How two folders become pairs (mutualfuse.io.pairing), as fuse-dir uses it."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from mutualfuse.io.pairing import match_files, pair_key, read_pairs_csv


def _png(path: Path, seed: int = 0, size=(12, 16)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8)).save(path)
    return path


def test_same_name_first_then_stem():
    a = [Path("A/1.png"), Path("A/2.png"), Path("A/3.png"), Path("A/IM.0001")]
    b = [Path("B/1.png"), Path("B/1.jpg"), Path("B/2.JPG"), Path("B/4.png"), Path("B/IM.0001")]
    m = match_files(a, b)
    assert [(x.name, y.name) for x, y in m.pairs] == [("1.png", "1.png"), ("2.png", "2.JPG"), ("IM.0001", "IM.0001")]
    assert [p.name for p in m.only_a] == ["3.png"]
    assert sorted(p.name for p in m.only_b) == ["1.jpg", "4.png"]  # 1.png paired by name: 1.jpg is left over
    assert m.ambiguous == {}


def test_two_files_of_one_stem_pair_with_nothing():
    m = match_files([Path("A/5.png")], [Path("B/5.jpg"), Path("B/5.bmp")])
    assert m.pairs == [] and m.only_a == [] and m.only_b == []
    assert m.ambiguous == {"5": [Path("A/5.png"), Path("B/5.bmp"), Path("B/5.jpg")]}
    m = match_files([Path("A/6.png"), Path("A/6.tif")], [])
    assert list(m.ambiguous) == ["6"]


def test_pair_key_keeps_names_without_an_image_suffix():
    assert pair_key(Path("x/0001.PNG")) == "0001"
    assert pair_key(Path("x/IM.0001")) == "IM.0001"  # DICOM found by its magic: the whole name
    assert pair_key(Path("x/scan.dcm")) == "scan"


def test_read_pairs_csv_rows_and_problems(tmp_path):
    lst = tmp_path / "l.csv"
    lst.write_text("a,b\n# comment\n\nx/1.png,y/1.png,out/1.png\nonly-one\n/abs/a.png,/abs/b.png\n")
    rows, bad = read_pairs_csv(lst)
    assert [(r.line, r.a, r.b, r.out) for r in rows] == [
        (4, tmp_path / "x/1.png", tmp_path / "y/1.png", "out/1.png"), (6, Path("/abs/a.png"), Path("/abs/b.png"), None)]
    assert bad == [(5, "row needs at least two columns a,b")]


def test_fuse_dir_pairs_png_with_jpeg_and_reports_ambiguous_names(tmp_path, capsys):
    """ir/0001.png + vis/0001.jpg is a pair (datasets store IR as PNG, visible as JPEG); two
    visible files of one name pair with nothing, and fuse-dir says so (exit 2)."""
    from mutualfuse.cli import main

    _png(tmp_path / "ir" / "0001.png", 1)
    _png(tmp_path / "vis" / "0001.jpg", 2)
    _png(tmp_path / "ir" / "0002.png", 3)
    _png(tmp_path / "vis" / "0002.png", 4)
    rc = main(["fuse-dir", str(tmp_path / "ir"), str(tmp_path / "vis"), "-o", str(tmp_path / "out"),
               "--method", "average", "-q"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(os.listdir(tmp_path / "out")) == ["0001.png", "0002.png"]
    _png(tmp_path / "ir" / "0003.png", 5)
    _png(tmp_path / "vis" / "0003.jpg", 6)
    _png(tmp_path / "vis" / "0003.bmp", 7)
    capsys.readouterr()
    rc = main(["fuse-dir", str(tmp_path / "ir"), str(tmp_path / "vis"), "-o", str(tmp_path / "out"),
               "--method", "average", "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "share the name '0003'" in err and "0003.bmp" in err and "0003.jpg" in err
    assert "Traceback" not in err
    assert sorted(os.listdir(tmp_path / "out")) == ["0001.png", "0002.png"]


def _dicom_helper():
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    try:
        from test_io_read import _dicom
    finally:
        sys.path.pop(0)
    return _dicom


def test_evaluate_scores_dicom_sources_as_fuse_read_them(tmp_path, capsys):
    """fuse-dir on DICOM slices (any name) writes PNGs; evaluate pairs them back with the DICOM
    sources (IM.0002 ↔ IM.0002.png) and reads each source as fuse read it (VOI window), so F = A
    scores A's self-similarity; the reading is said in a note."""
    from mutualfuse.cli import main
    from mutualfuse.evaluation import read_gray
    from mutualfuse.image_io import header_size, read_image, write_image

    _dicom = _dicom_helper()
    rng = np.random.default_rng(5)
    for d in ("A", "B"):
        (tmp_path / d).mkdir()
        for n in ("IM0001", "IM.0002", "s3.dcm"):
            _dicom(tmp_path / d / n, rng.integers(0, 4096, (40, 48)).astype(np.uint16), WindowCenter=1500, WindowWidth=2000)
    assert header_size(tmp_path / "A" / "IM.0002") == (48, 40)  # (width, height) from the header
    win, _ = read_image(tmp_path / "A" / "IM0001")
    g = read_gray(tmp_path / "A" / "IM0001")
    assert g.dtype == np.float64 and np.allclose(g, win * 255.0)
    rc = main(["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(tmp_path / "F"), "--method", "average", "-q"])
    assert rc == 0, capsys.readouterr().err
    (tmp_path / "G").mkdir()
    for n in ("IM0001", "IM.0002", "s3.dcm"):  # F = A as fuse read it, stored in 16 bits
        x, _ = read_image(tmp_path / "A" / n)
        write_image(tmp_path / "G" / (Path(n).stem if n.endswith(".dcm") else n) .__add__(".png"), x, bit_depth=16)
    capsys.readouterr()
    out = tmp_path / "r.json"
    rc = main(["evaluate", "--a", str(tmp_path / "A"), "--b", str(tmp_path / "B"), "--fused", str(tmp_path / "F"),
               "--fused", str(tmp_path / "G"), "--metrics", "Qabf", "SSIM@vifb", "-o", str(out)])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "note: 6 DICOM source(s) read as `mutualfuse fuse` reads them" in cap.err
    import json

    res = json.loads(out.read_text())
    text = json.dumps(res)
    for n in ("IM0001", "IM.0002", "s3"):
        assert n in text
    assert "Traceback" not in cap.err
    for n in ("IM0001", "IM.0002", "s3"):
        # SSIM@vifb = SSIM(A, F) + SSIM(B, F): F = A on the same scale gives 1 + SSIM(B, A) ≈ 1 (noise)
        assert 0.97 < res["methods"]["G"]["images"][n]["SSIM@vifb"] < 1.05
        assert res["methods"]["F"]["images"][n]["SSIM@vifb"] > 1.2  # the average is like both
    assert "Traceback" not in cap.err
