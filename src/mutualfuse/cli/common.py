"""Options shared by the sub-commands, so that a flag means the same on every command.

* ``-o/--out``: where the command writes (a file or a folder, per command);
* ``-q/--quiet``: no progress bar, no notes and no summary line on success (errors are always
  printed);
* ``--device``: ``auto`` (CUDA when available, else CPU) on every command;
* ``--import MODULE``: a Python module that registers fusion methods of one's own, imported
  before ``--method`` is looked up (``fuse``, ``fuse-dir``, ``fuse-stack``, ``methods``,
  ``benchmark``; :mod:`mutualfuse.plugins`);
* numeric options are checked by argparse types, so a bad value is a one-line exit-2 error
  before any work.
"""
from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Sequence

DEVICES = ("auto", "cpu", "cuda")
DEFAULT_DEVICE = "auto"


def int_at_least(lo: int, what: str = ""):
    """An argparse type: an integer >= ``lo``."""

    def conv(v: str) -> int:
        try:
            n = int(v)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {v!r}") from None
        if n < lo:
            raise argparse.ArgumentTypeError(f"must be at least {lo}{' ' + what if what else ''}, got {n}")
        return n

    conv.__name__ = f"integer>={lo}"
    return conv


def non_empty(v: str) -> str:
    """An argparse type: any text but the empty (or blank) string. ``--weights ""`` (an unset
    shell variable) used to mean "not given" and fused with the default weights."""
    if not v.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return v


non_empty.__name__ = "non-empty text"


def int_in(lo: int, hi: int):
    """An argparse type: an integer in ``lo..hi``."""

    def conv(v: str) -> int:
        n = int_at_least(lo)(v)
        if n > hi:
            raise argparse.ArgumentTypeError(f"must be in {lo}..{hi}, got {n}")
        return n

    conv.__name__ = f"integer in {lo}..{hi}"
    return conv


def add_device(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default=DEFAULT_DEVICE, choices=list(DEVICES),
                   help="where the network runs: auto = CUDA when available, else CPU (default %(default)s)")


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar, notes or summary line (errors are still printed)")


IMPORT_HELP = ("import a Python module first: a module name (found on the Python path or in the working "
               "folder), a .py file or a package folder; the fusion methods it registers "
               "(mutualfuse.methods.register_method) can be named by --method; repeatable (docs/benchmark.md, "
               "'Your own method')")


def add_import(p: argparse.ArgumentParser, help: str = IMPORT_HELP) -> None:
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE", help=help)


def apply_imports(args: argparse.Namespace) -> dict[str, list[str]]:
    """Import the ``--import`` modules of ``args`` in order (:func:`mutualfuse.plugins.import_user_modules`)
    → ``{module: the methods it registered}``; a failure is one line (exit status 2). A Namespace
    without ``imports`` (built by a caller, e.g. the web page) imports nothing."""
    specs = getattr(args, "imports", None) or []
    if not specs:
        return {}
    from ..plugins import import_user_modules

    return import_user_modules(specs)


class OneLineParser(argparse.ArgumentParser):
    """argparse with usage errors as one line ``mutualfuse: error: …`` and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        import sys

        prog = self.prog.replace("mutualfuse ", "", 1) if self.prog != "mutualfuse" else ""
        where = f"{prog}: " if prog else ""
        self.exit(2, f"mutualfuse: error: {where}{' '.join(message.split())} (see {self.prog} --help)\n")


@contextlib.contextmanager
def naming_the_file(first: str, paths: Sequence[str]) -> Iterator[None]:
    """A :class:`~mutualfuse.errors.ParameterError` raised while fusing files (a setting the
    images turn out too small for: "method 'lp': levels=4 is too deep for a 8x8 image") is
    re-raised with ``first`` (the first source) in front, as fuse-dir names its failed pairs; one
    that already names one of ``paths`` is left as it is."""
    from ..errors import ParameterError

    try:
        yield
    except ParameterError as e:
        if any(str(p) in str(e) for p in paths):
            raise
        raise ParameterError(f"{first}: {e}") from None


def refuse_in_the_way(path, option: str = "", error: type | None = None) -> None:
    """Refuse, before any work, an output ``path`` under an existing file (``-o afile/x.png``,
    ``-o afile/sub/``): one line naming the path and the file in the way
    (:func:`mutualfuse.wording.in_the_way`), exit status 2, nothing written. The same words on
    every command that writes (each had its own: "cannot create output folder (Not a
    directory)", "output folder afile/sub does not exist", "out_dir X: afile is not a folder").
    ``error``: the class raised (default :class:`~mutualfuse.errors.InputError`)."""
    if path is None:
        return
    from ..wording import in_the_way

    text = in_the_way(path, option)
    if text is not None:
        if error is None:
            from ..errors import InputError

            error = InputError
        raise error(text)
