"""A success line naming a file whose name is not UTF-8 (`fuse a b -o $'x\xffy.png'` from a
Latin-1 shell) on a strict UTF-8 stdout (LANG=en_US.UTF-8) was "internal error:
UnicodeEncodeError", exit 1, after the file was written; the byte is now shown as \\xff."""
from __future__ import annotations

import os
import subprocess
import sys


def test_fuse_success_line_of_a_name_that_is_not_utf8(tmp_path, samples):
    out = os.fsdecode(os.fsencode(tmp_path) + b"/x\xffy.png")
    env = dict(os.environ, PYTHONIOENCODING="utf-8:strict", OMP_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "fuse", str(samples / "tno-01" / "a.png"),
                        str(samples / "tno-01" / "b.png"), "-o", out, "--method", "average"],
                       env=env, capture_output=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(os.fsencode(tmp_path) + b"/x\\xffy.png  (") and p.stdout.count(b"\n") == 1, p.stdout
