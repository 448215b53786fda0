"""``mutualfuse.onnx_export.run_onnx(PATH, a, b)`` with a PATH that is no graph of ``export-onnx``
raised onnxruntime's own exception types (``NoSuchFile``, ``InvalidProtobuf``: neither a
``FuseError`` nor a ``ValueError``), for another graph an ``InvalidArgument`` from ``run``: now a
one-line ``InputError`` naming the file."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from mutualfuse.errors import InputError  # noqa: E402
from mutualfuse.onnx_export import run_onnx  # noqa: E402

A = np.random.default_rng(0).random((16, 16))


def _one_line(e) -> str:
    msg = str(e.value)
    assert "\n" not in msg
    return msg


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as e:
        run_onnx(tmp_path / "nope.onnx", A, A)
    assert _one_line(e) == f"{tmp_path / 'nope.onnx'}: no such ONNX file"


def test_folder(tmp_path):
    with pytest.raises(InputError, match=r": is a directory, expected an \.onnx graph") as e:
        run_onnx(tmp_path, A, A)
    _one_line(e)


def test_weights_file_given_for_its_graph(tmp_path):
    w = tmp_path / "w.safetensors"
    w.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}              ")
    with pytest.raises(InputError, match=r"w\.safetensors: onnxruntime cannot load it as an ONNX graph .*"
                                         r"export it first, mutualfuse export-onnx --weights FILE") as e:
        run_onnx(w, A, A)
    _one_line(e)


def test_another_graph(tmp_path):
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1, None, None])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1, None, None])
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "other", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    p = tmp_path / "other.onnx"
    onnx.save(m, str(p))
    with pytest.raises(InputError, match=r"other\.onnx: not a graph of mutualfuse export-onnx \(inputs x, outputs y; "
                                         r"expected inputs a, b and output fused\)") as e:
        run_onnx(p, A, A)
    _one_line(e)
