"""A training output folder given as weights (``Fuser("out/run1")``, ``Fuser("run1")`` in the
working folder, ``export-onnx --weights run1``, ``methods --card run1``) says which file in it to
give: its ``final.safetensors``, else the newest ``.safetensors`` in it, else (only the
checkpoint ``last.ckpt``) how ``mutualfuse export-weights`` writes its weights. It said "is a
directory" only (``Fuser("run1")``: "unknown method or weights 'run1'")."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from one_line_error import assert_one_line_error  # noqa: E402

from mutualfuse import Fuser  # noqa: E402
from mutualfuse.errors import WeightsError  # noqa: E402


def _runs(root: Path) -> dict[str, Path]:
    final, last, two, bare = (root / n for n in ("final", "ckpt", "two", "bare"))
    for d in (final, last, two, bare):
        d.mkdir()
    (final / "final.safetensors").write_bytes(b"")
    (final / "last.ckpt").write_bytes(b"")
    (last / "last.ckpt").write_bytes(b"")
    (two / "old.safetensors").write_bytes(b"")
    (two / "new.safetensors").write_bytes(b"")
    os.utime(two / "old.safetensors", ns=(1_000_000_000, 1_000_000_000))
    return {"final": final, "ckpt": last, "two": two, "bare": bare}


def test_fuser_on_a_training_folder_names_the_file_to_give(tmp_path, monkeypatch):
    runs = _runs(tmp_path)
    want = {
        "final": f"give {runs['final'] / 'final.safetensors'}",
        "ckpt": f"mutualfuse export-weights {runs['ckpt'] / 'last.ckpt'} -o WEIGHTS.safetensors",
        "two": f"e.g. {runs['two'] / 'new.safetensors'} (the newest of 2)",
    }
    for key, words in want.items():
        with pytest.raises(WeightsError) as e:
            Fuser(str(runs[key]))
        assert "is a directory" in str(e.value) and words in str(e.value), str(e.value)
    with pytest.raises(WeightsError) as e:
        Fuser(str(runs["bare"]))
    assert str(e.value).endswith("is a directory, expected a .safetensors weights file")
    monkeypatch.chdir(tmp_path)  # a bare folder name in the working folder: weights, not an unknown method
    with pytest.raises(WeightsError, match=r"final: is a directory.*give final/final.safetensors"):
        Fuser("final")


def test_export_onnx_and_card_name_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    _runs(tmp_path)
    assert_one_line_error(capsys, ["export-onnx", "--weights", "ckpt", "g.onnx"],
                          "export-weights ckpt/last.ckpt -o WEIGHTS.safetensors")
    assert not (tmp_path / "g.onnx").exists()
    assert_one_line_error(capsys, ["methods", "--card", "final"], "give final/final.safetensors")
