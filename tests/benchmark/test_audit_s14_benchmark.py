"""Audit of ``mutualfuse benchmark`` (session 14): each test failed before its fix.

Small synthetic sets (64x80 random images), one cheap method, no figures unless needed, so every
test runs in seconds without the shared data.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark import BenchmarkConfig, run_benchmark
from mutualfuse.cli import main

ABL_WEIGHTS = "ablation-mean-concat-s0"  # shipped ablation weights (issue 11)


@pytest.fixture()
def root(tmp_path):
    rng = np.random.default_rng(14)
    data = tmp_path / "data"
    for role in ("ir", "vis"):
        (data / "ir-vis" / "tno" / role).mkdir(parents=True)
        for n in ("01", "02", "03"):
            Image.fromarray(rng.integers(0, 256, (64, 80)).astype(np.uint8)).save(
                data / "ir-vis" / "tno" / role / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    # Tables 4 and 5 name the same shipped weights (as the shipped config's Ours-Net and Ours(Mean) do)
    (tmp_path / "abl.yaml").write_text(
        "set: ir-vis/tno\ntables:\n"
        f"  table4:\n    rows:\n      - {{label: Ours-Net, weights: [{ABL_WEIGHTS}]}}\n"
        f"  table5:\n    rows:\n      - {{label: Ours(Mean), weights: [{ABL_WEIGHTS}]}}\n")
    return tmp_path


def _argv(root, out, *extra):
    return ["benchmark", "--data-root", str(root / "data"), "--out", str(out), "--cache", str(root / "cache"),
            "--figures", str(root / "nofig.yaml"), "--ablations", str(root / "abl.yaml"), "--fast-metrics",
            "--weights", "none", "-q", *extra]


def test_retime_with_two_ablation_rows_of_the_same_weights(root, capsys):
    """--retime used to end in 'internal error: KeyError: ablation:table5/...' (exit 1, no output):
    the second row of the same weights is not timed on its own, and the retime loop looked it up."""
    out = root / "out"
    rc = main(_argv(root, out, "--tables", "4,5", "--methods", "average", "--pairs", "1", "--retime"))
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "internal error" not in err
    rt = (out / "tables" / "runtime.csv").read_text()
    assert "--retime on ir-vis/tno/" in rt and "--retime failed" not in rt


def _tree(d):
    return sorted((str(p.relative_to(d)), p.read_bytes() if p.is_file() else b"") for p in d.rglob("*"))


@pytest.mark.parametrize("blocker", ["tables-file", "report-folder"])
def test_an_output_place_that_cannot_take_its_file_is_refused_before_any_work(root, capsys, blocker):
    """A 'tables' that is a file (or a folder named report.html) used to be found only when the
    finished run moved its files into --out: after the whole run, exit 2, with the figures and
    summary.md already moved in beside the older outputs."""
    out = root / "out"
    out.mkdir()
    (out / "README.md").write_text("the user's file\n")
    if blocker == "tables-file":
        (out / "tables").write_text("not a folder\n")
        named = out / "tables"
    else:
        (out / "report.html").mkdir()
        named = out / "report.html"
    before = _tree(out)
    rc = main(_argv(root, out, "--tables", "1", "--methods", "average"))
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("mutualfuse: error: ") and err.count("\n") == 1, err
    assert str(named) in err and "Traceback" not in err
    assert _tree(out) == before  # nothing moved in, no staging folder left
    assert not (root / "cache" / "fused").exists()  # refused before any fusion


def test_commit_checks_every_destination_before_moving_any(root, tmp_path):
    """The commit itself moves nothing when one destination cannot take its file."""
    from mutualfuse.benchmark.runner import commit_stage
    from mutualfuse.errors import InputError

    stage, out = tmp_path / "stage", tmp_path / "dest"
    (stage / "figures").mkdir(parents=True)
    (stage / "tables").mkdir()
    (stage / "figures" / "fig3.png").write_text("new")
    (stage / "summary.md").write_text("new")
    (stage / "tables" / "table1.md").write_text("new")
    (out / "tables" / "table1.md").mkdir(parents=True)  # a folder where a file goes
    (out / "summary.md").write_text("old")
    with pytest.raises(InputError, match="table1.md"):
        commit_stage(stage, out)
    assert (out / "summary.md").read_text() == "old" and not (out / "figures").exists()


def test_quick_tables_say_what_they_leave_out(root, capsys):
    """--quick's 'Tables 4-7 use the first matching weights (seed 0)' note was printed under
    Table 1 (and 2, 3) and not under Tables 4-7, the tables it concerns; no table said that its
    VIF column, which the paper's table has, was left out."""
    out = root / "out"
    rc = main(_argv(root, out, "--tables", "1,4", "--methods", "average", "--quick"))
    assert rc == 0, capsys.readouterr().err
    t1 = (out / "tables" / "table1.md").read_text()
    t4 = (out / "tables" / "table4.md").read_text()
    assert "seed 0" not in t1 and "seed 0" in t4
    for t in (t1, t4):
        assert "VIF left out" in t
    html = (out / "report.html").read_text()
    assert html.count("VIF left out") == 2 and html.count("seed 0") == 1


