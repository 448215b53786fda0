"""s26: under ``torchrun --nnodes 2`` (CPU, gloo), a node whose process refused the run before it
joined the process group (its config file missing) left the other node's process waiting in the
join for the group's timeout (torch's default, 30 minutes: two torchrun agents on one machine were
still waiting when killed after 100 s).
Every process now joins first: the one that refused says why, the one left says that another
process stopped, each in one line, exit 2 (two gloo ranks, one thread each)."""
from __future__ import annotations

import time

from train_cli_helpers import cfg, data, run_gloo_ranks


def test_a_rank_without_the_config_file_does_not_leave_the_others_waiting(tmp_path):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "out", **{"data.root": str(root)})
    missing = tmp_path / "only-on-the-other-node.json"
    t = time.monotonic()
    got = run_gloo_ranks([["--config", str(c)], ["--config", str(missing)]], timeout=150)
    took = time.monotonic() - t
    for rank, (err, rc) in enumerate(got):
        lines = err.strip().splitlines()
        assert rc == 2, (rank, err)  # not killed at the timeout (-9)
        assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), (rank, err)
        assert "Traceback" not in err and "internal error" not in err, (rank, err)
    assert f"{missing}: config file not found" in got[1][0]
    assert "another process of this run stopped before the processes compared their training data" in got[0][0]
    assert took < 150
    assert not (tmp_path / "out").exists()
