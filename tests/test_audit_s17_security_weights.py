"""s17 security audit: JSON nested too deep in a weights file ("[[[[…" as its model_config or
train_config metadata, or as its safetensors header) made json.loads raise RecursionError, which
escaped as `mutualfuse: internal error: RecursionError … ` (exit 1) instead of the one-line
WeightsError naming the file (exit 2)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from mutualfuse.errors import WeightsError
from mutualfuse.model import build_model
from mutualfuse.model.config import ModelConfig
from mutualfuse.weights import read_weights, save_weights
from mutualfuse.weights.card import file_card

DEEP = "[" * 200_000
SAMPLES = Path(__file__).resolve().parents[1] / "src/mutualfuse/data/samples/tno-01"


def test_deep_model_config_is_a_weights_error(tmp_path):
    p = tmp_path / "deep.safetensors"
    save_file({"x": torch.zeros(1)}, str(p), metadata={"format": "mutualfuse-weights-2", "model_config": DEEP})
    with pytest.raises(WeightsError, match="bad model_config metadata") as e:
        read_weights(p)
    assert str(e.value).startswith(f"{p}: ")


def test_deep_safetensors_header_is_a_weights_error(tmp_path):
    p = tmp_path / "deephead.safetensors"
    header = ('{"a":' + DEEP).encode()
    p.write_bytes(len(header).to_bytes(8, "little") + header)
    with pytest.raises(WeightsError) as e:
        read_weights(p)
    assert str(e.value).startswith(f"{p}: ")


def test_deep_train_config_in_a_file_card_is_a_weights_error(tmp_path):
    cfg = ModelConfig(widths=(4, 8, 8))
    p = save_weights(tmp_path / "w.safetensors", build_model(cfg), cfg, {"train_config": DEEP})
    with pytest.raises(WeightsError, match="garbled train_config"):
        file_card(str(p))
    ok = save_weights(tmp_path / "ok.safetensors", build_model(cfg), cfg, {"train_config": json.dumps({"steps": 3})})
    assert str(ok) in file_card(str(ok))


def test_cli_fuse_with_deep_weights_exits_2_with_one_line(tmp_path):
    w = tmp_path / "deep.safetensors"
    save_file({"x": torch.zeros(1)}, str(w), metadata={"format": "mutualfuse-weights-2", "model_config": DEEP})
    out = tmp_path / "f.png"
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "fuse", str(SAMPLES / "a.png"), str(SAMPLES / "b.png"),
                        "-o", str(out), "--weights", str(w), "-q"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and str(w) in lines[0] and "internal error" not in lines[0]
    assert not out.exists()
