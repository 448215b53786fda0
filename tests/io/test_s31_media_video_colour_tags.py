"""fuse-video's 8-bit H.264 output: ffmpeg makes the fused RGB frames YUV by its default matrix
(BT.601, limited range) and said nothing of it in the stream. Players guess BT.709 for an
untagged HD stream, and showed a fused 1280x720 test pattern 9.6 levels of 255 off on average
(54 at most). An HD output now says BT.601 (smpte170m) and limited (tv) range; an SD one, which
players take as BT.601 untagged, is written as before (tests/io/test_s20_video_depth.py)."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

iio = pytest.importorskip("imageio.v2")
imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402


def _video(path, seed, h=24, w=32):
    rng = np.random.default_rng(seed)
    wr = iio.get_writer(str(path), format="FFMPEG", fps=10, codec="libx264", macro_block_size=1,
                        pixelformat="yuv420p", ffmpeg_log_level="error")
    for _ in range(2):
        wr.append_data(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    wr.close()


def _stream_line(path) -> str:
    err = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True,
                         text=True).stderr
    return next(line for line in err.splitlines() if "Video:" in line)


def test_an_hd_8bit_output_says_its_colour_matrix_and_range(tmp_path, capsys):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    _video(a, 0, 720, 1280)
    _video(b, 1, 720, 1280)
    out = tmp_path / "f.mp4"
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "-q"]) == 0
    line = _stream_line(out)
    assert "yuv420p(tv, smpte170m" in line, line
    sa, sb, small = tmp_path / "sa.mp4", tmp_path / "sb.mp4", tmp_path / "s.mp4"
    _video(sa, 0)
    _video(sb, 1)
    assert main(["fuse-video", str(sa), str(sb), "-o", str(small), "--method", "average", "-q"]) == 0
    assert "smpte170m" not in _stream_line(small)  # SD: BT.601 untagged, as players take it
