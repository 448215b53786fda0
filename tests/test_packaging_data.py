"""Packaging: what a user who installs the wheel on a fresh machine gets.

The static checks compare pyproject.toml's package-data with the files under src/mutualfuse;
the build check builds the sdist and the wheel from a copy of the sources (PEP 517 hooks of
the installed setuptools, no isolation, a few seconds) and looks inside them.
"""
from __future__ import annotations

import ast
import fnmatch
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "mutualfuse"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PATTERNS = PYPROJECT["tool"]["setuptools"]["package-data"]["mutualfuse"]
#: caches that Python and numba write beside the sources; never data
CACHE_PARTS = {"__pycache__", ".pytest_cache"}
CACHE_SUFFIXES = {".pyc", ".pyo", ".nbc", ".nbi"}


def _matches(rel: str, pattern: str) -> bool:
    """setuptools' glob: ``*`` stays within one folder."""
    parts, pparts = rel.split("/"), pattern.split("/")
    return len(parts) == len(pparts) and all(fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pparts))


def _data_files() -> list[str]:
    """Every non-Python file of the package (as git tracks it where it can; else on disk)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--", "src/mutualfuse"], cwd=ROOT, capture_output=True,
                             check=True, timeout=30).stdout.decode()
        rels = [Path(p).relative_to("src/mutualfuse").as_posix() for p in out.split("\0") if p]
    except (OSError, subprocess.SubprocessError):
        rels = [p.relative_to(PKG).as_posix() for p in PKG.rglob("*") if p.is_file()]
    return sorted(r for r in rels if not r.endswith(".py") and not CACHE_PARTS & set(r.split("/"))
                  and Path(r).suffix not in CACHE_SUFFIXES and (PKG / r).is_file())


def test_package_data_declares_every_data_file():
    files = _data_files()
    assert files, "no data files found under src/mutualfuse"
    missing = [f for f in files if not any(_matches(f, p) for p in PATTERNS)]
    assert not missing, f"not in [tool.setuptools.package-data] (so not in the wheel): {missing}"


def test_every_package_data_pattern_matches_a_file():
    files = _data_files()
    dead = [p for p in PATTERNS if not any(_matches(f, p) for f in files)]
    assert not dead, f"package-data patterns that match no file: {dead}"


def test_every_shipped_weights_file_is_declared_and_registered():
    from mutualfuse.weights import HERE, SHIPPED

    registered = {w.file for w in SHIPPED.values()}
    on_disk = {p.name for p in HERE.glob("*.safetensors")}
    assert registered <= on_disk, f"registered but not shipped: {sorted(registered - on_disk)}"
    assert on_disk <= registered, f"shipped (in the wheel) but not registered: {sorted(on_disk - registered)}"
    assert all(any(_matches(f"weights/{f}", p) for p in PATTERNS) for f in registered)


def test_version_is_the_same_in_pyproject_and_package():
    import mutualfuse

    assert PYPROJECT["project"]["version"] == mutualfuse.__version__


def test_requires_python_covers_the_stdlib_modules_used():
    """``tomllib`` (TOML training configs) came with Python 3.11."""
    m = re.fullmatch(r">=\s*3\.(\d+)", PYPROJECT["project"]["requires-python"].strip())
    assert m, PYPROJECT["project"]["requires-python"]
    lowest = (3, int(m.group(1)))
    users = []
    for py in PKG.rglob("*.py"):
        tree = ast.parse(py.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            if "tomllib" in names:
                users.append(py.relative_to(PKG).as_posix())
    if users:
        assert lowest >= (3, 11), f"requires-python {lowest} but {users} import tomllib (3.11+)"


def _setuptools_ok() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    return int(setuptools.__version__.split(".")[0]) >= 77


@pytest.mark.skipif(not _setuptools_ok(), reason="needs setuptools>=77 (the test extra) to build")
def test_built_sdist_and_wheel_hold_the_package_and_nothing_else(tmp_path):
    src = tmp_path / "src-tree"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "MANIFEST.in", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbc", "*.nbi", "*.egg-info")
    shutil.copytree(ROOT / "src", src / "src", ignore=ignore)
    if (ROOT / "tests").is_dir():  # so that the sdist's pruning is exercised
        shutil.copytree(ROOT / "tests", src / "tests", ignore=ignore)
    out = tmp_path / "dist"
    code = ("import sys; from setuptools import build_meta as b; "
            "d = sys.argv[1]; s = b.build_sdist(d); w = b.build_wheel(d); print('BUILT', s, w)")  # (hooks rewrite sys.argv)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    r = subprocess.run([sys.executable, "-c", code, str(out)], cwd=src, capture_output=True, text=True,
                       timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    built = [ln.split() for ln in r.stdout.splitlines() if ln.startswith("BUILT ")]
    assert built, r.stdout[-3000:]
    sdist_name, wheel_name = built[-1][1:]

    with zipfile.ZipFile(out / wheel_name) as z:
        infos = {i.filename: i for i in z.infolist()}
        meta = z.read(next(n for n in infos if n.endswith(".dist-info/METADATA"))).decode()
        weights = {n: hashlib.sha256(z.read(n)).hexdigest() for n in infos if n.endswith(".safetensors")}
    licence = [n for n in infos if n.endswith(".dist-info/licenses/LICENSE")]
    assert licence, "the MIT licence text is not in the wheel"
    top = {n.split("/")[0] for n in infos}
    assert top == {"mutualfuse", wheel_name.split("-")[0] + "-" + wheel_name.split("-")[1] + ".dist-info"}, top
    stray = [n for n in infos if CACHE_PARTS & set(n.split("/")) or Path(n).suffix in CACHE_SUFFIXES
             or n.startswith("mutualfuse/tests/")]
    assert not stray, stray
    big = [(n, i.file_size) for n, i in infos.items() if i.file_size > 16 * 2**20]
    assert not big, f"files over 16 MiB in the wheel: {big}"
    assert sum(i.file_size for i in infos.values()) < 80 * 2**20

    # every data file and every module on disk is in the wheel
    want = {f"mutualfuse/{f}" for f in _data_files()}
    want |= {f"mutualfuse/{p.relative_to(PKG).as_posix()}" for p in PKG.rglob("*.py")
             if "__pycache__" not in p.parts}
    assert not want - set(infos), sorted(want - set(infos))

    # the shipped weights are in it, byte for byte what the registry's sha256 names
    from mutualfuse.weights import SHIPPED

    for w in SHIPPED.values():
        assert weights.get(f"mutualfuse/weights/{w.file}") == w.sha256, w.name

    # metadata
    assert f"Version: {PYPROJECT['project']['version']}" in meta
    assert f"Requires-Python: {PYPROJECT['project']['requires-python'].split('#')[0].strip()}" in meta
    assert "License-Expression: MIT" in meta
    assert "Description-Content-Type: text/markdown" in meta

    # the sdist: the sources and the build files, no tests
    with tarfile.open(out / sdist_name) as t:
        names = [n.split("/", 1)[1] for n in t.getnames() if "/" in n]
    assert not [n for n in names if n.startswith("tests/")], "the sdist ships tests/"
    assert "LICENSE" in names, "the MIT licence text is not in the sdist"
    sdist_pkg = {n[len("src/"):] for n in names if n.startswith("src/mutualfuse/") and not n.endswith("/")}
    assert not want - sdist_pkg, sorted(want - sdist_pkg)


def test_the_benchmark_default_configs_come_from_the_package(tmp_path, monkeypatch):
    """An installed wheel has no configs/ folder: `mutualfuse benchmark` looked for
    configs/benchmark/*.yaml beside the source checkout only and exited 1 ('no figures config')."""
    import mutualfuse
    from mutualfuse.benchmark.config import find_config

    monkeypatch.chdir(tmp_path)
    pkg = Path(mutualfuse.__file__).resolve().parent
    for name in ("figures.yaml", "ablations.yaml"):
        p = find_config(name)
        assert p is not None and p.resolve().is_relative_to(pkg), p
