"""docs/metrics.md, "Your own metric": the module and the shell block run as written (the section
is new with ``register_metric`` and ``evaluate --import``, which the old code lacks)."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def own(tmp_path):
    """A working folder with 3 gray pairs in ir/ and vis/ (the commands run in a fresh process)."""
    work = tmp_path / "work"
    rng = np.random.default_rng(4)
    for d in ("ir", "vis"):
        (work / d).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (40, 44), dtype=np.uint8)).save(work / d / f"p{i}.png")
    return work, None, None


def _env() -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1")


def test_the_docs_example_runs_as_written(own):
    """docs/metrics.md, 'Your own metric': mymetric.py and the shell block (fuse-dir, evaluate with
    --metrics, with --profile -j 2 --out, --list), in a folder holding ir/ and vis/."""
    work, _, _ = own
    text = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    section = text[text.index("## Your own metric"):]
    assert "\n## " not in section[3:], "the section is the last of the page"
    module = re.search(r"```py\n(# mymetric\.py\n.*?)```", section, re.S).group(1)
    block = re.search(r"```sh\n(mutualfuse .*?)```", section, re.S).group(1)
    (work / "mymetric.py").write_text(module)
    cli = " ".join(shlex.quote(a) for a in [sys.executable, "-P", "-m", "mutualfuse"])
    p = subprocess.run(["bash", "-e", "-c", block.replace("mutualfuse ", cli + " ")], cwd=work, env=_env(),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert re.search(r"^method +image +Qabf@vifb. +meanabs.", p.stdout, re.M), p.stdout
    assert re.search(r"^method +image +Qabf. +MeanAbs.", p.stdout, re.M), p.stdout
    assert re.search(r"^  meanabs +lower +unchecked: .*\[your metric: mymetric\.meanabs\]$", p.stdout, re.M)
    assert re.search(r"^profiles: .*, mine$", p.stdout, re.M)
    doc = json.loads((work / "scores.json").read_text())
    assert doc["metrics"]["MeanAbs"] == {"key": "meanabs", "higher_is_better": False, "direction": "lower",
                                         "reference": "your metric: mymetric.meanabs",
                                         "convention": "mean |F - (A+B)/2| on the 0-255 scale",
                                         "checked": False, "source": "own"}
    fused = work / "fused"
    for i in range(3):  # the lp images fuse-dir wrote, scored by the module's function
        a, b, f = (np.asarray(Image.open(d / f"p{i}.png")).astype(np.float64) for d in (work / "ir", work / "vis",
                                                                                        fused))
        want = float(np.abs(f - (a + b) / 2).mean())
        assert doc["methods"]["fused"]["images"][f"p{i}"]["MeanAbs"] == pytest.approx(want, rel=1e-12)
