"""The command line keeps its wording for a device without CUDA (session 28, apiint): the API now
says ``device='cuda'`` (tests/io/test_s28_apiint_messages.py); ``fuse``, ``fuse-dir``,
``fuse-stack`` … (through ``make_fuser``) and ``demo`` still say ``--device cuda``."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from one_line_error import assert_one_line_error

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("method", [["--method", "average"], []])
def test_fuse_with_device_cuda_without_cuda_names_the_option(tmp_path, capsys, monkeypatch, method):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # also on a machine with a GPU
    a = tmp_path / "a.png"
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(a)
    assert_one_line_error(capsys, ["fuse", str(a), str(a), "-o", str(tmp_path / "o.png"), "--device", "cuda",
                                   *method], "--device cuda: CUDA is not available on this machine")
    assert not (tmp_path / "o.png").exists()


def test_demo_with_device_cuda_without_cuda_names_the_option(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert_one_line_error(capsys, ["demo", "-o", str(tmp_path / "out"), "--device", "cuda"],
                          "--device cuda: CUDA is not available on this machine")
