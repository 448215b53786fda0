"""Shared-data helpers for the metric tests (imported by the test modules).

The shared folder is ``$MUTUALFUSE_SHARED`` if set, else ``<repo>/../shared`` (CI lays it
beside the clone). Tests that need it are skipped when it is missing.
"""
from __future__ import annotations

import csv
import os
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    env = os.environ.get("MUTUALFUSE_SHARED")
    return Path(env) if env else REPO.parent / "shared"


SHARED = shared_dir()
TSV = SHARED / "conformance" / "metrics_reference.tsv"

needs_shared = pytest.mark.skipif(not TSV.is_file(), reason=f"shared conformance data not found at {SHARED}")

_FUSED = {
    ("ir-vis/tno", "mean"): "conformance/fused/tno-mean",
    ("medical/ct-mr", "ifcnn-max"): "data/reference/ifcnn/medical/max",
    ("medical/ct-mr", "ifcnn-max-code"): "data/reference/ifcnn/medical/max-code",
    ("multi-focus/lytro", "ifcnn-max"): "data/reference/ifcnn/multi-focus/max",
    ("multi-focus/lytro", "ifcnn-mean"): "data/reference/ifcnn/multi-focus/mean",
}
_ROLES = {"ir-vis/tno": ("ir", "vis"), "medical/ct-mr": ("a", "b"), "multi-focus/lytro": ("a", "b")}


def triple_paths(set_: str, method: str, image: str) -> tuple[Path, Path, Path]:
    ra, rb = _ROLES[set_]
    base = SHARED / "data" / set_
    return (base / ra / f"{image}.png", base / rb / f"{image}.png",
            SHARED / _FUSED[(set_, method)] / f"{image}.png")


@lru_cache(maxsize=None)
def load_triple(set_: str, method: str, image: str):
    """The (a, b, f) uint8 arrays exactly as read (colour stays colour)."""
    from PIL import Image

    return tuple(np.asarray(Image.open(p)) for p in triple_paths(set_, method, image))


@lru_cache(maxsize=1)
def reference_rows() -> list[dict]:
    with open(TSV, newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for r in rows:
        r["value"] = float(r["value"])
    return rows


def rows_by_metric() -> dict[str, list[dict]]:
    out = defaultdict(list)
    for r in reference_rows():
        out[r["metric"]].append(r)
    return out
