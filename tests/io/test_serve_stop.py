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
