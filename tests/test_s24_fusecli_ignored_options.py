"""Options a fuse / fuse-dir command would have ignored without a word: `--normalize full
--percentiles LO HI` (full uses no percentiles; fused exit 0, the same image as without them) is
refused in one line; `--percentiles` under auto on a pair none of whose inputs is scaled by
percentiles (8-bit) gets a note (fuse) or a counted note (fuse-dir, -j 2 too); a --pairs row's own
output name that --ext did not change is said. The network's options with a classical method
stay refused in fuse-dir as in fuse (guard)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from one_line_error import assert_one_line_error

UNUSED = "--percentiles 1 99 had no effect: no input was scaled by percentiles"


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    base = tmp_path_factory.mktemp("ignored")
    for side, seed in (("a", 1), ("b", 2)):
        (base / side).mkdir()
        rng = np.random.default_rng(seed)
        Image.fromarray(rng.integers(0, 256, (40, 48)).astype(np.uint8)).save(base / side / "x.png")
        Image.fromarray(rng.integers(0, 256, (40, 48)).astype(np.uint8)).save(base / side / "z.png")
        Image.fromarray(rng.integers(7000, 7600, (40, 48)).astype(np.uint16)).save(base / side / "y.png")
    return base


@pytest.mark.parametrize("method", ["cbf", "mutualfuse"])
def test_full_with_percentiles_is_refused(pairs, capsys, method):
    for cmd, out in (("fuse", pairs / f"o_{method}.png"), ("fuse-dir", pairs / f"od_{method}")):
        ins = ([str(pairs / "a" / "x.png"), str(pairs / "b" / "x.png")] if cmd == "fuse"
               else [str(pairs / "a"), str(pairs / "b")])
        assert_one_line_error(capsys, [cmd, *ins, "-o", str(out), "--method", method, "--device", "cpu",
                                       "--normalize", "full", "--percentiles", "1", "99"],
                              "--percentiles 1 99 needs --normalize auto or percentile", "--normalize full")
        assert not out.exists()


def test_percentiles_without_effect_are_said(pairs, capsys):
    a, b = pairs / "a", pairs / "b"
    for name, said in (("x", True), ("y", False)):  # 8-bit: v/255 under auto; 16-bit: percentiles used
        out = pairs / f"p_{name}.png"
        rc = main(["fuse", str(a / f"{name}.png"), str(b / f"{name}.png"), "-o", str(out), "--method", "average",
                   "--percentiles", "1", "99"])
        err = capsys.readouterr().err
        assert rc == 0 and out.exists(), err
        assert (UNUSED in err) == said, err
    # without --percentiles: no such note
    rc = main(["fuse", str(a / "x.png"), str(b / "x.png"), "-o", str(pairs / "p_plain.png"), "--method", "average"])
    assert rc == 0 and "--percentiles" not in capsys.readouterr().err


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fuse_dir_counts_pairs_where_percentiles_did_nothing(pairs, capsys, jobs):
    out = pairs / f"pd{jobs}"
    rc = main(["fuse-dir", str(pairs / "a"), str(pairs / "b"), "-o", str(out), "--method", "average",
               "--percentiles", "1", "99", "-j", jobs])
    cap = capsys.readouterr()
    assert rc == 0 and "fused 3, skipped 0 already done, failed 0" in cap.out, (cap.out, cap.err)
    notes = [ln for ln in cap.err.splitlines() if UNUSED in ln]
    assert len(notes) == 1 and notes[0].startswith("note: ") and notes[0].endswith("(2 pair(s))"), cap.err


def test_ext_not_applied_to_a_rows_own_output_is_said(pairs, capsys):
    lst = pairs / "list.csv"
    lst.write_text("a/x.png,b/x.png,own.png\na/z.png,b/z.png\n")
    out = pairs / "ext"
    rc = main(["fuse-dir", "--pairs", str(lst), "-o", str(out), "--ext", ".tif", "--method", "average"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["own.png", "z.tif"]
    assert f"note: --ext .tif: 1 row(s) of {lst} name their own output, whose suffix is kept" in err, err


@pytest.mark.parametrize("opt", [["--blend-temperature", "0.5"], ["--detail-gain", "1.5"], ["--token-budget", "100"],
                                 ["--dtype", "bfloat16"], ["--detail-activity", "3"], ["--task", "ir-vis"],
                                 ["--window-pixels", "5000"]])
def test_network_options_with_a_classical_method_are_refused_by_fuse_dir(pairs, capsys, opt):
    out = pairs / "net_opts"
    assert_one_line_error(capsys, ["fuse-dir", str(pairs / "a"), str(pairs / "b"), "-o", str(out), "--method", "cbf",
                                   *opt], f"{opt[0]} applies to the network", "--method cbf")
    assert not out.exists()
