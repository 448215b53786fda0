"""docs/metrics.md describes every registered metric with the registry's metadata (audit s21):
a table row per key with its direction, the unchecked keys among the Extras, and each reference
code's pinned commit in the key's ``reference``. Guards future registrations (all hold today).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mutualfuse.metrics import METRICS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")
ARROW = {"↑": "higher", "↓": "lower", "→0": "zero"}
WORD = {"higher": "higher", "lower": "lower", "closer to 0": "zero"}


def _rows() -> dict[str, tuple[str, str]]:
    """key -> (documented direction, heading of the section holding its first row)."""
    out: dict[str, tuple[str, str]] = {}
    heading = ""
    for line in DOC.splitlines():
        if line.startswith("#"):
            heading = line
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        keys = re.findall(r"`([^`\s]+@[^`\s]+)`", cells[0])
        if cells[1] in ARROW:
            direction = ARROW[cells[1]]
        else:
            direction = next((d for w, d in WORD.items() if cells[-1].startswith(w)), None)
        for k in keys:
            out.setdefault(k, (direction, heading))
    return out


ROWS = _rows()


def _row_key(key: str) -> str:
    """SSIM_AF@nestfuse and its kin are documented as the terms of their mean's row."""
    metric, source = key.split("@")
    return re.sub(r"_(AF|BF)$", "", metric) + "@" + source


@pytest.mark.parametrize("key", METRICS.names())
def test_every_key_has_a_row_with_its_direction(key):
    row = _row_key(key)
    assert row in ROWS, f"{key}: no table row for {row} in docs/metrics.md"
    if row != key:
        assert key.split("@")[0] in DOC, key
    assert ROWS[row][0] == METRICS.meta(key)["direction"], (key, ROWS[row], METRICS.meta(key)["direction"])


@pytest.mark.parametrize("key", [k for k in METRICS.names() if not METRICS.meta(k)["checked"]])
def test_unchecked_keys_are_listed_among_the_extras(key):
    extras = DOC[DOC.index("### Extras"):]
    extras = extras[:extras.index("\n## ")]
    assert f"`{key}`" in extras, key


@pytest.mark.parametrize("key", [k for k in METRICS.names() if METRICS.meta(k)["source"] != "extra"])
def test_the_reference_names_the_documented_commit(key):
    source = METRICS.meta(key)["source"]
    m = re.search(rf"^\| `{re.escape(source)}` \| `([^`@]+)@([0-9a-f]{{40}})`", DOC, re.M)
    assert m, f"docs/metrics.md has no pinned commit for source {source}"
    assert f"{m.group(1)}@{m.group(2)}" in METRICS.meta(key)["reference"], (key, METRICS.meta(key)["reference"])
