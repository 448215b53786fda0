"""Shared fixtures: tiny weights, the bundled samples, the shared data root."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "src" / "mutualfuse" / "data" / "samples"


def shared_root() -> Path:
    """``$MUTUALFUSE_SHARED`` or the ``shared/`` folder beside the repository (as in CI)."""
    return Path(os.environ.get("MUTUALFUSE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    root = shared_root()
    if not (root / "data").is_dir():
        pytest.fail(f"shared data not found at {root}; set MUTUALFUSE_SHARED")
    return root


@pytest.fixture(scope="session")
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A randomly initialised tiny FMM network saved as safetensors (+ .sha256 sidecar)."""
    import torch

    from mutualfuse.model import ModelConfig, build_model
    from mutualfuse.weights import save_weights

    torch.manual_seed(0)
    cfg = ModelConfig(widths=(4, 8, 8))
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_weights(path, build_model(cfg), cfg)
    return path
