"""``scripts/gpu_paper_scale.py``'s archive: ``unpack`` takes regular files and folders only, and
``pack`` never follows or records a symbolic link.

Before: the archive brought back from the device was unpacked by hand (``tar xzf``), with
nothing refusing a symbolic link or an absolute or ``..`` member path; and ``pack`` recorded a
link in the work folder as a link (``tarfile.add``) and followed a chain folder that linked
elsewhere (its glob went through it), so files from outside the run folder could travel back."""
from __future__ import annotations

import importlib.util
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts/gpu_paper_scale.py"


def _script():
    spec = importlib.util.spec_from_file_location("gpu_paper_scale_s18", SCRIPT)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


G = _script()
FILTERS = [True, False] if hasattr(tarfile, "data_filter") else [False]


def _archive(path: Path, members: list[tuple[str, str, bytes | str]]) -> Path:
    """A .tar.gz of (name, kind, data-or-link-target) members: kind 'file', 'dir', 'sym', 'hard'."""
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, data in members:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                ti.size, ti.mode = len(data), 0o777
                tar.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {"dir": tarfile.DIRTYPE, "sym": tarfile.SYMTYPE, "hard": tarfile.LNKTYPE}[kind]
            ti.linkname = data if kind in ("sym", "hard") else ""
            tar.addfile(ti)
    return path


def _cli(*args: str, cwd: Path):
    return subprocess.run([sys.executable, str(SCRIPT), "unpack", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=60)


def _listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


BAD = {
    "symlink": [("gpu_runs/report.json", "file", b"{}"), ("gpu_runs/x/log.csv", "sym", "../../../outside.txt")],
    "symlink-inside": [("gpu_runs/a.txt", "file", b"a"), ("gpu_runs/b.txt", "sym", "a.txt")],
    "dotdot": [("gpu_runs/report.json", "file", b"{}"), ("gpu_runs/../../outside.txt", "file", b"pwned")],
    "absolute": [("/tmp/s18-absolute-outside.txt", "file", b"pwned")],
    "hardlink": [("gpu_runs/a.txt", "file", b"a"), ("gpu_runs/b.txt", "hard", "/etc/passwd")],
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_unpack_refuses_links_and_unsafe_paths_with_one_line_and_writes_nothing(tmp_path, case):
    work = tmp_path / "here"
    work.mkdir()
    archive = _archive(tmp_path / "gpu_runs.tar.gz", BAD[case])
    before = _listing(tmp_path)
    r = _cli(str(archive), "runs", cwd=work)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("gpu_paper_scale.py unpack: ") and r.stderr.count("\n") == 1, r.stderr
    assert str(archive) in r.stderr and "Traceback" not in r.stderr
    assert ("link" in r.stderr) if "link" in case else ("absolute path or '..'" in r.stderr)
    assert _listing(tmp_path) == before  # no folder, no temporary, nothing outside
    assert not Path("/tmp/s18-absolute-outside.txt").exists()


@pytest.mark.parametrize("use_filter", FILTERS)
def test_unpack_refuses_before_writing_with_either_extraction(tmp_path, use_filter):
    # the checks come first: also without tarfile's filters (Python 3.11.0-3.11.3) nothing is written
    for case, members in BAD.items():
        archive = _archive(tmp_path / f"{case}.tar.gz", members)
        with pytest.raises(G.UnpackError):
            G.unpack(archive, tmp_path / f"out-{case}", use_filter=use_filter)
        assert not (tmp_path / f"out-{case}").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{c}.tar.gz" for c in BAD)
    assert not (tmp_path.parent / "outside.txt").exists()


@pytest.mark.parametrize("use_filter", FILTERS)
def test_what_pack_writes_unpacks_with_the_umask(tmp_path, use_filter):
    work = tmp_path / "work"
    (work / "paper-gpu/stage1").mkdir(parents=True)
    (work / "paper-gpu/stage1/log.csv").write_text("step,loss\n1,0.5\n")
    (work / "paper-gpu/stage1/final.safetensors").write_bytes(b"w" * 1000)
    (work / "profile.txt").write_text("profile\n")
    G.pack(work, tmp_path / "out", {"chains": {}})
    old = os.umask(0o027)
    try:
        n = G.unpack(tmp_path / "out/gpu_runs.tar.gz", tmp_path / "back", use_filter=use_filter)
    finally:
        os.umask(old)
    back = tmp_path / "back/gpu_runs"
    assert n == 4
    assert (back / "paper-gpu/stage1/log.csv").read_text() == "step,loss\n1,0.5\n"
    assert (back / "paper-gpu/stage1/final.safetensors").read_bytes() == b"w" * 1000
    assert (back / "profile.txt").read_text() == "profile\n" and (back / "report.json").exists()
    assert (back / "report.json").stat().st_mode & 0o777 == 0o640  # the umask's, not the archive's
    assert (tmp_path / "back").stat().st_mode & 0o777 == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back", "out", "work"]  # no temporary left


def test_an_executable_member_loses_its_archive_mode(tmp_path):
    archive = _archive(tmp_path / "a.tar.gz", [("gpu_runs/run.sh", "file", b"#!/bin/sh\n")])  # mode 0777
    old = os.umask(0o022)
    try:
        G.unpack(archive, tmp_path / "back")
    finally:
        os.umask(old)
    assert (tmp_path / "back/gpu_runs/run.sh").stat().st_mode & 0o777 == 0o644


def test_unpack_cli_errors_are_one_line(tmp_path):
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive at all")
    good = _archive(tmp_path / "good.tar.gz", [("gpu_runs/a.txt", "file", b"a")])
    (tmp_path / "exists").mkdir()
    for args, words in [((str(tmp_path / "junk.tar.gz"), str(tmp_path / "o1")), "cannot unpack"),
                        ((str(tmp_path / "missing.tar.gz"), str(tmp_path / "o2")), "no such file"),
                        ((str(good), str(tmp_path / "exists")), "already exists")]:
        r = _cli(*args, cwd=tmp_path)
        assert r.returncode == 2 and words in r.stderr and r.stderr.count("\n") == 1, r.stderr
        assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists", "good.tar.gz", "junk.tar.gz"]
    r = _cli(str(good), str(tmp_path / "ok"), cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "ok/gpu_runs/a.txt").read_bytes() == b"a"


def test_pack_neither_follows_nor_records_symbolic_links(tmp_path):
    outside = tmp_path / "outside"
    (outside / "stage1").mkdir(parents=True)
    (outside / "secret.txt").write_text("SECRET-FILE")
    (outside / "stage1/config.json").write_text('{"SECRET": "DIR"}')
    work = tmp_path / "work"
    (work / "paper-gpu/stage1").mkdir(parents=True)
    (work / "paper-gpu/stage1/log.csv").write_text("step\n1\n")
    (work / "paper-gpu/stage1/stdout.txt").symlink_to(outside / "secret.txt")  # a file link out
    (work / "paper-gpu/stage1/stderr.txt").symlink_to("log.csv")  # a link inside: not recorded either
    (work / "evil").symlink_to(outside)  # a chain folder that leads out: evil/stage1/config.json
    (work / "profile.txt").symlink_to(outside / "secret.txt")
    G.pack(work, tmp_path / "out", {"chains": {}})
    with tarfile.open(tmp_path / "out/gpu_runs.tar.gz") as tar:
        members = tar.getmembers()
        data = b"".join(tar.extractfile(m).read() for m in members if m.isreg())
    assert sorted(m.name for m in members) == ["gpu_runs/paper-gpu/stage1/log.csv", "gpu_runs/report.json"]
    assert all(m.isreg() for m in members)
    assert b"SECRET" not in data
