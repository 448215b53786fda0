"""The figures config: a malformed entry is a one-line exit-2 error naming the file (was an
internal error, exit 1), a figure id is a plain file name (``id: ../../x`` wrote the figure
outside --out), and a sources figure whose pairs are not in the set shows the run's pairs (was
a ZeroDivisionError listed as a problem)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark import BenchmarkConfig, run_benchmark
from mutualfuse.benchmark.figures import load_figures
from mutualfuse.cli import main
from mutualfuse.errors import InputError


@pytest.mark.parametrize("entry,words", [
    ('{id: f, set: ir-vis/tno, pair: "01", boxes: [{box: [a, b, c, d]}]}', "could not convert"),
    ('{id: f, set: ir-vis/tno, pair: "01", boxes: ["x"]}', "box x must be"),
    ('{id: f, set: ir-vis/tno, pair: "01", boxes: [{box: 5}]}', "box 5 must be"),
    ('{id: f, set: ir-vis/tno, pair: "01", boxes: [{box: [.nan, 0, 1, 1]}]}', "must be"),
    ('{id: f, kind: sources, set: ir-vis/tno, pairs: 5}', "pairs must be a list"),
    ('{id: f, set: ir-vis/tno, pair: "01", rows: 5}', "rows must be"),
    ('{id: "../../escape", kind: sources, set: ir-vis/tno}', "plain file name"),
    ('{id: "/tmp/escape", kind: sources, set: ir-vis/tno}', "plain file name"),
])
def test_a_malformed_figure_is_a_one_line_error(tmp_path, entry, words):
    p = tmp_path / "figs.yaml"
    p.write_text(f"figures: [{entry}]\n")
    with pytest.raises(InputError, match=words) as e:
        load_figures(p)
    assert str(e.value).startswith(f"{p}: figure 1: ") and str(e.value).count(str(p)) == 1


def test_the_cli_refuses_it_before_any_work(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "figs.yaml").write_text('figures: [{id: f, set: ir-vis/tno, pair: "01", boxes: ["x"]}]\n')
    rc = main(["benchmark", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
               "--figures", str(tmp_path / "figs.yaml")])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("mutualfuse: error: ") and "figs.yaml" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_sources_figure_whose_pairs_are_not_in_the_set_shows_the_runs_pairs(tmp_path):
    rng = np.random.default_rng(4)
    for role in ("ir", "vis"):
        (tmp_path / "data" / "ir-vis" / "tno" / role).mkdir(parents=True)
        for n in ("x1", "x2"):
            Image.fromarray(rng.integers(0, 256, (48, 56)).astype(np.uint8)).save(
                tmp_path / "data" / "ir-vis" / "tno" / role / f"{n}.png")
    (tmp_path / "figs.yaml").write_text('figures: [{id: src, kind: sources, set: ir-vis/tno, pairs: ["01", "02"]}]\n')
    o = run_benchmark(BenchmarkConfig(data_root=tmp_path / "data", out=tmp_path / "out", tables=("table1",),
                                      methods=["average"], weights=[], fast_metrics=True, cache=tmp_path / "cache",
                                      figures_config=tmp_path / "figs.yaml", progress=False))
    assert o.problems == []
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == ["src.pdf", "src.png"]


@pytest.mark.parametrize("doc,words", [
    ("tables: {table4: [1, 2]}", "'rows' list"),
    ("tables: {table4: {rows: 5}}", "'rows' list"),
    ("tables: {table4: {rows: [{label: x, match: [1]}]}}", "'match' must be a mapping"),
    ("tables: {table4: {rows: [{label: x, weights: default}]}}", "'weights' must be a list"),
    ("set: ../../etc\ntables: {table4: {rows: [{label: x, weights: [default]}]}}", "<task>/<name>"),
])
def test_a_malformed_ablations_config_is_a_one_line_error(tmp_path, doc, words):
    """These were internal errors (AttributeError, TypeError; exit 1), or a set outside the data root."""
    from mutualfuse.benchmark.sources import load_ablations

    p = tmp_path / "abl.yaml"
    p.write_text(doc + "\n")
    with pytest.raises(InputError, match=words) as e:
        load_ablations(p)
    assert str(e.value).startswith(f"{p}: ")


@pytest.mark.parametrize("name", ["ir-vis/", "ir-vis", "ir-vis/..", "ir-vis/../../etc", "medical//x"])
def test_a_malformed_sets_name_is_refused_before_any_work(tmp_path, capsys, name):
    """Was a problem line after a whole run (exit 1), and '..' read a folder outside the data root."""
    (tmp_path / "data").mkdir()
    rc = main(["benchmark", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--tables", "none",
               "--sets", name, "--weights", "none", "--methods", "average"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("mutualfuse: error: --sets ") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
