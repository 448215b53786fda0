"""s26: under ``torchrun --nnodes``, a process that refuses the run on its own (its node has no
data folder) left the others waiting in the exchange where the processes compare their data:
they died with gloo's text as ``mutualfuse: internal error: RuntimeError: [.../pair.cc:553]
Connection closed by peer ... GLHF!`` and exit status 1, as if mutualfuse had a bug. Each process
now ends with exit 2 and the run with one ``mutualfuse: error:`` line (s27: one for both processes,
which share a terminal): the one that refused says why, naming its rank; the other says nothing
(two gloo ranks on CPU, one thread each)."""
from __future__ import annotations

from train_cli_helpers import cfg, data, run_gloo_ranks


def test_the_ranks_left_waiting_by_a_refusing_rank_say_so_in_one_line(tmp_path):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "out")
    missing = tmp_path / "not-on-this-node"
    got = run_gloo_ranks([["--config", str(c), "--data-root", str(root)],
                          ["--config", str(c), "--data-root", str(missing)]], timeout=150)
    assert [rc for _, rc in got] == [2, 2], got
    said = got[0][0] + got[1][0]  # one terminal: the line once, from either process (s27)
    assert said == f"mutualfuse: error: rank 1 of 2: {missing}: data root is not a directory\n", got
    assert not (tmp_path / "out").exists()  # nothing written by the rank that waited
