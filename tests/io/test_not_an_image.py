"""A video or a volume given where an image belongs is named as such, with the command that takes
it (``mutualfuse fuse v1.mp4 v2.mp4`` said only "not a readable image (cannot identify image
file ...)"), in one line, exit status 2, no output file."""
from __future__ import annotations

import numpy as np
import pytest

from one_line_error import assert_one_line_error


def _video(path, n=3):
    iio = pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    w = iio.get_writer(str(path), fps=5)
    for i in range(n):
        w.append_data(np.full((32, 32, 3), 40 * i, np.uint8))
    w.close()
    return path


@pytest.mark.parametrize("name,what", [("v.mp4", "an MP4/QuickTime video"), ("v.mkv", "a Matroska/WebM video"),
                                       ("v.avi", "an AVI video"), ("renamed.png", "an MP4/QuickTime video")])
def test_video_given_to_fuse(tmp_path, capsys, name, what):
    src = _video(tmp_path / ("x" + name[name.rindex("."):] if name != "renamed.png" else "x.mp4"))
    v = tmp_path / name
    src.replace(v)
    out = tmp_path / "o.png"
    err = assert_one_line_error(capsys, ["fuse", str(v), str(v), "-o", str(out), "--method", "average"],
                                f"{v}: {what}, not an image", "fuse-video")
    assert "cannot identify" not in err
    assert not out.exists()


def test_volume_given_to_fuse(tmp_path, capsys):
    nib = pytest.importorskip("nibabel")
    v = tmp_path / "ct.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((16, 16, 16), np.float32), np.eye(4)), str(v))
    out = tmp_path / "o.png"
    assert_one_line_error(capsys, ["fuse", str(v), str(v), "-o", str(out), "--method", "average"],
                          f"{v}: a NIfTI volume, not an image", "fuse-volume")
    assert not out.exists()


def test_api_names_the_video(tmp_path):
    from mutualfuse.errors import InputError
    from mutualfuse.image_io import read_image

    v = _video(tmp_path / "clip.mp4")
    with pytest.raises(InputError, match="an MP4/QuickTime video, not an image"):
        read_image(v)


def test_unreadable_file_keeps_the_decoders_reason(tmp_path, capsys):
    bad = tmp_path / "junk.png"
    bad.write_bytes(b"not an image at all" * 30)
    assert_one_line_error(capsys, ["fuse", str(bad), str(bad), "-o", str(tmp_path / "o.png"), "--method", "average"],
                          f"{bad}: not a readable image (")
