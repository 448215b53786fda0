"""Windows behaviours simulated on Linux (not run on Windows): the atomic writer and the clean-up
of temporaries left by killed runs.

* ``os.fsync`` on Windows (``_commit`` → ``FlushFileBuffers``) refuses a handle opened read-only
  with EBADF; the writer flushed through ``open(tmp, "rb")``, so every output failed there.
* ``os.kill(pid, 0)`` on Windows is ``TerminateProcess(pid, 0)``: asking whether the writer of a
  temporary was alive ended it; an id of no process raised OSError (WinError 87).
* ``os.getloadavg`` does not exist on Windows: the benchmark report's environment table raised
  AttributeError.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.io import atomic

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "mutualfuse" / "data" / "samples"


def _windows_fsync(real):
    """``os.fsync`` as Windows has it: EBADF on a descriptor not open for writing."""
    def fsync(fd: int) -> None:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_RDONLY:
            raise OSError(errno.EBADF, "Bad file descriptor")
        real(fd)
    return fsync


def _pair(tmp_path: Path) -> tuple[Path, Path]:
    a = np.asarray(Image.open(SAMPLES / "tno-01" / "a.png").convert("L"))[:40, :56]
    b = np.asarray(Image.open(SAMPLES / "tno-01" / "b.png").convert("L"))[:40, :56]
    pa, pb = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(np.ascontiguousarray(a)).save(pa)
    Image.fromarray(np.ascontiguousarray(b)).save(pb)
    return pa, pb


def test_output_written_when_fsync_refuses_read_only_handles(tmp_path, monkeypatch, capsys):
    pa, pb = _pair(tmp_path)
    ref = tmp_path / "ref.png"
    assert main(["fuse", str(pa), str(pb), "-o", str(ref), "--method", "average"]) == 0
    capsys.readouterr()
    monkeypatch.setattr(os, "fsync", _windows_fsync(os.fsync))
    out = tmp_path / "out.png"
    old = os.umask(0o027)
    try:
        rc = main(["fuse", str(pa), str(pb), "-o", str(out), "--method", "average"])
    finally:
        os.umask(old)
    _, err = capsys.readouterr()
    assert rc == 0, err
    assert out.read_bytes() == ref.read_bytes()
    assert (out.stat().st_mode & 0o777) == 0o640  # the umask still applies (chmod after the flush)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_atomic_write_over_read_only_target_keeps_its_mode_with_windows_fsync(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", _windows_fsync(os.fsync))
    t = tmp_path / "t.txt"
    t.write_text("old")
    t.chmod(0o444)
    with atomic.atomic_write(t) as tmp:
        tmp.write_text("new")
    assert t.read_text() == "new" and (t.stat().st_mode & 0o777) == 0o444


@pytest.fixture()
def live_child():
    """A live process of this machine (the writer of a temporary still being written)."""
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield p.pid
    finally:
        p.kill()
        p.wait()


def _part(folder: Path, pid: int) -> Path:
    f = folder / f".out.png.{pid}.h{atomic.host_tag()}_abcd1234.part.png"
    f.write_bytes(b"x")
    return f


def test_stale_part_check_never_signals_processes_on_windows(tmp_path, monkeypatch, live_child):
    """On win32 the check must not call os.kill(pid, 0) (TerminateProcess there); without the
    Windows API it cannot tell, so the temporary is kept."""
    calls = []

    def windows_kill(pid, sig):
        calls.append((pid, sig))
        raise AssertionError("os.kill on Windows terminates the process")

    part = _part(tmp_path, live_child)
    monkeypatch.setattr(os, "kill", windows_kill)
    monkeypatch.setattr(sys, "platform", "win32")
    removed = atomic.remove_stale_parts(tmp_path)
    monkeypatch.undo()
    assert calls == [] and removed == [] and part.exists()


def test_windows_pid_check_through_a_simulated_kernel32(tmp_path, monkeypatch, live_child):
    """The OpenProcess / GetExitCodeProcess path, with a kernel32 that answers as Windows does
    (ERROR_INVALID_PARAMETER for an id of no process; STILL_ACTIVE for a live one): the dead
    writer's temporary is removed, the live one's kept, and no process is signalled."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    state = {"err": 0}
    real_kill = os.kill

    class Fn:
        def __init__(self, f):
            self.f, self.restype, self.argtypes = f, None, None

        def __call__(self, *a):
            return self.f(*a)

    def open_process(access, inherit, pid):
        assert access == 0x1000
        try:
            real_kill(pid, 0)  # Linux's answer to "does it exist", standing in for Windows'
        except ProcessLookupError:
            state["err"] = 87
            return None
        return 1000 + pid

    def exit_code(h, ref):
        ref._obj.value = 259  # what ctypes.byref(DWORD) points to
        return 1

    class Kernel32:
        OpenProcess = Fn(open_process)
        GetExitCodeProcess = Fn(exit_code)
        CloseHandle = Fn(lambda h: 1)

    monkeypatch.setattr(ctypes, "WinDLL", lambda name, use_last_error=False: Kernel32(), raising=False)
    monkeypatch.setattr(ctypes, "get_last_error", lambda: state["err"], raising=False)
    live_part, dead_part = _part(tmp_path, live_child), _part(tmp_path, dead.pid)
    kills = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: kills.append((pid, sig)))
    monkeypatch.setattr(sys, "platform", "win32")
    removed = atomic.remove_stale_parts(tmp_path)
    monkeypatch.undo()
    assert removed == [dead_part] and live_part.exists() and not dead_part.exists()
    assert kills == []


def test_benchmark_stage_check_never_signals_processes_on_windows(tmp_path, monkeypatch, live_child):
    from mutualfuse.benchmark import runner

    stage = tmp_path / f"{runner.STAGE_PREFIX}{live_child}.abc.part"
    stage.mkdir()
    calls = []
    monkeypatch.setattr(os, "kill", lambda pid, sig: calls.append((pid, sig)))
    monkeypatch.setattr(sys, "platform", "win32")
    runner.remove_stale_stages(tmp_path)
    monkeypatch.undo()
    assert calls == [] and stage.is_dir()


def test_benchmark_environment_without_getloadavg(monkeypatch):
    from mutualfuse.benchmark.report import environment

    monkeypatch.delattr(os, "getloadavg")
    env = environment()
    assert env["load average at the end (1, 5, 15 min)"] == ""
    assert env["cpu cores (os.cpu_count)"] == str(os.cpu_count())
