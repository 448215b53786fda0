"""The mutual mapping: fast SDPA path == explicit N×N computation, and memory linear in N."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from mutualfuse.model.mutual_mapping import cross_map, naive_cross_map
from tolerance import assert_close


@pytest.mark.parametrize("b,c,h,w,scale", [(1, 8, 16, 16, None), (2, 16, 23, 17, None), (1, 64, 40, 30, None),
                                           (1, 8, 9, 31, 0.7)])
def test_cross_map_equals_naive(b, c, h, w, scale):
    g = torch.Generator().manual_seed(h * w + c)
    q = torch.randn(b, c, h, w, generator=g)
    k = torch.randn(b, c, h, w, generator=g) * 2.0  # sharper attention
    fast = cross_map(q, k, scale)
    ref = naive_cross_map(q, k, scale)
    assert fast.shape == q.shape
    assert_close(fast, ref, dtype=torch.float32)


def test_cross_map_non_contiguous_input():
    q = torch.randn(1, 8, 12, 20).transpose(2, 3)  # (1, 8, 20, 12) view
    k = torch.randn(1, 8, 12, 20).transpose(2, 3)
    assert_close(cross_map(q, k), naive_cross_map(q.contiguous(), k.contiguous()), dtype=torch.float32)


def test_cross_map_memory_is_linear_in_tokens():
    """N = 30 000 tokens: a naive N×N float32 matrix alone is 3.6 GB; the fused kernel stays small."""
    code = textwrap.dedent("""
        import resource, torch
        torch.set_num_threads(2)
        from mutualfuse.model.mutual_mapping import cross_map
        q = torch.randn(1, 16, 150, 200); k = torch.randn(1, 16, 150, 200)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with torch.inference_mode():
            out = cross_map(q, k)
        assert out.shape == q.shape and torch.isfinite(out).all()
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    grew_mb = int(r.stdout.strip().splitlines()[-1])
    n = 150 * 200
    naive_mb = n * n * 4 / 2**20
    assert grew_mb < 300, f"cross_map grew RSS by {grew_mb} MB for N={n} (naive matrix: {naive_mb:.0f} MB)"
