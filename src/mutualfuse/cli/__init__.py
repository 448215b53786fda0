"""The ``mutualfuse`` command line: one sub-command module each, errors as one line + exit 2."""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys

from .. import __version__

#: sub-command modules, in the order shown by ``mutualfuse --help``; each defines
#: ``add_parser(subparsers)`` that registers its parser with ``func=run``.
SUBCOMMANDS = ["fuse", "demo", "train", "export_weights", "evaluate", "methods", "fuse_dir", "fuse_stack", "fuse_volume", "fuse_video", "export_onnx", "serve", "benchmark"]


def build_parser() -> argparse.ArgumentParser:
    from .common import OneLineParser

    parser = OneLineParser(
        prog="mutualfuse",
        description="Deep image fusion by feature mutual mapping, classical baselines and fusion metrics.",
    )
    parser.add_argument("--version", action="version", version=f"mutualfuse {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None, *, _status: list[int] | None = None) -> int:
    """Run the command of ``argv`` (default ``sys.argv[1:]``) → its exit status.

    ``_status`` (:func:`console_main` only): the status is appended to it as soon as the command
    has returned or its failure has been reported, and from then on SIGINT / SIGTERM end the
    process with that status (:func:`_exit_on_late_interrupt`), instead of SIGTERM going back to
    its default action here."""
    if _status is None:
        return _main(argv, None)
    code = _main(argv, _status)
    _status.append(code)
    _exit_on_late_interrupt(code)
    return code


def _main(argv: list[str] | None, _status: list[int] | None) -> int:
    from ..errors import FuseError

    if (sys.argv[1:] if argv is None else list(argv)) == ["--version"]:
        # what the parser's --version prints, without building it: every sub-command's options
        # import NumPy and Pillow (0.15 s of the 0.18 s that `mutualfuse --version` took)
        print(f"mutualfuse {__version__}")
        return 0
    from ..io.signals import forget_stop, stop_status  # (after --version: the io package imports NumPy)

    forget_stop()  # an interrupt's status is this command's signal's (a process may run several)
    try:
        parser = build_parser()
        args, extra = parser.parse_known_args(argv)
        if extra:  # argparse names the top parser ("see mutualfuse --help") for `demo --token-budget 0`
            sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
            (sub.choices.get(getattr(args, "command", None)) or parser).error(
                f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as e:  # --help, --version, or a usage error (already printed as one line)
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    except KeyboardInterrupt:  # Ctrl+C before the command starts (its modules still loading)
        print("mutualfuse: interrupted", file=sys.stderr)
        return stop_status()
    restore = _sigterm_as_interrupt()
    fuse_cli = sys.modules.get("mutualfuse.cli.fuse")
    if fuse_cli is not None:  # a fuser of an earlier command in this process (tests, scripts)
        fuse_cli.POLICY_FROM_WEIGHTS.clear()
    try:
        return int(args.func(args) or 0)
    except FuseError as e:
        fuse_cli = sys.modules.get("mutualfuse.cli.fuse")  # a fuser's --normalize from its weights: said so
        print(f"mutualfuse: error: {e if fuse_cli is None else fuse_cli.policy_origin(e)}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:  # 130 for Ctrl+C, 143 for SIGTERM (128 + the signal's number)
        print("mutualfuse: interrupted", file=sys.stderr)
        return stop_status()
    except BrokenPipeError as e:
        if not _stdout_gone():  # another pipe (e.g. to ffmpeg): a real error
            return _internal_error(e)
        # the reader of our standard output left (`mutualfuse methods | head -1`): stop quietly,
        # as a shell tool does (exit 128 + SIGPIPE), and keep Python's exit flush from complaining
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except MemoryError:
        print("mutualfuse: error: out of memory (try --tile or a smaller --token-budget)", file=sys.stderr)
        return 2
    except OSError as e:
        if e.errno == errno.ENAMETOOLONG and e.filename:  # a path the file system cannot hold: the user's input
            print(f"mutualfuse: error: {os.fsdecode(e.filename)}: file name too long for the file system",
                  file=sys.stderr)
            return 2
        if os.environ.get("MUTUALFUSE_DEBUG"):
            raise
        return _internal_error(e)
    except Exception as e:  # noqa: BLE001 - last resort: still one line unless debugging
        if os.environ.get("MUTUALFUSE_DEBUG"):
            raise
        return _internal_error(e)
    finally:
        if _status is None:  # else SIGTERM stays an interrupt until the late handlers replace it
            restore()


def console_main() -> int:
    """The ``mutualfuse`` command (and ``python -m mutualfuse``): :func:`main`, after which a
    Ctrl+C or SIGTERM arriving while the interpreter shuts down (torch's and the decoders'
    clean-up can take a moment) exits at once with the command's status: the work is done and
    its outputs are written, so it must neither print a ``KeyboardInterrupt`` traceback nor turn
    a success into a failure (:func:`_exit_on_late_interrupt`).

    A ``fuse-dir -j 2`` run sent SIGINT just as it finished was killed by the signal (exit status
    -2, no "interrupted" line, every output written) in 4 and 10 of 60 tries: the interpreter
    puts the default action back for every signal with a Python handler once the ``atexit``
    functions have run (CPython's ``_PySignal_Fini``), and then tears its modules down (torch,
    the pool's) for a while. :func:`_ignore_late_signals`, registered first so that it runs
    last of the ``atexit`` functions, ignores SIGINT / SIGTERM for that last stretch. A signal
    that comes after the command returned but before the late handlers are in place (a
    ``KeyboardInterrupt`` raised between two statements) keeps the command's status too."""
    import atexit

    atexit.register(_ignore_late_signals)
    status: list[int] = []
    try:
        return main(_status=status)  # main put the late handlers in place once it had the status
    except KeyboardInterrupt:
        if status:  # the command was done and had its status: a late interrupt
            code = status[0]
        else:  # it came while the command's outcome was being reported: an interrupt
            from ..io.signals import stop_status

            print("mutualfuse: interrupted", file=sys.stderr)
            code = stop_status()
        _exit_on_late_interrupt(code)  # (again, where the interrupt came before main installed them)
        return code


def _exit_on_late_interrupt(code: int) -> None:
    """From now on SIGINT / SIGTERM end the process with ``code`` (standard streams flushed
    first, as far as they can be). Only in the main thread; never for :func:`main` called from
    Python (tests, users). The handlers are installed before the streams are flushed: a flush to
    a slow pipe was a window where a Ctrl+C could raise ``KeyboardInterrupt`` out of it."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def flush() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - closed, gone, or a flush this signal interrupted (reentrant)
                pass

    def leave(signum, frame):  # noqa: ARG001
        flush()
        os._exit(code)

    try:
        signal.signal(signal.SIGINT, leave)
        signal.signal(signal.SIGTERM, leave)
    except (ValueError, OSError, AttributeError):  # no signals here
        return
    _LATE_HANDLERS.add(leave)
    flush()


#: the handlers :func:`_exit_on_late_interrupt` installed (what :func:`_ignore_late_signals` replaces)
_LATE_HANDLERS: set = set()


def _ignore_late_signals() -> None:
    """``atexit`` (:func:`console_main`): SIGINT / SIGTERM ignored from here to the process's end,
    where they would otherwise have their default action (killed by the signal, status -2 / -15)
    while the interpreter tears its modules down; the command's status stands. Only where
    :func:`_exit_on_late_interrupt` put its handlers in place (nothing for ``main`` used from
    Python)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    try:
        if signal.getsignal(signal.SIGINT) not in _LATE_HANDLERS:
            return
        for s in (signal.SIGINT, signal.SIGTERM):
            signal.signal(s, signal.SIG_IGN)
    except (ValueError, OSError, AttributeError):
        pass


def _internal_error(e: BaseException) -> int:
    msg = " ".join(str(e).split())[:300]
    print(f"mutualfuse: internal error: {type(e).__name__}: {msg} (set MUTUALFUSE_DEBUG=1 for a traceback)",
          file=sys.stderr)
    return 1


def _stdout_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it."""
    import select

    try:
        fd = sys.stdout.fileno()
        p = select.poll()
        p.register(fd, select.POLLOUT)
        return any(ev & select.POLLERR for _, ev in p.poll(0))
    except (AttributeError, OSError, ValueError):  # no real stdout (captured, closed) or no poll
        return False


def _sigterm_as_interrupt():
    """Handle SIGTERM (``timeout``, ``kill``, job schedulers) as Ctrl+C while a command runs, so
    that it leaves the same way: temporary ``.part`` files removed, "interrupted"; the exit
    status is 143 (128 + SIGTERM, what a shell and schedulers expect), Ctrl+C's 130.
    Only where SIGTERM has its default action and in the main thread; returns the undo."""
    import signal
    import threading

    from ..io.signals import stop_as_interrupt

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return lambda: None
        signal.signal(signal.SIGTERM, stop_as_interrupt)
    except (ValueError, OSError, AttributeError):  # no signals here (embedded interpreters)
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, signal.SIG_DFL)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(console_main())
