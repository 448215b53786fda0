"""Session 21 (lead, from the large-image audit): --tile-overlap without --tile is refused (it did
nothing); the windows' progress bar is not written into a redirected stderr; the memory
refusal's --tile advice is a size fitted to the image (tiling.fitted_tile), not a bare 4096."""
from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
from PIL import Image

from mutualfuse.tiling import fitted_tile

from tests.one_line_error import assert_one_line_error


def _pair(tmp_path, h=40, w=48):
    rng = np.random.default_rng(0)
    out = []
    for n in "ab":
        p = tmp_path / f"{n}.png"
        Image.fromarray(rng.integers(0, 256, (h, w), dtype=np.uint8)).save(p)
        out.append(str(p))
    return out


def test_tile_overlap_without_tile_is_refused(tmp_path, capsys):
    a, b = _pair(tmp_path)
    out = tmp_path / "f.png"
    assert_one_line_error(capsys, ["fuse", a, b, "-o", str(out), "--method", "average", "--tile-overlap", "32"],
                          "--tile-overlap 32", "--tile")
    assert not out.exists()
    # with --tile it is taken, and the default without --tile passes
    from mutualfuse.cli import main

    assert main(["fuse", a, b, "-o", str(out), "--method", "average", "--tile", "32", "--tile-overlap", "8", "-q"]) == 0
    assert main(["fuse", a, b, "-o", str(out), "--method", "average", "--tile-overlap", "64", "-q"]) == 0


def test_no_progress_frames_in_a_redirected_stderr(tmp_path):
    a, b = _pair(tmp_path, 256, 256)
    out = tmp_path / "f.png"
    # windows of 4096 px: a 256x256 network fuse streams through several, with a bar at a terminal
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "fuse", a, b, "-o", str(out), "--window-pixels", "4096"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr and "%|" not in r.stderr, r.stderr[-500:]


def test_memory_refusal_advises_a_fitted_tile(tmp_path, capsys, monkeypatch):
    import mutualfuse.runner as R

    h, w = 13400, 13500
    for n in "ab":  # a header of that size, and next to no pixels to write (a flat image compresses)
        Image.new("L", (w, h)).save(tmp_path / f"{n}.png")
    need_4096 = None
    from mutualfuse.api import Fuser

    f = Fuser("default", device="cpu")
    need_full = f.min_memory(h, w, 2)
    need_4096 = f.min_memory(h, w, 2, tile=fitted_tile(h, w, 4096, 64))
    assert need_4096 < need_full
    monkeypatch.setattr(R, "available_memory", lambda: (need_4096 + need_full) // 2)
    err = assert_one_line_error(capsys, ["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o",
                                         str(tmp_path / "f.png")], "--tile")
    t = int(re.search(r"--tile (\d+)", err).group(1))
    assert t == fitted_tile(h, w, 4096, 64) and t < 4096, err  # 3423 for this size: 4x4 tiles overlapping by 64
