"""fuse-video's 8-bit H.264 output: ffmpeg makes the fused RGB frames YUV by its default matrix
(BT.601, limited range) and said nothing of it in the stream. Players guess BT.709 for an
untagged HD stream, and showed a fused 1280x720 test pattern 9.6 levels of 255 off on average
(54 at most). The stream now says BT.601 (smpte170m) and limited (tv) range."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

iio = pytest.importorskip("imageio.v2")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402


def _video(path, seed):
    rng = np.random.default_rng(seed)
    w = iio.get_writer(str(path), format="FFMPEG", fps=10, codec="libx264", macro_block_size=1,
                       pixelformat="yuv420p", ffmpeg_log_level="error")
    for _ in range(3):
        w.append_data(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    w.close()


def _stream_line(path) -> str:
    err = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                         text=True).stderr
    return next(line for line in err.splitlines() if "Video:" in line)


def test_the_8bit_output_says_its_colour_matrix_and_range(tmp_path, capsys):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    _video(a, 0)
    _video(b, 1)
    out = tmp_path / "f.mp4"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "-q"]) == 0
    line = _stream_line(out)
    assert "yuv420p(tv, smpte170m" in line, line
