"""``mutualfuse evaluate``: pairing, table, CSV/JSON, parallel workers, one-line errors."""
from __future__ import annotations

import argparse
import csv
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from metrics_shared import SHARED, needs_shared

import mutualfuse.metrics as M
from mutualfuse.cli import evaluate as E
from mutualfuse.errors import FuseError, InputError, ParameterError

pytestmark = needs_shared
NAMES = ["c01", "c02", "c03"]


def _parse(argv):
    p = argparse.ArgumentParser(prog="mutualfuse")
    sub = p.add_subparsers()
    E.add_parser(sub)
    return p.parse_args(["evaluate", *argv])


def _run(argv):
    args = _parse(argv)
    assert args.func is E.run
    return args.func(args)


@pytest.fixture()
def folders(tmp_path):
    src = SHARED / "data" / "medical" / "ct-mr"
    ref = SHARED / "data" / "reference" / "ifcnn" / "medical"
    out = {}
    for role, d in (("a", src / "a"), ("b", src / "b"), ("max", ref / "max"), ("maxcode", ref / "max-code")):
        (tmp_path / role).mkdir()
        for n in NAMES:
            shutil.copy(d / f"{n}.png", tmp_path / role / f"{n}.png")
        out[role] = tmp_path / role
    return out


def _direct(folders, fused, key, name):
    rd = lambda p: np.asarray(Image.open(p))  # noqa: E731
    return M.METRICS.get(key)(rd(folders["a"] / f"{name}.png"), rd(folders["b"] / f"{name}.png"),
                              rd(folders[fused] / f"{name}.png"))


def test_csv_values_match_the_library(folders, tmp_path, capsys):
    out = tmp_path / "r.csv"
    rc = _run(["--a", str(folders["a"]), "--b", str(folders["b"]), "--fused", str(folders["max"]),
               "--metrics", "EN@rfn-nest,Qabf@vifb", "Qcv@vifb", "--out", str(out), "-q"])
    assert rc == 0
    rows = list(csv.DictReader(open(out)))
    assert [r["image"] for r in rows] == NAMES + ["mean"]
    for r in rows[:-1]:
        assert float(r["Qabf@vifb"]) == _direct(folders, "max", "Qabf@vifb", r["image"])
        assert float(r["Qcv@vifb"]) == _direct(folders, "max", "Qcv@vifb", r["image"])
    assert float(rows[-1]["EN@rfn-nest"]) == pytest.approx(np.mean([float(r["EN@rfn-nest"]) for r in rows[:-1]]))
    table = capsys.readouterr().out
    assert "Qcv@vifb" in table and "mean" in table and "*" in table
    assert ("↓" in table) or ("v" in table)  # Qcv: lower is better


def test_two_methods_json_paper_profile_and_parallel_workers(folders, tmp_path, capsys):
    out = tmp_path / "r.json"
    base = ["--a", str(folders["a"]), "--b", str(folders["b"]), "--fused", str(folders["maxcode"]),
            "--fused", str(folders["max"]), "--metrics", "EI", "SF", "SCD@rfn-nest", "Nabf@rfn-nest", "-q"]
    assert _run(base + ["--out", str(out), "-j", "2"]) == 0
    doc = json.load(open(out))
    assert set(doc["methods"]) == {"maxcode", "max"}
    assert doc["metrics"]["Nabf@rfn-nest"]["higher_is_better"] is False
    v = doc["methods"]["max"]["images"]["c02"]["SCD@rfn-nest"]
    assert v == _direct(folders, "max", "SCD@rfn-nest", "c02")  # workers give the same numbers
    table = capsys.readouterr().out
    lines = [l for l in table.splitlines() if l.startswith(("maxcode", "max "))]
    assert len(lines) == 2 * (len(NAMES) + 1)
    # exactly one best mark per metric per image group (no ties here)
    for g in NAMES + ["mean"]:
        grp = [l for l in lines if l.split()[1] == g]
        assert sum(l.count("*") for l in grp) == 4
    out2 = tmp_path / "p.csv"
    assert _run(base[:8] + ["--profile", "paper", "--out", str(out2), "-q"]) == 0
    head = next(csv.reader(open(out2)))
    assert head[3:] == list(M.resolve(profile="paper"))


