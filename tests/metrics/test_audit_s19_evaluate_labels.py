"""Column labels of ``mutualfuse evaluate`` when profiles are mixed (audit s19).

- A profile's columns have short labels (``Qcb`` for ``Qcb@liu``; documented, and kept for a
  single profile). Beside a column of the same metric from another code (``--profile liu
  --metrics Qcb@vifb``) the CSV header read ``Qcb`` and ``Qcb@vifb``: it did not say which
  implementation the first one was. Such a run now labels every column with its key.
- ``--profile`` given twice silently kept only the last one (argparse's ``store``): the
  profiles are now combined, each column labelled with its key.
"""
from __future__ import annotations

import csv
import json

import numpy as np
from PIL import Image

import mutualfuse.metrics as M
from mutualfuse.cli import main
from mutualfuse.evaluation import select_metrics


def _set(root):
    rng = np.random.default_rng(11)
    for d in ("a", "b", "f"):
        (root / d).mkdir()
    y, x = np.mgrid[0:96, 0:96]
    a = np.clip(90 + 60 * np.sin(x / 6) + rng.normal(0, 9, x.shape), 0, 255).astype(np.uint8)
    b = np.clip(140 + 50 * np.cos(y / 5) + rng.normal(0, 9, x.shape), 0, 255).astype(np.uint8)
    for d, v in (("a", a), ("b", b), ("f", ((a.astype(int) + b) // 2).astype(np.uint8))):
        Image.fromarray(v).save(root / d / "01.png")


def _header(root, *more):
    out = root / "r.csv"
    base = ["evaluate", "--a", str(root / "a"), "--b", str(root / "b"), "--fused", str(root / "f"), "-q"]
    assert main(base + list(more) + ["-o", str(out)]) == 0
    return next(csv.reader(out.open()))[3:]


def test_same_metric_from_two_codes_is_labelled_by_keys(tmp_path, capsys):
    _set(tmp_path)
    head = _header(tmp_path, "--profile", "liu", "--metrics", "Qcb@vifb")
    assert head == list(M.resolve(profile="liu").values()) + ["Qcb@vifb"]
    assert "Qcb@liu" in head and "Qcb" not in head


def test_two_profiles_are_combined_and_labelled_by_keys(tmp_path, capsys):
    _set(tmp_path)
    head = _header(tmp_path, "--profile", "paper", "--profile", "liu", "--metrics", "SF@vifb")
    keys = list(M.resolve(profile="paper").values()) + list(M.resolve(profile="liu").values())
    assert head == keys  # SF@vifb is paper's SF: one column
    out = tmp_path / "r.json"
    base = ["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f")]
    assert main(base + ["--profile", "paper", "--profile", "liu", "-q", "-o", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert list(doc["metrics"]) == keys and all(v["key"] == k for k, v in doc["metrics"].items())


def test_one_profile_keeps_its_short_labels(tmp_path, capsys):
    _set(tmp_path)
    assert _header(tmp_path, "--profile", "paper") == list(M.resolve(profile="paper"))
    # an added key that is not one of the profile's metrics under another code: labels kept
    assert _header(tmp_path, "--profile", "paper", "--metrics", "Qcb@vifb") == list(M.resolve(profile="paper")) + [
        "Qcb@vifb"]
    # the same profile twice (any case) is one profile
    assert select_metrics(None, ["paper", "PAPER"]) == M.resolve(profile="paper")
    assert select_metrics(["Qabf"], "paper") == M.resolve(profile="paper")  # Qabf is paper's Qabf@vifb


def test_paper_with_vifb_names_both_entropies(tmp_path):
    labels = select_metrics(None, ["paper", "vifb"])
    assert labels["EN@rfn-nest"] == "EN@rfn-nest" and labels["EN@vifb"] == "EN@vifb"
    assert all(lab == key for lab, key in labels.items())
