"""fuse-volume with weights trained with data.normalize full (train_data, session 23) on a DICOM CT
series in HU (rescaled samples): the weights' policy is refused for such a series, rightly, but the
one-line error said '--normalize full needs unsigned samples ...' to a user who gave no --normalize.
It now says where that policy came from; nothing is written; with --normalize given, as before."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse.cli import main
from train_cli_helpers import trained_weights



def test_a_refusal_of_the_weights_policy_says_it_came_from_them(tmp_path, capsys):
    pytest.importorskip("pydicom")
    from test_s23_series_read import make_series

    weights = trained_weights(tmp_path, **{"data.normalize": "full"})
    rng = np.random.default_rng(0)
    for n in "ab":
        make_series(tmp_path / f"ct_{n}", rng.integers(0, 4000, (16, 16, 3)).astype(np.uint16),
                    slopes=[1.0] * 3, intercepts=[-1024.0] * 3)
    capsys.readouterr()
    for extra, said in (([], True), (["--normalize", "full"], False)):
        out = tmp_path / f"out{len(extra)}"
        rc = main(["fuse-volume", str(tmp_path / "ct_a"), str(tmp_path / "ct_b"), "-o", f"{out}/", "--weights",
                   weights, "--device", "cpu", *extra])
        cap = capsys.readouterr()
        lines = cap.err.strip().splitlines()
        assert rc == 2 and len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), cap.err
        assert "--normalize full needs unsigned samples" in lines[0], lines[0]
        assert ("it is the policy weights" in lines[0] and "were trained with" in lines[0]) == said, lines[0]
        assert not out.exists() and cap.out == ""
