"""Session 27: the address ``mutualfuse serve --host 0.0.0.0`` prints. It printed
``http://0.0.0.0:PORT/``: no address another machine can open, and not the one to type on this
machine either. A wildcard host (``0.0.0.0``, ``::``) now prints this machine's loopback address
(``http://127.0.0.1:PORT/``, ``http://[::1]:PORT/``) and a second line saying that the page listens on
all interfaces and how another machine reaches it (no network look-up of this machine's
addresses). A stand-in page (no gradio), and the real server when gradio is installed."""
from __future__ import annotations

import urllib.request

import pytest


def _serve(monkeypatch, tmp_path, capsys, host: str) -> tuple[int, list[str]]:
    from fake_page import FakePage, serve_offline

    from mutualfuse.web import server

    try:
        port = server.free_port(host)
    except OSError:
        pytest.skip(f"cannot listen on {host} here")

    def stop(poll=0.2):
        raise KeyboardInterrupt

    page = FakePage()
    serve_offline(monkeypatch, tmp_path, page, stop)
    assert server.serve(host=host, port=port, device="cpu", quiet=True) == 0
    assert page.launched["server_port"] == port
    return port, capsys.readouterr().out.splitlines()


@pytest.mark.parametrize("host, shown", [("0.0.0.0", "127.0.0.1"), ("::", "[::1]")])
def test_a_wildcard_host_prints_an_address_to_open_and_says_it_listens_everywhere(monkeypatch, tmp_path, capsys,
                                                                                 host, shown):
    port, out = _serve(monkeypatch, tmp_path, capsys, host)
    assert out[0] == f"mutualfuse serve: http://{shown}:{port}/  (Ctrl+C to stop)", out
    assert out[1] == (f"mutualfuse serve: listening on all interfaces ({host}) port {port}: from another machine "
                      f"open http://<this machine's name or address>:{port}/"), out
    assert not any("0.0.0.0:" in ln or "[::]" in ln for ln in out), out


@pytest.mark.parametrize("host, shown", [("127.0.0.1", "127.0.0.1"), ("::1", "[::1]")])
def test_a_given_address_is_printed_as_it_is(monkeypatch, tmp_path, capsys, host, shown):
    port, out = _serve(monkeypatch, tmp_path, capsys, host)
    assert out == [f"mutualfuse serve: http://{shown}:{port}/  (Ctrl+C to stop)"]


def test_the_printed_address_of_a_page_on_all_interfaces_opens_it(tmp_path):
    pytest.importorskip("gradio")
    from serve_process import serving

    with serving(tmp_path, "--host", "0.0.0.0") as (url, proc):
        assert url.startswith("http://127.0.0.1:"), url
        with urllib.request.urlopen(url, timeout=60) as r:
            assert r.status == 200 and b"mutualfuse" in r.read()
        assert "all interfaces (0.0.0.0)" in proc.stdout.readline()
