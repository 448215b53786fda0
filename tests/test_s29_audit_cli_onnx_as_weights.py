"""The ONNX graph of ``mutualfuse export-onnx`` given as weights (``fuse --weights model.onnx``,
``methods --card model.onnx``, ``Fuser("model.onnx")``) is refused in one line saying it is an
ONNX graph, to run it with onnxruntime, and that ``--weights`` takes the safetensors file it was
exported from. Until 2026-12-07 the line was safetensors' "not a valid safetensors weights file
(Error while deserializing header: header too large)"."""
from __future__ import annotations

import pytest

from mutualfuse import Fuser
from mutualfuse.cli import main
from mutualfuse.errors import WeightsError

pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def graph(tmp_path_factory):
    from mutualfuse.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    export_onnx(out, "paper")
    return out


@pytest.mark.parametrize("command", ["fuse", "card"])
def test_an_onnx_graph_as_weights_is_one_line_saying_so(graph, tmp_path, capsys, command, samples):
    s = samples / "tno-01"
    args = (["fuse", str(s / "a.png"), str(s / "b.png"), "-o", str(tmp_path / "f.png"), "--weights", str(graph)]
            if command == "fuse" else ["methods", "--card", str(graph)])
    assert main(args) == 2
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mutualfuse: error: {graph}: an ONNX graph"), cap.err
    assert "onnxruntime" in lines[0] and "header too large" not in lines[0]
    assert not (tmp_path / "f.png").exists()


def test_the_api_and_another_name(graph, tmp_path):
    other = tmp_path / "model.bin"  # told by its first bytes too
    other.write_bytes(graph.read_bytes())
    for p in (graph, other):
        with pytest.raises(WeightsError, match="an ONNX graph"):
            Fuser(weights=str(p))
