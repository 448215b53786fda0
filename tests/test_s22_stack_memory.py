"""A focus stack's peak memory does not grow with its length (s22 stack audit).

``fuse-stack`` read every image of the stack as a float64 array and held them all while it
fused (and ``Fuser.fuse_stack`` held a converted copy of each input, then half of them again as
the tree's first level): 20 to 60 planes of a microscope held 20 to 60 float images, ~22 bytes
a pixel per plane measured (1.5 GB for 64 planes of 1024x1024, 0.25 GB for 8). Now the tree is
reduced as the images are read (``mutualfuse.api.reduce_stack``, depth first), each file read
again when it is fused, so a stack holds ⌈log2 N⌉ + 2 float images.
Peak memory is traced (numpy's buffers) for a stack of 6 and of 24 images; the old code's
ratio was 3.4 to 3.7, now 1.0 to 1.5."""
from __future__ import annotations

import tracemalloc

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


@pytest.mark.parametrize("kind", ["8-bit", "16-bit", "colour", "tiff"])
def test_the_command_lines_peak_memory_does_not_grow_with_the_stack(tmp_path, kind):
    src = "8-bit" if kind == "tiff" else kind
    stacks = {n: _write(kind, _planes(src, n, n), tmp_path / f"s{n}") for n in (2, 6, 24)}

    def run(n: int) -> None:
        assert main(["fuse-stack", stacks[n], "-o", str(tmp_path / f"o{n}.png"), "--method", "average", "-q"]) == 0

    run(2)  # the imports and the first call's buffers, outside the measurement
    # the lower of two runs each: tracemalloc counts every thread's allocations, and a thread left
    # running by an earlier test file of the same worker once added ~8 MB to one run (CI, s27);
    # a real growth with the stack shows in both runs
    small = min(_peak(lambda: run(6)) for _ in range(2))
    large = min(_peak(lambda: run(24)) for _ in range(2))
    # before: 3.4-3.7 (N float images held); now ⌈log2 N⌉ + 2 at most (measured 1.0-1.5)
    assert large < 2.0 * small, (kind, small, large)


def test_the_apis_peak_memory_beyond_its_inputs_does_not_grow_with_the_stack():
    f = Fuser("average")
    f.fuse_stack(_planes("8-bit", 2, 0))
    six, many = _planes("8-bit", 6, 1), _planes("8-bit", 24, 2)  # the caller's, not counted
    small, large = _peak(lambda: f.fuse_stack(six)), _peak(lambda: f.fuse_stack(many))
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
