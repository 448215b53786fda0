"""Training checkpoints: safetensors + JSON structure + digest; no pickle is ever loaded."""
from __future__ import annotations

import json

import pytest
import torch

from mutualfuse.errors import WeightsError
from mutualfuse.train.checkpoint import FORMAT, load_checkpoint, save_checkpoint


def _state():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 1, 1))
    opt = torch.optim.AdamW([{"params": m[0].parameters(), "lr": 1e-3},
                             {"params": m[2].parameters(), "lr": 2e-3}], betas=(0.8, 0.95))
    m(torch.rand(2, 1, 8, 8)).mean().backward()
    opt.step()
    return m, opt, {"model": m.state_dict(), "optimizer": opt.state_dict(), "step": 7, "elapsed": 1.25,
                    "config": json.dumps({"a": 1}), "torch_rng": torch.get_rng_state(),
                    "odd": {"nan": float("nan"), "none": None, "nested": [1, (2, "x")]}}


def test_round_trip_is_exact_and_resumes_the_optimiser(tmp_path):
    m, opt, st = _state()
    p = tmp_path / "last.ckpt"
    save_checkpoint(p, st)
    got = load_checkpoint(p)
    assert got["step"] == 7 and got["elapsed"] == 1.25 and got["config"] == st["config"]
    assert got["odd"]["none"] is None and got["odd"]["nested"] == [1, (2, "x")]
    assert got["odd"]["nan"] != got["odd"]["nan"]  # NaN
    for k, v in st["model"].items():
        assert torch.equal(got["model"][k], v)
    assert torch.equal(got["torch_rng"], st["torch_rng"])
    assert set(got["optimizer"]["state"]) == set(st["optimizer"]["state"])  # int keys kept
    assert got["optimizer"]["param_groups"] == st["optimizer"]["param_groups"]  # tuples kept
    # an optimiser restored from it takes the same next step as the original
    m2 = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.Conv2d(4, 1, 1))
    m2.load_state_dict(got["model"])
    opt2 = torch.optim.AdamW([{"params": m2[0].parameters()}, {"params": m2[2].parameters()}])
    opt2.load_state_dict(got["optimizer"])
    x = torch.rand(2, 1, 8, 8)
    for net, o in ((m, opt), (m2, opt2)):
        o.zero_grad()
        net(x).mean().backward()
        o.step()
    for a, b in zip(m.parameters(), m2.parameters()):
        assert torch.equal(a, b)


def test_the_file_is_safetensors_with_format_and_digest(tmp_path):
    from safetensors import safe_open

    p = tmp_path / "c.ckpt"
    save_checkpoint(p, _state()[2])
    with safe_open(str(p), framework="pt") as f:
        meta = f.metadata()
    assert meta["format"] == FORMAT and len(meta["tensors_sha256"]) == 64
    json.loads(meta["structure"])


def test_a_changed_byte_is_refused(tmp_path):
    p = tmp_path / "c.ckpt"
    save_checkpoint(p, _state()[2])
    raw = bytearray(p.read_bytes())
    raw[-3] ^= 0x01  # inside the last tensor's data
    p.write_bytes(bytes(raw))
    with pytest.raises(WeightsError, match="digest mismatch"):
        load_checkpoint(p)


def test_pickle_checkpoints_and_other_files_are_refused_without_unpickling(tmp_path):
    legacy = tmp_path / "last.pt"
    torch.save({"model": {}, "step": 1}, legacy)
    with pytest.raises(WeightsError, match="pickle checkpoint"):
        load_checkpoint(legacy)
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not json at all!")
    with pytest.raises(WeightsError, match="corrupt checkpoint"):
        load_checkpoint(junk)
    from safetensors.torch import save_file

    other = tmp_path / "weights.ckpt"
    save_file({"w": torch.zeros(2)}, str(other), metadata={"format": "mutualfuse-weights-2"})
    with pytest.raises(WeightsError, match="not a mutualfuse training checkpoint"):
        load_checkpoint(other)
    with pytest.raises(WeightsError, match="not found"):
        load_checkpoint(tmp_path / "none.ckpt")


def test_a_truncated_checkpoint_is_named_truncated_not_pickle(tmp_path):
    """A checkpoint cut short inside its header (e.g. `head -c 1000`) is said to be truncated, whatever
    the first byte of its header length (0x80 made it look like a pickle)."""
    p = tmp_path / "c.ckpt"
    save_checkpoint(p, _state()[2])
    raw = p.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    for length in (raw[:8], (0x80 + 256 * (n // 256 + 1)).to_bytes(8, "little")):  # its own, and one ending in 0x80
        cut = tmp_path / "cut.ckpt"
        cut.write_bytes(length + raw[8:200])
        with pytest.raises(WeightsError, match=r"truncated checkpoint \(its header alone is \d+ bytes, the file has 200\)"):
            load_checkpoint(cut)
    cut.write_bytes(raw[: len(raw) - 10])  # header whole, tensor data cut
    with pytest.raises(WeightsError, match="corrupt checkpoint"):
        load_checkpoint(cut)
