"""s26: under ``torchrun --nnodes 2`` (CPU, gloo), a node whose process refused the run before it
joined the process group (its config file missing) left the other node's process waiting in the
join for the group's timeout (torch's default, 30 minutes: two torchrun agents on one machine were
still waiting when killed after 100 s).
Every process now joins first: the one that refused says why, in one line naming its rank (s27:
the one left says nothing, the line is the run's), each exit 2 (two gloo ranks, one thread each)."""
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
    assert [rc for _, rc in got] == [2, 2], got  # not killed at the timeout (-9)
    said = got[0][0] + got[1][0]  # one terminal: the line once, from either process (s27)
    assert said.count("\n") == 1 and said.startswith("mutualfuse: error: rank 1 of 2: "), got
    assert f"{missing}: config file not found" in said and "Traceback" not in said, got
    assert took < 150
    assert not (tmp_path / "out").exists()
