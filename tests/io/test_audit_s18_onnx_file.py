"""What an exported ONNX file tells the user who holds it, what ``run_onnx`` accepts, and a large
input through a pooled export.

* The metadata recorded the weights as the string given: for a user's file, the path as typed
  (``/home/alice/runs/thermal/last.safetensors``), i.e. the exporter's folders in a file made to
  be handed on, and nothing that identified the weights' content, the mutualfuse version or what
  the inputs must be. It now records a shipped name or the file's name, the file's sha256, the
  version and the inputs' layout and range, also in the model's description.
* ``run_onnx`` reshaped ``b`` to ``a``'s shape: a transposed ``b`` (as many pixels) was fused as
  garbage without a word.
"""
from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import mutualfuse  # noqa: E402
from mutualfuse import Fuser, InputError  # noqa: E402
from mutualfuse.cli import main  # noqa: E402
from mutualfuse.image_io import read_gray_float  # noqa: E402
from mutualfuse.onnx_export import METADATA_KEYS, export_onnx, run_onnx  # noqa: E402
from mutualfuse.weights import SHIPPED, resolve_weights  # noqa: E402
from tolerance import assert_close  # noqa: E402


def _meta(path):
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.get_modelmeta()


def test_the_metadata_names_the_weights_by_name_and_digest_never_by_folder(lively_weights, tmp_path, capsys):
    mine = tmp_path / "home" / "alice" / "runs" / "thermal" / "last.safetensors"
    mine.parent.mkdir(parents=True)
    shutil.copy(lively_weights, mine)
    out = tmp_path / "m.onnx"
    assert main(["export-onnx", str(out), "--weights", str(mine), "--no-check", "-q"]) == 0, capsys.readouterr().err
    meta = _meta(out)
    props = meta.custom_metadata_map
    assert set(METADATA_KEYS) <= set(props)
    assert props["mutualfuse.weights"] == "last.safetensors"
    assert props["mutualfuse.weights_sha256"] == hashlib.sha256(mine.read_bytes()).hexdigest()
    assert props["mutualfuse.version"] == mutualfuse.__version__
    assert props["mutualfuse.mapping_pool"] == "1" and props["mutualfuse.task"] == "stored"
    assert "(B, 1, H, W)" in props["mutualfuse.inputs"] and "[0, 1]" in props["mutualfuse.inputs"]
    assert "luminance" in props["mutualfuse.inputs"] and "(B, 1, H, W)" in props["mutualfuse.output"]
    assert "last.safetensors" in meta.description and props["mutualfuse.weights_sha256"] in meta.description
    raw = out.read_bytes()
    assert b"alice" not in raw and str(tmp_path).encode() not in raw  # no folder anywhere in the file
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)


def test_shipped_weights_are_named_as_shipped_also_when_given_by_their_path(tmp_path, capsys):
    path, digest = resolve_weights("blend")
    out = tmp_path / "b.onnx"
    assert main(["export-onnx", str(out), "--weights", str(path), "--pool", "3",
                 "--no-check", "-q"]) == 0, capsys.readouterr().err
    props = _meta(out).custom_metadata_map
    assert props["mutualfuse.weights"] == "blend"
    assert props["mutualfuse.weights_sha256"] == digest == SHIPPED["blend"].sha256
    assert props["mutualfuse.mapping_pool"] == "3"


def test_run_onnx_refuses_a_pair_of_other_shapes_and_tiny_images(lively_weights, tmp_path):
    p = export_onnx(tmp_path / "m.onnx", lively_weights)
    a = np.random.default_rng(0).random((97, 161)).astype(np.float32)
    with pytest.raises(InputError, match=r"shape mismatch: a is \(97, 161\), b is \(161, 97\)"):
        run_onnx(p, a, a.T.copy())  # as many pixels: was reshaped and fused
    with pytest.raises(InputError, match="shape mismatch"):
        run_onnx(p, a[None], np.stack([a, a]))
    with pytest.raises(InputError, match="7x97, smaller than 8x8"):
        run_onnx(p, a[:, :7], a[:, :7])
    with pytest.raises(InputError, match="expected an"):
        run_onnx(p, a[None, None], a[None, None])
    assert run_onnx(p, a, a[::-1].copy()).shape == (97, 161)


def test_a_large_image_through_a_pooled_export_equals_fuse_at_that_pool(samples, tmp_path):
    """1024x768 (TNO 01 resized): an exact export would build a 49152² attention matrix (9.7 GB
    per direction); ``--pool 4`` runs, and equals ``fuse`` with the token budget that pools by 4
    (measured 0.03 of the float32 tolerance on TNO40 32 at this size)."""
    from PIL import Image

    def big(name):
        im = Image.open(samples / "tno-01" / name).convert("L").resize((1024, 768), Image.BICUBIC)
        return np.asarray(im, np.float32) / 255

    a, b = big("a.png"), big("b.png")
    fuser = Fuser("default", device="cpu", task="stored", token_budget=3072)  # 256x192 tokens / 4² = 3072
    ref = fuser.fuse(a, b)
    assert fuser.report.mapping_pool == 4
    got = run_onnx(export_onnx(tmp_path / "p4.onnx", "default", pool=4), a, b)
    assert got.shape == (768, 1024)
    assert_close(got, ref, dtype=np.float32)


@pytest.mark.parametrize("name,says", [("dwt", "classical fusion method"), ("mutualfuse", "is the network method")])
def test_a_method_name_as_weights_says_what_exports(name, says, tmp_path, capsys):
    """``--weights dwt`` said "dwt: weights file not found" and listed 27 names: a user who fuses
    with ``--method dwt`` was not told that classical methods have no network to export."""
    rc = main(["export-onnx", str(tmp_path / "m.onnx"), "--weights", name])
    err = capsys.readouterr().err
    assert rc == 2 and says in err and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
