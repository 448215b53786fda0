"""s30: ``--print-config`` under ``torchrun``.

Every process of a ``torchrun`` runs the command; ``mutualfuse train --print-config`` printed the
resolved config once per process (``torchrun --nproc_per_node 2``: two YAML documents on one
stdout, which ``> mine.yaml`` saved as a file with every key twice, refused when passed back:
"mine.yaml: line 75: key 'model' is given twice (first on line 1)"). Rank 0 prints it, as rank 0
alone prints the run's result."""
from __future__ import annotations

import os
import subprocess
import sys

import yaml
from train_cli_helpers import cfg, data


def test_print_config_under_torchrun_prints_one_config(tmp_path):
    root = data(tmp_path / "d")
    c = cfg(tmp_path / "c.json", tmp_path / "run", **{"data.root": str(root)})
    env = {k: v for k, v in os.environ.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "GROUP_RANK")}
    argv = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "mutualfuse", "train",
            "--config", str(c), "--device", "cpu", "--print-config"]
    p = subprocess.run(argv, env=dict(env, OMP_NUM_THREADS="1"), capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("out_dir:") == 1, p.stdout
    printed = yaml.safe_load(p.stdout)
    assert printed["out_dir"] == str(tmp_path / "run") and printed["data"]["sets"] == ["s"]
    (tmp_path / "printed.yaml").write_text(p.stdout)
    from mutualfuse.train import TrainConfig

    assert TrainConfig.load(tmp_path / "printed.yaml").to_dict() == TrainConfig.load(c).to_dict()
