"""fuse-dir with weights that record their training's intensity policy (``train_data``; session
23): every pair is read with that policy (Fuser), but fuse-dir kept only the approximation notes of
a pair, so the run said nothing of it (``fuse``, ``fuse-stack``, ``fuse-video`` and ``fuse-volume``
say it on every run), with one process and with ``-j 2`` workers alike. The summary now says it once."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from train_cli_helpers import trained_weights



@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("seamdir")
    trained_weights(base, **{"data.normalize": "full"})
    for side, seed in (("ir", 1), ("vis", 2)):
        (base / side).mkdir()
        for i in range(2):
            x = np.random.default_rng(seed * 10 + i).integers(7000, 7600, (24, 32)).astype(np.uint16)
            Image.fromarray(x).save(base / side / f"{i}.png")
    return base, str(base / "run" / "final.safetensors")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fuse_dir_says_the_weights_policy(setup, capsys, jobs):
    base, weights = setup
    out = base / f"out{jobs}"
    rc = main(["fuse-dir", str(base / "ir"), str(base / "vis"), "-o", str(out), "--weights", weights,
               "-j", jobs, "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png"]
    lines = [ln for ln in err.splitlines() if "as weights" in ln]
    assert len(lines) == 1 and lines[0].startswith("note: inputs read with --normalize full, as weights"), err
    # a policy given: the run says so too, and that it is not the training's
    rc = main(["fuse-dir", str(base / "ir"), str(base / "vis"), "-o", str(base / f"auto{jobs}"), "--weights",
               weights, "-j", jobs, "--device", "cpu", "--normalize", "auto"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "as given; weights" in err and "trained on images read with --normalize full" in err, err
