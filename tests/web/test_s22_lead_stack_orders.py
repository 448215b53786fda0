"""s22: the page's stack section offers every order fuse-stack has (``--order spread`` was added
to the command line this session and the page offered only tree and sequential), and a spread
stack from the page equals the command line's."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def test_the_page_offers_every_order_and_spread_equals_the_cli(tmp_path):
    pytest.importorskip("gradio")
    from mutualfuse.api import STACK_ORDERS
    from mutualfuse.cli import main
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path / "work", device="cpu")
    radio = next(b for b in app.blocks.values() if getattr(b, "elem_id", None) == "stack-order")
    assert [c[0] if isinstance(c, (tuple, list)) else c for c in radio.choices] == list(STACK_ORDERS)
    assert "spread" in STACK_ORDERS
    fn = {f.name: f.fn for f in app.fns.values()}["run_stack"]
    rng = np.random.default_rng(0)
    files = []
    for i in range(5):
        f = tmp_path / "up" / f"z{i}.png"
        f.parent.mkdir(exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (24, 32)).astype(np.uint8)).save(f)
        files.append(str(f))
    opts = ["msvd", "default", "", "saturation", "auto", None, None, None, False, "auto"]
    status, shown, download, *_ = fn(files, *opts, "spread", "png")
    assert status.startswith("done:"), status
    cli = tmp_path / "cli.png"
    assert main(["fuse-stack", *files, "-o", str(cli), "--order", "spread", "--method", "msvd", "-q"]) == 0
    assert Path(download).read_bytes() == cli.read_bytes()
    tree = tmp_path / "tree.png"
    assert main(["fuse-stack", *files, "-o", str(tree), "--order", "tree", "--method", "msvd", "-q"]) == 0
    # the order reached the fusion (msvd: since s24 average is the mean in any order)
    assert tree.read_bytes() != cli.read_bytes()
