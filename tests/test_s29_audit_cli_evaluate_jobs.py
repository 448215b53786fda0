"""``mutualfuse evaluate -j N`` starts no more worker processes than there are metrics to compute.
Until 2026-12-07 the pool had N workers, which the fork start method creates all at once on the
first submit, with Ctrl+C and SIGTERM held: ``-j 100000`` (a typo) on 2 images and one metric
forked thousands of processes for minutes, and ``timeout``'s SIGTERM did not stop it."""
from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from PIL import Image

import mutualfuse.evaluation as EV
from mutualfuse.cli import main


def test_evaluate_starts_at_most_one_worker_per_metric(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(7)
    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
    for i in range(2):
        for d in ("a", "b", "f"):
            Image.fromarray(rng.integers(0, 256, (24, 24)).astype(np.uint8)).save(tmp_path / d / f"{i}.png")
    asked = []

    class Counted(ProcessPoolExecutor):
        def __init__(self, max_workers=None, *args, **kwargs):
            asked.append(max_workers)
            assert max_workers is not None and max_workers <= 2, max_workers  # nothing forked before this
            super().__init__(max_workers, *args, **kwargs)

    monkeypatch.setattr(EV, "ProcessPoolExecutor", Counted)
    common = ["evaluate", "-q", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"),
              "--fused", str(tmp_path / "f"), "--metrics", "Qabf@vifb"]
    assert main([*common, "-j", "100000", "-o", str(tmp_path / "many.json")]) == 0
    assert asked == [2]  # 2 images x 1 method x 1 metric
    assert main([*common, "-o", str(tmp_path / "one.json")]) == 0
    capsys.readouterr()
    many = json.loads((tmp_path / "many.json").read_text())["methods"]
    one = json.loads((tmp_path / "one.json").read_text())["methods"]
    assert many == one
