"""Start the page: offline settings, a free port, one temporary folder removed at exit."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

#: set before gradio is imported: no analytics, no version check, no hub access, uploads and
#: results in our own temporary folder
OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "GRADIO_SSR_MODE": "False",
}


def free_port(host: str) -> int:
    """A port the OS says is free on ``host`` now."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def listen_port(host: str, port: int | None) -> int:
    """The port to serve on: ``port``, checked free on ``host`` (as the web server will bind it), or a
    free one; a one-line ParameterError naming the option otherwise (was Gradio's advice to set
    ``GRADIO_SERVER_PORT`` or pass ``server_port`` to ``launch()``, and ``--port None``)."""
    import errno

    from ..errors import ParameterError

    if not port:
        try:
            return free_port(host)
        except OSError as e:
            raise ParameterError(f"--host {host}: cannot listen there ({e.strerror or e})") from None
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(fam, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a port in TIME_WAIT is free
            s.bind((host, port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise ParameterError(f"--port {port}: already in use on {host} (another program listens there; "
                                 "--port 0 picks a free one)") from None
        raise ParameterError(f"--host {host} --port {port}: cannot listen there ({e.strerror or e})") from None
    return port


#: bytes of an uploaded file per pixel of ``--max-pixels``: 8 holds any uncompressed image
#: mutualfuse reads (16-bit RGBA, 64-bit float gray), and half as much again a pyramidal TIFF's
#: reduced levels (a third)
UPLOAD_BYTES_PER_PIXEL = 12


def upload_limit(max_pixels: int | None) -> int:
    """The largest upload the page accepts, in bytes (Gradio's ``max_file_size``): what an
    uncompressed image of ``max_pixels`` pixels can take, and 16 MiB of headers. Without it an
    upload of any size was stored in the server's temporary folder before ``--max-pixels`` was
    checked on it."""
    from ..image_io import MAX_PIXELS

    return UPLOAD_BYTES_PER_PIXEL * int(max_pixels or MAX_PIXELS) + 16 * 2 ** 20


#: seconds to wait for Gradio's ``close()`` (it joins its server thread for 5 s and kills its
#: static-file workers); past that the page is abandoned and the temporary folder removed anyway
CLOSE_TIMEOUT = 20.0


def _close(app, timeout: float = CLOSE_TIMEOUT) -> bool:
    """Stop the Gradio app from a daemon thread, waiting at most ``timeout`` s; True if it finished.

    A safety net: whatever might hang inside the web framework's close, waiting in a daemon
    thread bounds the stop (the Ctrl+C that CI once saw ignored was :func:`wait_for_interrupt`'s
    business, not this).
    """
    t = threading.Thread(target=app.close, kwargs={"verbose": False}, name="mutualfuse-close", daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        print(f"mutualfuse serve: the web server did not stop within {timeout:.0f} s; exiting anyway",
              file=sys.stderr, flush=True)
        return False
    return True


def wait_for_interrupt(poll: float = 0.2) -> None:
    """Block the main thread until Ctrl+C / SIGTERM raises ``KeyboardInterrupt`` in it.

    Not ``signal.pause()``: in a process with other threads (the web server's, torch's) the
    kernel may deliver SIGINT to any of them; Python then only flags the signal, and a main
    thread blocked in ``pause()`` never wakes to run the handler (the server ignored Ctrl+C in
    some CI runs). Sleeping in short steps lets the main thread run the handler within
    ``poll`` seconds wherever the signal landed.
    """
    while True:
        time.sleep(poll)


def serve(host: str = "127.0.0.1", port: int | None = None, device: str = "auto", max_pixels: int | None = None,
          share: bool = False, quiet: bool = False) -> int:
    import importlib.util

    from ..errors import ParameterError
    from ..validation import pick_device

    # refused before anything starts: --device cuda without CUDA served a page whose every fuse failed
    pick_device(device)
    if host.startswith("[") and host.endswith("]"):  # an IPv6 literal as written in a URL
        host = host[1:-1]
    port = listen_port(host, port)
    if importlib.util.find_spec("gradio") is None:
        raise ParameterError("the web page needs the 'web' extra: pip install 'mutualfuse[web]'")
    workdir = Path(tempfile.mkdtemp(prefix="mutualfuse-serve-"))
    os.environ.update(OFFLINE_ENV)  # before gradio is imported: it reads them at import
    os.environ["GRADIO_TEMP_DIR"] = str(workdir / "gradio")

    def stop(signum, frame):  # Ctrl+C / SIGTERM / SIGHUP: leave through the finally below
        raise KeyboardInterrupt

    # Installed explicitly for both: a process started in the background by a non-interactive
    # shell inherits SIGINT as *ignored*, and Python then keeps ignoring it (Ctrl+C and the
    # browser test's SIGINT would do nothing)
    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    # SIGHUP (the terminal or ssh session closed) killed the process without the cleanup, leaving
    # the folder with every upload behind; under nohup (SIGHUP ignored) it stays ignored
    hup = getattr(signal, "SIGHUP", None)
    if hup is not None and signal.getsignal(hup) is not signal.SIG_IGN:
        old[hup] = signal.signal(hup, stop)
    try:
        from .app import build_app
        from .core import SAMPLES

        app = build_app(workdir / "results", device=device, max_pixels=max_pixels)
        app.queue(default_concurrency_limit=1)
        url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
        # Gradio takes an IPv6 literal in brackets (bare, '::1' made it build 'http://::1:PORT/': InvalidURL)
        app.launch(server_name=f"[{host}]" if ":" in host else host, server_port=port, share=share, inbrowser=False, quiet=True,
                   prevent_thread_lock=True, ssr_mode=False, allowed_paths=[str(SAMPLES)], show_error=True,
                   footer_links=[], max_file_size=upload_limit(max_pixels))
        try:  # the prints too: a Ctrl+C while the address is being printed is a normal stop (it escaped: exit 130)
            print(f"mutualfuse serve: {url}  (Ctrl+C to stop)", flush=True)
            if share and getattr(app, "share_url", None):
                print(f"mutualfuse serve: share link {app.share_url}", flush=True)
            wait_for_interrupt()
        except KeyboardInterrupt:
            pass
        _close(app)
        if not quiet:
            print("mutualfuse serve: stopped", file=sys.stderr, flush=True)
        return 0
    except OSError as e:
        raise ParameterError(f"--host {host} --port {port}: cannot listen ({e.strerror or e})") from None
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        shutil.rmtree(workdir, ignore_errors=True)
