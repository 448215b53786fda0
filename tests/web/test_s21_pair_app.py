"""The page's pair handlers (gradio, no browser; session 21 audit): ``gtf`` from the parameters
box the page pre-fills (every default sent) with either solver, a parameter used only with the
other solver refused in one line on the page, and a float pair's downloads."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path_factory.mktemp("work"), device="cpu")
    return {f.name: f.fn for f in app.fns.values()}


def _args(a, b, method, params):
    return [str(a), str(b), method, "default", params, "saturation", "auto", None, None, None, False, "auto"]


def _box(page, method, **edits) -> str:
    """The parameters box as the page fills it when ``method`` is chosen, with ``edits``."""
    box = page["on_method"](method)[1]["value"]
    values = dict(ln.split("=", 1) for ln in box.splitlines())
    values.update({k: str(v) for k, v in edits.items()})
    return "\n".join(f"{k}={v}" for k, v in values.items())


@pytest.mark.parametrize("solver", ["irn", "admm"])
def test_gtf_from_the_prefilled_box_with_either_solver(page, samples, solver):
    a, b = samples / "tno-01" / "a.png", samples / "tno-01" / "b.png"
    params = _box(page, "gtf", solver=solver)
    assert "tol=" in params and "loops=" in params
    out = page["run"](*_args(a, b, "gtf", params))
    assert out[0].startswith("done: a-b-gtf.png"), out[0]
    assert f"--param solver={solver}" in out[5]


@pytest.mark.parametrize("solver,edit", [("irn", {"tol": 0.001}), ("admm", {"loops": 7})])
def test_gtf_a_value_for_the_other_solver_is_a_one_line_error_on_the_page(page, samples, solver, edit):
    a, b = samples / "tno-01" / "a.png", samples / "tno-01" / "b.png"
    out = page["run"](*_args(a, b, "gtf", _box(page, "gtf", solver=solver, **edit)))
    (name, value), = edit.items()
    assert out[0].startswith(f"mutualfuse: error: method 'gtf': parameter {name}={value}"), out[0]
    assert f"solver={solver}" in out[0] and "\n" not in out[0] and out[1] is None


def test_a_float_pair_downloads_a_float_tiff_and_the_png(page, tmp_path):
    """A radiometric float frame: the PNG (16-bit, noted) and the float TIFF `fuse -o x.tif` writes."""
    y, x = np.mgrid[0:32, 0:48]
    tifffile.imwrite(tmp_path / "frame.tif", ((np.sin(x / 5) + 1) * 20).astype(np.float32))
    Image.fromarray((np.cos(y / 4) * 100 + 120).astype(np.uint8)).save(tmp_path / "vis.png")
    out = page["run"](*_args(tmp_path / "frame.tif", tmp_path / "vis.png", "average", ""))
    assert out[0].startswith("done: frame-vis-average.png"), out[0]
    assert "note: .png cannot hold float data; wrote 16-bit" in out[0]
    assert [Path(f).name for f in out[4]] == ["frame-vis-average.png", "frame-vis-average.tif"]
    assert tifffile.imread(out[4][1]).dtype == np.float32
    assert "(16-bit gray PNG, float TIFF, cpu)" in out[5]  # each download as it is (session 29)
