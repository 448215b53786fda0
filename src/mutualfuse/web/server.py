"""Start the page: offline settings, a free port, one temporary folder removed at exit."""
from __future__ import annotations

import logging
import os
import re
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
            # POSIX: SO_REUSEADDR, as uvicorn, so that a port in TIME_WAIT is free. Not on Windows:
            # there SO_REUSEADDR lets a bind take a port another program of the same user listens
            # on, so every port looked free; SO_EXCLUSIVEADDRUSE refuses that (and a port in
            # TIME_WAIT binds there without any option)
            excl = getattr(socket, "SO_EXCLUSIVEADDRUSE", None)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR if excl is None else excl, 1)
            s.bind((host, port))
    except OSError as e:
        if e.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)):
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


#: Gradio's temporary files that nothing of Gradio deletes (:func:`sweep_upload_folder`): an empty
#: file older than this (s) is one Gradio's ``File`` made for each uploaded file of each request
LEAKED_EMPTY_AGE = 60.0
#: an upload's file not written to for this long (s) was abandoned (the browser cancelled or lost
#: the connection: Gradio deletes it only on a malformed request), and a cached file's folder emptied
#: this long ago by ``delete_cache`` is removed
ABANDONED_AGE = 600.0
#: seconds between two sweeps of the server's thread
SWEEP_EVERY = 60.0
_CACHE_DIR = re.compile(r"[0-9a-f]{64}")


def open_files() -> set[str]:
    """The files this process has open (Linux: ``/proc/self/fd``; elsewhere an empty set)."""
    out = set()
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return out
    for fd in fds:
        try:
            out.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed meanwhile
            continue
    return out


def sweep_upload_folder(folder: Path, now: float | None = None) -> tuple[int, int]:
    """Remove what Gradio leaves in its upload folder and never deletes → (entries removed, bytes).

    Gradio's ``delete_cache`` (the page's ``(600, 3600)``) deletes only the files it tracks (the
    uploads and the results it served, in folders named by their SHA-256) and leaves behind, all
    until the server stops: an empty ``tmp*`` file for every uploaded file of every request
    (``File`` preprocessing with ``type="filepath"``; measured with Gradio 6.31: 90 after 50
    requests), the ``tmp*`` file of an upload the browser cancelled (its bytes so far), and the
    SHA-256 folders it empties (one per uploaded or served file). Top-level ``tmp*`` files are uploads in progress
    until moved into their folder: an empty one older than :data:`LEAKED_EMPTY_AGE` or any one not
    written to for :data:`ABANDONED_AGE` is removed, and an empty SHA-256 folder unchanged for
    :data:`ABANDONED_AGE`. A file the server still has open is an upload still arriving, however
    long it has not grown (a slow or stalled link): it is kept (it was removed, and the upload then
    failed when Gradio moved it into its folder: ``FileNotFoundError``, a traceback on the server's
    terminal); once its connection is gone Gradio closes it, and the rule above applies."""
    now = time.time() if now is None else now
    count = size = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:  # not made yet (no upload so far) or removed at the stop
        return 0, 0
    busy = open_files()
    for e in entries:
        if e.path in busy or os.path.realpath(e.path) in busy:
            continue
        try:
            st = e.stat(follow_symlinks=False)
            age = now - st.st_mtime
            if e.is_file(follow_symlinks=False) and e.name.startswith("tmp"):
                if (st.st_size == 0 and age > LEAKED_EMPTY_AGE) or age > ABANDONED_AGE:
                    os.unlink(e.path)
                    count, size = count + 1, size + st.st_size
            elif e.is_dir(follow_symlinks=False) and _CACHE_DIR.fullmatch(e.name) and age > ABANDONED_AGE:
                os.rmdir(e.path)  # fails (kept) unless empty
                count += 1
        except OSError:  # removed meanwhile, or a folder that is not empty
            continue
    return count, size


def _sweep_forever(folder: Path, stop: threading.Event, every: float | None = None) -> None:
    while not stop.wait(SWEEP_EVERY if every is None else every):
        try:
            sweep_upload_folder(folder)
        except Exception as e:  # noqa: BLE001 - a sweep that failed must not stop the server
            print(f"mutualfuse serve: could not clean {folder}: {e}", file=sys.stderr, flush=True)


def _cut_off(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or every exception of a group) is Starlette's ``ClientDisconnect``: the client
    closed the connection before its request's body had arrived."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_cut_off(e) for e in exc.exceptions)
    return exc is not None and type(exc).__name__ == "ClientDisconnect" and "starlette" in type(exc).__module__


