"""Weights at a path that is not UTF-8 (a file named in Latin-1 bytes, as on an older system):
``save_weights`` wrote its sidecar with ``write_text`` (internal error UnicodeEncodeError), and
safetensors, which takes UTF-8 paths only, could not open such a file ("not a valid safetensors
weights file (Path ... is not valid UTF-8)")."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from mutualfuse.weights import load_model, read_weights, save_weights, sidecar_path

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self/fd") or sys.platform != "linux",
                                reason="reads such a file through /proc/self/fd (Linux)")


def _latin1_name(folder, stem: bytes):
    return folder / os.fsdecode(stem + b".safetensors")


def test_weights_named_in_latin1_bytes_are_written_and_read(tmp_path):
    model, _ = load_model("default")
    p = _latin1_name(tmp_path, b"caf\xe9")
    save_weights(p, model, model.cfg)
    assert os.fsencode(sidecar_path(p)).endswith(b"caf\xe9.safetensors.sha256")
    # the sidecar names the file by its own bytes, as sha256sum writes them
    assert open(sidecar_path(p), "rb").read().endswith(b"  caf\xe9.safetensors\n")
    state, cfg, meta = read_weights(p)
    ref, _, _ = read_weights("default")
    assert state.keys() == ref.keys()
    assert all(np.array_equal(state[k].numpy(), ref[k].numpy()) for k in ref)


def test_fuse_with_weights_named_in_latin1_bytes(tmp_path, samples):
    model, _ = load_model("default")
    p = _latin1_name(tmp_path, b"w\xe9")
    save_weights(p, model, model.cfg)
    pair = samples / "tno-01"
    out = tmp_path / "f.png"
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "fuse", str(pair / "a.png"), str(pair / "b.png"),
                        "-o", str(out), "--weights", os.fsencode(p)],
                       capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr
    assert out.is_file()


def test_onnx_export_of_weights_named_in_latin1_bytes(tmp_path):
    """The graph records the weights' name with its bytes escaped (ONNX metadata is UTF-8 text):
    the export failed with UnicodeEncodeError."""
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from mutualfuse.onnx_export import export_onnx

    model, _ = load_model("default")
    p = _latin1_name(tmp_path, b"w\xe9")
    save_weights(p, model, model.cfg)
    out = tmp_path / "x.onnx"
    export_onnx(out, weights=p)
    props = {e.key: e.value for e in onnx.load(str(out)).metadata_props}
    assert props["mutualfuse.weights"] == "w\\xe9.safetensors"
