"""Small lossless test videos (imported by name from test files: ``from video_files import
lossless_video``; tests/conftest.py puts tests/ on the path)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def lossless_video(path: Path, seed: int, frames: int = 3, size: tuple[int, int] = (24, 32)) -> Path:
    """``frames`` random 8-bit colour frames of ``size`` (H, W), H.264 at CRF 0 in 4:4:4 at 10 fps
    (ffmpeg through imageio): the frames decode as written. Returns ``path``."""
    import imageio.v2 as iio

    rng = np.random.default_rng(seed)
    w = iio.get_writer(str(path), format="FFMPEG", fps=10, codec="libx264", macro_block_size=1,
                       pixelformat="yuv444p", ffmpeg_log_level="error", output_params=["-crf", "0"])
    for _ in range(frames):
        w.append_data(rng.integers(0, 256, (*size, 3), dtype=np.uint8))
    w.close()
    return path
