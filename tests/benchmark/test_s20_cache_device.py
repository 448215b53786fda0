"""s20: a network image's cache key names the GPU it was computed on (the s20 benchmark audit:
the device was not in the key, so a run with --device cuda and one on the CPU reused each
other's images and timings); CPU keys and classical methods' keys are unchanged."""
from __future__ import annotations

import pytest

from mutualfuse.benchmark.cache import recipe_key
from mutualfuse.benchmark.jobs import Task, key_device
from mutualfuse.benchmark.sources import Source

NET = Source(id="weights:default", label="Ours", kind="weights", weights="default", weights_sha256="w" * 64)
DWT = Source(id="method:dwt", label="DWT", kind="method", method="dwt", code_sha256="c" * 64)


def _task(src: Source, device: str) -> Task:
    return Task(src, "tno", "01", "a.png", "b.png", "a" * 64, "b" * 64, ("EN",), "/nonexistent", device)


def test_the_device_kind_of_each_row(monkeypatch):
    import torch

    assert key_device(_task(NET, "cpu")) is None
    assert key_device(_task(NET, "cuda")) == "cuda"
    assert key_device(_task(DWT, "cuda")) is None  # classical methods run on the CPU anyway
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert key_device(_task(NET, "auto")) is None
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert key_device(_task(NET, "auto")) == "cuda"


def test_a_gpu_image_has_its_own_key_and_cpu_keys_are_unchanged():
    args = ("network", {"t": 1}, "w" * 64, "a" * 64, "b" * 64, "d" * 64)
    cpu = recipe_key(*args)
    assert recipe_key(*args, device=None) == cpu
    assert recipe_key(*args, device="cuda") != cpu


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_run_task_looks_up_the_key_of_its_device(monkeypatch, tmp_path, device):
    """run_task asks the cache for the key of its own device (the cache is empty and the fusion
    is stopped right after the lookup)."""
    from mutualfuse.benchmark import jobs
    from mutualfuse.benchmark.cache import Cache

    seen = []

    def get_fused(self, key):
        seen.append(key)
        raise RuntimeError("stop here")

    monkeypatch.setattr(Cache, "get_fused", get_fused)
    t = _task(NET, device)
    t.cache_root = str(tmp_path)
    r = jobs.run_task(t)
    assert r.error and "stop here" in r.error
    method, params, wsha = NET.recipe()
    want = recipe_key(method, params, wsha, t.a_sha, t.b_sha, jobs.fusion_code_sha(NET),
                      device=None if device == "cpu" else "cuda")
    assert seen == [want]
