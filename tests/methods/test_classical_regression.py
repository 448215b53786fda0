"""Regression pins: output statistics of every classical method on 2 real pairs.

``tno-01`` (TNO IR/VIS 360x270) and ``ct-mr-c01`` (CT/MR 256x256) from the bundled samples;
the sparse methods run on a central 64x64 crop of each pair to keep the default test run
short (with default parameters). Regenerate after an intended change with
``python tests/methods/test_classical_regression.py --regen`` and explain the change.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.methods import fuse_gray

HERE = Path(__file__).resolve().parent
PINS = HERE / "classical_pins.json"
SAMPLES = HERE.parents[1] / "src" / "mutualfuse" / "data" / "samples"
METHODS_PINNED = ["lp", "rp", "dwt", "dtcwt", "cvt", "msvd", "gtf", "cbf", "mgff", "asr", "csr"]
CROPPED = {"asr", "csr"}
PAIRS = ["tno-01", "ct-mr-c01"]
# float32 CBPDN and iterative solvers: allow for BLAS/FFT rounding differences across machines
TOL = {"csr": 2e-4, "gtf": 2e-5, "asr": 1e-6}


def load(pair, cropped):
    a, b = (np.asarray(Image.open(SAMPLES / pair / f"{k}.png"), dtype=np.float64) / 255.0 for k in "ab")
    if cropped:
        cy, cx = a.shape[0] // 2, a.shape[1] // 2
        a, b = a[cy - 32:cy + 32, cx - 32:cx + 32], b[cy - 32:cy + 32, cx - 32:cx + 32]
    return a, b


def stats(f: np.ndarray) -> dict:
    gy, gx = np.gradient(f)
    q = np.percentile(f, [1, 50, 99])
    return {"mean": float(f.mean()), "std": float(f.std()), "min": float(f.min()), "max": float(f.max()),
            "p01": float(q[0]), "p50": float(q[1]), "p99": float(q[2]),
            "grad": float(np.hypot(gx, gy).mean()), "shape": list(f.shape)}


def compute(method, pair):
    a, b = load(pair, method in CROPPED)
    return stats(fuse_gray(method, a, b))


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("method", METHODS_PINNED)
def test_output_statistics_pinned(method, pair):
    pins = json.loads(PINS.read_text())
    want = pins[method][pair]
    got = compute(method, pair)
    assert got["shape"] == want["shape"]
    tol = TOL.get(method, 1e-7)
    for k, v in want.items():
        if k != "shape":
            assert abs(got[k] - v) <= tol, f"{method}/{pair}: {k} = {got[k]:.8f}, pinned {v:.8f}"


if __name__ == "__main__" and "--regen" in sys.argv:
    out = {m: {p: compute(m, p) for p in PAIRS} for m in METHODS_PINNED}
    PINS.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", PINS)


def test_the_list_covers_every_built_in_method():
    """METHODS_PINNED is the registry's list of the package's classical methods."""
    from builtin_methods import builtin_classical

    assert set(METHODS_PINNED) == builtin_classical(pixel=False)
