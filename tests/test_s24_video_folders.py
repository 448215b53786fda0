"""fuse-video given two folders of frames (session 24): a thermal camera's export is often a folder
of 16-bit TIFF frames. The refusal said only "is a directory, expected a video file"; where the
folder holds image files it now says how to fuse them: the ffmpeg command that makes a lossless
FFV1 video of each (16-bit kept), or fuse-dir frame by frame. The command given is run here and
its videos fuse at 16 bits."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from one_line_error import assert_one_line_error  # noqa: E402
from test_s24_video_helpers import ffmpeg  # noqa: E402

from mutualfuse.cli import main  # noqa: E402


def _folder(path, seed, deep):
    path.mkdir()
    rng = np.random.default_rng(seed)
    for i in range(3):
        x = (rng.integers(20000, 24000, (32, 48)).astype(np.uint16) if deep
             else rng.integers(0, 256, (32, 48)).astype(np.uint8))
        Image.fromarray(x).save(path / (f"{i:04d}.tif" if deep else f"{i:04d}.png"))
    return path


def test_a_folder_of_frames_is_told_how_to_fuse(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ir, vis = _folder(tmp_path / "ir", 0, True), _folder(tmp_path / "vis", 1, False)
    (tmp_path / "out").mkdir()
    err = assert_one_line_error(capsys, ["fuse-video", "ir", "vis", "-o", "out/f.mkv", "--method", "average"],
                                "ir: is a directory, expected a video file (it holds image files, e.g. 0000.tif",
                                "ffmpeg -framerate FPS -pattern_type glob -i 'ir/*.tif' -c:v ffv1 ir.mkv",
                                "mutualfuse fuse-dir")
    assert list((tmp_path / "out").iterdir()) == [], err
    for d, suffix in ((ir, ".tif"), (vis, ".png")):  # the command given, at 9 fps
        subprocess.run([ffmpeg(), "-v", "error", "-framerate", "9", "-pattern_type", "glob", "-i",
                        f"{d.name}/*{suffix}", "-c:v", "ffv1", f"{d.name}.mkv"], check=True)
    rc = main(["fuse-video", "ir.mkv", "vis.mkv", "-o", "out/f.mkv", "--method", "average"])
    out, err = capsys.readouterr()
    assert rc == 0 and "3 frames at 9 fps" in out and "16-bit FFV1" in out, (out, err)


def test_a_folder_of_no_images_gets_the_plain_refusal(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("x")
    err = assert_one_line_error(capsys, ["fuse-video", str(tmp_path / "d"), str(tmp_path / "d"), "-o",
                                         str(tmp_path / "f.mp4"), "--method", "average"],
                                "is a directory, expected a video file")
    assert "ffmpeg" not in err, err
