"""Session 25 (Q4): where the numbers of ``mutualfuse benchmark`` come from. The report and the
summary name the data root the run read and where it came from (``--data-root`` wins over
``MUTUALFUSE_DATA``, and a different ``MUTUALFUSE_DATA`` is said to be unused), whose code every
column's metric is and whether it is conformance-checked (``UNCHECKED`` otherwise), and what every
row was fused from (method code, weights sha256, a folder of published images); every table says
that its values are computed here, none copied from the paper, with its columns' metric keys.
Before, neither the data root (when it came from the environment) nor the metric keys or the
weights were named anywhere in the output."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image


def _set(root):
    rng = np.random.default_rng(5)
    for role in ("a", "b"):
        (root / "medical" / "ct-mr" / role).mkdir(parents=True, exist_ok=True)
        for n in ("c01", "c02"):
            Image.fromarray(rng.integers(0, 256, (64, 56)).astype(np.uint8)).save(
                root / "medical" / "ct-mr" / role / f"{n}.png")
    ref = root / "reference" / "ifcnn" / "medical" / "max"
    ref.mkdir(parents=True)
    for n in ("c01", "c02"):
        Image.fromarray(rng.integers(0, 256, (64, 56)).astype(np.uint8)).save(ref / f"{n}.png")


def _argv(tmp_path, *more):
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    return ["benchmark", "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "--tables", "3",
            "--methods", "cvt", "--weights", "none", "--fast-metrics", "--extra-metrics", "MI@bits",
            "--figures", str(tmp_path / "nofig.yaml"), "-q", *more]


def _rows(text: str) -> dict[str, str]:
    """The 'Where the numbers come from' table of summary.md as {what: where from}."""
    sec = text.split("## Where the numbers come from", 1)[1].split("\n## ", 1)[0]
    return {ln.split(" | ")[0][2:]: ln.split(" | ", 1)[1][:-2] for ln in sec.splitlines()
            if ln.startswith("| ") and not ln.startswith("| |")}


@pytest.mark.parametrize("given", ["option-and-env", "env"])
def test_the_report_says_where_every_number_comes_from(tmp_path, capsys, monkeypatch, given):
    from mutualfuse.cli import main

    _set(tmp_path / "data")
    other = tmp_path / "elsewhere"
    if given == "env":
        monkeypatch.setenv("MUTUALFUSE_DATA", str(tmp_path / "data"))
        rc = main(_argv(tmp_path))
    else:
        monkeypatch.setenv("MUTUALFUSE_DATA", str(other))
        rc = main(_argv(tmp_path, "--data-root", str(tmp_path / "data")))
    out, err = capsys.readouterr()
    assert rc == 0, err
    summary = (tmp_path / "out" / "summary.md").read_text()
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Where the numbers come from" in html
    rows = _rows(summary)
    if given == "env":
        assert rows["data root"] == f"{tmp_path / 'data'} (from MUTUALFUSE_DATA)"
    else:
        assert rows["data root"] == (f"{tmp_path / 'data'} (from --data-root); MUTUALFUSE_DATA={other} was not "
                                     "used (--data-root wins)")
    assert rows["cache"] == str(tmp_path / "cache")
    assert "none is copied from the paper" in rows["values"]
    assert rows["column EN"].startswith("EN@rfn-nest: hli1221/imagefusion-rfn-nest@")
    assert rows["column EN"].endswith("; conformance-checked against it")
    assert rows["column MI@bits"].startswith("MI@bits: ") and "UNCHECKED" in rows["column MI@bits"]
    assert rows["row CVT"].startswith("method cvt of this mutualfuse, fused here (method code sha256 ")
    ref = tmp_path / "data" / "reference" / "ifcnn" / "medical" / "max"
    assert rows["row IFCNN(max)"] == f"published fused images in {ref}, scored here (not fused here)"
    md = (tmp_path / "out" / "tables" / "table3.md").read_text()
    note = [ln for ln in md.splitlines() if "none copied from the paper" in ln]
    assert len(note) == 1 and "columns EI@vifb, SF@vifb, EN@rfn-nest, Qabf@vifb, SCD@rfn-nest" in note[0]
    tex = (tmp_path / "out" / "tables" / "table3.tex").read_text()
    assert "none copied from the paper" in tex


def test_shipped_weights_rows_name_their_sha256(tmp_path):
    from mutualfuse.benchmark.report import _row_origin
    from mutualfuse.benchmark.sources import weights_sources
    from mutualfuse.weights import SHIPPED

    (src,) = weights_sources(["default"])
    assert _row_origin(src) == f"the network with weights default (sha256 {SHIPPED['default'].sha256[:12]}), fused here"


def test_the_report_names_older_tables_it_did_not_write(tmp_path, capsys):
    """An earlier run's table1.md beside this run's Table 3 was indistinguishable from this run's."""
    from mutualfuse.cli import main

    _set(tmp_path / "data")
    (tmp_path / "out" / "tables").mkdir(parents=True)
    (tmp_path / "out" / "tables" / "table1.md").write_text("an older run's Table 1\n")
    assert main(_argv(tmp_path, "--data-root", str(tmp_path / "data"))) == 0, capsys.readouterr().err
    summary = (tmp_path / "out" / "summary.md").read_text()
    (line,) = [ln for ln in summary.splitlines() if ln.startswith("Files of tables/ and figures/ not written")]
    assert line.endswith(": tables/table1.md.")
    assert "tables/table1.md" in (tmp_path / "out" / "report.html").read_text()
    assert (tmp_path / "out" / "tables" / "table1.md").read_text() == "an older run's Table 1\n"


