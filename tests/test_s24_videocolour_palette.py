"""A pseudo-colour IR video (a thermal camera's ironbow palette) given to fuse-video (session 24,
X8): it was fused as a colour video with no word, its palette's hues mixed into the output. Where
the task is ir-vis, no --chroma was given, and a colour video's colours follow its brightness
along one curve (:func:`mutualfuse.video._palette_like`), a note now says how to keep the other
video's colour (--chroma a/b) or how to fuse it as gray; the fused result is unchanged."""
from __future__ import annotations

import subprocess

import numpy as np
import pytest

pytest.importorskip("imageio.v2")
pytest.importorskip("imageio_ffmpeg")

from test_s24_video_helpers import ffmpeg, video8  # noqa: E402

from mutualfuse.cli import main  # noqa: E402

N, H, W = 6, 48, 64
#: an ironbow-like palette: black, violet, magenta, orange, yellow, white
_IRONBOW = np.array([[0, 0, 0], [30, 0, 90], [120, 0, 150], [200, 30, 100], [240, 100, 20], [255, 190, 0],
                     [255, 255, 200]], float)
#: a rainbow palette (blue, cyan, green, yellow, red): its brightness is not monotonic
_RAINBOW = np.array([[0, 0, 255], [0, 255, 255], [0, 255, 0], [255, 255, 0], [255, 0, 0]], float)


def lut(points):
    t = np.linspace(0, 1, len(points))
    return np.stack([np.interp(np.linspace(0, 1, 256), t, points[:, i]) for i in range(3)], -1).astype(np.uint8)


def scene(i: int, h: int = H, w: int = W) -> np.ndarray:
    """A smooth thermal-like scene: a warm gradient, two hot blobs, one moving, 8-bit."""
    y, x = np.mgrid[0:h, 0:w].astype(float)
    s = 60 + 60 * y / h + 120 * np.exp(-((x - 10 - 3 * i) ** 2 + (y - 20) ** 2) / 40) \
        + 90 * np.exp(-((x - 45) ** 2 + (y - 30) ** 2) / 90)
    return np.clip(s, 0, 255).astype(np.uint8)


def natural(i: int, h: int = H, w: int = W) -> np.ndarray:
    """A smooth colour scene whose hue does not follow its brightness: R, G, B independent gradients."""
    y, x = np.mgrid[0:h, 0:w].astype(float)
    rgb = np.stack([40 + 180 * x / w, 200 - 150 * y / h, 80 + 100 * np.sin((x + y + 2 * i) / 7)], -1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def write(path, frames, pix="yuv420p", crf="17"):
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", "10",
                    "-i", "-", "-c:v", "libx264", "-pix_fmt", pix, "-crf", crf, str(path)],
                   input=b"".join(np.ascontiguousarray(f).tobytes() for f in frames), check=True)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("s24vpalette")
    return {"ironbow": write(d / "iron.mp4", [lut(_IRONBOW)[scene(i)] for i in range(N)]),
            "natural": write(d / "vis.mp4", [natural(i) for i in range(N)]),
            "gray": video8(d / "gray.mp4", N, H, W, 10, False, seed=3)}


def test_palette_like_frames():
    from mutualfuse.video import _palette_like

    assert _palette_like(lut(_IRONBOW)[scene(0, 96, 128)])
    assert _palette_like(lut(_IRONBOW)[scene(0, 96, 128)].astype(np.uint16) * 257)
    assert not _palette_like(natural(0, 96, 128))
    assert not _palette_like(np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8))
    assert not _palette_like(np.repeat(scene(0, 96, 128)[..., None], 3, -1))  # gray: no colour at all
    assert not _palette_like(lut(_RAINBOW)[scene(0, 96, 128)])  # documented: a rainbow is not detected


def _run(capsys, a, b, out, *extra):
    rc = main(["fuse-video", str(a), str(b), "-o", str(out), *extra])  # the default network: --task applies
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    return [ln for ln in captured.err.splitlines() if "follow its brightness" in ln]


def test_an_ironbow_video_gets_the_advice(clips, tmp_path, capsys):
    import imageio.v2 as iio

    notes = _run(capsys, clips["ironbow"], clips["natural"], tmp_path / "f.mp4", "--task", "ir-vis")
    assert len(notes) == 1 and notes[0].startswith("note: iron.mp4: its colours follow its brightness"), notes
    assert "--chroma b keeps vis.mp4's colours" in notes[0] and "ffmpeg -i iron.mp4 -vf format=gray" in notes[0]
    notes = _run(capsys, clips["natural"], clips["ironbow"], tmp_path / "g.mp4", "--task", "ir-vis")
    assert len(notes) == 1 and "--chroma a keeps vis.mp4's colours" in notes[0], notes
    notes = _run(capsys, clips["ironbow"], clips["gray"], tmp_path / "h.mp4", "--task", "ir-vis")
    assert len(notes) == 1 and "--chroma gray writes a gray result" in notes[0], notes
    # the note changes nothing: the same frames as a run that says nothing (a --chroma given)
    assert _run(capsys, clips["ironbow"], clips["gray"], tmp_path / "i.mp4", "--task", "ir-vis",
                "--chroma", "saturation") == []
    a, b = (iio.mimread(str(tmp_path / n)) for n in ("h.mp4", "i.mp4"))
    assert len(a) == N and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_no_advice_elsewhere(clips, tmp_path, capsys):
    assert _run(capsys, clips["natural"], clips["gray"], tmp_path / "a.mp4", "--task", "ir-vis") == []
    assert _run(capsys, clips["ironbow"], clips["natural"], tmp_path / "b.mp4", "--task", "multi-focus") == []
    assert _run(capsys, clips["ironbow"], clips["natural"], tmp_path / "c.mp4", "--task", "ir-vis",
                "--chroma", "b") == []
    assert _run(capsys, clips["ironbow"], clips["ironbow"], tmp_path / "d.mp4", "--task", "ir-vis") == []
