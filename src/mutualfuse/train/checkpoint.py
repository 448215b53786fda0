"""Atomic checkpoints (model + optimiser + RNG + step), loaded without unpickling code."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ..errors import WeightsError

LAST = "last.pt"


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` to a temp file in the same folder, fsync, then rename over ``path``."""
    from ..io.atomic import atomic_write, remove_stale_parts

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(p.parent, p.name)
    with atomic_write(p) as tmp:  # fsync + rename, permissions as open() gives (umask)
        with open(tmp, "wb") as fh:
            torch.save(state, fh)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True`` (tensors and plain containers only)."""
    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"{p}: checkpoint not found")
    try:
        return torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001
        raise WeightsError(f"{p}: corrupt or unsafe checkpoint ({str(e).splitlines()[0][:200]})") from None
