"""``mutualfuse fuse-dir -j N`` with a classical method loads no PyTorch in the command (audit of
the s20 changes). ``-j N`` imported PyTorch in the command only to read
``torch.get_num_threads()`` for the workers' thread count: 2.3-2.5 s of ``import torch`` on the
shared 2-core machine, which undid the lazy import of a classical Fuser (a ``-j 2`` run of TNO
pairs 01-03 with ``--method average``: 3.5-4.4 s before, 1.0-1.25 s after, ``-j 1`` 0.47-0.60 s;
3 alternated rounds, docs/inputs.md, "Batches"). The count now comes from
``OMP_NUM_THREADS`` (else the usable CPUs) where PyTorch is not loaded.

The commands run in fresh interpreters (``sys.modules`` is the point); their outputs are
compared with those of ``-j 1``."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_s20_fuse_dir_jobs import make_pairs  # noqa: E402


def _run(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter (``env`` added to the environment); it prints one
    JSON object on its last line."""
    e = dict(os.environ, **env)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=e)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_jobs_with_a_classical_method_loads_no_torch(tmp_path):
    da, db = make_pairs(tmp_path, n=3, bad=False)
    outs = {j: tmp_path / f"out{j}" for j in (1, 2)}
    code = ("import sys, json\nfrom mutualfuse.cli import main\n"
            f"rc1 = main(['fuse-dir', {str(da)!r}, {str(db)!r}, '-o', {str(outs[1])!r}, '--method', 'average', '-q'])\n"
            f"rc2 = main(['fuse-dir', {str(da)!r}, {str(db)!r}, '-o', {str(outs[2])!r}, '--method', 'average', "
            "'-q', '-j', '2'])\n"
            "print(json.dumps({'rc': [rc1, rc2], 'torch': 'torch' in sys.modules}))")
    got = _run(code, OMP_NUM_THREADS="1")
    assert got == {"rc": [0, 0], "torch": False}, got
    names = sorted(p.name for p in outs[1].iterdir())
    assert names == ["p0.png", "p1.png", "p2.png"] == sorted(p.name for p in outs[2].iterdir())
    for n in names:
        assert (outs[1] / n).read_bytes() == (outs[2] / n).read_bytes(), n


def test_worker_threads_without_torch_follow_omp_num_threads():
    code = ("import sys, json\nfrom mutualfuse.cli.fuse_dir_jobs import worker_threads\n"
            "print(json.dumps({'w': [worker_threads(n) for n in (1, 2, 3, 8)], 'torch': 'torch' in sys.modules}))")
    assert _run(code, OMP_NUM_THREADS="4") == {"w": [4, 2, 1, 1], "torch": False}
    # where PyTorch is loaded (the network), its own count, as before
    code_t = ("import sys, json, torch\ntorch.set_num_threads(3)\n"
              "from mutualfuse.cli.fuse_dir_jobs import worker_threads\n"
              "print(json.dumps({'w': [worker_threads(n) for n in (1, 2, 3)]}))")
    assert _run(code_t, OMP_NUM_THREADS="4") == {"w": [3, 1, 1]}
