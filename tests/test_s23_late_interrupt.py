"""A Ctrl+C sent to ``fuse-dir A B -o OUT -j 2`` just as it finished killed it by the signal
(exit status -2, no "interrupted" line) although every output was written: 4 of 60 runs with
SIGINT to the process group at 0.85-1.10 x the run's duration (3 tiny pairs, --method average,
on the shared 2-core machine; 4 and 10 of 60 in two batches before the fix, 0 of 180 after).
Two windows:

* CPython puts the default action back for each signal with a Python handler once the
  ``atexit`` functions have run (``_PySignal_Fini``), then tears the modules down: a signal then
  killed the process. :func:`mutualfuse.cli._ignore_late_signals` (``atexit``, registered first
  so it runs last) ignores SIGINT / SIGTERM for that stretch; the command's status stands.
* A ``KeyboardInterrupt`` raised after the command returned, before the late handlers were in
  place, went out of :func:`mutualfuse.cli.console_main` as a traceback and status -2; it now
  keeps the command's status.

Both are made deterministic here: a signal sent from an object's ``__del__`` that runs while
the interpreter tears ``__main__`` down, and a ``KeyboardInterrupt`` raised where the late
handlers are being installed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest


def _src() -> str:
    import mutualfuse  # the tested sources (PYTHONPATH), also in the subprocess

    return str(Path(mutualfuse.__file__).resolve().parents[1])


def _run(code: str):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": _src(), "OMP_NUM_THREADS": "1"})


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_interpreter_tears_down_keeps_the_status(sig):
    code = (
        "import os, signal, sys, time\n"
        "from mutualfuse import cli\n"
        "class Late:\n"
        "    def __del__(self):  # __main__ torn down: after the atexit functions\n"
        f"        os.kill(os.getpid(), {int(sig)})\n"
        "        time.sleep(0.2)\n"
        "        sys.stderr.write('survived\\n')\n"
        "late = Late()\n"
        "sys.argv = ['mutualfuse', 'methods']\n"
        "sys.exit(cli.console_main())\n"
    )
    r = _run(code)
    assert r.returncode == 0, r
    assert "average" in r.stdout and r.stderr == "survived\n", r


def test_an_interrupt_between_the_commands_return_and_the_late_handlers_keeps_the_status():
    code = (
        "import sys\n"
        "from mutualfuse import cli\n"
        "real = cli._exit_on_late_interrupt\n"
        "calls = []\n"
        "def first_interrupted(status):\n"
        "    calls.append(status)\n"
        "    if len(calls) == 1:\n"
        "        raise KeyboardInterrupt  # the Ctrl+C of the window\n"
        "    real(status)\n"
        "cli._exit_on_late_interrupt = first_interrupted\n"
        "sys.argv = ['mutualfuse', 'methods']\n"
        "sys.exit(cli.console_main())\n"
    )
    r = _run(code)
    assert r.returncode == 0 and "average" in r.stdout and r.stderr == "", r


def test_an_interrupt_while_the_outcome_is_reported_is_an_interrupt():
    """A ``KeyboardInterrupt`` out of the command's reporting (before it has a status): one
    "interrupted" line, 130, never a traceback."""
    code = (
        "import sys\n"
        "from mutualfuse import cli\n"
        "def boom(argv, status):\n"
        "    raise KeyboardInterrupt\n"
        "cli._main = boom\n"
        "sys.argv = ['mutualfuse', 'methods']\n"
        "sys.exit(cli.console_main())\n"
    )
    r = _run(code)
    assert r.returncode == 130 and r.stderr == "mutualfuse: interrupted\n", r
