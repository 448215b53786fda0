"""``export-onnx`` says at which sizes its graph's mutual mapping is not ``fuse``'s.

A graph has one mapping pool; ``fuse`` picks one per size with the token budget. The command
said so only for weights with ``map_min_pool`` (``default --pool 1``): an exact export of
``blackout``, ``pyramid``, ``paper``, ... (``map_min_pool`` 1) printed nothing, yet ``fuse``
pools their mapping above 16384 mapping tokens (512x512), a 640x512 thermal frame included, and
the exact graph then differs from ``fuse`` (the bundled Lytro 01 pair, 520x520: up to 5.8e-3 with
``blackout``, 3.0e-2 with ``local``, measured) and builds an NxN matrix in onnxruntime
(1.1 GB a direction at 520x520). A ``--pool 2`` export of such weights matches ``fuse`` only
from 512x512 to 1024x1024, and said nothing either.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from mutualfuse import Fuser  # noqa: E402
from mutualfuse.cli import main  # noqa: E402
from mutualfuse.image_io import read_gray_float  # noqa: E402
from mutualfuse.onnx_export import export_onnx, fuse_pool_range, run_onnx  # noqa: E402
from tolerance import assert_close  # noqa: E402


def test_an_exact_export_of_budgeted_weights_says_where_fuse_pools(tmp_path, capsys):
    assert main(["export-onnx", str(tmp_path / "e.onnx"), "--weights", "blackout", "--no-check"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("note: "), err
    assert "exactly only up to its token budget, 16384 mapping tokens" in err and "512x512" in err, err
    assert "NxN matrix" in err, err
    assert main(["export-onnx", str(tmp_path / "p.onnx"), "--weights", "blackout", "--pool", "2", "--no-check"]) == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "2x pooled grid only on images of more than 16384 and at most 65536" in err, err
    assert "512x512" in err and "1024x1024" in err, err
    assert main(["export-onnx", str(tmp_path / "q.onnx"), "--weights", "blackout", "--no-check", "-q"]) == 0
    assert capsys.readouterr().err == ""  # -q: no notes


def test_a_network_without_a_mapping_gets_no_pool_note(tmp_path, capsys):
    assert fuse_pool_range("ablation-mean-concat-s0") is None
    assert main(["export-onnx", str(tmp_path / "c.onnx"), "--weights", "ablation-mean-concat-s0", "--no-check"]) == 0
    assert capsys.readouterr().err == ""


def _in_range(rng, h, w, multiple):
    lo, hi, s = rng
    n = (math.ceil(h / multiple) * multiple // s) * (math.ceil(w / multiple) * multiple // s)
    return lo < n and (hi is None or n <= hi)


def test_the_stated_range_is_where_fuse_uses_the_graphs_pool_on_a_real_pair(samples, tmp_path):
    """On the bundled Lytro 01 pair (520x520: 16900 tokens) and its 512x512 crop (16384), with
    ``blackout``: fuse pools by 2 and by 1; the ``--pool 2`` graph equals fuse on the first,
    where the range says so, and not on the crop, where it says not."""
    a = read_gray_float(samples / "lytro-01" / "a.png")
    b = read_gray_float(samples / "lytro-01" / "b.png")
    assert a.shape == (520, 520)
    fuser = Fuser("blackout", device="cpu", task="stored")
    multiple = fuser.net.cfg.multiple
    one, two = fuse_pool_range("blackout", None, 1), fuse_pool_range("blackout", None, 2)
    graph = run_onnx(export_onnx(tmp_path / "p2.onnx", "blackout", pool=2), a, b)
    ref = fuser.fuse(a, b)
    assert fuser.report.mapping_pool == 2
    assert _in_range(two, 520, 520, multiple) and not _in_range(one, 520, 520, multiple)
    assert_close(graph, ref, dtype=np.float32)
    ref = fuser.fuse(a[:512, :512], b[:512, :512])
    assert fuser.report.mapping_pool == 1
    assert _in_range(one, 512, 512, multiple) and not _in_range(two, 512, 512, multiple)
    graph = run_onnx(tmp_path / "p2.onnx", a[:512, :512], b[:512, :512])
    assert float(np.abs(graph - ref).max()) > 1e-3  # another mapping, another output


@pytest.mark.parametrize("name,pool,task", [("default", 2, None), ("default", 3, None), ("default", 2, "ir-vis"),
                                            ("pyramid", 1, None), ("ablation-var-mapping-d5-s0", 1, None),
                                            ("ablation-var-mapping-d4-s0", 2, None)])
def test_the_range_is_the_pool_fuse_picks(name, pool, task):
    """At the sizes around each end of the stated range, the network ``fuse`` runs picks the
    graph's pool exactly inside it (the deepest grid measured by running the encoder)."""
    import torch

    from mutualfuse.model.mutual_mapping import pool_for
    from mutualfuse.weights import load_model, task_settings

    net, _ = load_model(name, **(task_settings(name, task) if task else {}))
    rng = fuse_pool_range(name, task, pool)
    lo, hi, s = rng
    cfg = net.cfg
    with torch.no_grad():  # the deepest grid's stride: the encoder on a tiny input
        g = net.encode(torch.zeros(1, 1, 2 * cfg.multiple, 2 * cfg.multiple),
                       torch.zeros(1, 1, 2 * cfg.multiple, 2 * cfg.multiple))[0][-1].shape[-1]
    assert 2 * cfg.multiple // g == s
    checked = 0
    for tokens in {max(lo, 1), lo + 1, hi, hi + 1} - {0}:
        side = math.isqrt(tokens) * s
        for h, w in ((side, side), (side + 1, side), (side, side + cfg.multiple + 1)):
            hp, wp = math.ceil(h / cfg.multiple) * cfg.multiple, math.ceil(w / cfg.multiple) * cfg.multiple
            fuse_pool = pool_for(hp // s, wp // s, cfg.token_budget, cfg.map_min_pool)
            assert (fuse_pool == pool) == _in_range(rng, h, w, cfg.multiple), (name, h, w, fuse_pool)
            checked += 1
    assert checked >= 6