def _lytro(root, names):
    rng = np.random.default_rng(7)
    ref = root / "reference" / "ifcnn" / "multi-focus" / "max"
    for d in (root / "multi-focus" / "lytro" / "a", root / "multi-focus" / "lytro" / "b", ref):
        d.mkdir(parents=True, exist_ok=True)
        for n in names:
            Image.fromarray(rng.integers(0, 256, (48, 48)).astype(np.uint8)).save(d / f"{n}.png")


@pytest.mark.parametrize("names,words", [
    (["lytro-01", "lytro-02", "lytro-21"],
     "multi-focus/lytro is not the paper's set of 20 pairs (lytro-01…lytro-20): it lacks lytro-03, lytro-04, "
     "lytro-05, lytro-06, lytro-07, … (18); it holds lytro-21 besides; the paper view's cells of this table are no "
     "reproduction check"),
    ([f"lytro-{i:02d}" for i in range(1, 21)], None),
])
def test_a_set_that_is_not_the_papers_says_so_in_every_compared_cell(tmp_path, capsys, names, words):
    """A Lytro set lacking pairs (or one image: '19 of 19 pairs') or holding others had its cells
    compared with the paper's as 'reproduced' or 'differs' with no word that the set differs."""
    from mutualfuse.cli import main

    _lytro(tmp_path / "data", names)
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    rc = main(["benchmark", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--cache",
               str(tmp_path / "cache"), "--tables", "2", "--methods", "none", "--weights", "none",
               "--fast-metrics", "--figures", str(tmp_path / "nofig.yaml"), "-q"])
    assert rc == 0, capsys.readouterr().err
    view = (tmp_path / "out" / "tables" / "paper_vs_ours.md").read_text()
    cells = [ln for ln in view.splitlines() if ln.startswith("| 2 | 4.4 | IFCNN(max) |") and "not run" not in ln]
    assert len(cells) == 6, view  # EI, SF, EN, SCD, MI, SD (VIF left out)
    md = (tmp_path / "out" / "tables" / "table2.md").read_text()
    if words is None:
        assert "not the paper's set" not in view and "not the paper's set" not in md
    else:
        assert all(words in c for c in cells), cells
        assert f"- {words}" in md.splitlines()
        assert "**A set of this data root is not the paper's set" in view


def test_the_row_compared_with_the_papers_ours_is_named():
    """Tables 1-3 hold a dozen Ours[...] rows; which one the paper view compares was said nowhere."""
    from mutualfuse.benchmark.report import _row_origin, provenance_note
    from mutualfuse.benchmark.sources import paper_ours_id, weights_sources
    from mutualfuse.benchmark.table import Column, Row, Table

    pid = paper_ours_id()
    (src,) = weights_sources([pid.split(":", 1)[1]])
    assert _row_origin(src).endswith("; the paper view compares it with the paper's 'Ours'")
    cols = [Column("EN", "EN@rfn-nest", True)]
    t = Table("table2", "Table 2", cols, [Row(pid, src.label, {"EN": 7.0}, 2, 2, "weights")])
    assert f"{src.label} is the row compared with the paper's 'Ours'" in provenance_note(t)
    t.id = "table4"
    assert "compared with the paper's 'Ours'" not in provenance_note(t)


@pytest.mark.parametrize("given", ["option-and-env", "env"])
def test_a_data_root_not_found_says_where_it_came_from(tmp_path, capsys, monkeypatch, given):
    """A wrong --data-root beside a good MUTUALFUSE_DATA said '(give --data-root or set MUTUALFUSE_DATA)',
    as if the variable had not been set; a wrong MUTUALFUSE_DATA did not say it came from there."""
    from one_line_error import assert_one_line_error

    _set(tmp_path / "data")
    nope = tmp_path / "nope"
    if given == "env":
        monkeypatch.setenv("MUTUALFUSE_DATA", str(nope))
        argv = _argv(tmp_path)
        words = f"{nope}: data root not found (from MUTUALFUSE_DATA; give --data-root or set MUTUALFUSE_DATA)"
    else:
        monkeypatch.setenv("MUTUALFUSE_DATA", str(tmp_path / "data"))
        argv = _argv(tmp_path, "--data-root", str(nope))
        words = (f"{nope}: data root not found (--data-root wins over MUTUALFUSE_DATA={tmp_path / 'data'}; give "
                 "--data-root or set MUTUALFUSE_DATA)")
    err = assert_one_line_error(capsys, argv, words)
    assert err == f"mutualfuse: error: {words}\n"
    assert not (tmp_path / "out").exists()
