"""Stopping ``mutualfuse serve`` is bounded even when the web framework's close hangs (no gradio needed)."""
from __future__ import annotations

import threading
import time

from mutualfuse.web.server import _close


class _App:
    def __init__(self, seconds: float):
        self.seconds, self.closed = seconds, threading.Event()

    def close(self, verbose: bool = True) -> None:
        time.sleep(self.seconds)
        self.closed.set()


def test_close_returns_true_when_the_app_stops():
    app = _App(0.0)
    assert _close(app, timeout=30.0) is True
    assert app.closed.is_set()


def test_close_gives_up_after_the_timeout(capsys):
    app = _App(60.0)
    t0 = time.perf_counter()
    assert _close(app, timeout=0.5) is False
    assert time.perf_counter() - t0 < 30.0  # far below the 60 s the close would take
    assert not app.closed.is_set()
    assert "did not stop within" in capsys.readouterr().err


def test_ctrl_c_delivered_to_another_thread_stops_the_wait(tmp_path):
    """SIGINT that the kernel hands to a non-main thread still ends ``wait_for_interrupt``.

    ``signal.pause()`` (used before) blocks forever then: Python only flags the signal and the
    main thread never wakes to run the handler — the server ignored Ctrl+C in some CI runs.
    """
    import subprocess
    import sys

    script = tmp_path / "wait.py"
    script.write_text(
        "import signal, threading, time\n"
        "from mutualfuse.web.server import wait_for_interrupt\n"
        # as serve() does: a process launched in the background inherits SIGINT as ignored
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "ready = threading.Event()\n"
        "def idle():\n"
        "    ready.set(); time.sleep(30)\n"
        "t = threading.Thread(target=idle, daemon=True); t.start(); ready.wait()\n"
        "threading.Timer(0.5, lambda: signal.pthread_kill(t.ident, signal.SIGINT)).start()\n"
        "t0 = time.time()\n"
        "try:\n"
        "    wait_for_interrupt()\n"
        "except KeyboardInterrupt:\n"
        "    print(f'stopped {time.time() - t0:.2f}')\n")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("stopped"), (r.stdout, r.stderr)
    assert float(r.stdout.split()[1]) < 20.0
