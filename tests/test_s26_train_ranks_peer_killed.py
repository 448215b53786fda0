"""s26: a process of a ``torchrun`` run killed mid-run (the out-of-memory killer on one node; here
the test's fault injection, SIGKILL of rank 0 after step 1) left the other ending with gloo's text as
``mutualfuse: internal error: RuntimeError: [.../pair.cc:553] Connection closed by peer ... GLHF!``,
exit 1. It now says in one line (exit 2) that another process stopped during which step, and which
checkpoint ``--resume`` continues (two gloo ranks on CPU, one thread each)."""
from __future__ import annotations

from train_cli_helpers import cfg, data, run_gloo_ranks


def test_the_rank_left_by_a_killed_rank_says_so_and_where_to_resume(tmp_path, monkeypatch):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "out", **{"data.root": str(root), "steps": 4})
    monkeypatch.setenv("MUTUALFUSE_FAULT_KILL_AT_STEP", "1")  # rank 0 only, after its step-1 checkpoint
    (err0, rc0), (err1, rc1) = run_gloo_ranks([["--config", str(c)], ["--config", str(c)]], timeout=150)
    assert rc0 == -9, err0
    lines = err1.strip().splitlines()
    assert rc1 == 2, err1
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: rank 1 of 2: another process of this run "
                                                   "stopped during step 2"), err1
    assert f"{tmp_path / 'out' / 'last.ckpt'} holds step 1: --resume continues from it" in lines[0]
    assert "internal error" not in err1 and "GLHF" not in err1 and "Traceback" not in err1
