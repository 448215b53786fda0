"""A metric undefined for the images (Liu et al.'s Q_MI/Q_TE/Q_NCIE on a constant non-zero image:
normalize1 divides 0 by 0) is an empty cell with a note in ``evaluate``, as an image too small for
a metric is; it stopped the whole run ('b is constant (100); ... divides by zero', exit 2)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.errors import InputError, MetricUndefinedError
from mutualfuse.metrics import METRICS


def _set(root, constant_b: list[bool]):
    rng = np.random.default_rng(8)
    for d in ("a", "b", "f"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i, flat in enumerate(constant_b):
        a = rng.integers(0, 256, (40, 48)).astype(np.uint8)
        b = np.full((40, 48), 100, np.uint8) if flat else rng.integers(0, 256, (40, 48)).astype(np.uint8)
        for d, x in (("a", a), ("b", b), ("f", np.maximum(a, b))):
            Image.fromarray(x).save(root / d / f"{i:02d}.png")
    return ["evaluate", "--a", str(root / "a"), "--b", str(root / "b"), "--fused", str(root / "f")]


@pytest.mark.parametrize("key", ["Qmi@liu", "Qte@liu", "Qncie@liu", "Qte_cvejic@liu"])
def test_python_raises_metric_undefined_an_input_error(key):
    a = np.random.default_rng(0).integers(0, 256, (32, 32)).astype(np.uint8)
    b = np.full((32, 32), 100, np.uint8)
    with pytest.raises(MetricUndefinedError, match="b is constant") as e:
        METRICS.get(key)(a, b, a)
    assert isinstance(e.value, InputError)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_evaluate_leaves_the_cell_empty_and_goes_on(tmp_path, capsys, jobs):
    base = _set(tmp_path, [True, False])
    out = tmp_path / "r.json"
    assert main(base + ["--metrics", "Qmi@liu", "EN@vifb", "-o", str(out), "-j", jobs]) == 0
    err = capsys.readouterr().err
    assert "note: Qmi@liu: not computed (NaN) for 1 of 2 image(s) (00): b is constant (100)" in err
    doc = json.loads(out.read_text())
    rows = doc["methods"]["f"]["images"]
    assert rows["00"]["Qmi@liu"] is None and isinstance(rows["01"]["Qmi@liu"], float)
    assert all(isinstance(rows[n]["EN@vifb"], float) for n in ("00", "01"))


def test_evaluate_stops_only_when_nothing_can_be_computed(tmp_path, capsys):
    base = _set(tmp_path, [True])
    assert main(base + ["--metrics", "Qmi@liu", "Qncie@liu", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nothing computed" in err[0] and "b is constant (100)" in err[0], err
