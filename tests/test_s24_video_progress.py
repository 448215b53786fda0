"""fuse-video's progress where stderr is not a terminal (session 24): ``fuse-video ... 2>log``
(nohup, a batch job) got the tqdm bar redrawn after every batch, a carriage-return frame each
(an hour of 30 fps video at --batch 8: 13500 of them), where fuse, fuse-stack and fuse-volume
draw their bars at a terminal only. Not at a terminal it now writes plain lines: one after the
first batch, then one at most every ``LOG_EVERY_S`` seconds. At a terminal the bar is kept."""
from __future__ import annotations

import re

import pytest

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from test_s24_video_helpers import video8  # noqa: E402

from mutualfuse.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("s24progress")
    return video8(d / "ir.mp4", 6, 32, 48, 10, False, seed=0), video8(d / "vis.mp4", 6, 32, 48, 10, True, seed=1)


def _run(capsys, clips, out, *extra):
    rc = main(["fuse-video", str(clips[0]), str(clips[1]), "-o", str(out), "--method", "average", *extra])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return captured.err


def test_no_bar_frames_in_a_log(clips, tmp_path, capsys):
    err = _run(capsys, clips, tmp_path / "f.mp4", "--batch", "1")
    assert "\r" not in err and "frame/s" not in err, repr(err)
    lines = [ln for ln in err.splitlines() if ln.startswith("fuse-video: ")]
    assert lines and re.fullmatch(r"fuse-video: 1/6 frames fused \(\d+ s\)", lines[0]), err
    assert len(lines) == 1, err  # six batches within seconds: one line, not six


def test_lines_every_interval(clips, tmp_path, capsys, monkeypatch):
    from mutualfuse.cli import fuse_video

    monkeypatch.setattr(fuse_video, "LOG_EVERY_S", 0.0)
    err = _run(capsys, clips, tmp_path / "f.mp4", "--batch", "2")
    lines = [ln for ln in err.splitlines() if ln.startswith("fuse-video: ")]
    assert [ln.split(" frames")[0] for ln in lines] == ["fuse-video: 2/6", "fuse-video: 4/6", "fuse-video: 6/6"], err


def test_the_bar_at_a_terminal(clips, tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    err = _run(capsys, clips, tmp_path / "f.mp4")
    assert "frames:" in err and "fuse-video: " not in err, repr(err)


def test_quiet_writes_no_progress(clips, tmp_path, capsys):
    err = _run(capsys, clips, tmp_path / "f.mp4", "-q")
    assert err == "", repr(err)
