"""``fuse-video --max-pixels N``: the decompression-bomb guard every reader takes was accepted
and did nothing (frames of any size were decoded and fused, exit 0); frames of more than N
pixels are now refused in one line naming the file, before any frame is fused, with no output."""
from __future__ import annotations

import pytest

iio = pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from mutualfuse.cli import main  # noqa: E402
from video_files import lossless_video  # noqa: E402


def test_frames_over_max_pixels_are_refused(tmp_path, capsys):
    a, b = lossless_video(tmp_path / "ir.mp4", 0), lossless_video(tmp_path / "vis.mp4", 1)
    out = tmp_path / "f.mp4"
    rc = main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "--max-pixels", "500"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert "ir.mp4: frames are 32x24 = 768 pixels, more than the limit of 500" in err[0], err
    assert set(tmp_path.iterdir()) == {a, b}  # no output, no temporary file
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "--max-pixels", "768",
                 "-q"]) == 0
    assert out.exists()
