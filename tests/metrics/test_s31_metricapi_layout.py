"""A network's output passed as it comes (audit s31, metricapi): a (1, 1, H, W) or (1, 3, H, W)
batch, or a (1, H, W) / (3, H, W) channels-first array given to a plain metric function, is a
one-line InputError that says how to index it. The registered metrics hinted only at a 3-D
channels-first array; a batch of one, the usual ``net(x)`` output, got no hint, and the plain
functions (``metrics.qabf``) gave none at all."""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse.metrics as M
from mutualfuse.errors import InputError

IMG = np.random.default_rng(1).integers(0, 256, (24, 24)).astype(np.float64)


@pytest.mark.parametrize("shape,hint", [
    ((1, 1, 24, 24), r"\(a batch of one gray image\? pass x\[0, 0\]\)$"),
    ((1, 3, 24, 24), r"\(a batch of one, channels first\? pass x\[0\]\.permute\(1, 2, 0\)"),
    ((1, 24, 24, 3), r"\(a batch of one\? pass x\[0\]\)$"),
])
def test_a_batch_of_one_says_how_to_index_it(shape, hint):
    x = np.broadcast_to(IMG[:, :, None] if shape[-1] == 3 else IMG, shape)
    with pytest.raises(InputError, match=r"^Qabf@vifb: fused: expected a gray .*" + hint):
        M.METRICS.get("Qabf@vifb")(IMG, IMG, x)
    with pytest.raises(InputError, match=r"^f: expected a gray .*" + hint):
        M.qabf(IMG, IMG, x)
    with pytest.raises(InputError, match=r"^fused: expected a gray .*" + hint):
        M.evaluate_pair(IMG, IMG, x, metrics="Qabf@vifb")


@pytest.mark.parametrize("c", [1, 3])
def test_a_plain_function_hints_at_channels_first_too(c):
    x = np.stack([IMG] * c)
    with pytest.raises(InputError, match=r"^b: expected a gray .* got shape \(%d, 24, 24\) \(channels first\?" % c):
        M.qcb(IMG, x, IMG)
    with pytest.raises(InputError, match=r"^f: expected a gray .* \(channels first\?"):
        M.en(x)


def test_a_gray_alpha_array_says_how_to_drop_the_alpha():
    """np.asarray of a PIL "LA" image, (H, W, 2): refused with no hint (a PIL "LA" image itself is read)."""
    la = np.dstack([IMG, np.full_like(IMG, 255)])
    with pytest.raises(InputError, match=r"^Qabf@vifb: a: .* got shape \(24, 24, 2\) \(gray \+ alpha\? pass x\[\.\.\., 0\]\)$"):
        M.METRICS.get("Qabf@vifb")(la, IMG, IMG)
    with pytest.raises(InputError, match=r"^f: .* \(gray \+ alpha\? pass x\[\.\.\., 0\]\)$"):
        M.sf(la)