def test_colour_fused_images_are_scored_as_matlab_gray(folders, tmp_path):
    g = np.asarray(Image.open(folders["max"] / "c01.png"))
    rgb = np.stack([g, g, g], axis=2)  # gray -> RGB with equal channels converts back exactly
    col = tmp_path / "col"
    col.mkdir()
    for n in NAMES:
        src = np.asarray(Image.open(folders["max"] / f"{n}.png"))
        Image.fromarray(np.stack([src] * 3, axis=2)).save(col / f"{n}.png")
    assert np.array_equal(E.read_gray(col / "c01.png"), g)
    assert E.read_gray(col / "c01.png").shape == rgb.shape[:2]
    out = tmp_path / "c.csv"
    _run(["--a", str(folders["a"]), "--b", str(folders["b"]), "--fused", str(col), "--metrics", "Qcb@vifb",
          "--out", str(out), "-q"])
    rows = list(csv.DictReader(open(out)))
    assert float(rows[0]["Qcb@vifb"]) == _direct(folders, "max", "Qcb@vifb", "c01")


def test_missing_and_extra_files_are_one_line_errors(folders):
    (folders["max"] / "c02.png").unlink()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(folders["max"] / "zz.png")
    with pytest.raises(InputError) as ei:
        _run(["--a", str(folders["a"]), "--b", str(folders["b"]), "--fused", str(folders["max"]), "-q"])
    msg = str(ei.value)
    assert "\n" not in msg and "lacks c02" in msg and "zz" in msg


def test_size_mismatch_names_the_file(folders):
    Image.fromarray(np.zeros((100, 120), np.uint8)).save(folders["max"] / "c03.png")
    with pytest.raises(InputError, match=r"c03\.png is 120x100"):
        _run(["--a", str(folders["a"]), "--b", str(folders["b"]), "--fused", str(folders["max"]), "-q"])


def test_bad_options(folders, tmp_path):
    base = ["--a", str(folders["a"]), "--b", str(folders["b"]), "--fused", str(folders["max"]), "-q"]
    with pytest.raises(ParameterError, match="did you mean"):
        _run(base + ["--metrics", "Qabf@vifbb"])
    with pytest.raises(ParameterError, match="ambiguous"):
        _run(base + ["--metrics", "EN"])
    with pytest.raises(InputError, match=r"r\.txt: unsupported output format '\.txt'; use \.csv, \.json, \.md, \.tex"):
        _run(base + ["--out", str(tmp_path / "r.txt")])  # check_writable's line, as every command (s27)
    with pytest.raises(InputError, match="not a folder"):
        _run(["--a", str(tmp_path / "nope"), "--b", str(folders["b"]), "--fused", str(folders["max"])])
    (folders["max"] / "c01.png").write_bytes(b"not a png")
    with pytest.raises(FuseError, match="c01.png"):
        _run(base + ["--metrics", "EN@vifb"])


def test_list(capsys):
    assert _run(["--list"]) == 0
    out = capsys.readouterr().out
    assert "Qabf@vifb" in out and "paper" in out
    with pytest.raises(ParameterError, match="--fused"):
        _run(["--a", "x", "--b", "y"])


def test_dispatcher_reports_errors_in_one_line(tmp_path, capsys):
    # through the real entry point: if `evaluate` is not dispatched, argparse's usage error fails this
    from mutualfuse import cli

    rc = cli.main(["evaluate", "--a", str(tmp_path / "nope"), "--b", str(tmp_path), "--fused", str(tmp_path)])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and err.count("\n") == 0, err
    assert err.startswith("mutualfuse: error:") and "not a folder" in err and "nope" in err, err
