"""``mutualfuse serve`` in a subprocess for the web tests that talk to a real server (no test here;
imported bare by tests/web files)."""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path


def serve_env(tmpdir: Path, **extra: str) -> dict[str, str]:
    """The environment of a served page: its own TMPDIR, one thread, unbuffered output, and no
    GRADIO_* / HF_* variables (``serve`` must set what it needs itself)."""
    env = dict(os.environ, TMPDIR=str(tmpdir), OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **extra)
    for k in list(env):
        if k.startswith(("GRADIO_", "HF_")):
            del env[k]
    return env


def stop_serve(proc: subprocess.Popen) -> None:
    """Ctrl+C to the server, as a user stops it; killed after 60 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def serving(base: Path, *args: str, tmpdir: Path | None = None):
    """``mutualfuse serve --device cpu ARGS`` started with :func:`serve_env` (log in
    ``base/serve.log``) → (its address, the process); stopped by :func:`stop_serve` at exit."""
    proc = subprocess.Popen([sys.executable, "-m", "mutualfuse", "serve", "--device", "cpu", *args],
                            env=serve_env(tmpdir or base), stdout=subprocess.PIPE,
                            stderr=open(base / "serve.log", "w"), text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("mutualfuse serve: http://"), (base / "serve.log").read_text()[-2000:]
        yield line.split()[2], proc
    finally:
        stop_serve(proc)
