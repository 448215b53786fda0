"""``mutualfuse serve`` without gradio: a stand-in page and the environment ``serve`` expects, for
tests of the server's own logic (its options, its stop, what it hands to ``launch()``)."""
from __future__ import annotations

import importlib.util


class FakePage:
    """Records what ``launch()`` was given and whether the page was closed."""

    def __init__(self):
        self.launched: dict = {}
        self.closed = False

    def queue(self, **kw):
        pass

    def launch(self, **kw):
        self.launched.update(kw)

    def close(self, verbose=True):
        self.closed = True


def serve_offline(monkeypatch, tmp_path, page: FakePage, wait) -> None:
    """Make ``server.serve`` build ``page`` instead of the gradio app, believe gradio is installed,
    keep its temporary folder under ``tmp_path`` and call ``wait`` instead of waiting for Ctrl+C
    (the environment variables ``serve`` sets are restored after the test)."""
    from mutualfuse.web import app as web_app
    from mutualfuse.web import server

    for k in (*server.OFFLINE_ENV, "GRADIO_TEMP_DIR"):
        monkeypatch.setenv(k, "")  # serve sets them; restored after the test
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "gradio" else real(name, *a))
    monkeypatch.setattr(web_app, "build_app", lambda *a, **kw: page)
    monkeypatch.setattr(server, "wait_for_interrupt", wait)
