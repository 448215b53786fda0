"""Reading and writing DICOM asks the network nothing (s19, the dependency floors run).

At the dicom extra's old floor, pydicom 3.0.0, ``import pydicom`` imported ``pydicom.examples``,
which fetched its example files from github.com wherever ``requests`` is installed (tensorboard
brings it): ``mutualfuse fuse a.dcm b.dcm`` looked github.com up 5 times (measured in the floors
venv, docs/dependency-floors.md), a UserWarning each where the lookup failed. pyproject.toml now
asks for pydicom>=3.0.1, which ships those files. This test runs the write and the fuse in a child
process whose name lookups and connections are recorded and refused. Where ``requests`` is not
installed, pydicom 3.0.0 would pass it too: the floor itself is checked by
``tests/test_packaging_dependency_bounds_s17.py``.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pydicom")

CHILD = r"""
import socket, sys, warnings
asked = []
def _refuse(*args, **kwargs):
    asked.append(repr(args[:2]))
    raise OSError("network refused by the test")
socket.getaddrinfo = _refuse
socket.create_connection = _refuse
socket.socket.connect = lambda self, *a: _refuse(*a)
warnings.simplefilter("always")
with warnings.catch_warnings(record=True) as seen:
    import numpy as np
    from mutualfuse.dicom import write_dicom
    rng = np.random.default_rng(0)
    write_dicom("a.dcm", (rng.random((64, 64)) * 255).astype(np.uint8), 8)
    write_dicom("b.dcm", (rng.random((64, 64)) * 255).astype(np.uint8), 8)
    from mutualfuse.cli import console_main
    sys.argv = ["mutualfuse", "fuse", "a.dcm", "b.dcm", "-o", "f.png", "--method", "average", "-q"]
    try:
        console_main()
    except SystemExit as e:
        if e.code not in (0, None):
            raise
print("ASKED", asked)
print("WARNED", [str(w.message) for w in seen if "download" in str(w.message).lower()])
"""


def test_dicom_write_and_fuse_make_no_network_lookup(tmp_path):
    r = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "f.png").is_file()
    assert "ASKED []" in r.stdout, r.stdout  # pydicom 3.0.0: 5 lookups of github.com
    assert "WARNED []" in r.stdout, r.stdout
