"""A focus stack's peak memory does not grow with its length (s22 stack audit).

``fuse-stack`` read every image of the stack as a float64 array and held them all while it
fused (and ``Fuser.fuse_stack`` held a converted copy of each input, then half of them again as
the tree's first level): 20 to 60 planes of a microscope held 20 to 60 float images, ~22 bytes
a pixel per plane measured (1.5 GB for 64 planes of 1024x1024, 0.25 GB for 8). Now the tree is
reduced as the images are read (``mutualfuse.api.reduce_stack``, depth first), each file read
again when it is fused, so a stack holds ⌈log2 N⌉ + 2 float images.
Peak memory is traced (numpy's buffers) for a stack of 6 and of 24 images; the old code's
ratio was 3.4 to 3.7, now 1.0 to 1.5.

The peaks are measured in a fresh interpreter (:func:`_peaks_in_a_fresh_process`), the lower of
two runs each. One clean-clone CI run (s27) saw the colour case at 10.7 MB for 24 planes against
2.4 MB for 6 (3.05 MB normally): the interned-strings dict of CPython resized inside the window.
A stack run interns ~22 new strings a plane (pathlib interns every path component; they die with
the paths and come back as new entries), the dict grows to 3x its live strings when its entries
run out, and tracemalloc counts the whole new table while the old one, allocated before the
window, is freed uncounted: 7.69 MB at 2^19 slots, the size after a long test session
(3.05 + 7.69 = 10.7 MB). After a resize the next is tens of thousands of new strings away, so the
second run of a size never meets one (tests/test_s28_stackmem_intern_resize.py shows both). The
fresh interpreter also keeps out threads and caches left by earlier test files of the worker
(tracemalloc traces every thread)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.cli import main

H, W = 96, 128


def _planes(kind: str, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "16-bit":
        return [rng.integers(1000, 30000, (H, W)).astype(np.uint16) for _ in range(n)]
    if kind == "colour":
        return [rng.integers(0, 256, (H, W, 3)).astype(np.uint8) for _ in range(n)]
    return [rng.integers(0, 256, (H, W)).astype(np.uint8) for _ in range(n)]


def _write(kind: str, planes: list[np.ndarray], folder) -> str:
    folder.mkdir()
    if kind == "tiff":
        tifffile.imwrite(folder / "stack.tif", (np.stack(planes).astype(np.uint16) * 200), imagej=True,
                         metadata={"axes": "ZYX"})
        return str(folder / "stack.tif")
    for k, x in enumerate(planes):
        Image.fromarray(x).save(folder / f"z{k:02d}.png")
    return str(folder)


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _least_peak(fn, runs: int = 2) -> int:
    """The lower traced peak of ``runs`` calls of ``fn``: a one-off allocation inside one window
    that is not the code's (a resize of the interned-strings dict, module docstring) shows in one
    run only; a real growth with the stack shows in every run."""
    return min(_peak(fn) for _ in range(runs))


def _measure(spec: dict) -> dict:
    """In the fresh interpreter (:func:`_peaks_in_a_fresh_process`): the peaks of ``spec``'s
    runs after one warm-up run (the imports and the first call's buffers), {"6": …, "24": …}."""
    if spec["what"] == "api":
        f = Fuser("average")
        f.fuse_stack(_planes("8-bit", 2, 0))
        inputs = {6: _planes("8-bit", 6, 1), 24: _planes("8-bit", 24, 2)}  # the caller's, not counted
        return {str(n): _least_peak(lambda: f.fuse_stack(inputs[n])) for n in (6, 24)}
    stacks, out = spec["stacks"], Path(spec["out"])

    def run(n: str) -> None:
        assert main(["fuse-stack", stacks[n], "-o", str(out / f"o{n}.png"), "--method", "average", "-q"]) == 0

    run("2")
    return {n: _least_peak(lambda: run(n)) for n in ("6", "24")}


def _peaks_in_a_fresh_process(spec: dict) -> tuple[int, int]:
    """(peak for 6, peak for 24) measured by :func:`_measure` in a new interpreter running this
    checkout's mutualfuse: no thread, cache or interned string of the worker's earlier test files
    in its windows."""
    import mutualfuse

    src = str(Path(mutualfuse.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p))
    code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from test_s22_stack_memory import _measure; "
            "print(json.dumps(_measure(json.loads(sys.argv[2]))))")
    r = subprocess.run([sys.executable, "-c", code, str(Path(__file__).resolve().parent), json.dumps(spec)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    return got["6"], got["24"]


@pytest.mark.parametrize("kind", ["8-bit", "16-bit", "colour", "tiff"])
def test_the_command_lines_peak_memory_does_not_grow_with_the_stack(tmp_path, kind):
    src = "8-bit" if kind == "tiff" else kind
    stacks = {str(n): _write(kind, _planes(src, n, n), tmp_path / f"s{n}") for n in (2, 6, 24)}
    # in a fresh interpreter, the lower of two runs each (module docstring: CI once counted a
    # resize of the interned-strings dict, 7.7 MB, in one colour run of 24)
    small, large = _peaks_in_a_fresh_process({"what": "cli", "stacks": stacks, "out": str(tmp_path)})
    # before: 3.4-3.7 (N float images held); now ⌈log2 N⌉ + 2 at most (measured 1.0-1.5)
    assert large < 2.0 * small, (kind, small, large)


def test_the_apis_peak_memory_beyond_its_inputs_does_not_grow_with_the_stack():
    small, large = _peaks_in_a_fresh_process({"what": "api"})  # as the command line's (_measure)
    assert large < 2.0 * small, (small, large)  # before: each input held as float64 (and half again)


def _halves(items: list[str]) -> str:
    """The balanced tree: the stack halved (the first half the larger), each half so, then fused."""
    if len(items) == 1:
        return items[0]
    mid = (len(items) + 1) // 2
    return f"({_halves(items[:mid])},{_halves(items[mid:])})"


def test_the_tree_is_reduced_as_it_is_read_and_is_balanced():
    from mutualfuse.api import reduce_stack

    for n in range(2, 131):
        names = [str(i) for i in range(n)]
        read: list[int] = []

        def get(i: int) -> str:
            read.append(i)
            return names[i]

        assert reduce_stack(n, get, lambda x, y: f"({x},{y})", "tree") == _halves(names), n
        assert read == list(range(n))  # each image once, in order
    seq = reduce_stack(4, lambda i: str(i), lambda x, y: f"({x},{y})", "sequential")
    assert seq == "(((0,1),2),3)"


def test_a_13_plane_stack_is_the_balanced_tree_of_pairwise_fusions(tmp_path):
    """The command line's result is the balanced tree of lp's pairwise fusions, bit for bit."""
    planes = _planes("8-bit", 13, 7)
    folder = _write("8-bit", planes, tmp_path / "s")
    assert main(["fuse-stack", folder, "-o", str(tmp_path / "o.png"), "--method", "lp", "-q"]) == 0
    f = Fuser("lp")

    def tree(xs):
        if len(xs) == 1:
            return xs[0]
        mid = (len(xs) + 1) // 2
        return f.fuse(tree(xs[:mid]), tree(xs[mid:]))

    want = np.round(np.clip(tree([x / 255.0 for x in planes]), 0, 1) * 255).astype(np.uint8)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), want)


def test_the_memory_check_counts_what_the_stack_holds_not_every_image(tmp_path, monkeypatch, capsys):
    """The check before reading counted N float images (24 here: 2.5 MB) and refused a stack that
    fuses in far less (⌈log2 24⌉ + 2 = 7 images: 0.8 MB); a stack too large even so is refused."""
    import mutualfuse.runner as runner

    folder = _write("8-bit", _planes("8-bit", 24, 3), tmp_path / "s")
    monkeypatch.setattr(runner, "available_memory", lambda: 1_500_000)
    assert main(["fuse-stack", folder, "-o", str(tmp_path / "o.png"), "--method", "average", "-q"]) == 0
    assert (tmp_path / "o.png").is_file()
    monkeypatch.setattr(runner, "available_memory", lambda: 400_000)
    assert main(["fuse-stack", folder, "-o", str(tmp_path / "o2.png"), "--method", "average", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "z00.png" in err[0] and "memory" in err[0], err
    assert not (tmp_path / "o2.png").exists()
