"""s31: SIGTERM ends a command with exit status 143 (128 + 15), not Ctrl+C's 130.

``kill``, ``timeout``, systemd, Kubernetes and job schedulers stop a process with SIGTERM and
read 128 + signum as "terminated". Every command handles SIGTERM as Ctrl+C (temporaries
removed, one "interrupted" line, nothing partial left) but exited 130, the status of Ctrl+C.
Ctrl+C stays 130. (``train``: tests/cli/test_s31_pair2_sigterm_status.py.)"""
from __future__ import annotations

import signal

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main


def _folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    rng = np.random.default_rng(7)
    for name in ("01.png", "02.png"):
        Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(a / name)
        Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(b / name)
    return str(a), str(b)


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_fuse_dir_stopped_by_a_signal_exits_128_plus_its_number(tmp_path, capsys, monkeypatch, sig, status):
    from mutualfuse.cli import fuse_dir

    a, b = _folders(tmp_path)
    real = fuse_dir.fuse_pair

    def stopped(*args, **kw):  # the signal comes while the first pair is fused
        signal.raise_signal(sig)
        return real(*args, **kw)

    monkeypatch.setattr(fuse_dir, "fuse_pair", stopped)
    out = tmp_path / "o"
    rc = main(["fuse-dir", a, b, "-o", str(out), "--method", "average", "-q"])
    err = capsys.readouterr().err
    assert rc == status and err == "mutualfuse: interrupted\n", (rc, err)
    assert not out.exists() or list(out.iterdir()) == []


@pytest.mark.parametrize(("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_fuse_stopped_by_a_signal_exits_128_plus_its_number(tmp_path, capsys, monkeypatch, sig, status):
    from mutualfuse.cli import fuse

    a, b = _folders(tmp_path)
    real = fuse.fuse_files

    def stopped(*args, **kw):
        signal.raise_signal(sig)
        return real(*args, **kw)

    monkeypatch.setattr(fuse, "fuse_files", stopped)
    out = tmp_path / "f.png"
    rc = main(["fuse", f"{a}/01.png", f"{b}/01.png", "-o", str(out), "--method", "average", "-q"])
    err = capsys.readouterr().err
    assert rc == status and err == "mutualfuse: interrupted\n", (rc, err)
    assert not out.exists()


def test_a_sigterm_then_a_ctrl_c_command_in_one_process_is_130(tmp_path, capsys, monkeypatch):
    """The status is the command's own signal's: an earlier command's SIGTERM is forgotten."""
    from mutualfuse.cli import fuse

    a, b = _folders(tmp_path)
    real = fuse.fuse_files
    sigs = [signal.SIGTERM, signal.SIGINT]

    def stopped(*args, **kw):
        signal.raise_signal(sigs.pop(0))
        return real(*args, **kw)

    monkeypatch.setattr(fuse, "fuse_files", stopped)
    argv = ["fuse", f"{a}/01.png", f"{b}/01.png", "-o", str(tmp_path / "f.png"), "--method", "average", "-q"]
    assert main(argv) == 143
    assert main(argv) == 130
    capsys.readouterr()
