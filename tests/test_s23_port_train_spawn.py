"""``train`` with ``data.num_workers`` > 0 where the data loader's workers are spawned (macOS,
Windows; simulated on Linux by making ``spawn`` the start method, not run there): the dataset,
the batch plan and the worker start-up must survive pickling, and the losses be those of the
data made in the main process."""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from PIL import Image

TINY = {
    "model": {"widths": [4, 8, 8], "depth": 3},
    "data": {"sets": ["tiny"], "val_pairs": 0, "crop": 24, "multifocus": 0.5, "swap": 0.5},
    "batch_size": 4, "steps": 3, "checkpoint_every": 0, "val_every": 0, "log_every": 1, "threads": 1,
}

SCRIPT = textwrap.dedent('''
    import json, multiprocessing as mp, sys
    if __name__ == "__main__":
        mp.set_start_method("spawn")  # macOS's default, Windows' only start method
        from mutualfuse.train import TrainConfig, Trainer
        d = json.loads(sys.argv[1])
        Trainer(TrainConfig.from_dict(d), data_root=sys.argv[2], device="cpu", progress=False).run()
''')


def _losses(out: Path) -> dict[int, str]:
    with open(out / "log.csv") as fh:
        return {int(r["step"]): r["loss"] for r in csv.DictReader(fh)}


def test_spawned_data_workers_train_as_the_main_process(tmp_path, samples):
    from mutualfuse.train import TrainConfig, Trainer

    a = np.asarray(Image.open(samples / "tno-01" / "a.png"))
    b = np.asarray(Image.open(samples / "tno-01" / "b.png"))
    root = tmp_path / "data"
    (root / "tiny" / "ir").mkdir(parents=True)
    (root / "tiny" / "vis").mkdir(parents=True)
    for k in range(8):
        y, x = 48 * (k // 2), 48 * (k % 2)
        Image.fromarray(a[y:y + 48, x:x + 48]).save(root / "tiny" / "ir" / f"{k:02d}.png")
        Image.fromarray(b[y:y + 48, x:x + 48]).save(root / "tiny" / "vis" / f"{k:02d}.png")
    main_cfg = {**TINY, "out_dir": str(tmp_path / "main")}
    Trainer(TrainConfig.from_dict(main_cfg), data_root=str(root), device="cpu", progress=False).run()
    spawn_cfg = {**TINY, "data": {**TINY["data"], "num_workers": 1}, "out_dir": str(tmp_path / "spawn")}
    script = tmp_path / "run_spawn.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, str(script), json.dumps(spawn_cfg), str(root)], capture_output=True,
                       text=True, env=env, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    got, want = _losses(tmp_path / "spawn"), _losses(tmp_path / "main")
    assert sorted(want) == list(range(1, 4))
    assert got == want
