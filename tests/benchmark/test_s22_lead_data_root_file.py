"""s22: ``benchmark --data-root FILE`` said "data root not found" of a file that is there; it
now says the path is not a folder (one line, exit 2, nothing written)."""
from __future__ import annotations

import os
import subprocess
import sys


def test_a_data_root_that_is_a_file(tmp_path):
    f = tmp_path / "data.zip"
    f.write_bytes(b"PK\x03\x04")
    env = dict(os.environ)
    env.pop("MUTUALFUSE_DATA", None)
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "benchmark", "--data-root", str(f),
                        "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 2, p.stderr
    assert p.stderr.strip() == (f"mutualfuse: error: {f}: is not a folder (give --data-root or set "
                                "MUTUALFUSE_DATA)"), p.stderr
    assert not (tmp_path / "out").exists()
