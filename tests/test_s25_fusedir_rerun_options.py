"""``fuse-dir`` rerun into a folder of outputs made with other options: refused in one line (exit
2, nothing touched), not "skipped already done" with stale outputs. Before: a rerun with
``--method lp`` over ``--method average`` outputs said ``fused 0, skipped 3 already done`` and
exited 0. Each output records the options it was made
with in an extended attribute (``user.mutualfuse.fuse-dir``); an output without one (an older
mutualfuse, copied without attributes) is still skipped, with a note."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from xattrs import xattrs_work

XATTR = "user.mutualfuse.fuse-dir"


@pytest.fixture(autouse=True)
def _need_xattrs(tmp_path):
    if not xattrs_work(tmp_path):
        pytest.skip("extended attributes (os.setxattr, user.*) are not available here")


def _folders(tmp_path, n=3):
    rng = np.random.default_rng(7)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (48, 64), dtype=np.uint8)).save(a / f"{i:02d}.png")
        Image.fromarray(rng.integers(0, 256, (48, 64), dtype=np.uint8)).save(b / f"{i:02d}.png")
    return a, b, tmp_path / "out"


def _run(capsys, a, b, out, *opts):
    rc = main(["fuse-dir", str(a), str(b), "-o", str(out), *opts])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def _contents(out):
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if not p.name.startswith(".")}


def test_a_rerun_with_another_method_is_refused_then_overwrite_redoes_it(tmp_path, capsys):
    a, b, out = _folders(tmp_path)
    assert _run(capsys, a, b, out, "--method", "average", "-q")[0] == 0
    first = _contents(out)
    rc, so, err = _run(capsys, a, b, out, "--method", "lp")
    assert rc == 2, (so, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"mutualfuse: error: {out / '00.png'}: made with other "
                                                   "options (--method average, now lp) (and 2 more"), err
    assert "--overwrite" in lines[0]
    assert _contents(out) == first  # nothing touched
    # the same options: skipped as before
    rc, so, err = _run(capsys, a, b, out, "--method", "average")
    assert rc == 0 and "fused 0, skipped 3 already done" in so and "note:" not in err
    # --overwrite redoes them with lp: the outputs of a fresh lp run, and lp is now what is recorded
    assert _run(capsys, a, b, out, "--method", "lp", "--overwrite", "-q")[0] == 0
    fresh = tmp_path / "fresh"
    assert _run(capsys, a, b, fresh, "--method", "lp", "-q")[0] == 0
    assert _contents(out) == _contents(fresh) != first
    rc, so, _ = _run(capsys, a, b, out, "--method", "lp")
    assert rc == 0 and "fused 0, skipped 3 already done" in so


@pytest.mark.parametrize("change", [["--normalize", "full"], ["--param", "levels=2"], ["--bit-depth", "16"]])
def test_a_resumed_run_with_other_output_options_is_refused(tmp_path, capsys, change):
    a, b, out = _folders(tmp_path)
    assert _run(capsys, a, b, out, "--method", "lp", "-q")[0] == 0
    (out / "01.png").unlink()  # as an interrupted run leaves it
    rc, _, err = _run(capsys, a, b, out, "--method", "lp", *change)
    assert rc == 2 and err.count("\n") == 1 and f"--{change[0].lstrip('-')} " in err, err
    assert not (out / "01.png").exists()
    # options that do not change an output (a limit, the suffix it already has): the resume goes on
    rc, so, _ = _run(capsys, a, b, out, "--method", "lp", "--max-pixels", "100000", "--ext", "png")
    assert rc == 0 and "fused 1, skipped 2 already done" in so


def test_an_unfinished_overwrite_keeps_the_old_options_on_record(tmp_path, capsys):
    a, b, out = _folders(tmp_path)
    assert _run(capsys, a, b, out, "--method", "average", "-q")[0] == 0
    (a / "02.png").write_bytes(b"junk")  # this pair fails: its average output stays
    rc, _, err = _run(capsys, a, b, out, "--method", "lp", "--overwrite", "-q")
    assert rc == 2 and "1 pair(s) failed" in err
    assert [json.loads(os.getxattr(out / f"{i:02d}.png", XATTR))["method"] for i in range(3)] == ["lp", "lp", "average"]
    rc, _, err = _run(capsys, a, b, out, "--method", "lp")
    assert rc == 2 and err.startswith(f"mutualfuse: error: {out / '02.png'}: made with other options "
                                      "(--method average, now lp); ")  # 02.png is average's, not lp's


def test_a_folder_without_a_record_is_skipped_with_a_note(tmp_path, capsys):
    a, b, out = _folders(tmp_path)
    assert _run(capsys, a, b, out, "--method", "average", "-q")[0] == 0
    for i in (1, 2):  # outputs of an older mutualfuse, or copied without their attributes
        os.removexattr(out / f"{i:02d}.png", XATTR)
    (out / "00.png").unlink()
    rc, so, err = _run(capsys, a, b, out, "--method", "lp")
    assert rc == 0 and "fused 1, skipped 2 already done" in so
    assert "note: 2 existing output(s) skipped as done without a record" in err
    assert json.loads(os.getxattr(out / "00.png", XATTR))["method"] == "lp"
    with pytest.raises(OSError):  # still unknown: not claimed to be lp's
        os.getxattr(out / "01.png", XATTR)


def test_an_unreadable_record_is_refused_in_one_line(tmp_path, capsys):
    a, b, out = _folders(tmp_path)
    assert _run(capsys, a, b, out, "--method", "average", "-q")[0] == 0
    os.setxattr(out / "01.png", XATTR, b"{not json")
    rc, _, err = _run(capsys, a, b, out, "--method", "average")
    assert rc == 2 and err.count("\n") == 1 and f"{out / '01.png'}: its record of the options" in err


def test_j2_workers_record_the_options_too(tmp_path, capsys):
    a, b, out = _folders(tmp_path, 2)
    assert _run(capsys, a, b, out, "--method", "average", "-j", "2", "-q")[0] == 0
    assert [json.loads(os.getxattr(out / f"{i:02d}.png", XATTR))["method"] for i in range(2)] == ["average"] * 2
    rc, _, err = _run(capsys, a, b, out, "--method", "lp")
    assert rc == 2 and "made with other options (--method average, now lp)" in err


def test_under_torchrun_rank_0_refuses_and_the_others_leave_quietly(tmp_path):
    from mutualfuse.cli import fuse_dir
    from mutualfuse.errors import InputError

    pairs = [(str(tmp_path / f"a{i}"), str(tmp_path / f"b{i}"), str(tmp_path / f"o{i}.png")) for i in range(4)]
    (tmp_path / "o0.png").write_bytes(b"x")
    sent = {}

    def broadcast(obj):  # rank 0 runs first here; every other rank gets rank 0's object
        if obj is not None:
            sent["x"] = obj
        return sent["x"]

    def check(skipped):  # rank 0 alone reads the outputs it would skip
        return f"refused, {len(skipped)} skipped: {skipped[0][2]}"

    with pytest.raises(InputError, match="refused, 1 skipped: .*o0.png"):
        fuse_dir.left_to_do(pairs, False, 0, 2, broadcast, check=check)
    with pytest.raises(fuse_dir._RefusedOnRank0):
        fuse_dir.left_to_do(pairs, False, 1, 2, broadcast, check=check)
