"""A JPEG with Multi-Picture extensions (MPO: the photos of many cameras, phones and DJI drones
carry a preview of themselves so) was refused as "file holds 2 frames/pages", although every
viewer shows it as its primary image. Now a file whose other entries are previews (Large
Thumbnails, or fewer pixels than the primary) is read as its primary image; entries of the
primary's size (a stereo pair, a multi-angle set) are images of their own and stay refused."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse import image_io
from mutualfuse.cli import main
from mutualfuse.errors import InputError


def _mpo(path, second_shape):
    rng = np.random.default_rng(0)
    primary = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8))
    other = Image.fromarray(rng.integers(0, 256, second_shape, dtype=np.uint8))
    primary.save(path, format="MPO", save_all=True, append_images=[other])
    with Image.open(path) as im:
        assert im.format == "MPO" and im.n_frames == 2
        return np.asarray(im.convert("RGB"))  # frame 0, the primary image as decoded


def test_an_mpo_photo_with_a_preview_fuses_as_its_primary_image(tmp_path, capsys):
    want = _mpo(tmp_path / "v.jpg", (24, 32, 3))
    got, depth, _ = image_io.read_samples(tmp_path / "v.jpg")
    assert depth == 8
    np.testing.assert_array_equal(got, want)
    Image.fromarray(np.zeros((48, 64), np.uint8)).save(tmp_path / "ir.png")
    rc = main(["fuse", str(tmp_path / "ir.png"), str(tmp_path / "v.jpg"), "-o", str(tmp_path / "f.png"),
               "--method", "max", "-q"])
    assert rc == 0, capsys.readouterr().err
    assert np.asarray(Image.open(tmp_path / "f.png")).shape == (48, 64, 3)
    # a stereo pair (two images of one size) is still two images: refused, not its first
    _mpo(tmp_path / "stereo.jpg", (48, 64, 3))
    with pytest.raises(InputError, match="file holds 2 frames/pages"):
        image_io.read_image(tmp_path / "stereo.jpg")
