"""README.md names ``python scripts/gpu_paper_scale.py --data-root /data --out out/`` (paper-scale runs
on a GPU lent for minutes). Run as written on a machine without CUDA (session 31, docs walk) it
calibrated three chains that each failed (rc 2), skipped every stage, wrote the work folders and
``out/gpu_runs.tar.gz`` and exited 1 after some 14 s; now ``--device cuda`` (the default) without
CUDA is refused before anything is written, and ``--help`` names the ``unpack`` step the docs use."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_paper_scale.py"


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal is for a machine without CUDA")
def test_the_default_device_without_cuda_is_refused_before_anything_is_written(tmp_path):
    (tmp_path / "data" / "train" / "roadscene").mkdir(parents=True)
    out, work = tmp_path / "out", tmp_path / "work"
    r = subprocess.run([sys.executable, str(SCRIPT), "--data-root", str(tmp_path / "data"), "--out", str(out),
                        "--work", str(work), "--budget-s", "20", "--calibrate-s", "2"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert r.stderr.strip().splitlines()[-1].startswith(
        "gpu_paper_scale.py: error: --device cuda: CUDA is not available on this machine"), r.stderr
    assert "--device cpu" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and not work.exists()


def test_help_names_the_unpack_step():
    r = subprocess.run([sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "scripts/gpu_paper_scale.py unpack gpu_runs.tar.gz NEW_FOLDER" in " ".join(r.stdout.split())
