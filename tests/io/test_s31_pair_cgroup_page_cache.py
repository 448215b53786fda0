"""The memory check under a cgroup limit (a container) leaves the inactive page cache out of the
usage, as ``docker stats`` and Kubernetes do: ``memory.current`` / ``memory.usage_in_bytes``
count the page cache of every file read or written, so a ``fuse-dir`` over many images in a
container left less and less "available" and could refuse pairs that fit."""
from __future__ import annotations

import builtins

import pytest

from mutualfuse import runner

GB = 10 ** 9


def _redirect(monkeypatch, tmp_path, files: dict[str, str]):
    """``open`` of mutualfuse.runner reads ``files`` (absolute paths → contents) from tmp_path."""
    for path, text in files.items():
        f = tmp_path / path.lstrip("/")
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    real = builtins.open

    def fake_open(path, *a, **k):
        p = str(path)
        if p.startswith(("/proc/", "/sys/fs/cgroup")):
            return real(tmp_path / p.lstrip("/"), *a, **k)
        return real(path, *a, **k)

    monkeypatch.setattr(runner, "open", fake_open, raising=False)


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_inactive_page_cache_counts_as_room(tmp_path, monkeypatch, version):
    limit, used, cache = 4 * GB, int(3.9 * GB), 3 * GB  # mostly the cache of the images read so far
    if version == "v2":
        files = {"/proc/self/cgroup": "0::/job\n", "/sys/fs/cgroup/job/memory.max": f"{limit}\n",
                 "/sys/fs/cgroup/job/memory.current": f"{used}\n",
                 "/sys/fs/cgroup/job/memory.stat": f"anon {used - cache}\nfile {cache}\ninactive_file {cache}\n"}
    else:
        files = {"/proc/self/cgroup": "4:memory:/job\n3:cpuset:/\n",
                 "/sys/fs/cgroup/memory/job/memory.limit_in_bytes": f"{limit}\n",
                 "/sys/fs/cgroup/memory/job/memory.usage_in_bytes": f"{used}\n",
                 "/sys/fs/cgroup/memory/job/memory.stat": f"cache {cache}\ninactive_file {cache}\n"
                                                          f"total_cache {cache}\ntotal_inactive_file {cache}\n"}
    files["/proc/meminfo"] = "MemTotal: 64000000 kB\nMemAvailable: 60000000 kB\nSwapFree: 0 kB\n"
    _redirect(monkeypatch, tmp_path, files)
    room = runner._cgroup_room()
    assert room == limit - (used - cache)  # 3.1 GB, not the 0.1 GB of limit - usage
    assert runner.available_memory() == room
    runner.check_memory(2 * GB, "x: fusing this pair")  # fits: not refused
    with pytest.raises(Exception, match="needs at least 3.5 GB of memory, and 3.1 GB is available"):
        runner.check_memory(int(3.5 * GB), "x: fusing this pair")
