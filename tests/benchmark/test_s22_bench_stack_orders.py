"""benchmarks/bench_stack.py's options for the microscope-length table of docs/inputs.md ("Stacks"):
--orders (fuse_stack's tree / spread / sequential, and the tree over the planes reversed or
shuffled), --images K, --half, --pixel-mean and --diff. Run on two small synthetic truths in a
temporary data root (classical methods only: no network, a few seconds); each printed number is
recomputed here from the benchmark's own stack construction and compared to its printed rounding."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "bench_stack.py"
HALF_UNIT = 0.0051  # the printout rounds to 2 (PSNR) or 4 (mean|Δ|, share) decimals: half a unit, and slack


def _bench():
    spec = importlib.util.spec_from_file_location("bench_stack_for_test", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _root(tmp_path: Path, count: int = 2) -> Path:
    vis = tmp_path / "ir-vis/msrs-sample/vis"
    vis.mkdir(parents=True)
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:72, 0:80]
    for k in range(count):
        base = 128 + 60 * np.sin(xx / (3 + k)) * np.cos(yy / 4) + rng.normal(0, 20, (72, 80))
        rgb = np.stack([base, base * 0.8 + 20, 255 - base], axis=-1).clip(0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(vis / f"{k:02d}.png")
    return tmp_path


def _run(root: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--data-root", str(root), *argv], capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=120)


def _rows(out: str, n: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """The table rows and the --diff rows printed for N = n, by name."""
    table, diffs, cur = {}, {}, None
    for line in out.splitlines():
        if not line.startswith(f"N = {n}: "):
            continue
        body = line[len(f"N = {n}: "):]
        if body.startswith("row "):
            cur = table
        elif body.startswith("vs the same method, tree"):
            cur = diffs
        else:
            width = 26 if cur is diffs else 22  # the name column's width in either table
            cur[body[:width].strip()] = [float(v) for v in body[width:].split()]
    return table, diffs


def _truth(root: Path, name: str) -> np.ndarray:
    rgb = np.asarray(Image.open(root / "ir-vis/msrs-sample/vis" / name).convert("RGB"), dtype=np.float64)
    return ((rgb @ np.array([0.299, 0.587, 0.114])) / 255.0)[::2, ::2]


def test_orders_pixel_mean_and_diff(tmp_path):
    root = _root(tmp_path)
    r = _run(root, "--sizes", "5", "--images", "1", "--half", "--methods", "average", "lp:spread",
             "--orders", "tree", "reversed", "shuffled", "--pixel-mean", "--diff")
    assert r.returncode == 0, r.stderr
    assert "# truths: 00.png, 40×36 (half size)" in r.stdout.splitlines(), r.stdout
    assert r.stdout.startswith("# focus stacks from 1 images of ir-vis/msrs-sample/vis"), r.stdout
    table, diffs = _rows(r.stdout, 5)
    assert list(table) == ["best source", "pixel mean", "average:tree", "average:reversed", "average:shuffled",
                           "lp:spread"], r.stdout
    assert list(diffs) == ["average:reversed", "average:shuffled"], r.stdout  # lp has no tree row to compare to

    from mutualfuse import Fuser

    bench = _bench()
    truth = _truth(root, "00.png")
    stack = bench.focus_stack(truth, 5, np.random.default_rng([5, 0]))
    avg, lp = Fuser("average", device="cpu"), Fuser("lp", device="cpu")
    perm = np.random.default_rng(1000 + 5 + 0).permutation(5)
    assert sorted(perm.tolist()) == list(range(5)) and perm.tolist() != list(range(5))
    fused = {
        "pixel mean": np.mean(stack, axis=0),
        "average:tree": avg.fuse_stack(stack, order="tree"),
        "average:reversed": avg.fuse_stack(stack[::-1], order="tree"),
        "average:shuffled": avg.fuse_stack([stack[j] for j in perm], order="tree"),
        "lp:spread": lp.fuse_stack(stack, order="spread"),
    }
    for name, f in fused.items():
        psnr, ssim, _ = bench.score(np.asarray(f, dtype=np.float64), truth)
        assert abs(table[name][0] - psnr) <= HALF_UNIT, (name, table[name], psnr)
        assert abs(table[name][1] - ssim) <= HALF_UNIT / 100, (name, table[name], ssim)
    eight = {k: np.round(np.clip(np.asarray(v, dtype=np.float64), 0, 1) * 255) for k, v in fused.items()}
    for name in diffs:
        d = np.abs(eight[name] - eight["average:tree"])
        assert d.max() <= 1, name  # since s24 average is the mean in any order (8-bit rounding only)
        assert diffs[name][0] == d.max(), (name, diffs[name], d.max())
        assert abs(diffs[name][1] - d.mean()) <= HALF_UNIT / 100, (name, diffs[name], d.mean())
        assert abs(diffs[name][2] - (d > 0).mean()) <= HALF_UNIT / 100, (name, diffs[name], (d > 0).mean())


def test_existing_options_print_as_before(tmp_path):
    """Without the new options: no '# truths' line, rows named as given, no diff table."""
    root = _root(tmp_path)
    r = _run(root, "--quick", "--sizes", "3", "--methods", "lp", "lp:sequential", "average")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == ("# focus stacks from 2 images of ir-vis/msrs-sample/vis, graded Gaussian defocus up to "
                        "σ 4.0; mean over images; fuse_stack (network: task multi-focus)"), lines
    assert lines[1].startswith("# machine: "), lines
    assert lines[2:4] == ["", "N = 3: row                     PSNR dB    SSIM   Δmean max|Δmean|  s/stack"], lines
    assert [ln[7:30].strip() for ln in lines[4:]] == ["best source", "lp", "lp:sequential", "average"], lines
    table, diffs = _rows(r.stdout, 3)
    assert diffs == {} and len(table["lp"]) == 5 and len(table["best source"]) == 4, r.stdout


@pytest.mark.parametrize("argv, said", [
    (["--orders", "tree", "zigzag"], "--orders 'zigzag': an order is one of tree, spread, sequential, reversed"),
    (["--images", "0"], "--images: at least 1 image, got 0"),
    (["--methods", "lp:zigzag"], "'spread', 'reversed', 'shuffled', 'sequential' or 'tree'"),
    (["--images", "3"], "msrs-sample/vis has 2 PNG images"),
])
def test_usage_errors(tmp_path, argv, said):
    r = _run(_root(tmp_path), "--sizes", "3", *argv)
    assert r.returncode == 2 and r.stdout == "", r.stderr
    assert "Traceback" not in r.stderr and said in r.stderr.splitlines()[-1], r.stderr
