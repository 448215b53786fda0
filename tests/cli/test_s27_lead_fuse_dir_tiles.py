"""``fuse-dir --tile`` at a terminal (s27): each pair's tiles get a ``tiles`` bar under the pairs'
bar, as ``fuse --tile`` does; a slow method's pair otherwise left the pairs' bar at one count for
minutes. Not at a terminal: no bar. The outputs are those of a run without a bar."""
from __future__ import annotations

import sys

import numpy as np
from PIL import Image

from mutualfuse.cli import main


def _folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    rng = np.random.default_rng(27)
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (96, 128), dtype=np.uint8)).save(a / f"{i:02d}.png")
        Image.fromarray(rng.integers(0, 256, (96, 128), dtype=np.uint8)).save(b / f"{i:02d}.png")
    return a, b


def test_fuse_dir_shows_tiles_at_a_terminal_and_not_in_a_log(tmp_path, capsys, monkeypatch):
    a, b = _folders(tmp_path)
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "log"), "--method", "average", "--tile", "32"])
    err = capsys.readouterr().err
    assert rc == 0 and "tiles:" not in err, err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "tty"), "--method", "average", "--tile", "32"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "tiles:" in err and "tile/s" in err, repr(err)
    for i in range(2):
        name = f"{i:02d}.png"
        assert (tmp_path / "tty" / name).read_bytes() == (tmp_path / "log" / name).read_bytes()
