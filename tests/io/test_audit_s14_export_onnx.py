"""``export-onnx``: the declared output shape, the graph's metadata, and the mapping pool of the
shipped ``default`` weights (``map_min_pool`` 2) against ``fuse``, on a real TNO pair."""
from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from mutualfuse import Fuser  # noqa: E402
from mutualfuse.cli import main  # noqa: E402
from mutualfuse.image_io import read_gray_float  # noqa: E402
from mutualfuse.onnx_export import run_onnx  # noqa: E402
from tolerance import assert_close  # noqa: E402


def _dims(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


def test_the_output_is_declared_with_the_inputs_shape_and_the_graph_says_what_it_computes(tmp_path, capsys):
    """The output's channel axis was declared ``Clipfused_dim_1`` (a symbolic size) where the docs
    say "the same shape" as the inputs (B, 1, H, W); engines built from the declared shapes
    (TensorRT, static-shape runtimes on edge devices) saw an unknown channel count. Seen with the
    shipped `default` (a pyramid model), the weights a deployment exports."""
    out = tmp_path / "m.onnx"
    assert main(["export-onnx", str(out), "--pool", "2", "-q"]) == 0, capsys.readouterr().err
    m = onnx.load(str(out))
    onnx.checker.check_model(m, full_check=True)
    ins = {i.name: _dims(i) for i in m.graph.input}
    outs = {o.name: _dims(o) for o in m.graph.output}
    assert ins == {"a": ["batch", 1, "height", "width"], "b": ["batch", 1, "height", "width"]}
    assert outs == {"fused": ["batch", 1, "height", "width"]}, outs
    meta = {p.key: p.value for p in m.metadata_props}
    assert meta["mutualfuse.mapping_pool"] == "2" and meta["mutualfuse.task"] == "stored"
    assert meta["mutualfuse.weights"] == "default"
    a = np.random.default_rng(0).random((2, 37, 45)).astype(np.float32)  # batch 2, odd size: dynamic axes
    assert run_onnx(out, a, a[::-1].copy()).shape == (2, 37, 45)


@pytest.mark.needs_shared("data/ir-vis/tno")
def test_a_default_export_says_it_differs_from_fuse_and_pool_2_matches_fuse(shared, tmp_path, capsys):
    """`default` stores map_min_pool 2: `fuse` runs its mapping on a 2x pooled grid at every size
    up to the token budget, the export's default graph is exact. On TNO 01 (360x270) the two
    differed by up to 0.36 (92 grey levels) and nothing said so. The export now says it, and
    `--pool 2` equals `fuse --task stored` within the float32 tolerance."""
    root = shared / "data" / "ir-vis" / "tno"
    a = read_gray_float(root / "ir" / "01.png")
    b = read_gray_float(root / "vis" / "01.png")
    ref = Fuser("default", device="cpu", task="stored").fuse(a, b)
    got = {}
    for pool in ("1", "2"):
        out = tmp_path / f"p{pool}.onnx"
        assert main(["export-onnx", str(out), "--pool", pool, "--no-check"]) == 0
        err = capsys.readouterr().err
        assert ("map_min_pool 2" in err and "--pool 2 matches fuse" in err) == (pool == "1"), err
        assert err.count("\n") == (1 if pool == "1" else 0), err
        got[pool] = run_onnx(out, a, b)
    assert_close(got["2"], ref, dtype=np.float32)
    assert float(np.abs(got["1"] - ref).max()) > 0.05  # measured 0.36
    assert main(["export-onnx", str(tmp_path / "q.onnx"), "--no-check", "-q"]) == 0
    assert capsys.readouterr().err == ""  # -q: nothing on success
