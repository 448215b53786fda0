"""Session 20 audit: ``benchmark --device cuda`` on a machine without CUDA is one line before any
work (exit status 2, nothing written), as ``fuse --device cuda`` is. It used to run the whole
benchmark and fail every pair of every network row, a problem line each, exit status 1."""
from __future__ import annotations

import numpy as np
from PIL import Image

from one_line_error import assert_one_line_error


def test_device_cuda_without_cuda_is_one_line_before_any_work(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # also on a machine with a GPU
    rng = np.random.default_rng(0)
    for role in ("ir", "vis"):
        (tmp_path / "data" / "ir-vis" / "tno" / role).mkdir(parents=True)
        Image.fromarray(rng.integers(0, 256, (80, 96)).astype(np.uint8)).save(
            tmp_path / "data" / "ir-vis" / "tno" / role / "01.png")
    assert_one_line_error(capsys, ["benchmark", "--data-root", str(tmp_path / "data"), "--out", str(tmp_path / "out"),
                                   "--cache", str(tmp_path / "cache"), "--tables", "1", "--methods", "none",
                                   "--weights", "default", "--fast-metrics", "--device", "cuda", "-q"],
                          "--device cuda: CUDA is not available on this machine")
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()
