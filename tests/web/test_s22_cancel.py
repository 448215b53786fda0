"""Session 22 audit: a cancelled request's fusion, which goes on in its thread (a thread cannot be
stopped), ran beside the next request: Gradio's queue takes the next one as soon as a request is
cancelled, so one fusion at a time (and the memory check of each request) no longer held
(measured with `serve`: another tab's request ran 1.4 s after the cancel of an 18 s network
fusion, which went on using the CPU). The next request now waits for it. The real page in this
process (gradio, no browser), with a stand-in fusion that takes 2 s."""
from __future__ import annotations

import threading
import time

import pytest


# Gradio's queue (in this process here) summarises its events with pandas, which warns about its own options
@pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*")
def test_a_request_after_a_cancel_waits_for_the_cancelled_fusion(tmp_path, monkeypatch):
    pytest.importorskip("gradio")
    pytest.importorskip("gradio_client")
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    from gradio_client import Client, handle_file

    from mutualfuse.errors import ParameterError
    from mutualfuse.web import core
    from mutualfuse.web.app import build_app
    from mutualfuse.web.server import free_port

    lock, seen = threading.Lock(), {"active": 0, "peak": 0, "ends": []}

    def stand_in(a, b, settings, workdir, cache, names=("a", "b"), owner=None):
        with lock:
            seen["active"] += 1
            seen["peak"] = max(seen["peak"], seen["active"])
        time.sleep(2.0 if settings.method == core.NETWORK else 0.05)
        with lock:
            seen["active"] -= 1
            seen["ends"].append((settings.method, time.time()))
        raise ParameterError("stand-in fusion")

    monkeypatch.setattr(core, "fuse_request", stand_in)
    app = build_app(tmp_path / "work", device="cpu")
    app.queue(default_concurrency_limit=1)
    port = free_port("127.0.0.1")
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, ssr_mode=False,
               footer_links=[])
    try:
        a = handle_file(str(core.SAMPLES / "tno-01" / "a.png"))
        b = handle_file(str(core.SAMPLES / "tno-01" / "b.png"))
        opts = ["default", "", "saturation", "auto", None, None, None, False, "auto", "a vs fused"]
        tab1, tab2 = (Client(f"http://127.0.0.1:{port}/", verbose=False) for _ in range(2))
        job = tab1.submit(a, b, core.NETWORK, *opts, api_name="/run")
        t0 = time.time()
        while seen["active"] == 0 and time.time() - t0 < 10:
            time.sleep(0.02)
        job.cancel()
        status = tab2.predict(a, b, "average", *opts, api_name="/run")[0]
        assert status == "mutualfuse: error: stand-in fusion", status
        assert seen["peak"] == 1, seen
        assert [m for m, _ in seen["ends"]] == [core.NETWORK, "average"], seen
    finally:
        app.close(verbose=False)
