"""s20: the page's focus-stack section has a slider comparing the fused stack with each of its
images as fused (8-bit, after the stack's joint mapping), picked by name (docs/web.md listed "no
before/after slider" for a stack)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image


def _previews_match(planes, arrays):
    for (_, p), x in zip(planes, arrays):
        got = np.asarray(Image.open(p))
        assert got.shape == x.shape[:2] + ((3,) if x.ndim == 3 else ())
        assert np.abs(got.astype(float) - np.round(x * 255)).max() <= 1


def test_core_gives_each_image_as_fused_in_stack_order(tmp_path):
    from mutualfuse.web import core

    rng = np.random.default_rng(2)
    files, arrays = [], {}
    for name in ("z10.png", "z1.png", "z2.png"):
        x = rng.integers(0, 256, (30, 42)).astype(np.uint8)
        f = tmp_path / name
        Image.fromarray(x).save(f)
        files.append(str(f))
        arrays[name] = x / 255.0
    s = core.Settings(method="average", weights="default", device="cpu")
    r = core.fuse_stack_request(files, s, tmp_path / "work", core.FuserCache())
    assert [label for label, _ in r.planes] == ["z1.png", "z2.png", "z10.png"]
    _previews_match(r.planes, [arrays[n] for n in ("z1.png", "z2.png", "z10.png")])
    state = {"planes": [(label, str(p)) for label, p in r.planes], "fused": str(r.preview)}
    assert core.compare_stack(state, "z2.png") == (str(r.planes[1][1]), str(r.preview))
    assert core.compare_stack(None, "z2.png") is None


def test_a_16_bit_tiff_stack_shows_its_planes_after_the_joint_mapping(tmp_path):
    from mutualfuse.io.samples import joint_percentile_scale
    from mutualfuse.web import core

    rng = np.random.default_rng(3)
    planes = (1000 + 500 * np.arange(3)[:, None, None] + rng.integers(0, 3000, (3, 32, 40))).astype(np.uint16)
    f = tmp_path / "cells.tif"
    tifffile.imwrite(f, planes, imagej=True, metadata={"axes": "ZYX"})
    s = core.Settings(method="average", weights="default", device="cpu")
    r = core.fuse_stack_request([str(f)], s, tmp_path / "work", core.FuserCache())
    assert [label for label, _ in r.planes] == ["plane 1", "plane 2", "plane 3"]
    from mutualfuse import Fuser

    want = joint_percentile_scale([p / 65535.0 for p in planes], *Fuser(method="average").percentiles)
    if want is None:
        pytest.skip("no joint mapping for these planes")
    _previews_match(r.planes, want)


def test_the_page_wires_the_slider(tmp_path):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path / "work", device="cpu")
    fns = {f.name: f for f in app.fns.values()}
    files = []
    for i, name in enumerate(("b.png", "a.png")):
        f = tmp_path / name
        Image.fromarray(np.full((20, 24), 40 * (i + 1), np.uint8)).save(f)
        files.append(str(f))
    opts = ["average", "default", "", "saturation", "auto", None, None, None, False, "auto"]
    out = fns["run_stack"].fn(files, *opts, "tree", "png")
    status, shown, download, timing, pair, which, state = out
    assert status.startswith("done: "), status
    assert which["choices"] in (["a.png", "b.png"], [("a.png", "a.png"), ("b.png", "b.png")]) and which["value"] == "a.png"
    assert pair[1] == shown and Path(pair[0]).name == "plane-0001.png"
    assert int(np.asarray(Image.open(pair[0])).max()) == 80  # a.png (the second upload) comes first
    assert fns["on_stack_compare"].fn("b.png", state)[0][0].endswith("plane-0002.png")
    # the status line: a result gone from the server is said there (test_s28_webstack_app.py)
    assert [b.elem_id for b in fns["on_stack_compare"].outputs] == ["stack-compare", "stack-status"]
    # an error leaves nothing to compare
    out = fns["run_stack"].fn(files[:1], *opts, "tree", "png")
    assert out[0].startswith("mutualfuse: error: ") and out[4] is None and out[6] is None
