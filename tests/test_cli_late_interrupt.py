"""A Ctrl+C (or SIGTERM) that arrives after the command finished, while the interpreter shuts
down, printed a ``KeyboardInterrupt`` traceback from torch's clean-up and turned a success into
exit status -2 (noticed by the s18 video and volume audits): the command's entry point now leaves
at once with the command's status."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_late_signal_keeps_the_commands_status(sig):
    code = (
        "import os, signal, sys, time\n"
        "from mutualfuse.cli import _exit_on_late_interrupt\n"
        "print('done', flush=False)\n"
        "_exit_on_late_interrupt(3)\n"
        f"os.kill(os.getpid(), {int(sig)})\n"
        "time.sleep(30)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert r.returncode == 3 and r.stdout == "done\n" and r.stderr == "", r


def test_the_installed_command_and_python_m_use_it():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["mutualfuse"] == "mutualfuse.cli:console_main"
    assert "console_main()" in (ROOT / "src" / "mutualfuse" / "__main__.py").read_text()


def test_main_called_from_python_leaves_the_handlers_alone():
    from mutualfuse.cli import main

    before = signal.getsignal(signal.SIGINT)
    assert main(["methods"]) == 0
    assert signal.getsignal(signal.SIGINT) is before
