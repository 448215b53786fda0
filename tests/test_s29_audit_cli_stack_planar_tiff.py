"""``tifffile.imwrite("zstack.tif", stack)`` of a 3- or 4-plane stack stores one planar RGB(A) page;
``tifffile.imread`` gives the stack back (``Fuser.fuse_stack`` fuses its planes) while the file says
it is one colour image, so ``fuse-stack zstack.tif`` refuses it. The refusal says so and how to
write the stack (``photometric='minisblack'``) instead of the bare 'a stack needs at least 2
images (or ... one multi-page TIFF)' of a file the user made as a stack (until 2026-12-07); so
written, the command fuses it as the API does."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.cli import main

tifffile = pytest.importorskip("tifffile")


@pytest.mark.parametrize("planes", [3, 4])
def test_a_planar_rgb_tiff_of_tifffile_is_refused_saying_how_to_write_the_stack(tmp_path, capsys, planes):
    stack = np.random.default_rng(planes).integers(1000, 5000, (planes, 24, 32)).astype(np.uint16)
    # tifffile's default layout of such an array (2026.3: a DeprecationWarning says a later version
    # will store separate pages instead), written explicitly so that the test holds either way
    tifffile.imwrite(tmp_path / "z.tif", stack, photometric="rgb", planarconfig="separate")
    assert tifffile.imread(tmp_path / "z.tif").shape == (planes, 24, 32)
    rc = main(["fuse-stack", str(tmp_path / "z.tif"), "-o", str(tmp_path / "edf.png"), "--method", "average"])
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), cap.err
    assert "one image, not a stack" in lines[0] and "photometric='minisblack'" in lines[0]
    assert f"({planes}, H, W)" in lines[0]
    assert not (tmp_path / "edf.png").exists()
    tifffile.imwrite(tmp_path / "zm.tif", stack, photometric="minisblack")  # the advice works
    assert main(["fuse-stack", str(tmp_path / "zm.tif"), "-o", str(tmp_path / "edf.png"), "--method", "average",
                 "-q"]) == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "edf.png")), Fuser("average").fuse_stack(stack))
