"""The Python API fuses images, not files: a path given where an image belongs says so and how
to read it (before: "got str"; a path given to ``fuse_stack`` was split into its characters)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import mutualfuse
from mutualfuse.errors import InputError


@pytest.mark.parametrize("path", ["ir.png", Path("ir.png")])
def test_fuse_names_the_path_and_how_to_read_it(path):
    with pytest.raises(InputError, match=r"a: .*got the path 'ir.png': read it first .*read_image\(path\)\[0\]"):
        mutualfuse.Fuser(method="average").fuse(path, np.zeros((16, 16)))


def test_fuse_stack_of_one_path_is_not_its_characters():
    with pytest.raises(InputError, match=r"got the path 'zstack.tif'.*tifffile.imread.*fuse-stack"):
        mutualfuse.Fuser(method="average").fuse_stack("zstack.tif")
    with pytest.raises(InputError, match=r"image 2: .*got the path 'z2.png'"):
        mutualfuse.Fuser(method="average").fuse_stack([np.zeros((16, 16)), "z2.png"])


def test_other_types_keep_their_message():
    with pytest.raises(InputError, match=r"a: expected a numpy array, PIL image or torch tensor, got int$"):
        mutualfuse.Fuser(method="average").fuse(3, np.zeros((16, 16)))
