"""The paper's IFCNN(max) rows, reproduced from IFCNN's published fused images with the
``paper`` metric profile (Rao et al., Tables 2 and 3; see docs/metrics.md).

"Reproduced" means our mean over the set rounds to the paper's 4-decimal value, or differs
from it by at most 5e-5 (the criterion of the conformance README).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest

from metrics_shared import SHARED, needs_shared

import mutualfuse.metrics as M

pytestmark = needs_shared

# Table 2 (multi-focus, Lytro, 20 pairs), row IFCNN(max)
TABLE2_IFCNN_MAX = {"EI": 70.7663, "SF": 19.4004, "EN": 7.5319, "SCD": 0.5817, "MI": 15.0639,
                    "SD": 117.3573, "VIF": 1.1339}
# Table 3 (medical, 8 CT/MR pairs), row IFCNN(max)
TABLE3_IFCNN_MAX = {"EI": 83.1070, "SF": 24.1949, "EN": 5.6613, "Qabf": 0.5737, "SCD": 1.1406,
                    "MS_SSIM": 0.9329, "MI": 11.3226, "SD": 67.3829, "VIF": 0.9767}


def _read(path):
    from PIL import Image

    return np.asarray(Image.open(path))


@lru_cache(maxsize=None)
def _means(set_: str, fused_rel: str, metrics: tuple[str, ...]) -> dict[str, float]:
    base = SHARED / "data" / set_
    names = sorted(p.stem for p in (base / "a").glob("*.png"))
    profile = M.resolve(profile="paper")
    keys = [profile[m] for m in metrics]
    acc: dict[str, list[float]] = {m: [] for m in metrics}
    for n in names:
        a, b = _read(base / "a" / f"{n}.png"), _read(base / "b" / f"{n}.png")
        f = _read(SHARED / "data" / fused_rel / f"{n}.png")
        vals = M.evaluate_pair(a, b, f, metrics=keys)
        for m, k in zip(metrics, keys):
            acc[m].append(vals[k])
    return {m: float(np.mean(v)) for m, v in acc.items()}


def _reproduces(ours: float, paper: float) -> bool:
    return round(ours, 4) == paper or abs(ours - paper) <= 5e-5


def test_paper_profile_maps_the_tables_columns():
    assert set(TABLE3_IFCNN_MAX) == set(M.resolve(profile="paper"))
    assert set(TABLE2_IFCNN_MAX) <= set(M.resolve(profile="paper"))


@pytest.mark.parametrize("metric", list(TABLE2_IFCNN_MAX))
def test_table2_lytro_ifcnn_max(metric):
    means = _means("multi-focus/lytro", "reference/ifcnn/multi-focus/max", tuple(TABLE2_IFCNN_MAX))
    assert _reproduces(means[metric], TABLE2_IFCNN_MAX[metric]), (metric, means[metric])


_T3 = [m if m != "Qabf" else pytest.param(m, marks=pytest.mark.xfail(
    strict=True, reason="the paper's Qabf (0.5737) matches no known Qabf code; VIFB metricsQabf gives "
                        "0.57490 on these images (see docs/metrics.md)")) for m in TABLE3_IFCNN_MAX]


@pytest.mark.parametrize("metric", _T3)
def test_table3_medical_ifcnn_max(metric):
    # the released-code outputs (max-code/), not the published Results/MD copy, reproduce the table
    means = _means("medical/ct-mr", "reference/ifcnn/medical/max-code", tuple(TABLE3_IFCNN_MAX))
    assert _reproduces(means[metric], TABLE3_IFCNN_MAX[metric]), (metric, means[metric])


def test_table3_qabf_value_is_vifb_s():
    """Pin what we do get for Qabf, so that a change in it is noticed (docs quote 0.57490)."""
    means = _means("medical/ct-mr", "reference/ifcnn/medical/max-code", tuple(TABLE3_IFCNN_MAX))
    assert means["Qabf"] == pytest.approx(0.57490, abs=5e-6)
