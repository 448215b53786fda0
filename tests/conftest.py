"""Shared fixtures: tiny weights, the bundled samples, the shared data root (and its missing-data policy)."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared_data import require, shared_root  # noqa: F401  (tests/ is on sys.path: rootdir conftest)

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "src" / "mutualfuse" / "data" / "samples"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "needs_shared(*paths): needs these paths under the shared data root (default: data); "
        "missing → skip, or fail with MUTUALFUSE_REQUIRE_SHARED=1 (tests/shared_data.py)")


@pytest.hookimpl(tryfirst=True)  # before pytest's own skips (an empty parameter set when data is missing)
def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs_shared"):
        require(*mark.args)


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared data root (its ``data/`` present); missing: the policy of ``shared_data.py``."""
    return require("data")


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