class CutOffRequests(logging.Filter):
    """The web server's log, minus the traceback of a request cut off by its client.

    A browser that closed the tab or lost its link in the middle of an upload made uvicorn print
    "Exception in ASGI application" and a 70-line traceback ending in ``ClientDisconnect`` on the
    terminal of ``serve`` for every such upload (nothing is wrong with the server); one line says it
    instead. The part of the upload that arrived is a ``tmp*`` file that the sweep deletes once it
    has not grown for :data:`ABANDONED_AGE` seconds (:func:`sweep_upload_folder`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not (record.exc_info and _cut_off(record.exc_info[1])):
            return True
        print(f"mutualfuse serve: a browser closed or lost its connection while sending a request (an upload cut "
              f"off); the part that arrived is deleted after about {ABANDONED_AGE / 60:.0f} minutes",
              file=sys.stderr, flush=True)
        return False


#: headers added to every response of the page (:class:`SecurityHeaders`): browsers take each file
#: as the type it is served as (an upload named ``x.png`` is served inline as ``image/png`` whatever
#: its bytes), and no other site may show the page in a frame (clickjacking: a page of another
#: site making a visitor press Fuse on a server published with ``--host``)
SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"SAMEORIGIN"),
                    (b"content-security-policy", b"frame-ancestors 'self'"))


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response that lacks them
    (Gradio sends neither, but on the files it streams from a URL)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {bytes(k).lower() for k, _ in headers}
                message = {**message, "headers": headers + [(k, v) for k, v in SECURITY_HEADERS if k not in have]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


#: the path of Gradio's route that serves a file of the page (a result, an upload, a preview)
FILE_ROUTE = "/gradio_api/file="


def gone_page(minutes: int) -> bytes:
    """The HTML page of a link to a result or upload that is no longer on the server
    (:class:`ExpiredFiles`)."""
    return ("<!doctype html><html lang=en><head><meta charset=utf-8><title>mutualfuse: result no longer "
            "on the server</title></head><body style=\"font-family: sans-serif; max-width: 40em; margin: 3em auto\">"
            "<h1>This result is no longer on the server</h1>"
            f"<p>mutualfuse serve keeps results and uploads about {minutes} minutes: this file has been "
            "removed (or the server was restarted since the link was made).</p>"
            "<p>Go back to <a href=\"/\">the page</a>, upload the images again if needed and press "
            "<b>Fuse</b> to make the result anew.</p></body></html>").encode()


class ExpiredFiles:
    """ASGI middleware: a link to a file of the server's own folder that is gone (a result or an upload
    older than about an hour, which Gradio's cache deletes, or one of a server since restarted) gets
    :func:`gone_page` with status 404. Gradio answered ``403 {"detail": "File not allowed: /tmp/
    mutualfuse-serve-…/gradio/<sha256>/fused.png."}``: a bare error naming the server's folders, and
    for a download link nothing at all on the page. Only paths inside ``folder`` (the server's
    temporary folder) are answered so: for any other path Gradio's 403 stays, which does not tell a
    missing file from a forbidden one."""

    def __init__(self, app, folder: str | os.PathLike, minutes: int = 60):
        self.app = app
        self.folder = os.path.realpath(folder)
        self.minutes = minutes

    def _gone(self, scope) -> bool:
        path = scope.get("path", "")
        if not path.startswith(FILE_ROUTE):
            return False
        target = path[len(FILE_ROUTE):]
        if not os.path.isabs(target):
            return False
        real = os.path.realpath(target)
        try:
            inside = os.path.commonpath([real, self.folder]) == self.folder
        except ValueError:  # another drive (Windows)
            return False
        return inside and not os.path.exists(real)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD") or not self._gone(scope):
            return await self.app(scope, receive, send)
        body = gone_page(self.minutes)
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})


def app_kwargs(folder: str | os.PathLike | None = None, minutes: int = 60) -> dict:
    """``launch(app_kwargs=)``: the web app made with :class:`SecurityHeaders` and, given the
    server's temporary ``folder``, :class:`ExpiredFiles` (Starlette comes with gradio; without it,
    only a stand-in page of the tests is served, with nothing)."""
    try:
        from starlette.middleware import Middleware
    except ImportError:
        return {}
    expired = [] if folder is None else [Middleware(ExpiredFiles, folder=str(folder), minutes=minutes)]
    return {"middleware": [Middleware(SecurityHeaders), *expired]}


def shown_url(host: str, port: int) -> str:
    """The address ``serve`` prints: ``host``'s, or, for a wildcard address (``0.0.0.0``, ``::``:
    every interface of this machine; ``http://0.0.0.0:PORT/`` was printed, which is no address
    another machine can open), this machine's loopback one (``serve`` then says it listens on all
    interfaces; it does not look up this machine's network addresses)."""
    import ipaddress

    try:
        if ipaddress.ip_address(host).is_unspecified:
            host = "::1" if ":" in host else "127.0.0.1"
    except ValueError:  # a name
        pass
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}/"


