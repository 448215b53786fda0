"""Shared-data helpers for the metric tests (imported by the test modules).

The shared folder is ``$MUTUALFUSE_SHARED`` if set, else ``<repo>/../shared`` (CI lays it
beside the clone). Tests that need it carry ``needs_shared``; when it is missing they follow the
suite's one policy (``tests/shared_data.py``: skipped, or failed with ``MUTUALFUSE_REQUIRE_SHARED=1``).
"""
from __future__ import annotations

import csv
import math
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from shared_data import shared_root

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    return shared_root()


SHARED = shared_dir()
TSV = SHARED / "conformance" / "metrics_reference.tsv"

needs_shared = pytest.mark.needs_shared("data", "conformance/metrics_reference.tsv")

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


# --- conformance sweep: tolerance and default/slow split --------------------------------

REL_TOL = 1e-4
# No absolute floor is needed: the smallest reference value (Nabf, 2.8e-5) is matched to
# ~1e-14 relative, so every row is held to the relative tolerance alone.

# keys checked on a subset (the first image of every set/method) in the default run
SUBSET_KEYS = {"VIF@nestfuse", "VIF_AF@nestfuse", "VIF_BF@nestfuse", "MS_SSIM@rfn-nest", "Qcb@vifb",
               "FMI_pixel@nestfuse"}


def _first_images() -> set[tuple[str, str, str]]:
    first: dict[tuple[str, str], str] = {}
    for r in reference_rows():
        k = (r["set"], r["method"])
        first[k] = min(first.get(k, r["image"]), r["image"])
    return {(s, m, i) for (s, m), i in first.items()}


def _split():
    fast, slow = [], []
    firsts = _first_images()
    for key, rows in sorted(rows_by_metric().items()):
        for r in rows:
            tid = (r["set"], r["method"], r["image"])
            p = pytest.param(key, r, id=f"{key}-{r['set']}-{r['method']}-{r['image']}")
            if key in SUBSET_KEYS and tid not in firsts:
                slow.append(p)
            else:
                fast.append(p)
    return fast, slow


def split_rows():
    """(default rows, slow rows) as pytest params; empty when the shared data is missing."""
    try:
        return _split()
    except FileNotFoundError:  # the needs_shared mark reports it (skip, or fail if required)
        return [], []


def check_row(key: str, row: dict) -> None:
    a, b, f = load_triple(row["set"], row["method"], row["image"])
    got = _metrics().METRICS.get(key)(a, b, f)
    want = row["value"]
    assert math.isfinite(got)
    assert abs(got - want) <= REL_TOL * abs(want), (
        f"{key} {row['set']}/{row['method']}/{row['image']}: got {got!r}, reference {want!r}, "
        f"rel. diff {abs(got - want) / abs(want):.3g}"
    )


def _metrics():
    import mutualfuse.metrics as M

    return M
