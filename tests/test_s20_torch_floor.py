"""pyproject.toml's torch lower bound against what the code needs (s20: the suite run with torch
2.2.2, 2.6.0 and, for the failing parts, 2.3.1, 2.4.1 and 2.5.1; docs/dependency-floors.md, "torch").

Each row of ``NEEDS`` is a failure found below the floor: the first torch release that fixed it,
the code that makes it a need (file, regex), and what broke. A row whose code is gone no longer
binds (skipped), so that a compatible rewrite can lower the bound again, as in
``tests/test_packaging_dependency_bounds_s17.py`` for the other packages.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

NEEDS = [
    ("2.4", ("src/mutualfuse/model/encoder.py", r"torch\.is_autocast_enabled\(dev\)"),
     "torch.is_autocast_enabled(device_type) is 2.4+ (2.2.2, 2.3.1: 'takes no arguments', a TypeError "
     "on every forward of the network: fuse, train, evaluate and export all failed)"),
    ("2.4", ("src/mutualfuse/onnx_export.py", r"dynamo=False"),
     "torch.onnx.export(dynamo=) is 2.4+ (2.2.2, 2.3.1: TypeError, export-onnx failed)"),
    ("2.5", ("src/mutualfuse/model/mutual_mapping.py", r"scaled_dot_product_attention\(q, k, v, scale=scale\)"),
     "the TorchScript ONNX exporter of 2.2.2-2.4.1 fails on scaled_dot_product_attention with a float "
     "scale= (TypeError: z_(): incompatible function arguments): export-onnx failed for every network"),
    ("2.6", ("src/mutualfuse/model/blocks.py", r"padding_mode=padding"),
     "2.2.2-2.5.1 have no float16 CPU kernels for reflect (and replicate) padding: the network converted "
     "to float16 and run on a CPU raised RuntimeError ('reflection_pad2d' not implemented for 'Half'); "
     "2.2.2 also lacks float16 bilinear upsampling on the CPU"),
]


def _torch_floor() -> Version:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    reqs = [Requirement(s) for s in deps if Requirement(s).name == "torch"]
    assert len(reqs) == 1, f"torch is declared {len(reqs)} times in [project] dependencies"
    lows = [Version(s.version) for s in reqs[0].specifier if s.operator in (">=", "==", "~=")]
    assert lows, f"{reqs[0]} has no lower bound"
    return max(lows)


@pytest.mark.parametrize("first, where, why", NEEDS, ids=[f"torch>={v}:{Path(w[0]).name}" for v, w, _ in NEEDS])
def test_the_torch_floor_covers_what_the_code_needs(first, where, why):
    path, pattern = where
    if re.search(pattern, (ROOT / path).read_text(encoding="utf-8")) is None:
        pytest.skip(f"{path} no longer matches {pattern!r}: this need ({why}) is gone")
    assert _torch_floor() >= Version(first), f"torch>={_torch_floor()} allows releases below {first}, which fail: {why}"


def test_the_floor_is_the_one_the_record_names():
    # docs/dependency-floors.md records the runs that set it; a floor moved without a run is caught here
    doc = (ROOT / "docs" / "dependency-floors.md").read_text(encoding="utf-8")
    assert f"torch>={_torch_floor()}" in doc.replace("`", ""), \
        f"docs/dependency-floors.md does not name the declared floor torch>={_torch_floor()}"
