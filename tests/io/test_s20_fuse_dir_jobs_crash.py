"""``fuse-dir -j 2`` when a worker dies (SIGKILL, as the system's out-of-memory killer sends)
and on Ctrl+C: one line each (no ``BrokenProcessPool`` or worker traceback), exit 2 / 130, no
temporary or partial file left, every output there a whole image, no worker left running."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_s20_fuse_dir_jobs import make_pairs  # noqa: E402

MODULE = textwrap.dedent('''
    import os
    import signal
    import time

    from mutualfuse.methods import register_method

    @register_method("s20crash", family="pixel")
    def fuse(a, b):
        if a.shape == (37, 41):  # the marked pair (the command's own 88x72 test pair is not)
            os.kill(os.getpid(), signal.SIGKILL)
        return 0.5 * a + 0.5 * b

    @register_method("s20slow", family="pixel")
    def slow(a, b):
        if a.shape != (72, 88):  # not the command's test pair
            time.sleep(0.4)
        return 0.5 * a + 0.5 * b
''')


def _start(tmp_path: Path, argv: list[str]) -> subprocess.Popen:
    (tmp_path / "s20crashmod.py").write_text(MODULE)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "mutualfuse", "fuse-dir", *argv, "--import",
                             str(tmp_path / "s20crashmod.py"), "-q"], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group ``pgid`` still runs (a zombie waiting for init does not)."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for d in proc.iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # state, ppid, pgrp
            return True
    return False


def _group_gone(pgid: int, wait: float = 10.0) -> bool:
    end = time.monotonic() + wait
    while time.monotonic() < end:
        if not _group_alive(pgid):
            return True
        time.sleep(0.1)
    return False


def _whole_images(out: Path) -> list[str]:
    names = sorted(p.name for p in out.iterdir())
    for n in names:
        with Image.open(out / n) as im:
            im.load()  # a truncated file raises
    return names


def test_a_dying_worker_is_one_line(tmp_path):
    da, db = make_pairs(tmp_path, n=6, bad=False)
    Image.fromarray(np.full((37, 41), 9, np.uint8)).save(da / "p3.png")  # the pair whose worker dies
    Image.fromarray(np.full((37, 41), 200, np.uint8)).save(db / "p3.png")
    out = tmp_path / "o"
    pr = _start(tmp_path, [str(da), str(db), "-o", str(out), "--method", "s20crash", "-j", "2"])
    stdout, stderr = pr.communicate(timeout=120)
    assert pr.returncode == 2, stderr
    assert stdout == ""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mutualfuse: error: a -j 2 worker process died while fusing "), stderr
    assert str(da / "p3.png") in lines[0] and "a rerun resumes" in lines[0]
    names = _whole_images(out)  # no temporary (.part) file, nothing truncated
    assert "p3.png" not in names and set(names) <= {f"p{i}.png" for i in range(6)}
    assert _group_gone(pr.pid)  # the other worker stopped too



def test_ctrl_c_stops_the_workers_and_leaves_no_partial_file(tmp_path):
    da, db = make_pairs(tmp_path, n=12, bad=False)
    out = tmp_path / "o"
    pr = _start(tmp_path, [str(da), str(db), "-o", str(out), "--method", "s20slow", "-j", "2"])
    end = time.monotonic() + 90
    while time.monotonic() < end and pr.poll() is None and not (
            out.is_dir() and any(p.suffix == ".png" and not p.name.startswith(".") for p in out.iterdir())):
        time.sleep(0.05)
    assert pr.poll() is None, pr.communicate()
    os.killpg(pr.pid, signal.SIGINT)  # Ctrl+C: the whole foreground process group
    stdout, stderr = pr.communicate(timeout=60)
    assert pr.returncode == 130, stderr
    assert stderr == "mutualfuse: interrupted\n", stderr  # no worker's KeyboardInterrupt traceback
    assert stdout == ""
    names = _whole_images(out)
    assert 1 <= len(names) < 12 and all(not n.startswith(".") for n in names), names
    assert _group_gone(pr.pid)
