"""Shipped weights (safetensors, sha256 recorded here) and loading of user weights files.

Nothing is ever downloaded and nothing is unpickled: a weights file is a ``safetensors`` file
whose metadata holds the model config (``model_config``, JSON). Shipped files are verified
against the sha256 in :data:`SHIPPED` before use; a user's file is verified against a
``<file>.sha256`` sidecar when one exists (``mutualfuse train`` writes it).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError
from ..model import ModelConfig, build_model
from ..model.network import FusionNet

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ShippedWeights:
    name: str
    file: str
    sha256: str
    description: str
    trained_on: str


#: Named weights that ship inside the package. "default" is what ``mutualfuse fuse`` uses.
SHIPPED: dict[str, ShippedWeights] = {}


def _register(w: ShippedWeights) -> None:
    SHIPPED[w.name] = w


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_weights(path: str | os.PathLike, model: torch.nn.Module, cfg: ModelConfig,
                 meta: dict[str, str] | None = None) -> Path:
    """Write model weights + config as safetensors (atomic) and a ``.sha256`` sidecar."""
    from safetensors.torch import save_file

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()}
    md = {"format": "mutualfuse-weights-1", "model_config": json.dumps(cfg.to_dict())}
    md.update({k: str(v) for k, v in (meta or {}).items()})
    fd, tmp = tempfile.mkstemp(prefix=".w.", suffix=".safetensors", dir=str(p.parent))
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=md)
        os.replace(tmp, p)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    Path(str(p) + ".sha256").write_text(f"{sha256_file(p)}  {p.name}\n")
    return p


def resolve_weights(spec: str | os.PathLike | None) -> tuple[Path, str | None]:
    """A shipped name (``"default"``) or a path → (file, expected sha256 or None)."""
    spec = "default" if spec is None else spec
    if str(spec) in SHIPPED:
        w = SHIPPED[str(spec)]
        return HERE / w.file, w.sha256
    p = Path(spec)
    if not p.exists():
        names = ", ".join(SHIPPED) or "none"
        raise WeightsError(f"{p}: weights file not found (shipped weights: {names})")
    if p.is_dir():
        raise WeightsError(f"{p}: is a directory, expected a .safetensors weights file")
    side = Path(str(p) + ".sha256")
    expected = side.read_text().split()[0] if side.exists() else None
    return p, expected


def read_weights(spec: str | os.PathLike | None) -> tuple[dict[str, torch.Tensor], ModelConfig, dict[str, str]]:
    """Verify and read a weights file → (state dict, model config, metadata)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file
    from safetensors import safe_open

    path, expected = resolve_weights(spec)
    if not path.is_file():
        raise WeightsError(f"{path}: shipped weights file is missing from the installation")
    if expected is not None:
        got = sha256_file(path)
        if got != expected:
            raise WeightsError(f"{path}: sha256 mismatch (expected {expected[:12]}…, got {got[:12]}…): file is corrupt or was modified")
    try:
        with safe_open(str(path), framework="pt") as fh:
            meta = dict(fh.metadata() or {})
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise WeightsError(f"{path}: not a valid safetensors weights file ({str(e).splitlines()[0][:120]})") from None
    if "model_config" not in meta:
        raise WeightsError(f"{path}: safetensors file has no mutualfuse model_config metadata")
    try:
        cfg = ModelConfig.from_dict(json.loads(meta["model_config"]))
    except (ValueError, TypeError) as e:
        raise WeightsError(f"{path}: bad model_config metadata ({e})") from None
    return state, cfg, meta


def load_model(spec: str | os.PathLike | None = None, **overrides: Any) -> tuple[FusionNet, dict[str, str]]:
    """Build the network of a weights file and load it (eval mode, CPU, float32).

    ``overrides`` change inference-only config fields (e.g. ``token_budget``).
    """
    state, cfg, meta = read_weights(spec)
    allowed = {"token_budget"}
    bad = set(overrides) - allowed
    if bad:
        raise WeightsError(f"cannot override {sorted(bad)} at load time (only {sorted(allowed)})")
    for k, v in overrides.items():
        setattr(cfg, k, v)
    model = build_model(cfg)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        path, _ = resolve_weights(spec)
        raise WeightsError(f"{path}: weights do not fit the {cfg.arch} model ({str(e).splitlines()[0][:150]})") from None
    model.eval()
    return model, meta


from . import shipped  # noqa: E402,F401  (registers the shipped weights)
