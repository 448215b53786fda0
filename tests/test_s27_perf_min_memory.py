"""s27 perf: Fuser.min_memory, the lower bound the command line refuses a pair by, stays below
what fusing a colour pair holds now that the colour result is recombined a block of rows at a
time (it still counted three whole-image float64 RGB arrays, 72 bytes a pixel, so it exceeded
the real peak and could refuse a pair that fits). Memory counted by tracemalloc."""
import tracemalloc

import numpy as np
import pytest

from mutualfuse import Fuser


@pytest.mark.parametrize("gray_b", [False, True])
def test_min_memory_is_a_lower_bound_of_a_colour_fusion(gray_b):
    h, w = 600, 800
    rng = np.random.default_rng(3)
    a = rng.random((1, h, w, 3))
    b = rng.random((1, h, w)) if gray_b else rng.random((1, h, w, 3))
    f = Fuser("average")
    tracemalloc.start()
    try:
        f.fuse_arrays(a, b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    held = a.nbytes + b.nbytes + peak  # the inputs (read from files: held throughout) and what the fusion made
    bound = f.min_memory(h, w, images=2, colour=1 if gray_b else 2)
    assert bound <= held, f"min_memory {bound / (h * w):.0f} bytes a pixel, the fusion held {held / (h * w):.0f}"
