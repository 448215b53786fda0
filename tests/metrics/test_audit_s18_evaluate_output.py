"""``mutualfuse evaluate`` on a researcher's own folders (audit s18): its outputs and messages.

- An image named ``mean`` kept its own row: the mean row overwrote its values in the table, the
  CSV and the JSON (the CSV then held the mean twice).
- ``--out`` is written before the table is printed: ``evaluate ... --out r.csv | head`` stopped at
  the broken pipe after every metric was computed and left no file.
- Two files sharing a name in one folder (``01.png`` and ``01.jpg``): the error named only one.
- A float TIFF *source* was refused with advice for fused images; ``--normalize`` reads it.
- The note on undefined (NaN) values names the metrics and images, not only their count.
"""
from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
from PIL import Image

import mutualfuse.metrics as M
from mutualfuse.cli import main


def _pair(seed, h=48, w=56):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    a = np.clip(60 + 2 * x + rng.normal(0, 9, (h, w)), 0, 255).astype(np.uint8)
    b = np.clip(200 - 2 * y + rng.normal(0, 9, (h, w)), 0, 255).astype(np.uint8)
    return a, b


def _folders(root, names, fused=lambda a, b, n: np.maximum(a, b)):
    """Sources and one fused folder ``f``; returns the arrays per name."""
    for d in ("a", "b", "f"):
        (root / d).mkdir(parents=True, exist_ok=True)
    arrays = {}
    for i, n in enumerate(names):
        a, b = _pair(i)
        f = fused(a, b, n)
        for d, x in (("a", a), ("b", b), ("f", f)):
            Image.fromarray(x).save(root / d / f"{n}.png")
        arrays[n] = (a, b, f)
    return arrays


def _args(root, *more):
    return ["evaluate", "--a", str(root / "a"), "--b", str(root / "b"), "--fused", str(root / "f"), *more]


def test_an_image_named_mean_keeps_its_own_values(tmp_path, capsys):
    arrays = _folders(tmp_path, ["01", "mean", "zz"])
    keys = ["SF@vifb", "Qabf@vifb"]
    csv_out, json_out = tmp_path / "r.csv", tmp_path / "r.json"
    assert main(_args(tmp_path, "--metrics", *keys, "-o", str(csv_out))) == 0
    out, err = capsys.readouterr()
    assert main(_args(tmp_path, "--metrics", *keys, "-o", str(json_out), "-q")) == 0
    direct = {n: {k: M.METRICS.get(k)(*arrays[n]) for k in keys} for n in arrays}
    mean = {k: float(np.mean([direct[n][k] for n in ("01", "mean", "zz")])) for k in keys}

    rows = list(csv.DictReader(open(csv_out)))
    assert [r["image"] for r in rows] == ["01", "mean", "zz", "mean"]  # the mean row is the last
    for k in keys:
        assert float(rows[1][k]) == direct["mean"][k]
        assert float(rows[3][k]) == mean[k]
    doc = json.loads(json_out.read_text())["methods"]["f"]
    for k in keys:
        assert doc["images"]["mean"][k] == direct["mean"][k]
        assert doc["mean"][k] == mean[k]
    table_rows = [line.split() for line in out.splitlines() if line.startswith("f ")]
    assert [r[1] for r in table_rows] == ["01", "mean", "zz", "mean"]
    assert float(table_rows[1][2].rstrip("*")) == pytest.approx(direct["mean"]["SF@vifb"], abs=1e-4)
    assert "an image is named 'mean'" in err


def test_out_is_written_before_the_table_so_a_closed_pipe_keeps_it(tmp_path, monkeypatch, capsys):
    """`evaluate ... --out r.csv | head -1`: the reader leaves, the table's write fails (exit 141);
    the results file is complete all the same."""
    import io

    _folders(tmp_path, ["01", "02"])
    out = tmp_path / "r.csv"
    r, w = os.pipe()
    os.close(r)  # the reader has gone
    closed = io.TextIOWrapper(io.FileIO(w, "w"), line_buffering=True)
    monkeypatch.setattr("sys.stdout", closed)
    try:
        rc = main(_args(tmp_path, "--metrics", "SF@vifb", "-q", "-o", str(out)))
    finally:
        monkeypatch.undo()
        try:
            closed.close()
        except OSError:
            pass
    assert rc == 141
    rows = list(csv.DictReader(open(out)))
    assert [r["image"] for r in rows] == ["01", "02", "mean"]


def test_two_files_sharing_a_name_are_both_named(tmp_path, capsys):
    _folders(tmp_path, ["01", "02"])
    Image.open(tmp_path / "f" / "01.png").save(tmp_path / "f" / "01.jpg")
    assert main(_args(tmp_path, "--metrics", "SF@vifb", "-q")) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "01.jpg and 01.png" in err and str(tmp_path / "f") in err, err


def test_extension_and_case_differences_pair_by_name(tmp_path, capsys):
    """01.png (sources) with 01.PNG / 01.bmp (fused): paired, values as the metric functions give."""
    arrays = _folders(tmp_path, ["01", "02"])
    Image.open(tmp_path / "f" / "01.png").save(tmp_path / "f" / "01.PNG.tmp", format="PNG")
    os.remove(tmp_path / "f" / "01.png")
    os.rename(tmp_path / "f" / "01.PNG.tmp", tmp_path / "f" / "01.PNG")
    Image.open(tmp_path / "f" / "02.png").save(tmp_path / "f" / "02.bmp")
    os.remove(tmp_path / "f" / "02.png")
    out = tmp_path / "r.csv"
    assert main(_args(tmp_path, "--metrics", "Qabf@vifb", "-q", "-o", str(out))) == 0
    rows = list(csv.DictReader(open(out)))
    for r in rows[:2]:
        assert float(r["Qabf@vifb"]) == M.METRICS.get("Qabf@vifb")(*arrays[r["image"]])


def test_a_float_source_error_points_to_normalize(tmp_path, capsys):
    tifffile = pytest.importorskip("tifffile")
    _folders(tmp_path, ["01"])
    a = np.asarray(Image.open(tmp_path / "a" / "01.png"))
    os.remove(tmp_path / "a" / "01.png")
    tifffile.imwrite(tmp_path / "a" / "01.tif", a.astype(np.float32) / 255)
    assert main(_args(tmp_path, "--metrics", "SF@vifb", "-q")) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "01.tif" in err and "float" in err and "--normalize" in err, err
    assert "fused image" not in err  # the advice for a fused file does not fit a source
    assert main(_args(tmp_path, "--metrics", "SF@vifb", "-q", "--normalize", "auto")) == 0


def test_nan_note_names_the_metric_and_the_image(tmp_path, capsys):
    """Q_CB of an all-black fused image is NaN (0/0): the note says which metric, which image."""
    _folders(tmp_path, ["01", "02"], fused=lambda a, b, n: np.zeros_like(a) if n == "02" else np.maximum(a, b))
    assert main(_args(tmp_path, "--metrics", "Qcb@vifb", "SF@vifb")) == 0
    out, err = capsys.readouterr()
    notes = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("note:")]
    assert len(notes) == 1, err
    assert "1 value(s) are NaN" in notes[0] and "Qcb@vifb for 02" in notes[0], notes
    assert "SF@vifb" not in notes[0]
