"""Session 21 (lead): a size refusal names the file in fuse and fuse-stack (fuse-dir already
did); fuse_stack_files fuses a stack under the shared Fuser's lock without changing that Fuser's
normalize policy (the web page's cached Fuser: another thread's call never runs with the
stack's policy; 8de091b, then 5ac105f's copy of the fuser)."""
from __future__ import annotations

import threading

import pytest

from mutualfuse.api import Fuser
from mutualfuse.cli.fuse_stack import fuse_stack_files

from tests.cli.test_s21_lead_fuse_options import _pair as random_pair
from tests.one_line_error import assert_one_line_error


def _pair(tmp_path, size=8):
    return random_pair(tmp_path, size, size)


@pytest.mark.parametrize("command,method,needle", [("fuse", "lp", "too deep"), ("fuse-stack", "cvt", "too many")])
def test_the_file_is_named_when_the_image_is_too_small_for_the_setting(tmp_path, capsys, command, method, needle):
    a, b = _pair(tmp_path)
    out = tmp_path / "f.png"
    err = assert_one_line_error(capsys, [command, a, b, "-o", str(out), "--method", method], needle)
    assert err.startswith(f"mutualfuse: error: {a}: method '{method}'"), err
    assert not out.exists()


def test_stack_fuses_under_the_lock_and_leaves_the_policy(tmp_path):
    paths = _pair(tmp_path, 32)
    out = tmp_path / "s.png"
    from mutualfuse.cli import build_parser

    ns = build_parser().parse_args(["fuse-stack", *paths, "-o", str(out), "--method", "average",
                                    "--normalize", "percentile"])
    fuser = Fuser("average", normalize="percentile")
    seen = {}

    def progress(done, total):  # called inside the stack's fusing
        def other():  # another thread: may it start a call on this fuser now, and with what policy?
            got = fuser._lock.acquire(timeout=0.2)
            seen["other_could_start"] = got
            seen["policy_it_would_see"] = fuser.normalize
            if got:
                fuser._lock.release()
        t = threading.Thread(target=other)
        t.start()
        t.join()

    fuse_stack_files(ns, fuser=fuser, progress=progress)
    assert out.exists()
    assert seen == {"other_could_start": False, "policy_it_would_see": "percentile"}, seen
    assert fuser.normalize == "percentile"
