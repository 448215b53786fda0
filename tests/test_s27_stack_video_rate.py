"""fuse-video and NTSC-style frame rates (session 27).

ffmpeg prints 24000/1001 as "23.98 fps" and 30000/1001 as "29.97 fps"; the rate the frames were
read at was taken from that printed line, so two 23.976 fps videos were fused into one written at
23.98 fps (1199/50: 0.6 s an hour shorter than its sources and their sound), two 29.97 fps ones at
2997/100, and the summary said "23.98 fps". The exact rate is now read (ffmpeg's showinfo filter)
and written. The 30 against 29.97 refusal stood on float rounding (|30 - 29.97| against 1e-3 x 30)
and its hint made 2997/100 (fps=29.97); it is now refused by exact rates, and the hint gives the
exact one."""
from __future__ import annotations

import re
import subprocess

import pytest

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from one_line_error import assert_one_line_error  # noqa: E402
from test_s24_video_helpers import ffmpeg, video8  # noqa: E402

from mutualfuse.cli import main  # noqa: E402


def _exact_rate(path) -> str:
    """The rate of a video's frames as ffmpeg's showinfo filter gives it ("24000/1001")."""
    err = subprocess.run([ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path), "-frames:v", "1", "-vf", "showinfo",
                          "-f", "null", "-"], capture_output=True, text=True).stderr
    m = re.search(r"config in time_base: \S+, frame_rate: (\d+/\d+)", err)
    assert m, err
    return m.group(1)


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("s27stack_rate")
    return {"ir23976": video8(d / "ir23976.mp4", 6, 48, 64, "24000/1001", False, seed=1),
            "vis23976": video8(d / "vis23976.mp4", 6, 48, 64, "24000/1001", True, seed=2),
            "ir2997": video8(d / "ir2997.mp4", 6, 48, 64, "30000/1001", False, seed=1),
            "vis30": video8(d / "vis30.mp4", 6, 48, 64, 30, True, seed=2)}


def test_a_23_976_fps_pair_is_written_at_its_exact_rate(clips, tmp_path, capsys):
    assert _exact_rate(clips["ir23976"]) == "24000/1001"  # the case
    out = tmp_path / "f.mp4"
    rc = main(["fuse-video", str(clips["ir23976"]), str(clips["vis23976"]), "-o", str(out), "--method", "average"])
    o, e = capsys.readouterr()
    assert rc == 0, e
    assert _exact_rate(out) == "24000/1001"  # was 1199/50 (23.98)
    assert "6 frames at 23.976 (24000/1001) fps" in o, o  # was "at 23.98 fps"


def test_a_25_3_fps_video_is_written_at_25_3(tmp_path, capsys):
    """docs/inputs.md said it: "25/3 fps is written as 8.33 fps" (833/100)."""
    v = video8(tmp_path / "v.mkv", 4, 48, 64, "25/3", True, seed=3)
    out = tmp_path / "f.mkv"
    rc = main(["fuse-video", str(v), str(v), "-o", str(out), "--method", "average"])
    o, e = capsys.readouterr()
    assert rc == 0, e
    assert _exact_rate(out) == "25/3"
    assert "4 frames at 8.33333 (25/3) fps" in o, o


@pytest.mark.parametrize("order", ["30 first", "29.97 first"])
def test_30_against_29_97_fps_is_refused_with_a_hint_at_the_exact_rate(clips, tmp_path, capsys, order):
    a, b = (clips["vis30"], clips["ir2997"]) if order == "30 first" else (clips["ir2997"], clips["vis30"])
    out = tmp_path / "o" / "f.mp4"
    out.parent.mkdir()
    err = assert_one_line_error(capsys, ["fuse-video", str(a), str(b), "-o", str(out), "--method", "average"],
                                "frame rate mismatch", "has 30 fps", "29.97 (30000/1001) fps",
                                f"ffmpeg -i {clips['vis30']} -vf fps=30000/1001 ")
    assert list(out.parent.iterdir()) == [], err


def test_the_hinted_command_pairs_at_the_exact_rate(clips, tmp_path, capsys):
    slow = tmp_path / "vis30_29.97fps.mkv"
    subprocess.run([ffmpeg(), "-v", "error", "-i", str(clips["vis30"]), "-vf", "fps=30000/1001", "-c:v", "ffv1",
                    str(slow)], check=True)
    out = tmp_path / "f.mp4"
    rc = main(["fuse-video", str(clips["ir2997"]), str(slow), "-o", str(out), "--method", "average"])
    o, e = capsys.readouterr()
    assert rc == 0, e
    assert _exact_rate(out) == "30000/1001", e  # was 2997/100
    assert "note:" not in e, e  # equal rates: nothing to say


def test_rates_that_pair_but_differ_are_said(clips, tmp_path, capsys):
    """2997/100 (what `-vf fps=29.97` makes) beside 30000/1001: 4 ms an hour apart, fused frame by
    frame as before, now with a note naming both rates and the one written."""
    near = tmp_path / "vis30_2997.mkv"
    subprocess.run([ffmpeg(), "-v", "error", "-i", str(clips["vis30"]), "-vf", "fps=29.97", "-c:v", "ffv1",
                    str(near)], check=True)
    assert _exact_rate(near) == "2997/100"
    out = tmp_path / "f.mp4"
    rc = main(["fuse-video", str(clips["ir2997"]), str(near), "-o", str(out), "--method", "average"])
    o, e = capsys.readouterr()
    assert rc == 0, e
    assert (f"note: {clips['ir2997'].name} has 29.97 (30000/1001) fps, {near.name} 29.97 fps: fused frame by frame, "
            f"written at {clips['ir2997'].name}'s rate") in e, e
    assert _exact_rate(out) == "30000/1001"
