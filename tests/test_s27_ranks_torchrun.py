"""s27: ``mutualfuse train`` under ``torchrun --nproc_per_node 2`` (CPU, gloo, one thread each):
a refusal or an interrupt that every process meets was printed once per process (twice for two),
above torchrun's own summary; a refusal of one process only was its bare line plus a second line
from the other process ("another process of this run stopped ..."). Now each problem is one line
on the terminal: said once when every process has it, with the rank(s) when only some have it, and
nothing from a process that stopped only because another one did. The checkpoint stays the one
that ``--resume`` continues (Ctrl+C, a process killed).

The real ``torchrun`` where the terminal is shared (its agent hosts the run's store); for runs
whose processes need different arguments (one node without the data) or other node ranks, the
processes are started here as torchrun starts them, with this test holding the store."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from train_cli_helpers import cfg, data

TRAIN = ["-m", "mutualfuse", "train", "--no-progress", "--device", "cpu", "-q"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "GROUP_RANK")}
    return dict(env, OMP_NUM_THREADS="1", **extra)


def torchrun(args: list[str], *, interrupt_when: Path | None = None, timeout: float = 240,
             **env: str) -> tuple[int, list[str]]:
    """``torchrun --nproc_per_node 2 -m mutualfuse train ARGS`` → (its exit status, the lines the
    processes printed, torchrun's own left out). With ``interrupt_when``: SIGINT to torchrun (as
    Ctrl+C) once that file exists."""
    argv = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", *TRAIN, *args]
    p = subprocess.Popen(argv, env=_env(**env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        if interrupt_when is not None:
            t = time.monotonic()
            while not interrupt_when.exists() and p.poll() is None and time.monotonic() - t < timeout:
                time.sleep(0.05)
            p.send_signal(signal.SIGINT)
        out = p.communicate(timeout=timeout)[0]
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    ours = [ln for ln in out.splitlines() if ln.startswith(("mutualfuse:", "mutualfuse train:"))]
    return p.returncode, ours, out


def agent_ranks(args_per_rank: list[list[str]], node_of_rank: list[int], timeout: float = 180):
    """The processes of one torchrun run started here as torchrun's agent starts them (its store
    held by this process, ``TORCHELASTIC_USE_AGENT_STORE``), rank r with ``args_per_rank[r]`` on
    node ``node_of_rank[r]`` (``GROUP_RANK``) → each one's (stderr, exit status)."""
    import torch.distributed as dist

    store = dist.TCPStore("127.0.0.1", 0, is_master=True, wait_for_workers=False)
    world = len(args_per_rank)
    procs = []
    for rank, args in enumerate(args_per_rank):
        env = _env(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(store.port), WORLD_SIZE=str(world), RANK=str(rank),
                   LOCAL_RANK="0", GROUP_RANK=str(node_of_rank[rank]), TORCHELASTIC_USE_AGENT_STORE="True",
                   TORCHELASTIC_RESTART_COUNT="0")
        procs.append(subprocess.Popen([sys.executable, *TRAIN, *args], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    try:
        return [(p.communicate(timeout=timeout)[1], p.returncode) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        del store


def test_a_refusal_every_process_meets_is_one_line(tmp_path):
    missing = tmp_path / "no-data"
    c = cfg(tmp_path / "c.json", tmp_path / "out", **{"data.root": str(missing)})
    rc, ours, out = torchrun(["--config", str(c)])
    assert rc != 0, out
    assert ours == [f"mutualfuse: error: {missing}: data root is not a directory"], out
    assert out.count("exitcode  : 2") == 2, out  # both processes refused (exit 2), neither killed
    assert "internal error" not in out and not (tmp_path / "out").exists()


def test_ctrl_c_is_one_line_and_the_run_resumes(tmp_path):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "out", **{"data.root": str(root), "steps": 100000,
                                                       "checkpoint_every": 20})
    last = tmp_path / "out" / "last.ckpt"
    rc, ours, out = torchrun(["--config", str(c)], interrupt_when=last)
    assert rc != 0, out
    assert len(ours) == 1, out
    assert ours[0].startswith("mutualfuse train: interrupted at step "), out
    assert f"the last checkpoint, {last}, is at step " in ours[0] and "--resume continues from it" in ours[0], out
    held = int(ours[0].split(", is at step ")[1].split(":")[0])
    assert held % 20 == 0 and held >= 20
    rc, ours, out = torchrun(["--config", str(c), "--resume", "--steps", str(held + 2)])
    assert rc == 0 and ours == [], out
    assert (tmp_path / "out" / "final.safetensors").is_file()


def test_a_process_killed_leaves_one_line_naming_the_other_and_the_checkpoint(tmp_path):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "out", **{"data.root": str(root), "steps": 3})
    last = tmp_path / "out" / "last.ckpt"
    rc, ours, out = torchrun(["--config", str(c)], MUTUALFUSE_FAULT_KILL_AT_STEP="1")  # rank 0, after step 1
    assert rc != 0 and "(SIGKILL)" in out, out
    # rank 1 learns it from torchrun's SIGTERM or from the lost connection, whichever comes first
    assert len(ours) == 1 and re.match(r"mutualfuse train: interrupted at step |mutualfuse: error: rank 1 of 2: "
                                       r"another process of this run stopped during step 2", ours[0]), out
    assert f"{last}" in ours[0] and "step 1" in ours[0], out
    rc, ours, out = torchrun(["--config", str(c), "--resume"])
    assert rc == 0 and ours == [], out


def test_a_refusal_of_one_process_names_its_rank_once(tmp_path):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "out")
    missing = tmp_path / "not-on-this-node"
    got = agent_ranks([["--config", str(c), "--data-root", str(root)],
                       ["--config", str(c), "--data-root", str(missing)]], node_of_rank=[0, 0])
    assert [rc for _, rc in got] == [2, 2], got
    # one terminal (one node): the line once, from whichever process claimed it first; nothing else
    # (the process left waiting adds no "another process stopped": the other one says why)
    assert got[0][0] + got[1][0] == f"mutualfuse: error: rank 1 of 2: {missing}: data root is not a directory\n", got
    assert not (tmp_path / "out").exists()


def test_each_node_shows_the_refusal_once(tmp_path):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "out")
    missing = tmp_path / "not-on-node-1"
    got = agent_ranks([["--config", str(c), "--data-root", str(root)],
                       ["--config", str(c), "--data-root", str(missing)]], node_of_rank=[0, 1])
    line = f"mutualfuse: error: rank 1 of 2: {missing}: data root is not a directory\n"
    assert got == [(line, 2), (line, 2)], got  # node 0's terminal too says why, not only "another process"


def test_device_cuda_without_cuda_is_one_line(tmp_path):
    import torch

    if torch.cuda.is_available():  # the refusal of a machine without CUDA
        import pytest

        pytest.skip("this machine has CUDA")
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "out", **{"data.root": str(root)})
    got = agent_ranks([["--config", str(c), "--device", "cuda"]] * 2, node_of_rank=[0, 0])
    assert [rc for _, rc in got] == [2, 2], got
    assert got[0][0] + got[1][0] == "mutualfuse: error: --device cuda: CUDA is not available on this machine\n", got
