"""s24: the page's focus stack (:func:`mutualfuse.web.core.fuse_stack_request`) held every image of
the stack at once (it took the images for its plane-vs-fused slider from ``fuse_stack_files(planes=)``,
which then keeps all N for the whole reduction): its peak memory grew with N (measured, 512x512 gray,
method ``average``: 15.7 float images for N = 8, 41.8 for N = 32). Each preview is now written as the
reduction reads its image, so the stack holds the ⌈log2 N⌉ + 2 images of ``fuse-stack`` (8.7 and
10.7). The file and the previews are unchanged (byte-identical to ``fuse-stack`` and to one preview
per image in stack order, checked here and in test_audit_s19_stack_core)."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.web import core

SIDE = 192
FLOAT_IMAGE = SIDE * SIDE * 8  # bytes of one gray float64 image


def _stack(folder, n):
    rng = np.random.default_rng(n)
    folder.mkdir()
    files = []
    for i in range(n):
        f = folder / f"z{i}.png"
        Image.fromarray(rng.integers(0, 256, (SIDE, SIDE), dtype=np.uint8)).save(f)
        files.append(str(f))
    return files


def _peak(tmp_path, n, order="tree"):
    files = _stack(tmp_path / f"s{n}{order}", n)
    s = core.Settings(method="average", device="cpu")
    cache = core.FuserCache()
    cache.get(core._namespace(s))  # the fuser built before: only the stack is measured
    # the lower of two runs: a stack run interns new strings (pathlib, each path's components),
    # and a resize of CPython's interned-strings dict inside one window counts its whole new
    # table (7.7 MB after a long session: tests/test_s28_stackmem_intern_resize.py); the next
    # resize is tens of thousands of new strings away, a real growth shows in both runs
    peaks = []
    for _ in range(2):
        tracemalloc.start()
        try:
            r = core.fuse_stack_request(files, s, tmp_path / "work", cache, order=order)
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
    return min(peaks), r, files


def test_the_stack_holds_log_n_images_not_n(tmp_path):
    small, _, _ = _peak(tmp_path, 6)
    large, r, _ = _peak(tmp_path, 24)
    assert len(r.planes) == 24
    # held_images: 5 for N = 6, 7 for N = 24; holding all (the old page) added about 1.3 images a plane
    assert large - small < 4 * FLOAT_IMAGE, (small / FLOAT_IMAGE, large / FLOAT_IMAGE)


@pytest.mark.parametrize("order", ["spread", "sequential"])
def test_file_and_previews_unchanged(tmp_path, order, monkeypatch):
    _, r, files = _peak(tmp_path, 5, order)
    # one preview per image, in stack order, each that image as fused (8-bit gray here: the file itself)
    assert [label for label, _ in r.planes] == [f"z{i}.png" for i in range(5)]
    for f, (_, p) in zip(files, r.planes):
        assert np.array_equal(np.asarray(Image.open(p)), np.asarray(Image.open(f)))
    out = tmp_path / "cli.png"
    assert main(["fuse-stack", *files, "-o", str(out), "--order", order, "--method", "average",
                 "--device", "cpu", "-q"]) == 0
    assert out.read_bytes() == r.out.read_bytes()


def test_the_stack_holds_the_cached_fusers_lock(tmp_path):
    """The page's stack fuses with a copy of the cached fuser (to write each preview as it is
    read); the copy must still hold the cached fuser's lock, so that another tab's request never
    uses the same network at once (test_s21_lead_stack_lock checks it for fuse_stack_files)."""
    import threading

    files = _stack(tmp_path / "lock", 3)
    s = core.Settings(method="average", device="cpu")
    cache = core.FuserCache()
    shared = cache.get(core._namespace(s))
    free_during = []

    def progress(done, total):
        got = []
        t = threading.Thread(target=lambda: got.append(shared._lock.acquire(blocking=False)))
        t.start()
        t.join()
        if got[0]:
            shared._lock.release()
        free_during.append(got[0])

    core.fuse_stack_request(files, s, tmp_path / "work", cache, progress=progress)
    assert free_during == [False, False]
    assert shared._lock.acquire(blocking=False)  # released after the stack
    shared._lock.release()
