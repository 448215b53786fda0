"""The benchmark scripts never read data from a folder guessed from where the repository lies
(project rule: full sets come from a data root given by option or environment variable). A
fallback to ``<repo>/../shared/data`` was added and removed in session 26."""
import argparse
import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_root_named_is_none_even_with_a_shared_folder_beside(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "benchmarks").mkdir(parents=True)
    shutil.copy(ROOT / "benchmarks" / "_common.py", repo / "benchmarks" / "_common.py")
    (tmp_path / "shared" / "data" / "ir-vis").mkdir(parents=True)  # where a checkout would keep it
    spec = importlib.util.spec_from_file_location("bench_common_copy", repo / "benchmarks" / "_common.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for var in ("MUTUALFUSE_DATA", "MUTUALFUSE_SHARED"):
        monkeypatch.delenv(var, raising=False)
    assert mod.data_root(argparse.ArgumentParser(), None, required=False) == (None, "none")
    monkeypatch.setenv("MUTUALFUSE_DATA", str(tmp_path / "shared" / "data"))
    root, origin = mod.data_root(argparse.ArgumentParser(), None, required=False)
    assert root == tmp_path / "shared" / "data" and "MUTUALFUSE_DATA" in origin
