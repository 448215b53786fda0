"""A PIL image in mode LAB (``im.convert("LAB")``, which Pillow tags with its Lab profile) is turned
into sRGB by Pillow when read; ``Fuser.report.notes`` said that its "embedded ICC profile 'Lab
identity built-in' (Lab) not applied: its samples are fused as stored, taken as sRGB", which is
not what happens: the samples fused are Pillow's sRGB of it."""
from __future__ import annotations

import numpy as np
from PIL import Image

from mutualfuse import Fuser


def test_lab_image_is_not_said_to_be_fused_as_stored():
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8))
    gray = Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8))
    f = Fuser("average")
    out_lab = np.asarray(f.fuse(rgb.convert("LAB"), gray)).astype(int)
    notes = list(f.report.notes)
    assert not any("ICC profile" in n for n in notes), notes
    assert any("PIL mode LAB read as RGB" in n for n in notes), notes
    # the samples fused are Pillow's sRGB of the Lab image, not its L*a*b* taken as R, G, B
    out_rgb = np.asarray(f.fuse(rgb.convert("LAB").convert("RGB"), gray)).astype(int)
    np.testing.assert_array_equal(out_lab, out_rgb)
