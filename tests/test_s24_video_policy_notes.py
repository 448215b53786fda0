"""fuse-video says how it maps each video's intensities, as ``fuse`` says it of a still (session 24).

``fuse`` prints a note for every input it scales by percentile (``a.png: 16-bit input scaled by
percentile (... ) (--normalize full for the type's full range)``) and the policy its weights
record. fuse-video said nothing where each frame is scaled alone (``--frame-mapping frame``; any
stream under ``--normalize percentile``): a 16-bit thermal video stretched frame by frame (it may
flicker) gave no word of it. It now says it, with fuse's hint; the one-mapping note
(``--frame-mapping video``) names the percentile scaling and that hint too; 8-bit frames read as
``v/255`` get no note, as an 8-bit still gets none."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from test_s24_video_helpers import video8, video16  # noqa: E402

from mutualfuse.cli import main  # noqa: E402

HINT = "(--normalize full for the type's full range)"


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("s24policy")
    return (video16(d / "ir.mkv", 6, 32, 48, 10, seed=0), video8(d / "vis.mp4", 6, 32, 48, 10, True, seed=1),
            video8(d / "ir8.mp4", 6, 32, 48, 10, False, seed=2))


def _run(capsys, *argv, command="fuse-video"):
    rc = main([command, *map(str, argv), "--method", "average"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    return [ln[6:] for ln in err.splitlines() if ln.startswith("note: ")]


def test_frame_by_frame_percentiles_are_said(clips, tmp_path, capsys):
    ir, vis, _ = clips
    notes = _run(capsys, ir, vis, "-o", tmp_path / "f.mkv", "--frame-mapping", "frame")
    said = [n for n in notes if n.startswith("ir.mkv: ")]
    assert len(said) == 1, notes
    assert said[0].startswith("ir.mkv: 16-bit samples (gray16le) scaled by percentile frame by frame"), said
    assert "6 of 6 frames" in said[0] and "--frame-mapping video" in said[0] and said[0].endswith(HINT), said
    assert not any(n.startswith("vis.mp4") for n in notes), notes  # 8-bit under auto: v/255, nothing to say


def test_percentile_policy_on_8_bit_frames_is_said_for_both(clips, tmp_path, capsys):
    ir, vis, ir8 = clips
    notes = _run(capsys, ir8, vis, "-o", tmp_path / "f.mp4", "--frame-mapping", "frame", "--normalize", "percentile")
    for name in ("ir8.mp4", "vis.mp4"):
        said = [n for n in notes if n.startswith(f"{name}: 8-bit samples (")]
        assert len(said) == 1 and "scaled by percentile frame by frame" in said[0] and said[0].endswith(HINT), notes


def test_one_mapping_note_names_the_scaling_and_the_hint(clips, tmp_path, capsys):
    ir, vis, _ = clips
    notes = _run(capsys, ir, vis, "-o", tmp_path / "f.mkv")
    said = [n for n in notes if n.startswith("ir.mkv: ")]
    assert len(said) == 1 and said[0].startswith("ir.mkv: one intensity mapping for all frames"), notes
    assert "scaled by percentile" in said[0] and said[0].endswith(HINT), said
    assert "frame by frame" not in " ".join(notes), notes  # not said twice


def test_the_hint_is_the_one_fuse_gives_for_a_still(clips, tmp_path, capsys):
    """A frame of the 16-bit video as a PNG: fuse's note ends with the same hint."""
    import imageio.v2 as iio
    from PIL import Image

    ir, vis, _ = clips
    r = iio.get_reader(str(vis), format="FFMPEG")
    try:
        Image.fromarray(np.asarray(r.get_data(0))).save(tmp_path / "b.png")
    finally:
        r.close()
    x = (np.random.default_rng(0).integers(0, 4000, (32, 48)) + 20000).astype(np.uint16)
    Image.fromarray(x).save(tmp_path / "a.png")
    notes = _run(capsys, tmp_path / "a.png", tmp_path / "b.png", "-o", tmp_path / "f.png", command="fuse")
    assert any(n.startswith(f"{tmp_path / 'a.png'}: 16-bit input scaled by percentile") and n.endswith(HINT)
               for n in notes), notes
    video = _run(capsys, ir, vis, "-o", tmp_path / "f.mkv", "--frame-mapping", "frame")
    assert any(n.startswith("ir.mkv: 16-bit samples") and n.endswith(HINT) for n in video), video


def test_quiet_says_nothing(clips, tmp_path, capsys):
    ir, vis, _ = clips
    rc = main(["fuse-video", str(ir), str(vis), "-o", str(tmp_path / "f.mkv"), "--method", "average",
               "--frame-mapping", "frame", "-q"])
    out, err = capsys.readouterr()
    assert rc == 0 and out == "" and err == "", (out, err)


def test_api_returns_the_notes(clips, tmp_path):
    from mutualfuse import Fuser
    from mutualfuse.video import fuse_video

    ir, vis, _ = clips
    info = fuse_video(Fuser("average", device="cpu"), ir, vis, tmp_path / "f.mkv", frame_mapping="frame", batch=4)
    said = [n for n in info["mapping_notes"] if n.startswith("ir.mkv: ")]
    assert len(said) == 1 and "6 of 6 frames" in said[0], info["mapping_notes"]  # counted over both batches


def test_weights_policy_and_what_it_did_are_both_said(clips, tmp_path, capsys):
    """Weights trained with ``data.normalize percentile`` (their train_data): fuse-video reads with
    that policy, says so as ``fuse`` does, and says what it did to each video's frames."""
    from train_cli_helpers import trained_weights

    _, vis, ir8 = clips
    weights = trained_weights(tmp_path, **{"data.normalize": "percentile"})
    capsys.readouterr()
    rc = main(["fuse-video", str(ir8), str(vis), "-o", str(tmp_path / "f.mp4"), "--weights", weights,
               "--device", "cpu", "--frame-mapping", "frame"])
    err = capsys.readouterr().err
    assert rc == 0, err
    notes = [ln[6:] for ln in err.splitlines() if ln.startswith("note: ")]
    assert sum(n.startswith("inputs read with --normalize percentile --percentiles 0.1 99.9, as weights")
               for n in notes) == 1, notes
    for name in ("ir8.mp4", "vis.mp4"):
        assert sum(n.startswith(f"{name}: 8-bit samples (") and "scaled by percentile frame by frame" in n
                   for n in notes) == 1, notes


def test_percentiles_that_change_nothing_are_said_as_fuse_says_it(clips, tmp_path, capsys):
    """--percentiles under auto on 8-bit videos (read as v/255): fuse notes that they had no effect;
    fuse-video now does too, and not where a video was scaled by them."""
    ir, vis, ir8 = clips
    notes = _run(capsys, ir8, vis, "-o", tmp_path / "f.mp4", "--percentiles", "1", "99")
    assert sum(n.startswith("--percentiles 1 99 had no effect: no input was scaled by percentiles") for n in notes) \
        == 1, notes
    for mapping in ("video", "frame"):
        notes = _run(capsys, ir, vis, "-o", tmp_path / f"{mapping}.mkv", "--percentiles", "1", "99",
                     "--frame-mapping", mapping)
        assert not any("had no effect" in n for n in notes), notes
        assert any(n.startswith("ir.mkv: ") and ("1-99 percentiles" in n or "p1 → 0, p99 → 1" in n)
                   for n in notes), notes
