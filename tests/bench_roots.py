"""Tiny data roots for `mutualfuse benchmark` tests (importable bare: tests/ is on sys.path)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

#: two pairs of different sizes (the benchmark's tests' usual root)
TWO = {"01": (64, 72), "02": (56, 60)}


def tno_pairs(tmp_path: Path, seed: int, sizes: dict[str, tuple[int, int]] = TWO) -> Path:
    """``tmp_path/data/ir-vis/tno/{ir,vis}/<name>.png`` for each name → (height, width) of
    ``sizes`` (random 8-bit, drawn in that order, ir before vis) and ``tmp_path/nofig.yaml`` (a
    figures config with no figure); returns ``tmp_path``."""
    rng = np.random.default_rng(seed)
    for n, (h, w) in sizes.items():
        for role in ("ir", "vis"):
            d = tmp_path / "data" / "ir-vis" / "tno" / role
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (h, w)).astype(np.uint8)).save(d / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    return tmp_path
