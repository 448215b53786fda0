"""s20: writing the benchmark's figures leaves the caller's matplotlib backend alone (render_grid
called matplotlib.use("Agg", force=True): a notebook calling run_benchmark lost its inline
backend) and writes the same PDF twice (no creation date)."""
from __future__ import annotations

import subprocess
import sys
import textwrap


def test_render_grid_keeps_the_backend_and_writes_reproducible_files(tmp_path):
    code = textwrap.dedent(f"""
        import matplotlib
        matplotlib.use("svg")
        import numpy as np
        from pathlib import Path
        from mutualfuse.benchmark.figures import render_grid
        rng = np.random.default_rng(0)
        panels = [("a", rng.integers(0, 256, (30, 40)).astype(np.uint8)),
                  ("b", rng.integers(0, 256, (30, 40, 3)).astype(np.uint8))]
        one = render_grid(panels, "t", Path({str(tmp_path)!r}) / "one" / "fig")
        two = render_grid(panels, "t", Path({str(tmp_path)!r}) / "two" / "fig")
        assert matplotlib.get_backend() == "svg", matplotlib.get_backend()
        for p, q in zip(one, two):
            assert p.read_bytes() == q.read_bytes(), p
        assert [p.suffix for p in one] == [".png", ".pdf"]
        assert one[0].read_bytes()[:8] == b"\\x89PNG\\r\\n\\x1a\\n" and one[1].read_bytes()[:5] == b"%PDF-"
        """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
