"""``mutualfuse evaluate``'s outputs as a demanding user reads them (session 24):

- the images are in natural order (``2`` before ``10``) in the terminal table, the CSV, the JSON
  and the not-computed lists, ties broken by the plain name;
- the JSON output records per metric whether it is conformance-checked (``checked``) and whose
  code it is (``source``), and the ``.md`` / ``.tex`` tables and the terminal note name the
  unchecked columns;
- odd file names: commas, quotes and Unicode round-trip through the CSV (UTF-8 whatever the
  locale), a name that is not UTF-8 on disk is written byte for byte to the CSV and shown
  escaped in the table instead of an internal error after the files were written.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from mutualfuse.cli import main

NAMES = ["10", "2", "1", "img10", "img2", "a", "01"]
NATURAL = ["01", "1", "2", "10", "a", "img2", "img10"]


def _tree(root: Path, names, side: int = 16, fused=("f",)) -> Path:
    rng = np.random.default_rng(0)
    for d in ("a", "b", *fused):
        (root / d).mkdir(parents=True, exist_ok=True)
    for n in names:
        a, b = (rng.integers(0, 256, (side, side), dtype=np.uint8) for _ in range(2))
        for d, x in (("a", a), ("b", b)):
            Image.fromarray(x).save(root / d / f"{n}.png")
        for d in fused:
            Image.fromarray(((a.astype(int) + b) // 2).astype(np.uint8)).save(root / d / f"{n}.png")
    return root


def _argv(root: Path, *extra, fused=("f",)):
    argv = ["evaluate", "--a", str(root / "a"), "--b", str(root / "b")]
    for d in fused:
        argv += ["--fused", str(root / d)]
    return argv + list(extra)


def test_natural_key_orders_numbers_by_value_and_ties_by_the_plain_name():
    from mutualfuse.evaluation import natural_key, natural_sorted

    assert natural_sorted(NAMES) == NATURAL
    assert natural_sorted(["z10b", "z2b", "z2a", "Z1", "z"]) == ["Z1", "z", "z2a", "z2b", "z10b"]
    assert natural_sorted(["a01", "a1", "a001"]) == ["a001", "a01", "a1"]  # as the plain order has them
    assert natural_sorted(["x\u0663", "x\u0662", "x3"]) == ["x3", "x\u0662", "x\u0663"]  # only ASCII digits
    assert natural_key("2") < natural_key("10") and natural_key("01") != natural_key("1")


def test_every_output_lists_the_images_in_natural_order(tmp_path, capsys):
    root = _tree(tmp_path, NAMES)
    outs = [tmp_path / f"r{s}" for s in (".csv", ".json")]
    argv = _argv(root, "--metrics", "SF@vifb", "VIF@nestfuse", "-q")  # VIF: 16 px too small, not computed
    for o in outs:
        argv += ["-o", str(o)]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    table_rows = [ln.split()[1] for ln in out.splitlines()[2:] if ln.startswith("f ")]
    assert table_rows == NATURAL + ["mean"], out
    rows = list(csv.DictReader(outs[0].open(encoding="utf-8")))
    assert [r["image"] for r in rows] == NATURAL + ["mean"]
    doc = json.loads(outs[1].read_text())
    assert list(doc["methods"]["f"]["images"]) == NATURAL
    assert doc["not_computed"]["VIF@nestfuse"]["images"] == NATURAL
    assert doc["image_order"].startswith("natural")


def test_the_json_records_which_metrics_are_checked_and_the_tables_name_the_unchecked(tmp_path, capsys):
    from mutualfuse.metrics import METRICS

    assert METRICS.meta("Qabf@vifb")["checked"] and not METRICS.meta("MI@bits")["checked"]
    root = _tree(tmp_path, ["1", "2"], fused=("f", "g"))
    outs = {s: tmp_path / f"r{s}" for s in (".json", ".md", ".tex")}
    argv = _argv(root, "--metrics", "Qabf@vifb", "MI@bits", fused=("f", "g"))
    for o in outs.values():
        argv += ["-o", str(o)]
    assert main(argv) == 0
    _, err = capsys.readouterr()
    meta = json.loads(outs[".json"].read_text())["metrics"]
    assert meta["Qabf@vifb"]["checked"] is True and meta["Qabf@vifb"]["source"] == "vifb"
    assert meta["MI@bits"]["checked"] is False and meta["MI@bits"]["source"] == METRICS.meta("MI@bits")["source"]
    for key in ("key", "direction", "higher_is_better", "reference", "convention"):  # kept as they were
        assert key in meta["MI@bits"]
    for s in (".md", ".tex"):
        text = outs[s].read_text(encoding="utf-8")
        note = [ln for ln in text.splitlines() if "not conformance-checked" in ln]
        assert len(note) == 1 and "MI@bits" in note[0] and "Qabf" not in note[0], (s, text)
    assert [ln for ln in err.splitlines() if "not conformance-checked" in ln and "MI@bits" in ln], err

    assert main(_argv(root, "--metrics", "Qabf@vifb", "-o", str(outs[".md"]), fused=("f", "g"))) == 0
    _, err = capsys.readouterr()
    assert "not conformance-checked" not in outs[".md"].read_text(encoding="utf-8") + err


def test_commas_quotes_and_unicode_in_names_round_trip_through_the_csv_in_any_locale(tmp_path):
    odd = ['a,b', 'say "hi"', "画像 ü", "x;y'"]
    root = _tree(tmp_path, odd)
    out = tmp_path / "r.csv"
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0", OMP_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-m", "mutualfuse", *_argv(root, "--metrics", "SF@vifb", "-q", "-o",
                                                                    str(out))],
                       capture_output=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    from mutualfuse.evaluation import natural_sorted

    assert [r["image"] for r in rows] == natural_sorted(odd) + ["mean"]
    assert b"\\u753b\\u50cf \\xfc" in p.stdout  # shown escaped on an ASCII terminal, not an internal error


def test_a_name_that_is_not_utf8_is_written_byte_for_byte_and_shown_escaped(tmp_path, capsys):
    root = _tree(tmp_path, ["ok"])
    raw = b"bad\xff"
    try:
        for d in ("a", "b", "f"):
            with open(os.path.join(os.fsencode(root / d), raw + b".png"), "wb") as fh:
                fh.write((root / d / "ok.png").read_bytes())
    except (OSError, UnicodeError):
        import pytest

        pytest.skip("this file system refuses names that are not UTF-8")
    outs = [tmp_path / f"r{s}" for s in (".csv", ".json", ".md")]
    argv = _argv(root, "--metrics", "SF@vifb", "-q")
    for o in outs:
        argv += ["-o", str(o)]
    assert main(argv) == 0
    out, _ = capsys.readouterr()
    assert "bad\\xff" in out
    assert b"\nf," + os.fsencode(str(root / "f")) + b"," + raw + b"," in outs[0].read_bytes().replace(b"\r", b"")
    name = os.fsdecode(raw)
    assert name in json.loads(outs[1].read_text())["methods"]["f"]["images"]


def test_an_output_that_is_a_link_to_an_input_image_is_refused_before_anything_is_written(tmp_path, capsys):
    from one_line_error import assert_one_line_error

    root = _tree(tmp_path, ["1", "2"])
    before = (root / "a" / "2.png").read_bytes()
    link = tmp_path / "r.csv"
    link.symlink_to(root / "a" / "2.png")
    other = tmp_path / "r.json"
    assert_one_line_error(capsys, _argv(root, "--metrics", "SF@vifb", "-q", "-o", str(other), "-o", str(link)),
                          f"{link}: output path is the same file as input {root / 'a' / '2.png'}")
    assert (root / "a" / "2.png").read_bytes() == before and not other.exists()


def test_the_terminal_table_lines_up_with_wide_characters_in_names(tmp_path, capsys):
    import unicodedata

    def cols(s):
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    root = _tree(tmp_path, ["画像一", "ab", "ü"])
    assert main(_argv(root, "--metrics", "SF@vifb", "EN@vifb", "-q")) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()[:-1]  # the legend is free text
    assert len(lines) == 6 and len({cols(ln) for ln in lines}) == 1, out
    ends = {cols(ln[:ln.index(tok, len(ln.split()[0]) + len(ln.split()[1])) + len(tok)]) for ln in lines[2:]
            for tok in [ln.split()[2]]}
    assert len(ends) == 1, out  # the first metric column (right-aligned) ends at one column on every row
