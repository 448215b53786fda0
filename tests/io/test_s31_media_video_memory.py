"""fuse-video checks the memory one batch of frames needs before any decoding pass, as stills,
stacks and volumes are checked (``--batch`` frame pairs as float images through the fuser): a
batch that does not fit is refused in one line naming the video and the ``--batch`` that fits,
with no output. Only the network's part was checked, at the first batch; a classical method's
batch not at all."""
from __future__ import annotations

import pytest

iio = pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from mutualfuse import Fuser, runner  # noqa: E402
from mutualfuse.cli import main  # noqa: E402
from video_files import lossless_video  # noqa: E402


def test_a_batch_that_does_not_fit_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    from mutualfuse.video import video_min_memory

    a, b = lossless_video(tmp_path / "ir.mp4", 0), lossless_video(tmp_path / "vis.mp4", 1)
    f = Fuser("average")
    need8, need2 = video_min_memory(f, 24, 32, 8), video_min_memory(f, 24, 32, 2)
    assert need2 < need8
    monkeypatch.setattr(runner, "available_memory", lambda: need8 - 1)
    out = tmp_path / "f.mp4"
    rc = main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert "ir.mp4: fusing 32x24 frames, 8 at once, needs at least" in err[0] and "--batch 4" in err[0], err
    assert set(tmp_path.iterdir()) == {a, b}
    assert main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "--batch", "4", "-q"]) == 0
    assert out.exists()
