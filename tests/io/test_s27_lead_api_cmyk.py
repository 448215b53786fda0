"""A PIL CMYK image without an ICC profile given to the Python API gets the same note as a CMYK
JPEG file read by the CLI (s27): its colours come from Pillow's plain formula, approximate."""
import numpy as np
from PIL import Image

from mutualfuse.api import Fuser


def _cmyk(seed):
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, (32, 40, 4), dtype=np.uint8), mode="CMYK")


def test_pil_cmyk_without_profile_is_noted():
    f = Fuser(method="average")
    f.fuse(_cmyk(0), _cmyk(1))
    assert any("CMYK image without an ICC profile" in n for n in f.report.notes), f.report.notes


def test_pil_rgb_gets_no_cmyk_note():
    f = Fuser(method="average")
    a = _cmyk(0).convert("RGB")
    f.fuse(a, _cmyk(1).convert("RGB"))
    assert not any("CMYK" in n for n in f.report.notes), f.report.notes
