"""A successful run whose output name holds a line break printed its success line on two lines
(`mutualfuse fuse a b -o $'x\\ny.png'` printed "x" and "y.png  (0.08 s, 8-bit gray)"), and a
note naming such an input did too, where the one-line errors show the name escaped ("x\\ny.png").
The success and summary lines (and the notes) of fuse, fuse-dir, fuse-stack, fuse-video,
fuse-volume, export-onnx, export-weights and evaluate now show it as the errors do (s27 wording
audit). fuse-video's bar stayed on screen after the run, where fuse-stack's and fuse-volume's
are cleared: now cleared too."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from mutualfuse.cli import main

NL = "new\nline"  # in every output name below; shown as new\\nline


def _ok(capsys, argv: list[str]) -> tuple[str, str]:
    rc = main(argv)
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    return cap.out, cap.err


def _one_line(text: str, start: str) -> None:
    assert text.count("\n") == 1 and text.endswith("\n"), repr(text)
    assert text.startswith(start), repr(text)


def test_fuse(tmp_path, samples, capsys):
    out = tmp_path / f"{NL}.png"
    stdout, _ = _ok(capsys, ["fuse", str(samples / "tno-01" / "a.png"), str(samples / "tno-01" / "b.png"), "-o",
                             str(out), "--method", "average"])
    _one_line(stdout, f"{tmp_path}/new\\nline.png  (")
    assert out.is_file()


def test_fuse_dir(tmp_path, samples, capsys):
    for side, name in (("A", "a.png"), ("B", "b.png")):
        (tmp_path / side).mkdir()
        shutil.copy(samples / "tno-01" / name, tmp_path / side / "p.png")
    out = tmp_path / NL
    stdout, _ = _ok(capsys, ["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(out), "--method",
                             "average"])
    _one_line(stdout, "fused 1, skipped 0 already done, failed 0 (")
    assert stdout.endswith(f" -> {tmp_path}/new\\nline\n"), repr(stdout)
    assert (out / "p.png").is_file()


def test_fuse_stack_and_its_note(tmp_path, samples, capsys):
    a = tmp_path / f"{NL}.png"
    shutil.copy(samples / "tno-01" / "a.png", a)
    out = tmp_path / f"s{NL}.png"
    stdout, err = _ok(capsys, ["fuse-stack", str(a), str(samples / "tno-01" / "b.png"), str(a), "-o", str(out),
                               "--method", "average"])
    _one_line(stdout, f"{tmp_path}/snew\\nline.png  (3 images, 2 fusions, ")
    notes = [ln for ln in err.splitlines() if "in the stack 2 times" in ln]
    assert notes == [f"note: {tmp_path}/new\\nline.png: in the stack 2 times (images 1, 3), fused as often"], err
    assert out.is_file()


def test_fuse_volume(tmp_path, capsys):
    nib = pytest.importorskip("nibabel")
    rng = np.random.default_rng(0)
    for n in "ab":
        nib.Nifti1Image(rng.random((16, 16, 3), dtype=np.float32), np.eye(4)).to_filename(tmp_path / f"{n}.nii")
    out = tmp_path / f"{NL}.nii"
    stdout, _ = _ok(capsys, ["fuse-volume", str(tmp_path / "a.nii"), str(tmp_path / "b.nii"), "-o", str(out),
                             "--method", "average"])
    _one_line(stdout, f"{tmp_path}/new\\nline.nii  (16x16x3, 3 slices across axis ")
    assert out.is_file()


def test_export_onnx(tmp_path, tiny_weights, capsys):
    pytest.importorskip("onnx")
    out = tmp_path / f"{NL}.onnx"
    stdout, _ = _ok(capsys, ["export-onnx", str(out), "--weights", str(tiny_weights), "--no-check"])
    _one_line(stdout, f"{tmp_path}/new\\nline.onnx")
    assert out.is_file()


def test_export_weights(tmp_path, tiny_weights, capsys):
    out = tmp_path / f"{NL}.safetensors"
    stdout, _ = _ok(capsys, ["export-weights", str(tiny_weights), "--record-paths", "none", "-o", str(out)])
    assert stdout == f"{tmp_path}/new\\nline.safetensors\n", repr(stdout)
    assert out.is_file()


def test_evaluate(tmp_path, samples, capsys):
    for side, name in (("a", "a.png"), ("b", "b.png"), ("f", "a.png")):
        (tmp_path / side).mkdir()
        shutil.copy(samples / "tno-01" / name, tmp_path / side / "p.png")
    out = tmp_path / f"{NL}.csv"
    _, err = _ok(capsys, ["evaluate", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--fused",
                          str(tmp_path / "f"), "--metrics", "EN@rfn-nest", "--out", str(out)])
    assert err.splitlines()[-1] == f"wrote {tmp_path}/new\\nline.csv", repr(err)
    assert out.is_file()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    from test_s24_video_helpers import video8

    d = tmp_path_factory.mktemp("s27words")
    return video8(d / "ir.mp4", 6, 32, 48, 10, False, seed=0), video8(d / "vis.mp4", 6, 32, 48, 10, True, seed=1)


def test_fuse_video(clips, tmp_path, capsys):
    out = tmp_path / f"{NL}.mp4"
    stdout, _ = _ok(capsys, ["fuse-video", str(clips[0]), str(clips[1]), "-o", str(out), "--method", "average"])
    _one_line(stdout, f"{tmp_path}/new\\nline.mp4  (6 frames at 10 fps, 48x32, ")
    assert out.is_file()


def test_fuse_video_bar_is_cleared_at_the_end(clips, tmp_path, capsys, monkeypatch):
    """At a terminal the bar was closed with leave=True: its last frame stayed above the summary
    line (tqdm ends it with a line break); cleared now, as fuse-stack's and fuse-volume's are
    (tqdm overwrites it with blanks and returns the cursor: no line break after the last frame)."""
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    stdout, err = _ok(capsys, ["fuse-video", str(clips[0]), str(clips[1]), "-o", str(tmp_path / "f.mp4"), "--method",
                               "average"])
    assert "frames:" in err, repr(err)
    after = err.rsplit("frames:", 1)[1]
    assert "\n" not in after and after.endswith("\r") and after.rstrip("\r").rsplit("\r", 1)[1].strip() == "", \
        repr(after)
    _one_line(stdout, f"{tmp_path}/f.mp4  (")


def test_train_resumed_at_its_last_step(tmp_path, capsys):
    """train's line for a run already finished names its out_dir (and weights in it) on one line."""
    from train_cli_helpers import cfg as _cfg
    from train_cli_helpers import data as _data
    from train_cli_helpers import train as _train

    root = _data(tmp_path / "d")
    out = tmp_path / NL
    args = ["--config", str(_cfg(tmp_path / "c.json", out)), "--data-root", str(root)]
    rc, _, err = _train(capsys, *args)
    assert rc == 0, err
    rc, stdout, err = _train(capsys, *args, "--resume")
    assert rc == 0 and stdout == "", err
    _one_line(err, f"mutualfuse train: {tmp_path}/new\\nline is already at step 2 of 2: nothing to do (its weights: "
                   f"{tmp_path}/new\\nline/")
