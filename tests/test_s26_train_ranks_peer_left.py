"""s26: under ``torchrun --nnodes``, a process that refuses the run on its own (its node has no
data folder) left the others waiting in the exchange where the processes compare their data:
they died with gloo's text as ``mutualfuse: internal error: RuntimeError: [.../pair.cc:553]
Connection closed by peer ... GLHF!`` and exit status 1, as if mutualfuse had a bug. Each process
now ends with one ``mutualfuse: error:`` line and exit 2: the one that refused says why, the
others that another process stopped first (two gloo ranks on CPU, one thread each)."""
from __future__ import annotations

from train_cli_helpers import cfg, data, run_gloo_ranks


def test_the_ranks_left_waiting_by_a_refusing_rank_say_so_in_one_line(tmp_path):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "out")
    missing = tmp_path / "not-on-this-node"
    got = run_gloo_ranks([["--config", str(c), "--data-root", str(root)],
                          ["--config", str(c), "--data-root", str(missing)]], timeout=150)
    for rank, (err, rc) in enumerate(got):
        lines = err.strip().splitlines()
        assert rc == 2, (rank, err)
        assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), (rank, err)
        assert "Traceback" not in err and "internal error" not in err, (rank, err)
    assert str(missing) in got[1][0] and "data root is not a directory" in got[1][0]
    said = got[0][0]
    assert "rank 0 of 2: another process of this run stopped before the processes compared their training data" \
        in said, said
    assert "its own error line" in said and "GLHF" not in said
    assert not (tmp_path / "out").exists()  # nothing written by the rank that waited
