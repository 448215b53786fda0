"""A pair under 8x8 given to a classical method whose decomposition needs more is told what that
method needs and what fits 8 px (fuse on the command line and Fuser.fuse); other methods and the
network keep the plain line."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import mutualfuse
from mutualfuse.errors import InputError
from one_line_error import assert_one_line_error

A7 = (np.random.default_rng(7).random((7, 7)) * 255).astype(np.uint8)


@pytest.mark.parametrize("method,extra,tail", [
    ("lp", [], "; method 'lp' at levels=4 needs at least 32 px per side (at 8 px: at most levels=2)"),
    ("cvt", [], "; method 'cvt' at scales=5, wedges=3 needs at least 32 px per side (at 8 px: at most scales=3 "
                "with wedges=3)"),
    ("lp", ["--param", "levels=2"], None), ("msvd", [], None)])
def test_fuse_names_the_method_need(tmp_path, capsys, method, extra, tail):
    for n in ("a", "b"):
        Image.fromarray(A7).save(tmp_path / f"{n}.png")
    err = assert_one_line_error(capsys, ["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o",
                                         str(tmp_path / "o.png"), "--method", method, *extra],
                                "a.png: image is 7x7, smaller than 8x8")
    assert err.rstrip("\n").endswith(tail or "smaller than 8x8"), err
    assert not (tmp_path / "o.png").exists()


def test_the_api_names_the_method_need():
    with pytest.raises(InputError, match=r"^a and b: images are 7x7, smaller than 8x8; method 'dwt' at levels=4 "
                                         r"needs at least 32 px per side \(at 8 px: at most levels=2\)$"):
        mutualfuse.fuse(A7, A7, method="dwt")
    with pytest.raises(InputError, match=r"^a and b: images are 7x7, smaller than 8x8$"):
        mutualfuse.fuse(A7, A7, method="dwt", levels=2)
