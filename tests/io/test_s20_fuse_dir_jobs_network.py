"""``fuse-dir -j 2`` with the network: the workers build the same fuser (weights, options) and
write the bytes of ``-j 1``; a worker that cannot import an ``--import`` module says so in one
line; a ``--pairs`` list with outputs in subfolders gives -j 1's files and failure lines. A
method of one's own in ``test_s20_fuse_dir_jobs_own.py``."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_s20_fuse_dir_jobs import failure_lines, files, make_pairs, run, summary, own_module  # noqa: E402,F401

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from one_line_error import assert_one_line_error  # noqa: E402


@pytest.fixture()
def one_thread():
    import torch

    torch.set_num_threads(1)  # -j 1 and the workers at one thread each (restored by tests/conftest.py)
    yield


def test_network_j2_equals_j1(tmp_path, capfd, lively_weights, one_thread):
    da, db = make_pairs(tmp_path)
    common = ["--weights", str(lively_weights), "--device", "cpu"]
    rc1, out1, err1 = run(capfd, ["fuse-dir", str(da), str(db), "-o", str(tmp_path / "one"), *common])
    rc2, out2, err2 = run(capfd, ["fuse-dir", str(da), str(db), "-o", str(tmp_path / "two"), *common, "-j", "2"])
    assert rc1 == rc2 == 2, (err1, err2)
    assert summary(out1).startswith("fused 5, skipped 0 already done, failed 1 ")
    assert summary(out2) == summary(out1).replace(str(tmp_path / "one"), str(tmp_path / "two"))
    assert failure_lines(err2) == failure_lines(err1)
    assert "Traceback" not in err2
    f1, f2 = files(tmp_path / "one"), files(tmp_path / "two")
    assert sorted(f1) == [f"p{i}.png" for i in range(5)]
    assert f2 == f1  # byte for byte


def test_a_worker_that_cannot_import_is_one_line(tmp_path, capfd, own_module):
    """A module whose import fails only in a worker: one line naming it, exit 2, no output."""
    f, name = own_module
    f.write_text(f.read_text() + textwrap.dedent('''
        import multiprocessing
        if multiprocessing.parent_process() is not None:
            raise RuntimeError("s20: not in a worker")
    '''))
    da, db = make_pairs(tmp_path, n=3, bad=False)
    err = assert_one_line_error(capfd, ["fuse-dir", str(da), str(db), "-o", str(tmp_path / "o"), "--method", name,
                                        "--import", str(f), "-j", "2", "-q"],
                                "a -j 2 worker could not start", f"--import {f}", "s20: not in a worker")
    assert "Traceback" not in err
    assert list((tmp_path / "o").iterdir()) == []


def test_pairs_list_with_subfolders_and_failures_in_order(tmp_path, capfd):
    """``--pairs LIST.csv`` with outputs in subfolders of -o (created by the workers) and three
    bad rows among good ones: -j 2 writes the files of -j 1 and lists the failures in row order."""
    da, db = make_pairs(tmp_path, n=4)
    rows = ["a,b,out", "A/p9.png,B/p9.png,x/p9.png", "A/p0.png,B/p0.png,x/p0.png", "A/p1.png,B/nope.png,y/p1.png",
            "A/p2.png,B/p2.png,y/deep/p2.png", "A/p3.png,B/p3.png,p3.png", "A/p2.png,B/p2.png,../out.png"]
    (tmp_path / "list.csv").write_text("\n".join(rows) + "\n")
    res = {}
    for j in ("1", "2"):
        res[j] = run(capfd, ["fuse-dir", "--pairs", str(tmp_path / "list.csv"), "-o", str(tmp_path / f"o{j}"),
                             "--method", "cbf", "-j", j])
    (rc1, out1, err1), (rc2, out2, err2) = res["1"], res["2"]
    assert rc1 == rc2 == 2, (err1, err2)
    assert summary(out1).startswith("fused 3, skipped 0 already done, failed 3 ")
    assert summary(out2) == summary(out1).replace(str(tmp_path / "o1"), str(tmp_path / "o2"))
    lines = failure_lines(err2)
    assert lines == [x.replace(str(tmp_path / "o1"), str(tmp_path / "o2")) for x in failure_lines(err1)]
    assert len(lines) == 4
    assert "out.png" in lines[1] and "p9.png" in lines[2] and "nope.png" in lines[3]  # the listing's first
    tree = {}
    for j in ("1", "2"):
        root = tmp_path / f"o{j}"
        tree[j] = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
    assert sorted(tree["2"]) == ["p3.png", "x/p0.png", "y/deep/p2.png"]
    assert tree["2"] == tree["1"]
