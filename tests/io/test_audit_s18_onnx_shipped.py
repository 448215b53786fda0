"""``export-onnx`` of the shipped weights, as a user exports them: every architecture the shipped
names hold (pyramid with the locality bias and centred maps, pyramid without, blend, the paper's
direct output with reflect padding, direct output with the locality bias at depths 3, 4 and 5
(padded to 4, 8 and 16), the add and concat fusion ablations, VIFNet) exports and equals
``fuse`` (exact mapping, stored settings) at an odd size, at the smallest size ``fuse`` takes
(8x8) and on a batch of two, at the float32 tolerance.

Measured on this CPU over all 27 shipped names: at most 0.05 of the tolerance at 97x161, 0.006
on 8x8, 0.034 on the batch (larger images are less well conditioned for weights with the
locality bias: docs/inputs.md, ONNX, "Precision"; hence small images here). The rest of the
shipped names (same architectures, other training) are compared at 97x161 (marked slow).
"""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from mutualfuse import Fuser  # noqa: E402
from mutualfuse.image_io import read_gray_float  # noqa: E402
from mutualfuse.onnx_export import export_onnx, run_onnx  # noqa: E402
from mutualfuse.weights import SHIPPED  # noqa: E402
from tolerance import assert_close  # noqa: E402

ONE_OF_EACH = ["default", "local", "pyramid", "blend", "paper", "ablation-var-mapping-s0", "ablation-var-mapping-d4-s0",
               "ablation-var-mapping-d5-s0", "ablation-var-add-s0", "ablation-var-concat-s0",
               "ablation-vifnet-mean-concat-s0"]
THE_REST = [n for n in SHIPPED if n not in ONE_OF_EACH]


def _pairs(samples):
    a = read_gray_float(samples / "tno-01" / "a.png")
    b = read_gray_float(samples / "tno-01" / "b.png")
    return {"97x161": (a[:97, :161], b[:97, :161]),  # odd: padded inside the graph, cropped back
            "8x8": (a[100:108, 200:208], b[100:108, 200:208]),
            "batch of 2": (np.stack([a[:37, :45], b[50:87, 60:105]]), np.stack([b[:37, :45], a[50:87, 60:105]]))}


def _check(name, samples, tmp_path, sizes=("97x161", "8x8", "batch of 2")):
    path = export_onnx(tmp_path / f"{name}.onnx", name)
    fuser = Fuser(name, device="cpu", token_budget=0, task="stored")  # what the graph computes
    for what, (a, b) in _pairs(samples).items():
        if what not in sizes:
            continue
        got = run_onnx(path, a, b)
        assert got.shape == a.shape, what
        assert_close(got, fuser.fuse(a, b), dtype=np.float32, msg=f"{name}, {what}")


@pytest.mark.parametrize("name", ONE_OF_EACH)
def test_shipped_weights_export_and_equal_fuse(name, samples, tmp_path):
    _check(name, samples, tmp_path)


def test_one_of_each_covers_every_architecture_shipped():
    """Every combination of the settings that change the graph is in ``ONE_OF_EACH``."""
    from mutualfuse.weights import load_model

    def kind(n):
        c = load_model(n)[0].cfg
        return (c.arch, c.fusion, c.output, c.multiple, c.padding, bool(c.attn_dim), bool(c.attn_local_sigma),
                c.map_center, c.shared_encoder)

    assert {kind(n) for n in THE_REST} <= {kind(n) for n in ONE_OF_EACH}


@pytest.mark.slow
@pytest.mark.parametrize("name", THE_REST)
def test_the_other_shipped_weights_export_and_equal_fuse(name, samples, tmp_path):
    _check(name, samples, tmp_path, sizes=("97x161",))  # their architecture's other sizes: above
