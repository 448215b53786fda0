"""Session 26 audit: the name a user's download gets. A stack fused to a TIFF is shown on the page as
an 8-bit PNG of it (a browser shows no TIFF); that image's own download button saved it as
``preview.png`` for every stack. It is now named after the result (``z1-z3-lp-preview.png`` beside
the ``z1-z3-lp.tif`` download)."""
from __future__ import annotations

import numpy as np
from PIL import Image


def test_a_tiff_stacks_shown_image_is_named_after_the_result(tmp_path):
    from mutualfuse.web import core

    rng = np.random.default_rng(0)
    files = []
    for name in ("z3.png", "z1.png", "z2.png"):
        Image.fromarray(rng.integers(0, 65536, (64, 64)).astype(np.uint16)).save(tmp_path / name)
        files.append(str(tmp_path / name))
    r = core.fuse_stack_request(files, core.Settings(method="lp", device="cpu"), tmp_path / "work", core.FuserCache(),
                                fmt="tif")
    assert (r.out.name, r.preview.name) == ("z1-z3-lp.tif", "z1-z3-lp-preview.png")
    with Image.open(r.preview) as im:  # an 8-bit PNG of the result, as before
        assert (im.format, im.mode, im.size) == ("PNG", "L", (64, 64))
