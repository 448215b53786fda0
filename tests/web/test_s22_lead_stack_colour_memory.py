"""s22: the page's stack section checks memory as ``fuse-stack`` does, RGB images counted as RGB
(``fuse_stack.colour_held``): an RGB stack whose need the check now counts above the memory
available is refused by the page's own check, in the page's words (it was left to the command's
check, whose advice, "free memory", is not the page user's to follow); the gray stack of the
same size still fuses."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse import runner
from mutualfuse.errors import FuseError
from tests.test_s22_followups_stack_memory import COUNT, N, _png


def test_an_rgb_stack_the_page_cannot_hold_is_refused(tmp_path, monkeypatch):
    from mutualfuse.web import core

    # 5 images held (the page keeps every plane for its slider): 40 bytes a pixel counted gray for
    # `lp`, more for RGB ones; 60 a pixel available
    monkeypatch.setattr(runner, "available_memory", lambda: 60 * N * N)
    s = core.Settings(method="lp", device="cpu")
    rgb = [_png(tmp_path / f"c{i}.png", True, i) for i in range(COUNT)]
    with pytest.raises(FuseError, match=r"c0\.png: fusing this 128x128 stack with method lp needs at least") as e:
        core.fuse_stack_request(rgb, s, tmp_path / "work", core.FuserCache())
    assert "too large for this server" in str(e.value)  # the page's own check, in its words (not the CLI's)
    gray = [_png(tmp_path / f"g{i}.png", False, i) for i in range(COUNT)]
    r = core.fuse_stack_request(gray, s, tmp_path / "work", core.FuserCache())
    assert np.asarray(Image.open(r.out)).shape == (N, N)
