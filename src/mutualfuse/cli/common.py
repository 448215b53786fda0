"""Options shared by the sub-commands, so that a flag means the same on every command.

* ``-o/--out``: where the command writes (a file or a folder, per command);
* ``-q/--quiet``: no progress bar, no notes and no summary line on success (errors are always
  printed);
* ``--device``: ``auto`` (CUDA when available, else CPU) on every command;
* numeric options are checked by argparse types, so a bad value is a one-line exit-2 error
  before any work.
"""
from __future__ import annotations

import argparse

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


class OneLineParser(argparse.ArgumentParser):
    """argparse with usage errors as one line ``mutualfuse: error: …`` and exit status 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        import sys

        prog = self.prog.replace("mutualfuse ", "", 1) if self.prog != "mutualfuse" else ""
        where = f"{prog}: " if prog else ""
        self.exit(2, f"mutualfuse: error: {where}{' '.join(message.split())} (see {self.prog} --help)\n")