def wildcard(host: str) -> bool:
    """Whether ``host`` is a wildcard address (every interface of this machine)."""
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def public_host(host: str) -> bool:
    """Whether ``host`` may be reachable from other machines (not only a loopback address)."""
    import ipaddress

    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: public unless every address it has is a loopback one
        try:
            infos = socket.getaddrinfo(host, None)
        except OSError:
            return True
        return not all(ipaddress.ip_address(i[4][0].split("%")[0]).is_loopback for i in infos)


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
          share: bool = False, quiet: bool = False, own_weights: dict[str, str] | None = None) -> int:
    """Serve the page until Ctrl+C / SIGTERM / SIGHUP. ``own_weights``: ``{NAME: FILE}`` of weights
    of one's own offered on the page (``serve --weights NAME=FILE``; :func:`.app.build_app`),
    each read and checked before anything starts (a one-line FuseError)."""
    import importlib.util

    from ..errors import ParameterError
    from ..validation import pick_device

    # refused before anything starts: --device cuda without CUDA served a page whose every fuse failed
    dev = pick_device(device)
    from .core import own_weights_table

    own = own_weights_table(own_weights)
    if host.startswith("[") and host.endswith("]"):  # an IPv6 literal as written in a URL
        host = host[1:-1]
    port = listen_port(host, port)
    if importlib.util.find_spec("gradio") is None:
        raise ParameterError("the web page needs the 'web' extra: pip install 'mutualfuse[web]'")
    workdir = Path(tempfile.mkdtemp(prefix="mutualfuse-serve-"))
    os.environ.update(OFFLINE_ENV)  # before gradio is imported: it reads them at import
    os.environ["GRADIO_TEMP_DIR"] = str(workdir / "gradio")
    swept = threading.Event()
    quiet_cut = None
    closed = True  # False: the page's close did not finish within CLOSE_TIMEOUT (see the end)

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
        from .app import build_app, page_assets
        from .core import REQUEST_MAX_AGE, SAMPLES

        app = build_app(workdir / "results", device=device, max_pixels=max_pixels, own_weights=own)
        app.queue(default_concurrency_limit=1)
        url = shown_url(host, port)
        # Gradio takes an IPv6 literal in brackets (bare, '::1' made it build 'http://::1:PORT/': InvalidURL)
        app.launch(server_name=f"[{host}]" if ":" in host else host, server_port=port, share=share, inbrowser=False, quiet=True,
                   prevent_thread_lock=True, ssr_mode=False, allowed_paths=[str(SAMPLES)], show_error=True,
                   footer_links=[], max_file_size=upload_limit(max_pixels), **page_assets(),
                   app_kwargs=app_kwargs(workdir, minutes=REQUEST_MAX_AGE // 60))
        # after launch(): uvicorn configures its loggers when the server is made
        quiet_cut = CutOffRequests()
        logging.getLogger("uvicorn.error").addFilter(quiet_cut)
        threading.Thread(target=_sweep_forever, args=(workdir / "gradio", swept), name="mutualfuse-sweep",
                         daemon=True).start()
        try:  # the prints too: a Ctrl+C while the address is being printed is a normal stop (it escaped: exit 130)
            print(f"mutualfuse serve: {url}  (Ctrl+C to stop)", flush=True)
            if wildcard(host):  # the address above is this machine's; others use its name or address
                print(f"mutualfuse serve: listening on all interfaces ({host}) port {port}: from another machine "
                      f"open http://<this machine's name or address>:{port}/", flush=True)
            if public_host(host) or share:
                where = "with a public share link" if share and not public_host(host) else f"on {host} port {port}"
                print(f"mutualfuse serve: warning: the page is published {where} without authentication: anyone "
                      "who can reach it can upload files and use this machine's "
                      f"{'GPU' if dev.type == 'cuda' else 'CPU'} (use it only on a trusted network)",
                      file=sys.stderr, flush=True)
            if share and getattr(app, "share_url", None):
                print(f"mutualfuse serve: share link {app.share_url}", flush=True)
            wait_for_interrupt()
        except KeyboardInterrupt:
            pass
        closed = _close(app)
        if not quiet:
            print("mutualfuse serve: stopped", file=sys.stderr, flush=True)
        return 0
    except OSError as e:
        raise ParameterError(f"--host {host} --port {port}: cannot listen ({e.strerror or e})") from None
    finally:
        swept.set()
        if quiet_cut is not None:
            logging.getLogger("uvicorn.error").removeFilter(quiet_cut)
        for sig, handler in old.items():
            signal.signal(sig, handler)
        shutil.rmtree(workdir, ignore_errors=True)
        if not closed:  # "exiting anyway" (s27): the web server's threads, not daemons, still run and
            sys.stdout.flush()  # would hold the interpreter's exit for ever (a SIGHUP under load in CI);
            sys.stderr.flush()  # the folder is removed above, so nothing is left behind
            os._exit(0)
