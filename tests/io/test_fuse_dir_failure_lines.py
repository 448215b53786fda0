"""fuse-dir's failure list names each failed pair once: a reader's error that starts with the A
path is not prefixed with it again ("a/y.png: a/y.png: not a readable image"); an error naming
the other file keeps the pair's A path in front."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse.cli import main


def test_failed_pairs_are_named_once(tmp_path, capsys):
    for d in ("a", "b", "o"):
        (tmp_path / d).mkdir()
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "a" / "x.png")
    Image.fromarray(np.zeros((21, 30), np.uint8)).save(tmp_path / "b" / "x.png")
    (tmp_path / "a" / "y.png").write_bytes(b"junk")
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(tmp_path / "b" / "y.png")
    a, b = tmp_path / "a", tmp_path / "b"
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "o"), "--method", "average", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "2 pair(s) failed" in err
    lines = [ln.strip() for ln in err.splitlines() if ln.startswith("  ")]
    assert f"{a / 'y.png'}: not a readable image" in err
    assert not any(ln.startswith(f"{a / 'y.png'}: {a / 'y.png'}:") for ln in lines), lines
    assert any(ln.startswith(f"{a / 'x.png'}: {b / 'x.png'}: size mismatch") for ln in lines), lines
    assert len(lines) == 2
