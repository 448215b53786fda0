"""macOS and Windows simulated on Linux (not run there): a process without the POSIX/Linux-only
APIs and with ``spawn`` as the start method.

A subprocess removes what those platforms lack (``signal.SIGHUP``/``SIGKILL``/... and
``pthread_sigmask``; ``os.sched_getaffinity``, ``os.O_NOFOLLOW``, ``os.getuid``/``geteuid``,
``os.getloadavg``, ``os.fork``; the modules ``fcntl``, ``resource``, ``pwd``, ``grp``,
``termios``; every ``/proc`` file reads as missing), makes ``spawn`` the start method, then
imports every module of the package and runs ``fuse``, ``fuse-dir -j 2`` and ``evaluate -j 2``:
outputs must be the bytes the normal Linux process writes (``fork`` for ``evaluate -j``). The
third-party packages are imported before the removal: what is simulated is mutualfuse's own use.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

from mutualfuse.cli import main

SCRIPT = textwrap.dedent(r'''
    import builtins, importlib, io, multiprocessing as mp, os, pkgutil, signal, sys
    import numpy, scipy, PIL.Image, tqdm, concurrent.futures.process, subprocess, numba  # installed there too
    mp.set_start_method("spawn")  # the only start method on Windows, the default on macOS
    for n in ("SIGHUP", "SIGKILL", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGPIPE", "SIGCHLD", "SIGSTOP",
              "SIGCONT", "SIGTSTP", "pthread_sigmask", "pthread_kill", "sigwait", "alarm", "setitimer", "pause"):
        if hasattr(signal, n):
            delattr(signal, n)
    for n in ("sched_getaffinity", "sched_setaffinity", "O_NOFOLLOW", "O_DIRECTORY", "getuid", "geteuid", "getgid",
              "getegid", "getloadavg", "fork", "forkpty", "setsid", "getpgid", "killpg", "mkfifo", "statvfs", "sync"):
        if hasattr(os, n):
            delattr(os, n)
    for m in ("fcntl", "resource", "pwd", "grp", "termios"):
        sys.modules[m] = None  # "import fcntl" raises ImportError
    real_open, real_os_open, real_readlink = io.open, os.open, os.readlink

    def _proc(p):
        s = os.fsdecode(p) if isinstance(p, (str, bytes, os.PathLike)) else ""
        if s.startswith(("/proc", "/sys/fs/cgroup")):
            raise FileNotFoundError(2, "No such file or directory", s)

    def fake_open(file, *a, **k):
        _proc(file)
        return real_open(file, *a, **k)

    def fake_os_open(path, *a, **k):
        _proc(path)
        return real_os_open(path, *a, **k)

    def fake_readlink(path, *a, **k):
        _proc(path)
        return real_readlink(path, *a, **k)

    builtins.open = io.open = fake_open
    os.open, os.readlink = fake_os_open, fake_readlink

    import mutualfuse
    bad = {}
    for m in sorted(x.name for x in pkgutil.walk_packages(mutualfuse.__path__, "mutualfuse.")):
        if m.endswith("__main__"):
            continue
        try:
            importlib.import_module(m)
        except BaseException as e:
            bad[m] = f"{type(e).__name__}: {e}"
    assert not bad, bad
    from mutualfuse.cpu import cpu_flags, cpu_has_native_bf16
    from mutualfuse.runner import available_memory, check_memory
    from mutualfuse.io.atomic import host_tag
    assert cpu_flags() == frozenset() and not cpu_has_native_bf16()
    assert available_memory() is None
    check_memory(10 ** 15, "x")  # nothing is refused where the memory cannot be read
    assert len(host_tag()) == 8
    from mutualfuse.cli import main
    root = sys.argv[1]
    rcs = [main(["fuse", f"{root}/A/p0.png", f"{root}/B/p0.png", "-o", f"{root}/sim/fuse.png", "--method", "average", "-q"]),
           main(["fuse-dir", f"{root}/A", f"{root}/B", "-o", f"{root}/sim/dir", "--method", "average", "-j", "2", "-q"]),
           main(["evaluate", "--a", f"{root}/A", "--b", f"{root}/B", "--fused", f"{root}/F", "--metrics", "EN@vifb", "SF@vifb",
                 "Qabf@vifb", "SSIM@vifb", "-j", "2", "-o", f"{root}/sim/eval.csv", "-q"])]
    print("rcs", rcs)
''')


def _make(root: Path, n: int = 3) -> None:
    rng = np.random.default_rng(7)
    for d in ("A", "B", "F"):
        (root / d).mkdir(parents=True)
    for i in range(n):
        a = rng.integers(0, 256, (32, 40), dtype=np.uint8)
        b = rng.integers(0, 256, (32, 40), dtype=np.uint8)
        for d, x in (("A", a), ("B", b), ("F", np.maximum(a, b))):
            Image.fromarray(x).save(root / d / f"p{i}.png")


def test_without_posix_apis_and_with_spawn_the_outputs_are_linux_ones(tmp_path, capfd):
    _make(tmp_path)
    ref = tmp_path / "ref"
    argvs = [["fuse", str(tmp_path / "A" / "p0.png"), str(tmp_path / "B" / "p0.png"), "-o", str(ref / "fuse.png"),
              "--method", "average", "-q"],
             ["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(ref / "dir"), "--method", "average", "-q"],
             ["evaluate", "--a", str(tmp_path / "A"), "--b", str(tmp_path / "B"), "--fused", str(tmp_path / "F"),
              "--metrics", "EN@vifb", "SF@vifb", "Qabf@vifb", "SSIM@vifb", "-o", str(ref / "eval.csv"), "-q"]]
    ref.mkdir()
    assert [main(a) for a in argvs] == [0, 0, 0], capfd.readouterr()
    (tmp_path / "sim").mkdir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, env=env,
                       timeout=240)
    assert r.returncode == 0 and "rcs [0, 0, 0]" in r.stdout, (r.stdout, r.stderr[-3000:])
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    sim = tmp_path / "sim"
    assert (sim / "fuse.png").read_bytes() == (ref / "fuse.png").read_bytes()
    assert {p.name: p.read_bytes() for p in (sim / "dir").iterdir()} == \
        {p.name: p.read_bytes() for p in (ref / "dir").iterdir()}
    assert (sim / "eval.csv").read_bytes() == (ref / "eval.csv").read_bytes()


def test_thread_count_without_sched_getaffinity(monkeypatch):
    """macOS and Windows have no os.sched_getaffinity: -j N's worker threads come from the CPU count."""
    from mutualfuse.cli import fuse_dir_jobs

    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # a classical method: torch not loaded
    assert fuse_dir_jobs.command_threads() == (os.cpu_count() or 1)
    assert fuse_dir_jobs.worker_threads(2) == max(1, (os.cpu_count() or 1) // 2)
