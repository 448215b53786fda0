"""Audit s21: ``Fuser.report`` says what the call did.

Before: after ``fuse_stack`` the report was the last pairwise fusion's except for its notes and
``fusions``: a stack whose fusions detected ir-vis, multi-focus and ir-vis (task mode "auto",
``task=None``) reported ``task == "ir-vis"`` and one detection; and a tiled classical method's
note said "each tile's mutual mapping sees only that tile" (only the network has one).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mutualfuse

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SAMPLES = Path(mutualfuse.__file__).parent / "data" / "samples"


def _gray(pair: str, name: str, side: int = 96) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(Image.open(SAMPLES / pair / f"{name}.png").convert("L"))[:side, :side])


def test_stack_report_covers_every_fusion():
    imgs = [_gray("tno-01", "a"), _gray("tno-01", "b"), _gray("lytro-01", "a"), _gray("lytro-01", "b")]
    f = mutualfuse.Fuser("default", device="cpu")
    # what each pairwise fusion of the tree detects, fused alone
    first = f.fuse(imgs[0], imgs[1])
    tasks = [f.report.task]
    second = f.fuse(imgs[2], imgs[3])
    tasks.append(f.report.task)
    f.fuse(first, second)
    tasks.append(f.report.task)
    assert len(set(tasks)) > 1, f"the test needs fusions of different detected tasks, got {tasks}"

    got = f.fuse_stack(imgs, task=None)
    r = f.report
    assert r.fusions == 3
    assert [d["task"] for d in r.detected] == tasks
    assert r.task == ",".join(dict.fromkeys(tasks))
    assert {n.split(",")[0] for n in r.notes if n.startswith("task: ")} == {f"task: {t}" for t in tasks}
    assert got.shape == imgs[0].shape

    # a fixed task: one task, no detections
    f.fuse_stack(imgs)  # task "multi-focus", the stack's default
    assert (f.report.task, f.report.detected, f.report.fusions) == ("multi-focus", [], 3)


def test_tiled_classical_method_note_names_no_mutual_mapping():
    a, b = _gray("tno-01", "a"), _gray("tno-01", "b")
    f = mutualfuse.Fuser("cbf", tile=64)
    f.fuse(a, b)
    (note,) = [n for n in f.report.notes if n.startswith("tiled: ")]
    assert "mapping" not in note and "cbf" in note
    g = mutualfuse.Fuser("default", device="cpu", tile=64)
    g.fuse(a, b)
    (note,) = [n for n in g.report.notes if n.startswith("tiled: ")]
    assert "mutual mapping sees only that tile" in note
