"""A weights path that does not exist names the file of its folder it was close to
(``run1/final`` or ``run1/final.safetensor`` → ``run1/final.safetensors``), or says that its
folder is missing; it listed the shipped names only."""
from __future__ import annotations

import pytest

from mutualfuse import Fuser
from mutualfuse.errors import WeightsError


def test_a_missing_weights_path_names_the_near_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run1").mkdir()
    (tmp_path / "run1" / "final.safetensors").write_bytes(b"")
    (tmp_path / "run1" / "last.ckpt").write_bytes(b"")
    for given in ("run1/final", "run1/final.safetensor", "run1/finall.safetensors"):
        with pytest.raises(WeightsError) as e:
            Fuser(given)
        assert str(e.value).startswith(f"{given}: weights file not found; did you mean run1/final.safetensors?"), \
            str(e.value)
    with pytest.raises(WeightsError, match=r"^nodir/w.safetensors: weights file not found; no folder nodir \("):
        Fuser("nodir/w.safetensors")
    with pytest.raises(WeightsError) as e:  # a checkpoint is not offered as weights
        Fuser("run1/last")
    assert "did you mean" not in str(e.value)
