"""fuse-stack checks the output format's size limit before fusing (as fuse and fuse-dir do): a
strip longer than JPEG's 65500 px is refused with one line, nothing fused, nothing written."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse.cli import main


def test_a_stack_too_long_for_jpeg_is_refused_before_fusing(tmp_path, capfd, monkeypatch):
    rng = np.random.default_rng(0)
    files = []
    for i in range(3):
        p = tmp_path / f"z{i}.png"
        Image.fromarray(rng.integers(0, 256, (8, 65544), dtype=np.uint8)).save(p)
        files.append(str(p))
    from mutualfuse.api import Fuser

    monkeypatch.setattr(Fuser, "fuse_stack", lambda *x, **k: (_ for _ in ()).throw(AssertionError("fused first")))
    out = tmp_path / "f.jpg"
    rc = main(["fuse-stack", *files, "-o", str(out), "--method", "average"])
    err = capfd.readouterr().err.strip().splitlines()
    assert rc == 2 and not out.exists()
    assert len(err) == 1 and err[0].startswith("mutualfuse: error: ") and str(out) in err[0], err
    assert "at most 65500 pixels a side" in err[0] and "65544x8" in err[0], err
