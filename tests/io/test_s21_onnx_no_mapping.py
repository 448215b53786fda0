"""Weights without a mutual mapping (the concat, add and VIF-Net ablations): ``export-onnx
--pool 3`` exported them and recorded ``mutualfuse.mapping_pool`` 3 and "mutual mapping on a 3x
pooled grid" in the description of a graph that has no mapping (the pool was ignored). Now a
pool other than 1 is refused in one line (exit 2, no file), and the graph records ``none``."""
from __future__ import annotations

import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from mutualfuse.cli import main  # noqa: E402


def test_a_pool_for_a_network_without_a_mapping_is_refused(tmp_path, capsys):
    out = tmp_path / "c.onnx"
    rc = main(["export-onnx", str(out), "--weights", "ablation-mean-concat-s0", "--pool", "3", "--no-check"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("mutualfuse: error: "), err
    assert "no mutual mapping" in err and "Traceback" not in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["ablation-var-add-s0", "ablation-vifnet-mean-concat-s0"])
def test_a_graph_without_a_mapping_says_so(name, tmp_path, capsys):
    out = tmp_path / "c.onnx"
    assert main(["export-onnx", str(out), "--weights", name, "--no-check", "-q"]) == 0, capsys.readouterr().err
    m = onnx.load(str(out))
    props = {p.key: p.value for p in m.metadata_props}
    assert props["mutualfuse.mapping_pool"] == "none"
    assert "no mutual mapping" in m.doc_string and "mutual mapping exact" not in m.doc_string
    m = tmp_path / "m.onnx"  # a network with a mapping still records its pool
    assert main(["export-onnx", str(m), "--weights", "blend", "--pool", "2", "--no-check", "-q"]) == 0
    assert {p.key: p.value for p in onnx.load(str(m)).metadata_props}["mutualfuse.mapping_pool"] == "2"
