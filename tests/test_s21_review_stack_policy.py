"""Session 21 review: ``fuse_stack_files`` with a shared Fuser (the web page's cached one) no
longer changes that Fuser's ``normalize`` policy while the stack fuses.

Before, it set ``fuser.normalize = "auto"`` for the whole stack (under the Fuser's lock), but
the pair path reads its images with ``fuser.normalize`` outside that lock
(``mutualfuse.cli.fuse.read_pair``): a pair read by another thread while a stack fused was read
under ``"auto"`` (16-bit images stretched by their percentiles) instead of the page's policy
(``"full"``). Now the stack fuses with a copy under ``"auto"`` that shares the network and the
lock; the fuser itself keeps its policy, and the stack's output and report are unchanged."""
from __future__ import annotations

import threading

import numpy as np
from PIL import Image

from mutualfuse.api import Fuser
from mutualfuse.cli import build_parser
from mutualfuse.cli.fuse import read_pair
from mutualfuse.cli.fuse_stack import fuse_stack_files


def _stack16(tmp_path, n=3, size=24):
    """16-bit PNGs of a narrow span (1000..3000 of 0..65535): "auto" stretches them by their
    percentiles, "full" keeps them near 0.03."""
    rng = np.random.default_rng(5)
    paths = []
    for k in range(n):
        p = tmp_path / f"s{k}.png"
        Image.fromarray(rng.integers(1000, 3000, (size, size)).astype(np.uint16)).save(p)
        paths.append(str(p))
    return paths


def _ns(paths, out, policy):
    return build_parser().parse_args(["fuse-stack", *paths, "-o", str(out), "--method", "average",
                                      "--normalize", policy, "-q"])


def test_a_pair_read_by_another_thread_during_a_stack_keeps_the_fusers_policy(tmp_path):
    paths = _stack16(tmp_path)
    fuser = Fuser("average", normalize="full")
    want = read_pair(Fuser("average", normalize="full"), paths[0], paths[1])[0]
    seen = {}

    def progress(done, total):  # runs inside the stack's fusion
        def other():  # the page's pair request in another thread: reads with the shared fuser
            seen["policy"] = fuser.normalize
            seen["a"] = read_pair(fuser, paths[0], paths[1])[0]
        t = threading.Thread(target=other)
        t.start()
        t.join()

    done = fuse_stack_files(_ns(paths, tmp_path / "s.png", "full"), fuser=fuser, progress=progress)
    assert done.fusions == 2
    assert seen["policy"] == "full"
    assert np.array_equal(seen["a"], want)  # before: stretched by percentiles (max 1.0, not ~0.05)
    assert fuser.normalize == "full"


def test_the_stack_with_a_shared_fuser_is_the_commands_stack(tmp_path):
    paths = _stack16(tmp_path, n=4)
    for policy in ("percentile", "full"):
        shared = Fuser("average", normalize=policy)
        a = fuse_stack_files(_ns(paths, tmp_path / f"shared-{policy}.png", policy), fuser=shared)
        b = fuse_stack_files(_ns(paths, tmp_path / f"own-{policy}.png", policy))
        assert (tmp_path / f"shared-{policy}.png").read_bytes() == (tmp_path / f"own-{policy}.png").read_bytes()
        assert a.notes == b.notes and a.fusions == b.fusions == 3
        assert shared.normalize == policy


def test_a_stack_waits_for_a_call_in_progress_on_the_shared_fuser(tmp_path):
    paths = _stack16(tmp_path)
    fuser = Fuser("average", normalize="full")
    started, release = threading.Event(), threading.Event()
    order = []

    def blocking(done, total):
        started.set()
        release.wait(5)
        order.append("first stack")

    t = threading.Thread(target=lambda: fuse_stack_files(_ns(paths, tmp_path / "1.png", "full"), fuser=fuser,
                                                         progress=blocking))
    t.start()
    assert started.wait(5)
    got = fuser._lock.acquire(timeout=0.2)  # the shared fuser is busy with the first stack
    if got:
        fuser._lock.release()
    release.set()
    t.join(10)
    fuse_stack_files(_ns(paths, tmp_path / "2.png", "full"), fuser=fuser, progress=lambda d, n: order.append("second"))
    assert got is False
    assert order[0] == "first stack" and "second" in order
