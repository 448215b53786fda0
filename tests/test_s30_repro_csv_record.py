"""s30 reproduction audit: ``evaluate --out X.csv`` records how it was scored.

The CSV held the values only: a reader could not tell which mutualfuse version scored it, each
column's reference code and convention, the gray conversion or how the sources were read (the JSON
output said most of it, but only when asked for, and never the version). Now a sidecar
``X.csv.meta.json`` is written with every CSV (all or none with the other outputs), the JSON output
names the version too, and the CSV itself is unchanged (a ``#`` line would break
``pandas.read_csv``'s defaults)."""
from __future__ import annotations

import csv
import json

import numpy as np
from PIL import Image

import mutualfuse
from mutualfuse.cli import main

RNG = np.random.default_rng(31)


def _folders(tmp_path):
    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
    for n in ("01", "02"):
        a = RNG.integers(0, 256, (40, 48), dtype=np.uint8)
        b = RNG.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(a).save(tmp_path / "a" / f"{n}.png")
        Image.fromarray(b).save(tmp_path / "b" / f"{n}.png")
        Image.fromarray(((a.astype(int) + b[..., 1]) // 2).astype(np.uint8)).save(tmp_path / "f" / f"{n}.png")
    return ["evaluate", "-q", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f")]


def test_a_csv_comes_with_a_record_of_how_it_was_scored(tmp_path, capsys):
    base = _folders(tmp_path)
    out = tmp_path / "r.csv"
    assert main(base + ["--metrics", "EN@vifb", "Qsf@liu", "-o", str(out), "-o", str(tmp_path / "r.json")]) == 0
    capsys.readouterr()
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["method", "folder", "image", "EN@vifb", "Qsf@liu"]  # the CSV itself: a plain table
    assert len(rows) == 4 and all(not r[0].startswith("#") for r in rows)
    side = tmp_path / "r.csv.meta.json"
    doc = json.loads(side.read_text())
    assert doc["mutualfuse_version"] == mutualfuse.__version__
    assert doc["csv"] == "r.csv"
    assert list(doc["metrics"]) == ["EN@vifb", "Qsf@liu"]
    assert doc["metrics"]["Qsf@liu"]["convention"] and doc["metrics"]["Qsf@liu"]["reference"]
    assert doc["metrics"]["Qsf@liu"]["direction"] == "zero"
    assert "rgb2gray" in doc["gray_conversion"] and doc["colour_images"] == {"sources": 2, "fused": 0}
    assert doc["sources_read"].startswith("stored scale")
    assert json.loads((tmp_path / "r.json").read_text())["mutualfuse_version"] == mutualfuse.__version__


def test_the_sidecar_is_refused_up_front_as_every_output_is(tmp_path, capsys):
    from one_line_error import assert_one_line_error

    base = _folders(tmp_path)
    (tmp_path / "r.csv.meta.json").mkdir()  # the sidecar's path is a folder: refused before any metric
    err = assert_one_line_error(capsys, base + ["--metrics", "EN@vifb", "-o", str(tmp_path / "r.csv")],
                                "r.csv.meta.json", "directory")
    assert "Traceback" not in err
    assert not (tmp_path / "r.csv").exists()
