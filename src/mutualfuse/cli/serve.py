"""``mutualfuse serve``: the local web page (the ``web`` extra). See docs/web.md."""
from __future__ import annotations

import argparse
import os
import sys


def add_parser(sub) -> None:
    from ..image_io import MAX_PIXELS
    from .common import add_device, int_at_least

    p = sub.add_parser("serve", help="a local web page to fuse and compare pairs (needs the 'web' extra)",
                       description="Start the mutualfuse web page on this machine (offline: no CDN, no "
                                   "analytics). Prints its address; Ctrl+C stops it and removes its temporary files.")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0, or :: for IPv6: every "
                        "interface, reachable from the network without authentication: the address printed is "
                        "then this machine's 127.0.0.1 or [::1], with a line saying so)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one, printed on start)")
    add_device(p)
    p.add_argument("--max-pixels", type=int_at_least(1), default=MAX_PIXELS,
                   help=f"refuse larger images, as `fuse` does (default {MAX_PIXELS})")
    p.add_argument("--share", action="store_true", help="also ask Gradio for a public share link (needs internet)")
    from .common import add_import

    add_import(p, help="import a Python module first: a module name (found on the Python path or in the working "
                       "folder), a .py file or a package folder; the fusion methods it registers "
                       "(mutualfuse.methods.register_method) are offered on the page, whose 'same as' command lines "
                       "name the module, and the metrics it registers (mutualfuse.metrics.register_metric) are rows "
                       "of the page's metrics table, marked yours and unchecked; repeatable (docs/web.md)")
    p.add_argument("--weights", action="append", default=[], metavar="NAME=FILE",
                   help="weights of your own (mutualfuse train / export-weights) offered in the page's weights "
                        "selector as NAME, labelled yours: NAME=FILE, or a path (NAME = the file's stem); each "
                        "file is checked at the start (its .sha256 sidecar too, as fuse checks it) and fused as "
                        "`mutualfuse fuse --weights FILE` fuses by default (the scaling left at its default: the "
                        "policy the weights were trained with); a request names only these NAMEs, never a path; "
                        "repeatable (docs/web.md)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ParameterError
    from ..web.server import serve

    if not 0 <= args.port <= 65535:
        raise ParameterError(f"--port {args.port}: must be 0-65535")
    from .common import apply_imports

    apply_imports(args)  # methods of one's own (--import): on the page's method list, before it is built
    from ..web import core

    # weights of one's own (--weights NAME=FILE or a path): each read and checked now, before the
    # server starts; a bad entry is one line, exit 2
    own = core.check_own_weights(core.own_weights_entries(list(getattr(args, "weights", None) or [])))

    core.SERVED_IMPORTS = tuple(getattr(args, "imports", None) or ())
    rc = serve(host=args.host, port=args.port or None, device=args.device, max_pixels=args.max_pixels,
               share=args.share, own_weights=own)
    # serve() has stopped the page and removed its temporary folder. Leave now: the web
    # framework's worker threads (not ours to join) must not hold the process after Ctrl+C.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(rc)
