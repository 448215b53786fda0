"""evaluate's note on narrow 16-bit sources told the user that `mutualfuse fuse` stretches such
images by percentiles and that --normalize auto scores the sources as fuse read them: since
session 23, weights trained with another data.normalize (e.g. full) are fused with that policy, so
the advice must name the exception and where to find the policy (the weights' card)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse.cli import main


def test_narrow_sources_note_names_the_weights_policy(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
        x = rng.integers(7000, 7600, (24, 32)).astype(np.uint16)
        Image.fromarray(x if d != "f" else (x // 256).astype(np.uint8)).save(tmp_path / d / "p.png")
    rc = main(["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused", str(tmp_path / "f"),
               "--metrics", "EN@vifb"])
    err = " ".join(capsys.readouterr().err.split())
    assert rc == 0, err
    assert "span less than a quarter of their range" in err, err
    assert "trained with another data.normalize" in err and "--normalize full" in err, err
