"""Audit of ``mutualfuse benchmark`` (session 14): each test failed before its fix.

Small synthetic sets (64x80 random images), one cheap method, no figures unless needed, so every
test runs in seconds without the shared data.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark import BenchmarkConfig, run_benchmark
from mutualfuse.cli import main

ABL_WEIGHTS = "ablation-mean-concat-s0"  # shipped ablation weights (issue 11)


@pytest.fixture()
def root(tmp_path):
    rng = np.random.default_rng(14)
    data = tmp_path / "data"
    for role in ("ir", "vis"):
        (data / "ir-vis" / "tno" / role).mkdir(parents=True)
        for n in ("01", "02", "03"):
            Image.fromarray(rng.integers(0, 256, (64, 80)).astype(np.uint8)).save(
                data / "ir-vis" / "tno" / role / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    # Tables 4 and 5 name the same shipped weights (as the shipped config's Ours-Net and Ours(Mean) do)
    (tmp_path / "abl.yaml").write_text(
        "set: ir-vis/tno\ntables:\n"
        f"  table4:\n    rows:\n      - {{label: Ours-Net, weights: [{ABL_WEIGHTS}]}}\n"
        f"  table5:\n    rows:\n      - {{label: Ours(Mean), weights: [{ABL_WEIGHTS}]}}\n")
    return tmp_path


def _argv(root, out, *extra):
    return ["benchmark", "--data-root", str(root / "data"), "--out", str(out), "--cache", str(root / "cache"),
            "--figures", str(root / "nofig.yaml"), "--ablations", str(root / "abl.yaml"), "--fast-metrics",
            "--weights", "none", "-q", *extra]


def test_retime_with_two_ablation_rows_of_the_same_weights(root, capsys):
    """--retime used to end in 'internal error: KeyError: ablation:table5/...' (exit 1, no output):
    the second row of the same weights is not timed on its own, and the retime loop looked it up."""
    out = root / "out"
    rc = main(_argv(root, out, "--tables", "4,5", "--methods", "average", "--pairs", "1", "--retime"))
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "internal error" not in err
    rt = (out / "tables" / "runtime.csv").read_text()
    assert "--retime on ir-vis/tno/" in rt and "--retime failed" not in rt
