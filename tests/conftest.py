"""Shared fixtures: tiny weights, the bundled samples, the shared data root (and its missing-data policy)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from shared_data import require, shared_root  # noqa: F401  (tests/ is on sys.path: rootdir conftest)

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "src" / "mutualfuse" / "data" / "samples"


def pytest_configure(config):
    import signal

    # A run started in the background of a non-interactive shell (`make test &`, nohup) inherits
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler: the Ctrl+C tests
    # would test that environment, not the code. Every test process starts with Python's own.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    config.addinivalue_line(
        "markers", "needs_shared(*paths): needs these paths under the shared data root (default: data); "
        "missing → skip, or fail with MUTUALFUSE_REQUIRE_SHARED=1 (tests/shared_data.py)")


def configured_threads() -> int | None:
    """The thread count this run asks for (``$OMP_NUM_THREADS``; ``make test`` runs with 1 and 2)."""
    v = os.environ.get("OMP_NUM_THREADS", "")
    return int(v) if v.isdigit() and int(v) > 0 else None


def pytest_report_header(config):
    import torch

    return (f"torch {torch.__version__}: {torch.get_num_threads()} threads (OMP_NUM_THREADS="
            f"{os.environ.get('OMP_NUM_THREADS', 'unset')}), CPU capability "
            f"{torch.backends.cpu.get_cpu_capability()} (ATEN_CPU_CAPABILITY="
            f"{os.environ.get('ATEN_CPU_CAPABILITY', 'unset')})")


@pytest.fixture(autouse=True)
def _restore_torch_global_state():
    """Undo process-wide torch settings a test makes in-process (``Trainer`` sets its configured
    thread count and deterministic algorithms), so that every later test in this worker runs
    with the thread count the run asked for."""
    yield
    torch = sys.modules.get("torch")
    if torch is None:
        return
    want = configured_threads()
    if want is not None and torch.get_num_threads() != want:
        torch.set_num_threads(want)
    if torch.are_deterministic_algorithms_enabled():
        torch.use_deterministic_algorithms(False)
    torch.set_flush_denormal(False)  # the CPU trainer flushes subnormals


@pytest.hookimpl(tryfirst=True)  # before pytest's own skips (an empty parameter set when data is missing)
def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs_shared"):
        require(*mark.args)


@pytest.fixture()
def method_registry():
    """The method registry restored after the test (tests that register methods of their own)."""
    from mutualfuse.methods import METHODS

    saved = dict(METHODS._entries)
    yield METHODS
    METHODS._entries.clear()
    METHODS._entries.update(saved)


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
