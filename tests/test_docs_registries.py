"""The docs' lists of defaults, profiles, methods and extras agree with the code (docs audit).

Cheap: reads the Markdown and the registries, runs nothing heavy.
"""
from __future__ import annotations

import inspect
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _doc(name: str) -> str:
    return (ROOT / "docs" / name).read_text(encoding="utf-8")


def _shown(v) -> str:
    return str(v).lower() if isinstance(v, bool) else str(v)


def test_baselines_parameter_table_matches_the_registered_defaults():
    from mutualfuse.methods import METHODS

    rows = {}
    for line in _doc("baselines.md").splitlines():
        m = re.match(r"\| `(\w+)` \| (`\w+` .*) \|$", line)
        if m:
            rows[m.group(1)] = dict(re.findall(r"`(\w+)` (\S+) \(", m.group(2)))
    checked = 0
    for e in METHODS:
        params = e.meta.get("params") or {}
        if e.meta.get("family") == "network" or not params:
            continue
        assert e.name in rows, f"docs/baselines.md has no parameter row for {e.name}"
        sig = inspect.signature(e.obj)
        assert set(rows[e.name]) == set(params), (e.name, rows[e.name], sorted(params))
        for key, shown in rows[e.name].items():
            assert shown == _shown(sig.parameters[key].default), (e.name, key, shown)
        checked += 1
    assert checked == 11


def test_benchmark_doc_lists_every_non_network_method():
    from mutualfuse.methods import METHODS

    text = _doc("benchmark.md")
    m = re.search(r"every registered non-network method \(([^)]*)\)", text)
    assert m
    listed = set(re.findall(r"`(\w+)`", m.group(1)))
    want = {e.name.upper() for e in METHODS if e.meta.get("family") != "network"}
    assert listed == want


def test_metrics_doc_names_every_profile():
    from mutualfuse.metrics import PROFILES

    text = _doc("metrics.md")
    line = text[text.index("**Profiles** (`metrics.PROFILES`)"):]
    line = line[:line.index("\n\n")]
    assert set(re.findall(r"`([\w-]+)`", line)) - {"metrics"} == set(PROFILES)


def test_web_doc_extras_table_matches_pyproject():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    table = set(re.findall(r"^\| `([\w-]+)` \|", _doc("web.md"), flags=re.M))
    assert table == set(extras)
