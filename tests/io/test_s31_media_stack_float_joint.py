"""A float focus stack (a deconvolved or background-subtracted z-stack: float32 samples outside
[0, 1]) shares one intensity mapping, the stack's joint percentiles, as a 16-bit stack does.
Each plane was stretched by its own percentiles (one note a plane), so a dim focal plane came
out as bright as the brightest: the same stack fused as float and as 16-bit differed by a
quarter of the range."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.cli import main

tifffile = pytest.importorskip("tifffile")


def _stack():
    base = np.random.default_rng(5).random((40, 48)) * 1000
    return np.stack([base * 0.1, base, base * 0.5]).astype(np.float32)  # dim, bright, middle


def _expected(st):
    a, b = np.percentile(st.astype(np.float64), [0.1, 99.9])
    return np.clip((st.astype(np.float64) - a) / (b - a), 0, 1).mean(axis=0)


@pytest.mark.parametrize("as_files", [False, True], ids=["one-tiff", "files"])
def test_float_planes_share_the_stacks_percentiles(tmp_path, capsys, as_files):
    st = _stack()
    if as_files:
        args = []
        for i, x in enumerate(st):
            tifffile.imwrite(tmp_path / f"z{i}.tif", x)
            args.append(str(tmp_path / f"z{i}.tif"))
    else:
        tifffile.imwrite(tmp_path / "zstack.tif", st, photometric="minisblack")
        args = [str(tmp_path / "zstack.tif")]
    out = tmp_path / "edf.tif"
    assert main(["fuse-stack", *args, "-o", str(out), "--method", "average", "--bit-depth", "32"]) == 0
    err = capsys.readouterr().err
    got = tifffile.imread(out).astype(np.float64)
    # the joint mapping's histogram is exact to 1/65535 of the range; per-plane stretching was 0.23 off
    assert np.abs(got - _expected(st)).max() < 2e-3
    assert "(float) scaled by the joint 0.1-99.9 percentiles" in err, err
    assert "input scaled by percentile" not in err, err  # one note, not one a plane
