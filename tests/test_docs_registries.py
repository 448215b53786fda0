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


def test_readme_names_every_shipped_model():
    """README's Documentation list of the shipped models (`default`, …, and the warm starts …) is
    the weights registry without the ablation weights (docs/ablations.md lists those)."""
    from mutualfuse.weights import WEIGHTS

    text = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    m = re.search(r"the shipped models \(([^)]*)\)", text)
    assert m, "README.md: the shipped models list moved; update this test"
    listed = re.findall(r"`([\w-]+)`", m.group(1))
    assert len(listed) == len(set(listed)), listed
    assert set(listed) == {e.name for e in WEIGHTS if not e.name.startswith("ablation-")}


def _specifiers() -> dict[str, str]:
    """package (lower case) -> its specifier in pyproject.toml, over the dependencies and extras."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for rs in project["optional-dependencies"].values() for r in rs]
    out = {}
    for r in reqs:
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(?:\[[^]]*\])?\s*([<>=!~].*)?", r.strip())
        if m and m.group(2):
            out.setdefault(m.group(1).lower(), set()).add(m.group(2).replace(" ", ""))
    return out


def test_dependency_floors_table_declares_what_pyproject_declares():
    """docs/dependency-floors.md, "Versions": each row's declared bound (the last one where it
    says `old → **new**`) is pyproject.toml's."""
    text = _doc("dependency-floors.md")
    table = text[text.index("| package | declared | installed | note |"):]
    table = table[:table.index("\n\n")]
    specs = _specifiers()
    checked = 0
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        package = cells[0].split()[0].rstrip(",").lower()
        if package == "pytest":  # "any version (not floors)"
            continue
        declared = cells[1].split("→")[-1].replace("*", "").replace(" ", "")
        assert package in specs, f"docs/dependency-floors.md: {package} is not in pyproject.toml"
        assert declared in specs[package], f"{package}: the page says {declared}, pyproject.toml {specs[package]}"
        checked += 1
    assert checked >= 20


def test_training_doc_shipped_models_table_is_the_registry():
    """docs/training.md, "The shipped models": one row per shipped (non-ablation) weights name."""
    from mutualfuse.weights import WEIGHTS

    text = _doc("training.md")
    table = text[text.index("## The shipped models"):]
    table = table[table.index("| name | what |"):]
    table = table[:table.index("\n\n")]
    rows = re.findall(r"^\| `([\w-]+)` \|", table, flags=re.M)
    assert len(rows) == len(set(rows)), rows
    assert set(rows) == {e.name for e in WEIGHTS if not e.name.startswith("ablation-")}
