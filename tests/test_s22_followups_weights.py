"""s22 follow-up: weights files are the same bytes for the same content.

safetensors 0.8 writes the ``__metadata__`` keys in hash order, which changes from one save to
the next, so two saves of the same tensors and metadata differed in their bytes and in their
``.sha256`` sidecars. ``save_weights`` now writes that header with its keys sorted; the files
stay loadable by safetensors and by ``read_weights`` (sidecar and ``tensors_sha256`` checks).
The model card shows the ``tensors_sha256`` digest so two runs' weights can be compared."""
from __future__ import annotations

import json
import subprocess
import sys

import torch

from mutualfuse.model import ModelConfig, build_model
from mutualfuse.weights import read_weights, save_weights, sidecar_path

META = {f"key{i:02d}": f"value {i}" for i in range(12)} | {"steps": "7", "note": "é ✓ \t\"q\""}


def _save(path):
    torch.manual_seed(0)
    cfg = ModelConfig(widths=(4, 8, 8))
    return save_weights(path, build_model(cfg), cfg, META)


def _header(path):
    raw = path.read_bytes()
    n = int.from_bytes(raw[:8], "little")
    return n, raw[8:8 + n]


def test_same_content_same_bytes_and_sidecar(tmp_path):
    files = [_save(tmp_path / f"w{i}.safetensors") for i in range(4)]
    assert len({f.read_bytes() for f in files}) == 1
    assert len({sidecar_path(f).read_text().split()[0] for f in files}) == 1
    n, text = _header(files[0])
    assert n % 8 == 0
    header = json.loads(text)
    keys = list(header["__metadata__"])
    assert keys == sorted(keys) and list(header)[0] == "__metadata__"


def test_same_bytes_across_processes(tmp_path):
    """A second interpreter (another hash seed for safetensors' map) writes the same file."""
    here = _save(tmp_path / "here.safetensors")
    code = ("import sys, torch; sys.path.insert(0, sys.argv[2]); "
            "from test_s22_followups_weights import _save; from pathlib import Path; _save(Path(sys.argv[1]))")
    there = tmp_path / "there.safetensors"
    subprocess.run([sys.executable, "-c", code, str(there), str(__import__("pathlib").Path(__file__).parent)],
                   check=True, capture_output=True, timeout=120)
    assert there.read_bytes() == here.read_bytes()


def test_loadable_and_verified(tmp_path):
    from safetensors import safe_open

    p = _save(tmp_path / "w.safetensors")
    sd, cfg, meta = read_weights(p)  # sidecar sha256, header, model_config, tensors_sha256 checks
    for k, v in META.items():
        assert meta[k] == v
    with safe_open(str(p), framework="pt") as fh:
        assert fh.metadata() == meta
        for k in fh.keys():
            assert torch.equal(fh.get_tensor(k), sd[k])
    torch.manual_seed(0)
    want = build_model(cfg).state_dict()
    assert set(want) == set(sd) and all(torch.equal(want[k], sd[k]) for k in want)


def test_card_shows_tensors_digest(tmp_path):
    p = _save(tmp_path / "w.safetensors")
    digest = read_weights(p)[2]["tensors_sha256"]
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "methods", "--card", str(p)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("tensors:")]
    assert lines == [f"tensors:     sha256 {digest} (model config and every tensor; equal weights, equal digest)"]
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "methods", "--card", "default"],
                       capture_output=True, text=True, timeout=120)
    from mutualfuse.weights import SHIPPED, shipped_path
    from safetensors import safe_open
    with safe_open(str(shipped_path(SHIPPED["default"].name)), framework="pt") as fh:
        d = fh.metadata()["tensors_sha256"]
    assert r.returncode == 0 and f"tensors:     sha256 {d} " in r.stdout
