"""s24: weights of one's own as rows of ``mutualfuse benchmark`` (``--weights NAME=FILE``, or a path).

Before, ``--weights`` took shipped names only and a path was refused with a hint to go through
``fuse-dir --weights FILE`` and ``--fused NAME=DIR``. Now the file is a row ``Ours[NAME]``, fused as
``mutualfuse fuse --weights FILE`` fuses (so its numbers equal those of that route's folder), cached
by the file's sha256; a bad entry is one line, exit 2, before any work."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark.table import read_csv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_cli_helpers import trained_weights  # noqa: E402

CLI = [sys.executable, "-m", "mutualfuse"]
SIZES = {"01": (64, 72), "02": (56, 60)}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    base = tmp_path_factory.mktemp("ownw")
    rng = np.random.default_rng(5)
    for n, (h, w) in SIZES.items():
        for role in ("ir", "vis"):
            d = base / "data" / "ir-vis" / "tno" / role
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (h, w)).astype(np.uint8)).save(d / f"{n}.png")
    (base / "nofig.yaml").write_text("figures: []\n")
    (base / "weights.safetensors").write_bytes(Path(trained_weights(base)).read_bytes())
    return base


def _run(root, *args, cmd="benchmark"):
    env = dict(os.environ, OMP_NUM_THREADS="1", XDG_CACHE_HOME=str(root / "xdg"))
    return subprocess.run(CLI + [cmd, *args], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def _bench(root, out, *extra):
    return _run(root, "--data-root", str(root / "data"), "--out", str(root / out), "--cache", str(root / "cache"),
                "--tables", "1", "--methods", "average", "--fast-metrics", "--figures", str(root / "nofig.yaml"),
                *extra)


def _computed(stdout: str) -> int:
    m = re.search(r"(\d+) metric values computed", stdout)
    assert m, stdout
    return int(m.group(1))


def test_own_weights_row_equals_the_fuse_dir_route_and_is_cached(root):
    w = root / "weights.safetensors"
    tno = root / "data" / "ir-vis" / "tno"
    p = _run(root, str(tno / "ir"), str(tno / "vis"), "-o", str(root / "viadir"), "--weights", str(w), cmd="fuse-dir")
    assert p.returncode == 0, p.stderr
    p = _bench(root, "out", "--weights", f"mine={w}", "--fused", f"viadir={root / 'viadir'}")
    assert p.returncode == 0, p.stderr
    t = read_csv((root / "out" / "tables" / "table1.csv").read_text())
    assert set(t.values) >= {"Ours[mine]", "viadir", "AVERAGE"}
    assert all(v is not None for v in t.values["Ours[mine]"])
    assert t.values["Ours[mine]"] == t.values["viadir"]  # the same fused images: the same numbers
    assert t.values["Ours[mine]"] != t.values["AVERAGE"]
    assert "Ours[default]" not in t.values  # --weights restricts: shipped rows only where named

    # again: every value cached; a plain path names the row after the file's stem
    p = _bench(root, "out", "--weights", f"mine={w}")
    assert p.returncode == 0 and _computed(p.stdout) == 0, p.stderr
    p = _bench(root, "out2", "--weights", str(w))
    assert p.returncode == 0, p.stderr
    t2 = read_csv((root / "out2" / "tables" / "table1.csv").read_text())
    assert t2.values["Ours[weights]"] == t.values["Ours[mine]"]

    # the file retrained in place (other tensors, same path): its row is fused and scored again
    other = Path(trained_weights(root / "again", steps=3, seed=7))
    w.write_bytes(other.read_bytes())
    p = _bench(root, "out", "--weights", f"mine={w}")
    assert p.returncode == 0 and _computed(p.stdout) > 0, p.stderr


@pytest.mark.parametrize("entry, expect", [
    ("default={w}", "'default' is the name of shipped weights"),
    ("a b={w}", "must be one word"),
    ("mine=", "no weights file after '='"),
    ("mine={w},MINE={w}", "the row name 'MINE' is given twice"),
    ("mine={txt}", "txt"),
])
def test_bad_entries_are_one_line_before_any_work(root, entry, expect):
    (root / "not-weights.txt").write_text("hello\n")
    entry = entry.format(w=root / "weights.safetensors", txt=root / "not-weights.txt")
    p = _bench(root, "bad", "--weights", entry)
    lines = p.stderr.strip().splitlines()
    assert p.returncode == 2 and len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), p.stderr
    assert expect in lines[0] and "Traceback" not in p.stderr, lines
    assert not (root / "bad").exists()
