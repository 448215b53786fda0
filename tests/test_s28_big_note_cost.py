"""The pooled-mapping note says what --token-budget 0 costs (session 28, big): at 4000x3000 the
default weights pool 7x and the note's "use --token-budget 0 for exact" was a ~2400x larger
mapping (1000x750, pool 2: 49 s CPU exact against 12 s; 4000x3000 extrapolated to hours)."""
from __future__ import annotations

import numpy as np

import mutualfuse


def test_note_gives_the_exact_mappings_cost():
    f = mutualfuse.Fuser()
    rng = np.random.default_rng(28)
    f.fuse(rng.random((64, 64)), rng.random((64, 64)))
    assert f.report.mapping_pool == 2  # the shipped default's minimum pool
    note = next(n for n in f.report.notes if n.startswith("approximate mutual mapping"))
    assert "about 16x this mapping's work" in note, note
