"""s31: the locality bias of the mutual mapping on a long or very large grid.

Its dot-product terms reach β·R² (R: a cell's distance from the grid's centre) and must cancel to
O(1); in float32 an 8×4000 noise pair's fused output was 7.4e-3 from the float64 network's (an
8×8000 one 6.1e-2: 15 grey levels). Beyond ``LOCALITY_FLOAT32_MAX`` the mapping's dot products
now run in float64; smaller grids keep float32 (their outputs are unchanged)."""
from __future__ import annotations

import copy

import numpy as np
import torch

from mutualfuse.model import mutual_mapping as mm
from mutualfuse.onnx_export import ExportWrapper
from mutualfuse.weights import load_model


def _pair(h, w, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((h, w)), rng.random((h, w))


def test_a_long_grid_fuses_as_the_float64_network():
    net, _ = load_model("default")
    net.eval()
    w32 = ExportWrapper(net, 2).eval()
    w64 = ExportWrapper(copy.deepcopy(net).double(), 2).eval()
    a, b = _pair(8, 4000)
    with torch.no_grad():
        r64 = w64(torch.from_numpy(a)[None, None], torch.from_numpy(b)[None, None])[0, 0].numpy()
        r32 = w32(*(torch.from_numpy(x.astype(np.float32))[None, None] for x in (a, b)))[0, 0].numpy()
    assert r32.dtype == np.float32
    assert np.abs(r32.astype(np.float64) - r64).max() < 1e-3  # 7.4e-3 before; 6.1e-5 measured


def test_only_grids_beyond_the_limit_take_float64():
    net, _ = load_model("default")
    fusion = next(m for m in net.modules() if isinstance(m, mm.MutualMappingFusion))
    beta = 0.5 / float(fusion.local_sigma().detach().min()) ** 2
    f = torch.zeros(1, 1, 60, 80)
    assert beta * mm.locality_extent(60, 80, 2) < mm.LOCALITY_FLOAT32_MAX and not fusion._wide_locality(f, 2)
    g = torch.zeros(1, 1, 1, 500)
    assert beta * mm.locality_extent(1, 500, 2) > mm.LOCALITY_FLOAT32_MAX and fusion._wide_locality(g, 2)
    assert not fusion._wide_locality(g.double(), 2)  # float64 features are wide already


def test_the_float64_maps_in_bands_of_rows_equal_one_call():
    rng = torch.Generator().manual_seed(3)
    q = torch.randn(1, 5, 7, 9, generator=rng, dtype=torch.float64)
    k = torch.randn(1, 5, 6, 8, generator=rng, dtype=torch.float64)
    v = torch.randn(1, 4, 6, 8, generator=rng, dtype=torch.float64)
    whole = mm.cross_map(q, k, 0.3, values=v)
    banded = mm._rows_cross_map(q, k, 0.3, v, max_logits=2 * 9 * 48)  # two rows a band, the last one alone
    assert banded.shape == whole.shape
    torch.testing.assert_close(banded, whole, rtol=1e-12, atol=1e-12)
