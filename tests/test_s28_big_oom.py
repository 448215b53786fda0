"""Running out of memory in the network (session 28, big): torch's CPU allocator raises a
RuntimeError (``DefaultCPUAllocator: can't allocate memory``), not a MemoryError. Measured on a
4000x3000 pair under ``ulimit -v``: ``mutualfuse fuse`` printed ``mutualfuse: internal error:
RuntimeError: [enforce fail at alloc_cpu.cpp:127] ...`` with exit status 1, where the project's
out-of-memory line (exit 2, advice) was meant; ``Fuser.fuse`` raised the RuntimeError. The
allocation failure is simulated here (the real one needs gigabytes)."""
from __future__ import annotations

import numpy as np
import pytest
from one_line_error import assert_one_line_error
from PIL import Image

# torch 2.x's message, as measured (ulimit -v 1500000, 2000x1500 gray pair)
TORCH_CPU_OOM = ("[enforce fail at alloc_cpu.cpp:127] err == 0. DefaultCPUAllocator: can't allocate memory: "
                 "you tried to allocate 89210880 bytes. Error code 12 (Cannot allocate memory)")


@pytest.fixture
def no_memory(monkeypatch):
    import mutualfuse.tiling as tiling

    def fail(*args, **kwargs):
        raise RuntimeError(TORCH_CPU_OOM)

    monkeypatch.setattr(tiling, "streamed_forward", fail)


def _pair(tmp_path):
    rng = np.random.default_rng(28)
    paths = []
    for k in ("a", "b"):
        p = tmp_path / f"{k}.png"
        Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(p)
        paths.append(str(p))
    return paths


def test_cli_fuse_says_out_of_memory_in_one_line(tmp_path, capsys, no_memory):
    a, b = _pair(tmp_path)
    out = tmp_path / "f.png"
    assert_one_line_error(capsys, ["fuse", a, b, "-o", str(out)], "out of memory", "--tile")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]  # no partial output


def test_api_raises_memory_error(tmp_path, no_memory):
    import mutualfuse

    rng = np.random.default_rng(1)
    a, b = rng.random((40, 48)), rng.random((40, 48))
    with pytest.raises(MemoryError, match="out of memory"):
        mutualfuse.Fuser().fuse(a, b)


def test_other_runtime_errors_are_not_called_out_of_memory(tmp_path, monkeypatch):
    import mutualfuse
    import mutualfuse.tiling as tiling

    def fail(*args, **kwargs):
        raise RuntimeError("some other failure")

    monkeypatch.setattr(tiling, "streamed_forward", fail)
    rng = np.random.default_rng(2)
    with pytest.raises(RuntimeError, match="some other failure"):
        mutualfuse.Fuser().fuse(rng.random((40, 48)), rng.random((40, 48)))
