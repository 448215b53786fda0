"""``export-onnx --weights m.onnx m.onnx`` (a graph given as the weights it is exported from, and
as the output): says that the file is an ONNX graph, not weights, as ``--weights m.onnx o.onnx``
does; it said "output path is the same file as input", which sends the user to rename the output.
The graph is left as it was."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from one_line_error import assert_one_line_error  # noqa: E402

# the start of an ONNX protobuf: field 1 (ir_version, varint 7), field 2 (producer_name)
GRAPH = b"\x08\x07\x12\x07pytorch" + b"\x00" * 64


def test_a_graph_as_its_own_weights_is_named_a_graph(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.onnx").write_bytes(GRAPH)
    for argv in (["export-onnx", "--weights", "m.onnx", "m.onnx"],
                 ["export-onnx", "--weights", "m.onnx", "-o", "m.onnx"],
                 ["export-onnx", "--weights", "m.onnx", "other.onnx"]):
        err = assert_one_line_error(capsys, argv, "m.onnx: an ONNX graph", "not safetensors weights")
        assert "same file" not in err, err
    assert (tmp_path / "m.onnx").read_bytes() == GRAPH
    assert not (tmp_path / "other.onnx").exists()


def test_real_weights_as_the_output_still_refused(tmp_path, monkeypatch, capsys):
    from mutualfuse.model import ModelConfig, build_model
    from mutualfuse.weights import save_weights

    monkeypatch.chdir(tmp_path)
    cfg = ModelConfig()
    save_weights(tmp_path / "w.onnx", build_model(cfg), cfg)  # weights of one's own, named .onnx
    before = (tmp_path / "w.onnx").read_bytes()
    assert_one_line_error(capsys, ["export-onnx", "--weights", "w.onnx", "w.onnx"], "same file as input")
    assert (tmp_path / "w.onnx").read_bytes() == before
