"""``scripts/gpu_payload.py``: prepare takes the paths a GPU run does not read out of git's index
and copies the training set into the ignored ``.gpudata``; restore gives the index back."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def test_prepare_then_restore(tmp_path):
    repo = tmp_path / "repo"
    for rel, size in [("src/mutualfuse/__init__.py", 10), ("configs/gpu/a.yaml", 10), ("docs/big.html", 5000),
                      ("runs-log/x/last.pt", 3000), ("tests/t.py", 10), ("benchmarks/b.py", 10),
                      ("src/mutualfuse/weights/other.safetensors", 4000),
                      ("src/mutualfuse/weights/fmm-pyramid-centred-bright-train2-roadscene-mf-cpu.safetensors", 100)]:
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(b"x" * size)
    (repo / "scripts").mkdir()
    shutil.copy(ROOT / "scripts/gpu_payload.py", repo / "scripts/gpu_payload.py")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    (repo / ".git/info").mkdir(exist_ok=True)
    (repo / ".git/info/exclude").write_text("/mine/\n")
    data = tmp_path / "data/train/roadscene"
    (data / "ir").mkdir(parents=True)
    (data / "ir/0.png").write_bytes(b"p" * 700)
    tracked = sorted(_git(repo, "ls-files").split())

    def run(*args):
        return subprocess.run([sys.executable, str(repo / "scripts/gpu_payload.py"), *args], capture_output=True,
                              text=True, cwd=tmp_path)

    r = run("prepare", "--data-root", str(tmp_path / "data"))
    assert r.returncode == 0, r.stderr
    travels = set(_git(repo, "ls-files", "--cached", "--others", "--exclude-standard").split())
    assert "src/mutualfuse/__init__.py" in travels and "configs/gpu/a.yaml" in travels
    assert "src/mutualfuse/weights/fmm-pyramid-centred-bright-train2-roadscene-mf-cpu.safetensors" in travels
    assert not travels & {"docs/big.html", "runs-log/x/last.pt", "tests/t.py", "src/mutualfuse/weights/other.safetensors"}
    assert (repo / ".gpudata/train/roadscene/ir/0.png").read_bytes() == b"p" * 700
    assert (repo / "docs/big.html").exists()  # the files stay on disk
    assert run("prepare", "--data-root", str(tmp_path / "data")).returncode != 0  # not twice
    r = run("restore")
    assert r.returncode == 0, r.stderr
    assert sorted(_git(repo, "ls-files").split()) == tracked
    assert _git(repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert (repo / ".git/info/exclude").read_text() == "/mine/\n"
