"""A refusal of the intensity policy that the weights' training recorded (train_data, session 23),
where no --normalize was given: fuse's one-line error said where that policy came from only when
the message named '--normalize full' (a DICOM series in HU), not for a float TIFF outside [0, 1]
('use normalize 'percentile' or 'auto'', to a user who gave no --normalize), and fuse-dir's line
of such a failed pair never said it (serial, -j N workers, a resumed run's last pair). Each now
ends with the same origin; the summary counts and the policy note stay right, said once."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from mutualfuse.cli import main
from train_cli_helpers import trained_weights

ORIGIN = "[--normalize full was not given: it is the policy weights"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("origin")
    weights = trained_weights(base, **{"data.normalize": "full"})
    for side, seed in (("ir", 1), ("vis", 2)):
        (base / side).mkdir()
        for i in range(2):  # 16-bit pairs that full reads
            x = np.random.default_rng(seed * 10 + i).integers(7000, 7600, (24, 32)).astype(np.uint16)
            Image.fromarray(x).save(base / side / f"{i}.png")
        # a float pair outside [0, 1] (kelvin-like): full refuses it, auto would scale it
        tifffile.imwrite(base / side / "2.tif", np.random.default_rng(seed).uniform(0, 300, (24, 32)).astype(np.float32))
    return base, weights


def test_fuse_says_the_refused_policy_is_the_weights(setup, capsys):
    base, weights = setup
    for extra, said in (([], True), (["--normalize", "full"], False)):
        out = base / f"one{len(extra)}.png"
        rc = main(["fuse", str(base / "ir" / "2.tif"), str(base / "vis" / "2.tif"), "-o", str(out), "--weights",
                   weights, "--device", "cpu", *extra])
        cap = capsys.readouterr()
        lines = cap.err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), cap.err
        assert "not [0, 1]" in lines[0], lines[0]
        assert (ORIGIN in lines[0]) == said, lines[0]
        assert not out.exists() and cap.out == ""


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fuse_dir_failed_pair_says_it_too(setup, capsys, jobs):
    base, weights = setup
    out = base / f"dir{jobs}"
    argv = ["fuse-dir", str(base / "ir"), str(base / "vis"), "-o", str(out), "--weights", weights, "--device", "cpu",
            "-j", jobs]
    rc = main(argv)
    cap = capsys.readouterr()
    assert rc == 2, cap.err
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png"]  # the good pairs are written
    assert "fused 2, skipped 0 already done, failed 1" in cap.out, cap.out
    failed = [ln for ln in cap.err.splitlines() if ln.startswith("  ")]
    assert len(failed) == 1 and "2.tif" in failed[0] and "not [0, 1]" in failed[0], cap.err
    assert ORIGIN in failed[0] and "give --normalize to read otherwise]" in failed[0], failed[0]
    assert sum("as weights" in ln for ln in cap.err.splitlines()) == 1, cap.err  # the policy note: once
    assert "Traceback" not in cap.err and "internal error" not in cap.err
    # resumed: the one pair left runs in this process (also under -j 2); its line says it too
    rc = main(argv)
    cap = capsys.readouterr()
    assert rc == 2 and "fused 0, skipped 2 already done, failed 1" in cap.out, (cap.out, cap.err)
    failed = [ln for ln in cap.err.splitlines() if ln.startswith("  ")]
    assert len(failed) == 1 and ORIGIN in failed[0], cap.err
    # the policy given: as before, no origin
    rc = main(argv + ["--normalize", "full", "-q"])
    cap = capsys.readouterr()
    failed = [ln for ln in cap.err.splitlines() if ln.startswith("  ")]
    assert rc == 2 and len(failed) == 1 and "not [0, 1]" in failed[0] and ORIGIN not in failed[0], cap.err
