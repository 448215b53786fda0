"""s30 reproduction audit: a sources figure whose pair lost its partner image.

A data root where ``medical/ct-mr/a/c02.png`` has no ``b/c02.png`` leaves pair c02 out of the set (a
problem line); the sources figure (Fig. 9, which names c02) still took c02 for a panel and failed
with ``figure fig9: KeyError: 'c02'`` (an internal error's words, and no figure). Now the figure
shows the pairs the set has."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
from PIL import Image


def test_a_sources_figure_leaves_out_a_pair_without_its_partner(tmp_path):
    rng = np.random.default_rng(30)
    for n in ("c01", "c02"):
        for sub in ("a", "b"):
            if (n, sub) == ("c02", "b"):
                continue
            d = tmp_path / "data" / "medical" / "ct-mr" / sub
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (48, 52)).astype(np.uint8)).save(d / f"{n}.png")
    (tmp_path / "fig.yaml").write_text("figures:\n  - id: figs\n    kind: sources\n    title: sources\n"
                                       "    set: medical/ct-mr\n    pairs: [c01, c02]\n")
    env = dict(os.environ, OMP_NUM_THREADS="1", XDG_CACHE_HOME=str(tmp_path / "xdg"))
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "benchmark", "-q", "--data-root", str(tmp_path / "data"),
                        "--out", str(tmp_path / "out"), "--cache", str(tmp_path / "cache"), "--tables", "3",
                        "--weights", "none", "--methods", "average", "--fast-metrics",
                        "--figures", str(tmp_path / "fig.yaml")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stderr  # the partner-less image is a problem of the set
    assert "without a partner (c02)" in p.stderr
    assert "KeyError" not in p.stderr and "figure figs" not in p.stderr, p.stderr
    assert (tmp_path / "out" / "figures" / "figs.png").is_file()
