"""s31 (patch of the api2 helper, applied by the lead): ``mutualfuse fuse --weights RUNDIR``
names the weights inside a training folder (its final.safetensors), as ``Fuser("RUNDIR")`` does
(it said only "--weights is a folder")."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from one_line_error import assert_one_line_error  # noqa: E402


def test_fuse_weights_a_run_folder_names_its_final_weights(tmp_path, capsys):
    run = tmp_path / "run1"
    run.mkdir()
    (run / "final.safetensors").write_bytes(b"x")
    for n in ("a.png", "b.png"):
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / n)
    assert_one_line_error(capsys, ["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o",
                                   str(tmp_path / "o.png"), "--weights", str(run)],
                          "--weights is a folder", str(run / "final.safetensors"))
    assert not (tmp_path / "o.png").exists()
