"""Session 20 audit: a figure id may hold a dot (the config allows ``fig3.v2``); its files are
``fig3.v2.png`` and ``fig3.v2.pdf``, the names the run checks beforehand. ``with_suffix`` made
them ``fig3.png`` / ``fig3.pdf``, so two ids ``fig3.a`` and ``fig3.b`` overwrote each other."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse.benchmark import BenchmarkConfig, run_benchmark


def test_a_figure_id_with_a_dot_keeps_its_whole_name(tmp_path):
    rng = np.random.default_rng(5)
    for role in ("ir", "vis"):
        (tmp_path / "data" / "ir-vis" / "tno" / role).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (80, 96)).astype(np.uint8)).save(
            tmp_path / "data" / "ir-vis" / "tno" / role / "01.png")
    (tmp_path / "figs.yaml").write_text(
        'figures:\n'
        '  - {id: fig3.a, kind: sources, set: ir-vis/tno, pairs: ["01"]}\n'
        '  - {id: fig3.b, set: ir-vis/tno, pair: "01", rows: all}\n')
    o = run_benchmark(BenchmarkConfig(data_root=tmp_path / "data", out=tmp_path / "out", tables=("table1",),
                                      methods=["average"], weights=[], fast_metrics=True, cache=tmp_path / "cache",
                                      figures_config=tmp_path / "figs.yaml", progress=False))
    assert o.problems == []
    names = ["fig3.a.pdf", "fig3.a.png", "fig3.b.pdf", "fig3.b.png"]
    assert sorted(p.name for p in (tmp_path / "out" / "figures").iterdir()) == names
    assert sorted(p.name for p in o.figures) == names