def test_paper_view_labels_means_over_a_subset_of_the_pairs(root, capsys):
    """--pairs N (without --quick) compared means over N pairs with the paper's cells with no word
    that they are no reproduction check; --quick's banner said '2 pairs per set' whatever --pairs;
    Table 1's cells never said what docs/benchmark.md says (the paper's 10 TNO pairs are unknown)."""
    import csv
    import io

    out = root / "out"
    rc = main(_argv(root, out, "--tables", "1", "--methods", "rp", "--pairs", "2"))
    assert rc == 0, capsys.readouterr().err
    md = (out / "tables" / "paper_vs_ours.md").read_text()
    assert "not a reproduction check" in md.split("| table |")[0]  # the banner above the table
    cells = list(csv.DictReader(io.StringIO((out / "tables" / "paper_vs_ours.csv").read_text())))
    rp = [c for c in cells if c["row_id"] == "method:rp" and c["ours"]]
    assert rp and all("2 of the set's 3 pairs" in c["note"] and "10 TNO pairs" in c["note"] for c in rp)
    assert "not a reproduction check" in (out / "report.html").read_text()
    rc = main(_argv(root, out, "--tables", "1", "--methods", "rp", "--quick", "--pairs", "1"))
    assert rc == 0
    for f in (out / "tables" / "paper_vs_ours.md", out / "report.html"):
        assert "2 pairs per set" not in f.read_text()
    # all pairs: no subset note
    rc = main(_argv(root, out, "--tables", "1", "--methods", "rp"))
    cells = list(csv.DictReader(io.StringIO((out / "tables" / "paper_vs_ours.csv").read_text())))
    assert rc == 0 and not any("of the set's" in c["note"] for c in cells)
    assert "subset" not in (out / "tables" / "paper_vs_ours.md").read_text()


def test_the_html_report_prints_the_same_cells_as_the_markdown():
    """The report's tables dropped the '± sd' of a seed-mean row (Markdown and LaTeX print it)
    and said nothing of what '†' and '±' mean."""
    import html as html_mod
    import re

    from mutualfuse.benchmark.report import table_html
    from mutualfuse.benchmark.table import Column, Row, Table, to_markdown

    cols = [Column("EI", "EI@vifb", True), Column("CE", "CE@vifb", False)]
    rows = [Row("a[mean]", "Add (mean ± sd of 2)", {"EI": 42.0, "CE": 2.0}, 3, 3, "ablation",
                spread={"EI": 2.0, "CE": 1.0}),
            Row("a[s0]", "Add [s0]", {"EI": 40.0, "CE": 1.0}, 3, 3, "ablation", ranked=False),
            Row("b", "Concat", {"EI": 41.0, "CE": 1.5}, 3, 2, "ablation", note="failed on 1 of 3 pairs")]
    t = Table("table6", "Table 6: test", cols, rows, "bold")
    page = html_mod.unescape(table_html(t))
    md = to_markdown(t)
    for r in rows:
        md_cells = [re.sub(r"\*\*|\*", "", c.strip()) for c in
                    next(ln for ln in md.splitlines() if ln.startswith(f"| {r.label} |")).split("|")[2:-1]]
        html_row = re.search(rf"<tr><td>{re.escape(r.label)}</td>(.*?)</tr>", page, re.S).group(1)
        assert re.findall(r"<td[^>]*>(.*?)</td>", html_row) == md_cells, r.label
    assert "42.0000 ± 2.0000" in page
    assert "† mean over fewer pairs" in page and "mean ± sd" in page


@pytest.mark.parametrize("damage", ["[]", "null", '{"EN@rfn": null}', '"text"'])
def test_a_damaged_cached_metrics_file_is_computed_again(root, capsys, damage):
    """A metrics file of the cache that is valid JSON of another shape failed its pair on every
    later run ('AttributeError: 'list' object has no attribute 'items'', exit 1)."""
    out = root / "out"
    argv = _argv(root, out, "--tables", "1", "--methods", "average")
    assert main(argv) == 0
    first = (out / "tables" / "table1.csv").read_text()
    files = list((root / "cache" / "metrics").rglob("*.json"))
    assert len(files) == 3
    for f in files:
        f.write_text(damage)
    rc = main(argv)
    assert rc == 0, capsys.readouterr().err
    assert (out / "tables" / "table1.csv").read_text() == first
    assert all(isinstance(json.loads(f.read_text()), dict) for f in files)  # rewritten
