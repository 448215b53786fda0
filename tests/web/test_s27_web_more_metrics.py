"""Session 27: the page's metrics table was a fixed set (the nine fast metrics, and one's own),
while ``mutualfuse evaluate --metrics KEY`` scores any of the registered ones. The page now has a
chooser under the table (``#more-metrics``, every other registered metric, slow ones labelled so):
the chosen metrics are scored after each Fuse and when chosen, as ``evaluate --metrics`` scores the
files, and added to the table. The page's handlers called directly (gradio, no browser)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mutualfuse.cli import main

ARGS = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto", "a vs fused"]
MORE = ["Qcb@vifb", "VIFF@han", "PSNR@vifb"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path_factory.mktemp("work"), device="cpu")
    return {f.name: f.fn for f in app.fns.values()}, app


def _evaluate(a, b, fused, tmp_path, keys) -> dict:
    """``mutualfuse evaluate --metrics KEYS`` of one fused file against its sources: {key: value}."""
    folders = {d: tmp_path / "ev" / d for d in ("A", "B", "F")}
    for d, src in zip(folders.values(), (a, b, fused)):
        d.mkdir(parents=True)
        shutil.copy(src, d / f"x{Path(src).suffix}")
    assert main(["evaluate", "--a", str(folders["A"]), "--b", str(folders["B"]), "--fused", str(folders["F"]),
                 "--metrics", *keys, "-o", str(tmp_path / "ev.json"), "-q"]) == 0
    return json.loads((tmp_path / "ev.json").read_text())["methods"]["F"]["images"]["x"]


def test_the_page_offers_every_other_registered_metric_slow_ones_labelled(page):
    from mutualfuse.metrics import METRICS
    from mutualfuse.web import core

    _, app = page
    more = [c for c in app.config["components"] if c.get("props", {}).get("elem_id") == "more-metrics"][0]["props"]
    offered = {value: label for label, value in more["choices"]}
    assert more["multiselect"] and not more["value"]
    assert set(offered) == {e.name for e in METRICS} - set(core.FAST_METRICS.values())
    assert offered["VIF@nestfuse"] == "VIF@nestfuse  (slow)" and offered["Qcb@vifb"] == "Qcb@vifb"


def test_chosen_metrics_are_scored_as_evaluate_scores_them(page, samples, tmp_path):
    fns, _ = page
    a, b = (str(samples / "tno-01" / f"{n}.png") for n in ("a", "b"))
    out = fns["run"](a, b, *ARGS)
    assert out[0].startswith("done"), out[0]
    fast, state = out[3], out[6]
    table, note = fns["on_more"](MORE, state)
    assert table[:len(fast)] == fast and [row[0] for row in table[len(fast):]] == MORE, table
    assert note.startswith("3 more metrics scored in ") and note.endswith(" s"), note
    ev = _evaluate(a, b, out[1], tmp_path, MORE)
    avg = _evaluate(a, b, state["average"], tmp_path / "avg", MORE)
    for name, fused, average, better in table[len(fast):]:
        assert fused == pytest.approx(round(ev[name], 4), rel=0, abs=1e-9), name
        assert average == pytest.approx(round(avg[name], 4), rel=0, abs=1e-9), name
        assert better in ("fused", "average", "equal"), better
    # none chosen: the fast table; after the next Fuse the chosen ones are scored again (Fuse's next step)
    assert fns["on_more"]([], state) == (fast, "")
    again = fns["run"](a, b, *ARGS)
    assert fns["after_fuse"](MORE[:1], again[6])[0][-1][0] == "Qcb@vifb"
    assert [type(u) for u in fns["after_fuse"]([], again[6])] == [dict, dict]  # none chosen: no update


def test_a_metric_the_server_has_not_or_a_result_gone_is_one_line(page, samples, tmp_path):
    fns, _ = page
    src = tmp_path / "src"
    src.mkdir()
    for n in ("a", "b"):
        shutil.copy(samples / "tno-01" / f"{n}.png", src / f"{n}.png")
    out = fns["run"](str(src / "a.png"), str(src / "b.png"), *ARGS)
    fast, state = out[3], out[6]
    table, note = fns["on_more"](["Qcb@vifb", "nope@x"], state)
    assert table == fast
    assert note == "mutualfuse: error: metric 'nope@x': not a metric of this server (mutualfuse evaluate --list)"
    (src / "a.png").unlink()  # the upload gone (Gradio's cache, after the hour)
    table, note = fns["on_more"](["Qcb@vifb"], state)
    assert table == fast and note.startswith("mutualfuse: error: this result or its images are no longer on the "
                                             "server (kept about 60 minutes)"), note
    assert fns["on_more"](["Qcb@vifb"], None)[1] == ""  # no result yet: nothing to score
