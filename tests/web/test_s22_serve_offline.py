"""Session 22 audit of ``mutualfuse serve`` with a stand-in page (no gradio).

``--host 0.0.0.0`` (a shared lab server) said nothing at start about publishing the page without
authentication (docs/web.md did); it now warns on stderr, naming the address and port, and says
nothing for a loopback address. And the thread that sweeps what Gradio leaves in its upload
folder (test_s22_long_running_server.py makes the real Gradio leave it) removes it while the
server runs."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

HEX = "0123456789abcdef" * 4


def _serve(monkeypatch, tmp_path, capsys, **kw) -> str:
    from fake_page import FakePage, serve_offline

    from mutualfuse.web import server

    def stop(poll=0.2):
        raise KeyboardInterrupt

    serve_offline(monkeypatch, tmp_path, FakePage(), stop)
    assert server.serve(device="cpu", quiet=True, **kw) == 0
    return capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_public_host_is_warned_about(monkeypatch, tmp_path, capsys, host):
    from mutualfuse.web import server

    try:
        port = server.free_port(host)
    except OSError:
        pytest.skip(f"cannot listen on {host} here")
    err = _serve(monkeypatch, tmp_path, capsys, host=host, port=port)
    lines = [ln for ln in err.splitlines() if "warning" in ln]
    assert lines == [f"mutualfuse serve: warning: the page is published on {host} port {port} without "
                     "authentication: anyone who can reach it can upload files and use this machine's CPU "
                     "(use it only on a trusted network)"], err


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_host_is_not_warned_about(monkeypatch, tmp_path, capsys, host):
    assert "warning" not in _serve(monkeypatch, tmp_path, capsys, host=host, port=None)


def test_serve_sweeps_what_gradio_leaves_in_its_upload_folder(tmp_path, monkeypatch):
    from fake_page import FakePage, serve_offline

    from mutualfuse.web import server

    monkeypatch.setattr(server, "SWEEP_EVERY", 0.05, raising=False)
    seen = {}

    def wait(poll=0.2):
        folder = Path(os.environ["GRADIO_TEMP_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        now = time.time()

        def make(name, data=b"", age=0.0, folder_=False):
            p = folder / name
            if folder_:
                p.mkdir()
                if data:
                    (p / "kept.png").write_bytes(data)
            else:
                p.write_bytes(data)
            os.utime(p, (now - age, now - age))
            return p

        gone = [make("tmpleak1", age=120), make("tmpcancelled", b"x" * 1000, age=700),
                make(HEX, age=700, folder_=True)]
        kept = [make("tmpjuststarted"), make("tmpuploading", b"x" * 1000, age=30),
                make(HEX[::-1], b"png", age=7200, folder_=True), make("deep_links", age=7200, folder_=True),
                make("notgradios", age=7200)]
        t0 = time.time()
        while time.time() - t0 < 5 and any(p.exists() for p in gone):
            time.sleep(0.05)
        seen["gone"] = [p.name for p in gone if p.exists()]
        seen["kept"] = [p.name for p in kept if not p.exists()]
        raise KeyboardInterrupt

    page = FakePage()
    serve_offline(monkeypatch, tmp_path, page, wait)
    assert server.serve(port=None, device="cpu", quiet=True) == 0
    assert seen == {"gone": [], "kept": []}, seen
    assert list(tmp_path.iterdir()) == []  # the whole folder removed at the stop, as before
