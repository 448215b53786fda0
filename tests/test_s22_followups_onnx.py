"""s22 follow-up: ``export-onnx`` to a file name that is not UTF-8 (``mod\\xe9l.onnx`` from a
Latin-1 shell) failed with ``ONNX export failed (TypeError: _export_onnx(): incompatible function
arguments)``: torch's exporter, onnx.load/onnx.save and onnxruntime's InferenceSession were given
the temporary's surrogate-escaped name, which their C++ bindings refuse. The graph is now
exported into memory, finished as a ModelProto and written by mutualfuse; onnxruntime gets the
model's bytes for such a name. For ordinary names the file's bytes are unchanged (checked
against the former file-based steps here, and against files exported before the change)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from mutualfuse.cli import main  # noqa: E402
from mutualfuse.onnx_export import METADATA_KEYS, export_onnx, run_onnx  # noqa: E402

RAW = b"mod\xe9l.onnx"  # é in Latin-1: not UTF-8


def _name(folder: Path) -> Path:
    p = folder / os.fsdecode(RAW)
    try:
        str(p).encode("utf-8")
    except UnicodeEncodeError:  # surrogate-escaped, as Python names it under a UTF-8 file system encoding
        return p
    pytest.skip("the file system encoding decodes this name to valid text: nothing to check")


def test_export_onnx_to_a_name_that_is_not_utf8(tiny_weights, tmp_path, capsys):
    out = _name(tmp_path)
    # with the onnxruntime check (it runs the temporary file, whose name is not UTF-8 either)
    assert main(["export-onnx", str(out), "--weights", str(tiny_weights), "-q"]) == 0, capsys.readouterr().err
    assert os.listdir(os.fsencode(tmp_path)) == [RAW]  # the file, no temporary left
    sess = ort.InferenceSession(out.read_bytes(), providers=["CPUExecutionProvider"])
    assert set(METADATA_KEYS) <= set(sess.get_modelmeta().custom_metadata_map)
    plain = export_onnx(tmp_path / "plain.onnx", tiny_weights)
    assert out.read_bytes() == plain.read_bytes()
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 37, 45), dtype=np.float32)
    assert np.array_equal(run_onnx(out, a, b), run_onnx(plain, a, b))


def test_ordinary_names_get_the_bytes_of_the_former_file_based_export(tiny_weights, tmp_path):
    """The former steps: torch.onnx.export into the file, then onnx.load, the same edits, onnx.save."""
    import warnings

    import torch

    from mutualfuse.onnx_export import ExportWrapper, _finish_graph, baked_settings
    from mutualfuse.weights import load_model

    out = export_onnx(tmp_path / "m.onnx", tiny_weights, pool=2, task=None)
    net, _ = load_model(tiny_weights)
    net = net.float().eval()
    wrapper = ExportWrapper(net, 2).eval()
    m = net.cfg.multiple
    h, w = 8 * m + 1, 10 * m + (m - 1 if m > 1 else 1)
    old = tmp_path / "old.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, (torch.rand(1, 1, h, w), torch.rand(1, 1, h, w)), str(old),
                          input_names=["a", "b"], output_names=["fused"],
                          dynamic_axes={k: {0: "batch", 2: "height", 3: "width"} for k in ("a", "b", "fused")},
                          opset_version=17, dynamo=False, do_constant_folding=True)
    finished = _finish_graph(old.read_bytes(), tiny_weights, 2, None, baked_settings(net))
    onnx.save(onnx.load_model_from_string(finished), str(tmp_path / "saved.onnx"))  # onnx.save's serialisation
    assert out.read_bytes() == finished == (tmp_path / "saved.onnx").read_bytes()
