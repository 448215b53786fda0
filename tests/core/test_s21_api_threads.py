"""Audit s21: one :class:`mutualfuse.Fuser` (or :func:`mutualfuse.fuse`) used from several threads.

Before: task mode ``"auto"`` (the shipped ``default``'s) sets the network to the detected task's
settings (``Fuser.use_task``) and then runs it; two threads fusing with one fuser at once ran
each other's settings: on 128x128 crops of the three bundled pairs, fused from 3 threads, pairs
came back up to 58 grey levels off their sequential result, every time. ``Fuser.report`` was one
object for all threads, so a thread read the report of another thread's call. And
``mutualfuse.fuse`` filled its one-entry cache and looked the fuser up again, which a call with
other settings from another thread could clear in between (a KeyError).

Now the fuser runs one call at a time (the others wait), each thread reads the report of its own
last call, and ``mutualfuse.fuse`` holds the fuser it built. The first two tests make the
interleaving happen every time (both threads inside the network at once, or a call between a
fill of the cache and its lookup) instead of hoping for it.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mutualfuse
from mutualfuse import api

SAMPLES = Path(mutualfuse.__file__).parent / "data" / "samples"

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _crop(pair: str, side: int = 64) -> tuple[np.ndarray, np.ndarray]:
    return tuple(np.ascontiguousarray(np.asarray(Image.open(SAMPLES / pair / f"{n}.png").convert("L"))[:side, :side])
                 for n in "ab")


@pytest.fixture(scope="module")
def pairs():
    return {"tno": _crop("tno-01"), "lytro": _crop("lytro-01")}


@pytest.fixture(scope="module")
def sequential(pairs):
    """Each pair fused alone, in sequence, by a fuser of its own: result and detected task."""
    out = {}
    for name, (a, b) in pairs.items():
        f = mutualfuse.Fuser("default", device="cpu")
        out[name] = (f.fuse(a, b), f.report.task)
    assert out["tno"][1] != out["lytro"][1], "the test needs two pairs of different detected tasks"
    return out


def test_two_threads_inside_the_network_at_once_keep_their_task_settings(pairs, sequential):
    """Both threads are held at the network's entry until the other arrives (or 3 s pass): the
    old fuser let both set their task's settings first, so one ran at the other's."""
    f = mutualfuse.Fuser("default", device="cpu")
    real_run = f.runner.run
    meet = threading.Barrier(2, timeout=3)

    def run(a, b):
        try:
            meet.wait()  # the old code: both threads here, each after its own use_task
        except threading.BrokenBarrierError:  # the fixed code: the other waits for this call
            pass
        return real_run(a, b)

    f.runner.run = run
    got, errors = {}, []

    def work(name):
        try:
            got[name] = (f.fuse(*pairs[name]), f.report.task)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(n,)) for n in pairs]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    for name, (fused, task) in got.items():
        want, want_task = sequential[name]
        assert task == want_task, name
        # the same computation as the sequential call (same settings, same size): bitwise equal
        assert np.array_equal(fused, want), (name, int(np.abs(fused.astype(int) - want.astype(int)).max()))


def test_each_thread_reads_the_report_of_its_own_call(pairs, sequential):
    """Thread 1 fuses, thread 2 fuses another pair, then thread 1 reads ``report``: its own."""
    f = mutualfuse.Fuser("default", device="cpu")
    first_done, second_done = threading.Event(), threading.Event()
    seen = {}

    def first():
        f.fuse(*pairs["tno"])
        first_done.set()
        second_done.wait(60)
        seen["first"] = f.report.task

    t = threading.Thread(target=first)
    t.start()
    assert first_done.wait(60)
    f.fuse(*pairs["lytro"])
    seen["second"] = f.report.task
    second_done.set()
    t.join()
    assert seen == {"first": sequential["tno"][1], "second": sequential["lytro"][1]}


def test_many_threads_one_fuser_give_the_sequential_results(pairs, sequential):
    f = mutualfuse.Fuser("default", device="cpu")
    names = ["tno", "lytro", "tno", "lytro"]
    got, errors = [None] * len(names), []

    def work(i):
        try:
            got[i] = f.fuse(*pairs[names[i]])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(names))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors
    for name, fused in zip(names, got):
        assert np.array_equal(fused, sequential[name][0]), name


class _ClearedByAnotherCall(dict):
    """``api._CACHE`` whose fill is followed at once by another thread's ``mutualfuse.fuse``
    call with other settings (which clears the one-entry cache): the interleaving that two
    threads calling ``mutualfuse.fuse`` can meet."""

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        if key[0] == "max":
            a = np.zeros((16, 16), np.uint8)
            t = threading.Thread(target=mutualfuse.fuse, args=(a, a), kwargs={"method": "average"})
            t.start()
            t.join()


def test_module_fuse_keeps_the_fuser_it_built(monkeypatch):
    monkeypatch.setattr(api, "_CACHE", _ClearedByAnotherCall())
    rng = np.random.default_rng(3)
    a, b = (rng.integers(0, 256, (24, 20), dtype=np.uint8) for _ in range(2))
    assert np.array_equal(mutualfuse.fuse(a, b, method="max"), np.maximum(a, b))
    assert np.array_equal(mutualfuse.fuse(a, b, method="average"), mutualfuse.Fuser("average").fuse(a, b))
