"""fuse-video's refusals of two videos that do not pair frame by frame (session 24).

* A video cut short (a recording stopped by a full card or a power loss, a copy broken off)
  decodes to fewer frames than its container declares; the refusal said only "it has 2 frames,
  b has 10", as of a video that is merely shorter. It now adds what the header declares and asks
  whether the file is truncated or damaged.
* Different lengths were refused with "cut the longer one" (or nothing); the refusal now gives
  the ffmpeg command that cuts the longer one to the shorter one's frame count.
* Different frame rates (a thermal core's 9 or 30 fps beside a visible camera's 25) were refused
  without saying how to pair them; the refusal now says frames are not resampled and gives the
  ffmpeg command that brings the faster one to the slower one's rate.
All stay one line, exit 2, with nothing left in the output folder."""
from __future__ import annotations

import pytest

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from one_line_error import assert_one_line_error  # noqa: E402
from test_s24_video_helpers import video8, video16  # noqa: E402

from mutualfuse.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("s24mismatch")
    ir = video16(d / "ir.mkv", 10, 32, 48, 10, seed=0)
    cut = d / "cut.mkv"
    cut.write_bytes(ir.read_bytes()[: ir.stat().st_size // 3])  # its header still says 1 s
    return {"ir": ir, "cut": cut, "vis": video8(d / "vis.mp4", 10, 32, 48, 10, True, seed=1),
            "vis12": video8(d / "vis12.mp4", 12, 32, 48, 10, True, seed=1),
            "vis25": video8(d / "vis25.mp4", 25, 32, 48, 25, True, seed=1)}


def _refused(capsys, tmp_path, a, b, *needles, alone=True):
    """The one-line refusal (``alone``: nothing before it; else after a progress line, where frames
    were fused before the lengths were known), exit 2, and an empty output folder."""
    out = tmp_path / "out" / "f.mp4"
    out.parent.mkdir(parents=True)
    argv = ["fuse-video", str(a), str(b), "-o", str(out), "--method", "average", "--batch", "2"]
    if alone:
        err = assert_one_line_error(capsys, argv, *needles)
    else:
        rc = main(argv)
        o, full = capsys.readouterr()
        assert rc == 2 and o == "", (rc, o, full)
        lines = full.splitlines()
        err = lines[-1]
        assert err.startswith("mutualfuse: error: ") and all(ln.startswith("fuse-video: ") for ln in lines[:-1]), full
        for n in needles:
            assert n in err, (n, err)
    assert list(out.parent.iterdir()) == [], err  # no output, no temporary
    return err


@pytest.mark.parametrize("order", ["cut first", "cut second"])
def test_a_truncated_video_is_called_so(clips, tmp_path, capsys, order):
    a, b = (clips["cut"], clips["vis"]) if order == "cut first" else (clips["vis"], clips["cut"])
    err = _refused(capsys, tmp_path, a, b, f"{clips['cut']}: frame count mismatch", alone=False)
    assert "its header declares 10 frames, 1 s at 10 fps: a truncated or damaged file?" in err, err


def test_a_shorter_whole_video_is_not_called_truncated(clips, tmp_path, capsys):
    err = _refused(capsys, tmp_path, clips["vis"], clips["vis12"], f"{clips['vis']}: frame count mismatch",
                   alone=False)
    assert "truncated" not in err and "header declares" not in err, err


def test_frame_rate_mismatch_says_how_to_pair_them(clips, tmp_path, capsys):
    vis25 = clips["vis25"]
    for a, b in ((clips["vis"], vis25), (vis25, clips["vis"])):
        _refused(capsys, tmp_path / a.stem, a, b, "frame rate mismatch", "has 10 fps", "has 25 fps",
                 "not resampled", f"ffmpeg -i {vis25} -vf fps=10 -c:v ffv1 {vis25.parent / 'vis25_10fps.mkv'}")


def test_the_suggested_command_gives_a_video_that_pairs(clips, tmp_path, capsys):
    """The command the refusal gives, run: its output fuses with the 10 fps video."""
    import subprocess

    from test_s24_video_helpers import ffmpeg

    slow = tmp_path / "vis25_10fps.mkv"
    subprocess.run([ffmpeg(), "-v", "error", "-i", str(clips["vis25"]), "-vf", "fps=10", "-c:v", "ffv1", str(slow)],
                   check=True)
    rc = main(["fuse-video", str(clips["vis"]), str(slow), "-o", str(tmp_path / "f.mp4"), "--method", "average"])
    assert rc == 0, capsys.readouterr().err


def test_different_lengths_say_how_to_cut_and_the_cut_fuses(clips, tmp_path, capsys):
    import subprocess

    from test_s24_video_helpers import ffmpeg

    vis12 = clips["vis12"]
    cut = vis12.parent / "vis12_10.mkv"
    for a, b in ((clips["vis"], vis12), (vis12, clips["vis"])):
        _refused(capsys, tmp_path / a.stem, a, b, "frame count mismatch",
                 f"cut the longer one where they match, e.g. to its first 10 frames: ffmpeg -i {vis12} -frames:v 10 "
                 f"-c:v ffv1 {cut})", alone=False)
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-i", str(vis12), "-frames:v", "10", "-c:v", "ffv1", str(cut)],
                   check=True)
    rc = main(["fuse-video", str(clips["vis"]), str(cut), "-o", str(tmp_path / "f.mp4"), "--method", "average"])
    out, err = capsys.readouterr()
    assert rc == 0 and "10 frames" in out, err
