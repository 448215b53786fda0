"""``mutualfuse fuse-dir -j N``: N spawned worker processes give the files, summary, failure lines
and exit status of ``-j 1`` (a classical method here; the network and a method of one's own in
``test_s20_fuse_dir_jobs_network.py``), skip existing outputs unless ``--overwrite``, respect the
umask; ``-j 0`` / negative and ``-j`` under torchrun are one-line errors (exit 2)."""
from __future__ import annotations

import os
import re
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from one_line_error import assert_one_line_error  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "mutualfuse" / "data" / "samples"


def make_pairs(tmp_path: Path, n: int = 5, bad: bool = True) -> tuple[Path, Path]:
    """``n`` gray pairs cut from the bundled TNO sample, and (``bad``) a size mismatch p9."""
    a = np.asarray(Image.open(SAMPLES / "tno-01" / "a.png").convert("L"))
    b = np.asarray(Image.open(SAMPLES / "tno-01" / "b.png").convert("L"))
    da, db = tmp_path / "A", tmp_path / "B"
    da.mkdir()
    db.mkdir()
    for i in range(n):
        y, x = 17 * i, 23 * i
        Image.fromarray(np.ascontiguousarray(a[y:y + 48, x:x + 64])).save(da / f"p{i}.png")
        Image.fromarray(np.ascontiguousarray(b[y:y + 48, x:x + 64])).save(db / f"p{i}.png")
    if bad:
        Image.fromarray(np.zeros((40, 52), np.uint8)).save(da / "p9.png")
        Image.fromarray(np.zeros((41, 52), np.uint8)).save(db / "p9.png")
    return da, db


def run(capfd, argv: list[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capfd.readouterr()  # file-descriptor level: the workers' output too
    return rc, out, err


def files(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(d.iterdir())}


def summary(out: str) -> str:
    """The summary line without its time."""
    return re.sub(r"\(\d+\.\d s\)", "(T s)", out.strip())


def failure_lines(err: str) -> list[str]:
    lines = err.replace("\r", "\n").splitlines()
    i = next(k for k, line in enumerate(lines) if "pair(s) failed" in line)
    return lines[i:]


@pytest.fixture()
def one_thread():
    """One torch thread in this process, so that -j 1 and the -j 2 workers (threads // 2, at
    least 1) run the same number: the outputs are then bitwise equal by construction, on any
    machine (across thread counts they are equal where measured, not guaranteed: docs/inputs.md)."""
    import torch

    torch.set_num_threads(1)  # restored by tests/conftest.py
    yield


def test_classical_method_j2_equals_j1_skip_overwrite_and_umask(tmp_path, capfd, one_thread):
    da, db = make_pairs(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    for d in (one, two):  # an existing output is skipped by both, and kept as it is
        d.mkdir()
        (d / "p1.png").write_bytes(b"done before")
    old = os.umask(0o027)
    try:
        rc1, out1, err1 = run(capfd, ["fuse-dir", str(da), str(db), "-o", str(one), "--method", "cbf"])
        rc2, out2, err2 = run(capfd, ["fuse-dir", str(da), str(db), "-o", str(two), "--method", "cbf", "-j", "2"])
    finally:
        os.umask(old)
    assert rc1 == rc2 == 2, (err1, err2)
    assert summary(out1).startswith("fused 4, skipped 1 already done, failed 1 ")
    assert summary(out2) == summary(out1).replace(str(one), str(two))
    assert failure_lines(err2) == failure_lines(err1)
    assert failure_lines(err2) == ["mutualfuse: error: 1 pair(s) failed:",
                                   f"  {da / 'p9.png'}: {db / 'p9.png'}: size mismatch: {da / 'p9.png'} is 52x40, "
                                   f"{db / 'p9.png'} is 52x41 (the pair must be registered)"]
    assert "Traceback" not in err2
    f1, f2 = files(one), files(two)
    assert sorted(f2) == [f"p{i}.png" for i in range(5)] == sorted(f1)  # no temporary left
    assert f2 == f1  # byte for byte
    assert f2["p1.png"] == b"done before"
    for p in two.iterdir():
        assert p.stat().st_mode & 0o777 == (0o640 if p.name != "p1.png" else (0o666 & ~old))

    # --overwrite: every pair redone, in the workers, the same bytes as -j 1's (p1 now fused too)
    rc1, out1, _ = run(capfd, ["fuse-dir", str(da), str(db), "-o", str(one), "--method", "cbf", "--overwrite"])
    rc2, out2, _ = run(capfd, ["fuse-dir", str(da), str(db), "-o", str(two), "--method", "cbf", "--overwrite",
                               "-j", "3", "-q"])
    assert rc1 == rc2 == 2
    assert summary(out1).startswith("fused 5, skipped 0 already done, failed 1 ")
    assert out2 == ""  # -q: no summary on stdout, the failures still on stderr
    assert files(two) == files(one)
    assert files(two)["p1.png"] != b"done before"


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_jobs_below_one_is_a_one_line_error(tmp_path, capsys, value):
    da, db = make_pairs(tmp_path, n=1, bad=False)
    err = assert_one_line_error(capsys, ["fuse-dir", str(da), str(db), "-o", str(tmp_path / "o"),
                                         "--method", "cbf", "-j", value], "-j/--jobs")
    assert "at least 1" in err or "integer" in err
    assert not (tmp_path / "o").exists()


def test_jobs_with_torchrun_is_refused_once(tmp_path, capsys, monkeypatch):
    """Under torchrun (its environment variables) -j N > 1 is refused before anything is done:
    rank 0 says it in one line, the other ranks leave with status 2 and say nothing."""
    da, db = make_pairs(tmp_path, n=1, bad=False)
    argv = ["fuse-dir", str(da), str(db), "-o", str(tmp_path / "o"), "--method", "cbf", "-j", "2"]
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("MASTER_ADDR", "127.0.0.1")  # torchrun sets the rendezvous too
    monkeypatch.setenv("MASTER_PORT", "29500")
    monkeypatch.setenv("LOCAL_RANK", "0")
    monkeypatch.setenv("RANK", "0")
    assert_one_line_error(capsys, argv, "-j/--jobs 2", "torchrun", "WORLD_SIZE=2")
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert main(argv) == 2
    assert capsys.readouterr() == ("", "")
    assert not (tmp_path / "o").exists()


@pytest.fixture()
def own_module(tmp_path, method_registry):
    """A module file registering ``s20own<tag>`` (a weighted mean); sys.modules / sys.path restored."""
    tag = uuid.uuid4().hex[:8]
    path, mods = list(sys.path), set(sys.modules)
    f = tmp_path / "mods" / f"s20mod{tag}.py"
    f.parent.mkdir()
    f.write_text(textwrap.dedent(f'''
        from mutualfuse.methods import register_method

        @register_method("s20own{tag}", family="pixel")
        def fuse(a, b):
            return 0.3 * a + 0.7 * b
    '''))
    yield f, f"s20own{tag}"
    sys.path[:] = path
    for m in set(sys.modules) - mods:
        if m.startswith("s20mod"):
            del sys.modules[m]
