"""What every script of ``benchmarks/`` shares (not a benchmark itself): its one-line usage
errors, the data root it reads, the line naming the machine it ran on, and its ``--json`` files.

* :class:`ArgumentParser`: a bad argument is one line ``SCRIPT: error: …`` on stderr, exit
  status 2 (argparse printed its whole usage text first).
* :func:`positive`: the type of every count option (``--repeat 0`` was a traceback after the
  set-up, or a ``FAILED`` row and exit status 0).
* :func:`data_root`: ``--data-root`` (or the script's own option), else ``$MUTUALFUSE_DATA``,
  else ``$MUTUALFUSE_SHARED/data`` (the variable the older runs-log commands set); a root that
  is given but is not a folder is an error naming where it came from, never a silent fallback
  (``bench_fuse.py`` read ``<repo>/../shared`` whatever ``MUTUALFUSE_DATA`` said).
* :func:`machine`: one ``# machine: …`` line (CPU model, CPUs this process may use, torch
  threads and ``OMP_NUM_THREADS``, Python, torch and numpy versions, load average), printed by
  every script before its figures, so that numbers from different machines are not compared
  unknowingly.
* :func:`check_device`: ``--device`` is ``cpu`` or an available ``cuda``, checked before any work.
* :func:`check_output` / :func:`write_output`: a ``--json FILE`` whose folder cannot take it is a
  usage error before anything is timed (it was a traceback after the whole run); the file is
  written atomically with the permissions ``open()`` gives (the umask), through
  :func:`mutualfuse.io.atomic.atomic_write`.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from pathlib import Path


class ArgumentParser(argparse.ArgumentParser):
    """``argparse`` with a one-line error (``PROG: error: MESSAGE``, exit status 2)."""

    def error(self, message: str):  # noqa: D102 - argparse's hook
        self.exit(2, f"{self.prog}: error: {message}\n")


def _whole(text: str, least: int) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < least:
        raise argparse.ArgumentTypeError(f"at least {least}, got {n}")
    return n


def positive(text: str) -> int:
    """An ``argparse`` type: an integer of at least 1 (a count of repetitions, steps, threads)."""
    return _whole(text, 1)


def non_negative(text: str) -> int:
    """An ``argparse`` type: an integer of at least 0 (a count that may be none, e.g. warm-up rounds)."""
    return _whole(text, 0)


def data_root(ap: argparse.ArgumentParser, given: str | None, *, option: str = "--data-root",
              required: bool = True) -> tuple[Path | None, str]:
    """``(root, where it came from)``. ``given`` (the option's value) wins, then
    ``$MUTUALFUSE_DATA``, then ``$MUTUALFUSE_SHARED/data``. A root named but missing is a usage
    error; no root at all is one too when ``required``, else ``(None, "none")`` (the scripts that
    time a fixed pair and have a bundled stand-in: they name the pair they timed in their output).
    Never a path guessed from where the repository lies (the project's data rule)."""
    if given:
        root, origin = Path(given), option
    elif os.environ.get("MUTUALFUSE_DATA"):
        root, origin = Path(os.environ["MUTUALFUSE_DATA"]), "MUTUALFUSE_DATA"
    elif os.environ.get("MUTUALFUSE_SHARED"):
        root, origin = Path(os.environ["MUTUALFUSE_SHARED"]) / "data", "MUTUALFUSE_SHARED"
    elif required:
        ap.error(f"no data root: give {option} or set MUTUALFUSE_DATA (the folder holding ir-vis/, "
                 "multi-focus/, medical/)")
    else:
        return None, "none"
    if not root.is_dir():
        ap.error(f"{root}: no such folder (the data root, from {origin})")
    return root, origin


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine(threads: int | None = None) -> str:
    """One ``# machine: …`` line. ``threads``: the thread count the script set; else torch's
    current one when torch is loaded."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if threads is None and "torch" in sys.modules:
        threads = sys.modules["torch"].get_num_threads()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"
    return (f"# machine: {_cpu_model()}, {usable} of {os.cpu_count()} CPUs usable, "
            + (f"threads {threads} (" if threads is not None else "")
            + f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
            + (")" if threads is not None else "") + f", python {platform.python_version()}, "
            f"torch {_version('torch')}, numpy {_version('numpy')}, mutualfuse {_version('mutualfuse')}, "
            f"load average {load}")


def check_device(ap: argparse.ArgumentParser, device: str) -> None:
    """A usage error for a ``--device`` that is not ``cpu`` or ``cuda[:N]``, or CUDA where there is
    none (each child process failed on it, or the script's last stage raised a traceback)."""
    import torch

    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError):
        kind = None
    if kind not in ("cpu", "cuda"):
        ap.error(f"--device {device!r}: expected cpu or cuda (cuda:N)")
    if kind == "cuda" and not torch.cuda.is_available():
        ap.error(f"--device {device}: CUDA is not available on this machine")


def check_output(ap: argparse.ArgumentParser, path: str | None, option: str = "--json") -> None:
    """A usage error, before any work, when ``path`` cannot be written (no such folder, a folder
    of that name, a read-only folder)."""
    if not path:
        return
    from mutualfuse.errors import InputError
    from mutualfuse.io.atomic import probe_writable

    if Path(path).is_dir():
        ap.error(f"{option} {path}: is a folder")
    try:
        probe_writable(path)
    except InputError as e:
        ap.error(f"{option}: {e}")


def write_output(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically, with the permissions ``open(path, "w")`` gives."""
    from mutualfuse.io.atomic import atomic_write

    with atomic_write(path, fsync=False) as tmp:
        tmp.write_text(text, encoding="utf-8")
