"""Training on one's own data as public sets lay it out: role folders named as MSRS, LLVIP,
KAIST or the medical sets name them, PNG beside JPEG, DICOM slices, a CSV pairs list, and
``data.roles`` for any other names; every refusal one line, before anything is written."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from mutualfuse.train.data import find_pairs, role_folders
from train_cli_helpers import cfg as _cfg
from train_cli_helpers import png as _png
from train_cli_helpers import refused as _refused
from train_cli_helpers import train as _train


def _set(root: Path, first: str, second: str, n: int = 4, ext_a: str = ".png", ext_b: str = ".png") -> Path:
    for i in range(n):
        _png(root / first / f"{i:03d}{ext_a}", 24, 32, 2 * i)
        _png(root / second / f"{i:03d}{ext_b}", 24, 32, 2 * i + 1)
    return root


@pytest.mark.parametrize("first,second", [("ir", "vi"), ("Infrared", "Visible"), ("lwir", "visible"),
                                          ("IR", "VIS"), ("CT", "MRI"), ("PET", "MRI"), ("A", "B")])
def test_known_layouts_are_found_first_role_first(tmp_path, first, second):
    _set(tmp_path / "s", first, second)
    da, db = role_folders(tmp_path / "s")
    assert (da.name, db.name) == (first, second)
    pairs = find_pairs(tmp_path / "s")
    assert [(a.parent.name, b.parent.name) for a, b in pairs] == [(first, second)] * 4


def test_png_pairs_with_jpeg_and_dicom_slices_pair_by_name(tmp_path):
    _set(tmp_path / "s", "ir", "vis", ext_b=".jpg")
    assert [(a.name, b.name) for a, b in find_pairs(tmp_path / "s")] == [(f"{i:03d}.png", f"{i:03d}.jpg") for i in range(4)]
    sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
    try:
        from test_io_read import _dicom
    finally:
        sys.path.pop(0)
    rng = np.random.default_rng(0)
    for d in ("ct", "mri"):
        (tmp_path / "m" / d).mkdir(parents=True)
        for i in range(3):
            _dicom(tmp_path / "m" / d / f"IM{i:04d}", rng.integers(0, 4096, (24, 32)).astype(np.uint16))
    assert [(a.name, b.parent.name) for a, b in find_pairs(tmp_path / "m")] == [(f"IM{i:04d}", "mri") for i in range(3)]


def test_training_runs_on_layouts_roles_and_a_csv_list(tmp_path, capsys):
    """One run over an MSRS-style set (ir/ + vi/, PNG + JPEG), DICOM CT/MR slices, a set with
    its own folder names (data.roles) and a Lytro-style CSV list; split.json names every pair."""
    root = tmp_path / "d"
    _set(root / "msrs", "ir", "vi", ext_b=".jpg")
    _set(root / "own", "Left", "Right")
    for i in range(3):
        _png(root / "lytro" / "full" / f"lytro-{i:02d}-A.png", 24, 32, 40 + i)
        _png(root / "lytro" / "full" / f"lytro-{i:02d}-B.png", 24, 32, 50 + i)
    (root / "lytro" / "pairs.csv").write_text(
        "a,b\n# Lytro names its sources by suffix\n"
        + "".join(f"full/lytro-{i:02d}-A.png,full/lytro-{i:02d}-B.png\n" for i in range(3)))
    c = _cfg(tmp_path / "c.json", tmp_path / "out", **{"data.sets": ["msrs", "lytro/pairs.csv"]})
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root))
    assert rc == 0, err
    split = json.loads((tmp_path / "out" / "split.json").read_text())
    assert split["sets"] == {"msrs": 4, "lytro/pairs.csv": 3}
    names = sorted(split["train_pairs"] + split["val_pairs"])
    assert names == sorted([f"msrs/{i:03d}.png" for i in range(4)]
                           + [f"lytro/pairs.csv/full/lytro-{i:02d}-A.png" for i in range(3)])
    c = _cfg(tmp_path / "c2.json", tmp_path / "out2", **{"data.sets": ["own"], "data.roles": ["Left", "Right"]})
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root))
    assert rc == 0, err


@pytest.mark.parametrize("make,over,must", [
    (lambda r: _set(r / "s", "Left", "Right"), {}, ["no role folders found (subfolders: Left, Right)", "data.roles"]),
    (lambda r: (_set(r / "s", "ir", "vis"), _set(r / "s", "a", "b")), {}, ["more than one pair of role folders",
                                                                            "ir/vis", "a/b", "data.roles"]),
    (lambda r: _set(r / "s", "ir", "vis"), {"data.roles": ["ir", "thermal"]}, ["no role folder 'thermal'",
                                                                               "subfolders: ir, vis"]),
    (lambda r: _set(r / "s", "ir", "vis"), {"data.roles": ["ir"]}, ["data.roles must be"]),
    (lambda r: _set(r / "s", "ir", "vis"), {"data.roles": ["ir", "ir"]}, ["data.roles must be"]),
    (lambda r: _set(r / "s", "ir", "vis"), {"data.roles": ["ir", "../x"]}, ["data.roles must be"]),
    (lambda r: (_set(r / "s", "ir", "vis", ext_b=".jpg"), _png(r / "s" / "vis" / "001.bmp", 24, 32, 9)), {},
     ["vis/001.bmp, vis/001.jpg share the name '001'"]),
    (lambda r: (_set(r / "t", "ir", "vis"), (r / "s.csv").write_text("t/ir/000.png,t/vis/000.png\nt/ir/001.png,t/vis/nope.png\n")),
     {"data.sets": ["s.csv"]}, ["s.csv:2:", "nope.png not found"]),
    (lambda r: (_set(r / "t", "ir", "vis"), (r / "s.csv").write_text("t/ir/000.png,t/vis/000.png\nt/ir/000.png,t/vis/001.png\n")),
     {"data.sets": ["s.csv"]}, ["s.csv:2:", "already the first image of line 1"]),
    (lambda r: (r.mkdir(parents=True), (r / "s.csv").write_text("only-a\n")), {"data.sets": ["s.csv"]},
     ["s.csv:1: row needs at least two columns a,b"]),
])
def test_layout_refusals_are_one_line_before_any_output(tmp_path, capsys, make, over, must):
    root = tmp_path / "d"
    make(root)
    c = _cfg(tmp_path / "c.json", tmp_path / "out", **over)
    _refused(capsys, ["--config", str(c), "--data-root", str(root)], must)
    assert not (tmp_path / "out").exists()


def test_a_set_given_with_a_trailing_slash_names_its_pairs_once_slashed(tmp_path, capsys):
    root = tmp_path / "d"
    _set(root / "thermal", "ir", "vis")
    c = _cfg(tmp_path / "c.json", tmp_path / "out", **{"data.sets": [str(root / "thermal") + "/"]})
    rc, _, err = _train(capsys, "--config", str(c), "--data-root", str(root))
    assert rc == 0, err
    split = json.loads((tmp_path / "out" / "split.json").read_text())
    assert all("//" not in n for n in split["train_pairs"] + split["val_pairs"])
