"""``scripts/gpu_payload.py prepare`` refuses a symbolic link inside the training set (s19 audit).

Before: the set was copied into ``.gpudata`` with ``shutil.copytree``'s default, which follows
links, so a link in ``train/roadscene`` to a file (or a folder) outside it put that file in the
payload that travels to the lent GPU machine. Now the first link is named in one line, the exit
status is 2 and nothing is changed: not the index, not ``.git/info/exclude``, no ``.gpudata``.
The set's own folder may be a link (it is where the data is kept)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = b"outside the training set"


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def repo(tmp_path) -> Path:
    """A small repository with the script, committed, and its own exclude file."""
    repo = tmp_path / "repo"
    for rel in ("src/mutualfuse/__init__.py", "docs/a.md", "tests/t.py"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("x\n")
    (repo / "scripts").mkdir()
    shutil.copy(ROOT / "scripts/gpu_payload.py", repo / "scripts/gpu_payload.py")
    (repo / ".gitignore").write_text("/.gpudata/\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    (repo / ".git/info").mkdir(exist_ok=True)
    (repo / ".git/info/exclude").write_text("/mine/\n")
    return repo


def _data(tmp_path: Path) -> Path:
    """``data/train/roadscene`` with two regular images, and a file outside it."""
    data = tmp_path / "data/train/roadscene"
    (data / "ir").mkdir(parents=True)
    (data / "vi").mkdir()
    (data / "ir/0.png").write_bytes(b"ir")
    (data / "vi/0.png").write_bytes(b"vi")
    (tmp_path / "private").mkdir()
    (tmp_path / "private/key.txt").write_bytes(SECRET)
    return data


def _prepare(repo: Path, data_root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(repo / "scripts/gpu_payload.py"), "prepare", "--data-root",
                           str(data_root)], capture_output=True, text=True, cwd=repo.parent, timeout=60)


def _state(repo: Path) -> tuple[str, str, str, bool]:
    return (_git(repo, "ls-files", "--stage"), _git(repo, "status", "--porcelain"),
            (repo / ".git/info/exclude").read_text(), (repo / ".gpudata").exists())


LINKS = {
    # name: (the link, relative to the set; its target; is the target a folder)
    "file-outside": ("ir/1.png", "../../../../private/key.txt", False),
    "folder-outside": ("vi/more", "../../../../private", True),
    "absolute": ("ir/1.png", "{tmp}/private/key.txt", False),
    "inside-the-set": ("ir/1.png", "0.png", False),
    "dangling": ("ir/1.png", "nowhere.png", False),
    "control-character-in-name": ("ir/new\nline.png", "../../../../private/key.txt", False),
}


@pytest.mark.parametrize("case", sorted(LINKS))
def test_a_link_in_the_training_set_is_refused_with_one_line_and_nothing_changes(tmp_path, repo, case):
    data = _data(tmp_path)
    rel, target, is_dir = LINKS[case]
    target = target.format(tmp=tmp_path)
    os.symlink(target, data / rel, target_is_directory=is_dir)
    before = _state(repo)
    r = _prepare(repo, tmp_path / "data")
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("gpu_payload.py: "), r.stderr
    assert "Traceback" not in r.stderr and "symbolic link" in r.stderr, r.stderr
    shown = str(data / rel) if case != "control-character-in-name" else repr(str(data / rel))
    assert f"{shown} is a symbolic link (to {target})" in r.stderr, r.stderr
    assert _state(repo) == before  # the index, the exclude file, no .gpudata
    travelled = [p for p in repo.rglob("*") if p.is_file() and not p.is_symlink() and p.read_bytes() == SECRET]
    assert travelled == []


def test_the_first_link_in_sorted_order_is_named(tmp_path, repo):
    data = _data(tmp_path)
    os.symlink("0.png", data / "vi/b.png")
    os.symlink("0.png", data / "ir/z.png")
    r = _prepare(repo, tmp_path / "data")
    assert r.returncode == 2 and f"{data / 'ir/z.png'} is a symbolic link" in r.stderr, r.stderr


def test_a_set_without_links_is_copied_and_the_sets_own_folder_may_be_a_link(tmp_path, repo):
    real = _data(tmp_path)
    moved = tmp_path / "disk/roadscene"
    moved.parent.mkdir()
    real.rename(moved)
    os.symlink(moved, real, target_is_directory=True)  # data/train/roadscene -> disk/roadscene
    r = _prepare(repo, tmp_path / "data")
    assert r.returncode == 0, r.stderr
    copied = repo / ".gpudata/train/roadscene"
    assert sorted(str(p.relative_to(copied)) for p in copied.rglob("*")) == ["ir", "ir/0.png", "vi", "vi/0.png"]
    assert not any(p.is_symlink() for p in copied.rglob("*"))
    assert (copied / "ir/0.png").read_bytes() == b"ir"
    r = subprocess.run([sys.executable, str(repo / "scripts/gpu_payload.py"), "restore"], capture_output=True,
                       text=True, cwd=repo, timeout=60)
    assert r.returncode == 0, r.stderr
