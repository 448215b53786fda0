"""Training configs refuse YAML aliases of lists and mappings (an "alias bomb": nested aliases of
a few hundred bytes expand to 10**8 items once walked; 27 s and 3.5 GB before the refusal), in one
line naming the line; aliases of single values and merges (``<<: *defaults``) still work."""
from __future__ import annotations

import time

import pytest

from mutualfuse.errors import ParameterError
from mutualfuse.train.config import TrainConfig


def _bomb(levels: int = 8) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    return "\n".join(lines) + f"\nsteps: *a{levels - 1}\n"


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    p = tmp_path / "bomb.yaml"
    p.write_text(_bomb())
    assert len(p.read_bytes()) < 600
    t = time.perf_counter()
    with pytest.raises(ParameterError, match=r"bomb\.yaml: line 2: alias \*a0 of a list: training configs take aliases") as e:
        TrainConfig.load(p)
    assert time.perf_counter() - t < 5 and "\n" not in str(e.value)


def test_scalar_aliases_and_merges_still_load(tmp_path):
    from mutualfuse.train.config import _yaml_load

    p = tmp_path / "ok.yaml"
    p.write_text("steps: &n 7\ncheckpoint_every: *n\n")
    c = TrainConfig.load(p)
    assert c.steps == 7 and c.checkpoint_every == 7
    d = _yaml_load("base: &b {crop: 16, val_pairs: 1}\ndata: {<<: *b, crop: 32}\n")
    assert d["data"] == {"crop": 32, "val_pairs": 1}
