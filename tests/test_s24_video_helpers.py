"""Small videos for the session-24 fuse-video tests (no test here): 8-bit H.264 (lossless,
4:4:4) and 16-bit gray FFV1, written by imageio-ffmpeg's own ffmpeg."""
from __future__ import annotations

import subprocess

import numpy as np


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def video8(path, n: int, h: int, w: int, fps: float, colour: bool, seed: int = 0):
    """``n`` frames of random 8-bit content moving 2 pixels a frame; gray written as R = G = B."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w, 3) if colour else (h, w), dtype=np.uint8)
    frames = [np.roll(base, 2 * i, axis=1) for i in range(n)]
    data = b"".join((f if colour else np.repeat(f[..., None], 3, -1)).tobytes() for f in frames)
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
                    "-r", str(fps), "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv444p", "-crf", "0", str(path)],
                   input=data, check=True)
    return path


def video16(path, n: int, h: int, w: int, fps: float, seed: int = 0):
    """``n`` frames of 16-bit gray (FFV1 gray16le) in a thermal camera's narrow band, 20000-24000."""
    rng = np.random.default_rng(seed)
    base = (rng.integers(0, 4000, (h, w)) + 20000).astype("<u2")
    data = b"".join(np.roll(base, 2 * i, axis=1).tobytes() for i in range(n))
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "gray16le", "-s", f"{w}x{h}",
                    "-r", str(fps), "-i", "-", "-c:v", "ffv1", "-pix_fmt", "gray16le", str(path)],
                   input=data, check=True)
    return path
