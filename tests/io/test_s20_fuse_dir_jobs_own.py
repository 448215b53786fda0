"""``fuse-dir -j 2`` with a method of one's own: every worker imports the ``--import`` module,
or the module of a method the caller registered before calling the command, and writes the
bytes of ``-j 1``."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_s20_fuse_dir_jobs import files, make_pairs, run, summary, own_module  # noqa: E402,F401


def test_own_method_imported_in_every_worker_and_registered_by_the_caller(tmp_path, capfd, own_module):
    f, name = own_module
    da, db = make_pairs(tmp_path, n=4, bad=False)
    rc1, out1, err1 = run(capfd, ["fuse-dir", str(da), str(db), "-o", str(tmp_path / "one"), "--method", name,
                                  "--import", str(f)])
    assert rc1 == 0, err1
    rc2, out2, err2 = run(capfd, ["fuse-dir", str(da), str(db), "-o", str(tmp_path / "two"), "--method", name,
                                  "--import", str(f), "-j", "2"])
    assert rc2 == 0, err2
    assert summary(out2) == summary(out1).replace(str(tmp_path / "one"), str(tmp_path / "two"))
    assert summary(out2).startswith("fused 4, skipped 0 already done, failed 0 ")
    assert files(tmp_path / "two") == files(tmp_path / "one")
    # the module already imported by the caller (here by the --import above, as a script would
    # import it before calling mutualfuse.cli.main): the workers import it too, by name
    assert f.stem in sys.modules
    rc3, out3, err3 = run(capfd, ["fuse-dir", str(da), str(db), "-o", str(tmp_path / "three"), "--method", name,
                                  "-j", "2"])
    assert rc3 == 0, err3
    assert files(tmp_path / "three") == files(tmp_path / "one")
