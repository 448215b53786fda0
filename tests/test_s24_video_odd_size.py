"""fuse-video with frames of an odd side (session 24): H.264 4:2:0 needs even sides, so such an
8-bit output is written as 4:4:4 (High 4:4:4 profile), which many players do not play; the run
said nothing of it. A note now says so with the ffmpeg crop that gives even sides; even sides and
16-bit FFV1 outputs get no such note. A gray IR video beside a colour one stays colour, 4:4:4 or 4:2:0."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

iio = pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from test_s24_video_helpers import ffmpeg, video8, video16  # noqa: E402

from mutualfuse.cli import main  # noqa: E402


def _fuse(capsys, a, b, out, *extra):
    rc = main(["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", *extra])
    o, err = capsys.readouterr()
    assert rc == 0, err
    return [ln[6:] for ln in err.splitlines() if ln.startswith("note: ")]


def _stream(path) -> str:
    text = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    return next(ln for ln in text.splitlines() if "Video:" in ln)


def _colour(path) -> int:
    r = iio.get_reader(str(path), format="FFMPEG")
    try:
        f = np.asarray(r.get_data(2)).astype(int)
    finally:
        r.close()
    return int(np.abs(f[..., 0] - f[..., 1]).max())


def test_an_odd_side_is_said_and_the_crop_given_works(tmp_path, capsys):
    ir, vis = video8(tmp_path / "ir.mp4", 4, 33, 48, 10, False, 0), video8(tmp_path / "vis.mp4", 4, 33, 48, 10, True, 1)
    notes = _fuse(capsys, ir, vis, tmp_path / "f.mp4")
    said = [n for n in notes if "odd side" in n]
    assert len(said) == 1 and said[0].startswith("frames are 48x33, an odd side: written as H.264 4:4:4"), notes
    assert "yuv444p" in _stream(tmp_path / "f.mp4") and _colour(tmp_path / "f.mp4") > 10  # IR + colour: colour
    for src in (ir, vis):  # the crop the note gives, then no note and 4:2:0
        subprocess.run([ffmpeg(), "-v", "error", "-i", str(src), "-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2", "-c:v",
                        "libx264", "-crf", "0", "-pix_fmt", "yuv444p", str(tmp_path / f"even_{src.name}")], check=True)
    notes = _fuse(capsys, tmp_path / "even_ir.mp4", tmp_path / "even_vis.mp4", tmp_path / "g.mp4")
    assert not any("odd side" in n for n in notes), notes
    assert "yuv420p" in _stream(tmp_path / "g.mp4") and "48x32" in _stream(tmp_path / "g.mp4")
    assert _colour(tmp_path / "g.mp4") > 10


def test_no_note_for_a_16_bit_output(tmp_path, capsys):
    ir, vis = video16(tmp_path / "ir.mkv", 3, 33, 47, 10, 0), video8(tmp_path / "vis.mp4", 3, 33, 47, 10, True, 1)
    notes = _fuse(capsys, ir, vis, tmp_path / "f.mkv")
    assert not any("odd side" in n for n in notes) and any("16-bit lossless FFV1" in n for n in notes), notes
    notes = _fuse(capsys, ir, vis, tmp_path / "f.mp4")  # .mp4: 8 bits, so the odd side is said
    assert any(n.startswith("frames are 47x33, an odd side") for n in notes), notes
