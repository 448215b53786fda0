"""``fuse-dir``: a file name with a newline (or another control character) keeps its failure on
one line (it split the line: ``a/new`` / ``line.png: no file named new`` / ``line.png ...``), and
the ``-j N`` workers of a command killed with ``kill -9`` exit instead of waiting forever, each
holding its fuser."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main


def _img(path, seed):
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (48, 64), dtype=np.uint8)).save(path)


def _pair_dirs(tmp_path, names, b_offset):
    """Folders a/ and b/ under ``tmp_path`` holding random images named ``names`` (seeds i and
    ``b_offset`` + i)."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for i, name in enumerate(names):
        _img(a / name, i)
        _img(b / name, b_offset + i)
    return a, b


def test_a_failure_named_with_a_newline_stays_one_line(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _img(a / "ok.png", 1)
    _img(b / "ok.png", 2)
    _img(a / "new\nline.png", 3)  # no partner
    _img(a / "tab\there.png", 4)
    _img(b / "tab\there.png", 5)
    (a / "esc\x1b[2J.png").write_bytes(b"junk")  # no partner, and an escape sequence in its name
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "out"), "--method", "average", "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.splitlines()
    assert lines[0] == "mutualfuse: error: 2 pair(s) failed:" and len(lines) == 3, err
    assert lines[1] == f"  {a}/esc\\x1b[2J.png: no file named esc\\x1b[2J.png (or esc\\x1b[2J.*) in {b}"
    assert lines[2] == f"  {a}/new\\nline.png: no file named new\\nline.png (or new\\nline.*) in {b}"
    assert (tmp_path / "out" / "tab\there.png").is_file()  # the file itself keeps its real name


def _children(pid: int) -> set[int]:
    kids = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        with open(task / "children") as fh:
            kids |= {int(x) for x in fh.read().split()}
    return kids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _is_worker(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.skipif(not Path(f"/proc/self/task/{os.getpid()}/children").exists(),
                    reason="needs Linux /proc/PID/task/TID/children")
def test_workers_of_a_killed_command_exit(tmp_path):
    a, b = _pair_dirs(tmp_path, [f"{i:03d}.png" for i in range(30)], 1000)
    mod = tmp_path / "s25_slow_method.py"  # 0.3 s a pair: the run is still going when it is killed
    mod.write_text("import time\nfrom mutualfuse.methods import register_method\n\n\n"
                   "@register_method('s25slow', family='pixel')\ndef s25slow(a, b):\n"
                   "    time.sleep(0.3)\n    return (a + b) / 2\n")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "mutualfuse", "fuse-dir", str(a), str(b), "-o", str(tmp_path / "out"),
           "--import", str(mod), "--method", "s25slow", "-j", "2", "-q"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "err.txt", "w"))
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None:
            workers = {k for k in _children(p.pid) if _is_worker(k)}
            if len(workers) == 2 and any((tmp_path / "out").glob("*.png")):  # both started, pairs written
                break
            time.sleep(0.1)
        assert len(workers) == 2 and p.poll() is None, (p.poll(), (tmp_path / "err.txt").read_text()[-2000:])
        p.send_signal(signal.SIGKILL)
        p.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        left = [w for w in workers if _alive(w)]
        assert not left, f"workers {left} outlived the killed command"
    finally:
        for w in workers:
            if _alive(w) and _is_worker(w):
                os.kill(w, signal.SIGKILL)
        if p.poll() is None:
            p.kill()
            p.wait()
    # a rerun finishes the run and removes what the killed workers left
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "out"), "--method", "average", "--overwrite", "-q"])
    names = sorted(x.name for x in (tmp_path / "out").iterdir())
    assert rc == 0 and names == [f"{i:03d}.png" for i in range(30)]


def test_out_of_memory_in_a_classical_method_advises_what_it_takes(tmp_path, capsys):
    """A pair whose method ran out of memory: its line advised ``--window-pixels lower``, which a
    classical method refuses; now ``--tile`` (and a smaller ``-j`` under ``-j N``)."""
    a, b = _pair_dirs(tmp_path, ["0.png", "1.png"], 10)
    mod = tmp_path / "s25_memory_method.py"
    mod.write_text("from mutualfuse.methods import register_method\n\n\n"
                   "@register_method('s25nomem', family='pixel')\ndef s25nomem(a, b):\n"
                   "    if a.shape == (48, 64):\n        raise MemoryError()\n    return (a + b) / 2\n")
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "out"), "--import", str(mod),
               "--method", "s25nomem", "-q"])
    err = capsys.readouterr().err
    lines = [ln.strip() for ln in err.splitlines() if ln.startswith("  ")]
    assert rc == 2 and lines == [f"{a / '0.png'}: out of memory (try --tile)",
                                 f"{a / '1.png'}: out of memory (try --tile)"], err
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "out"), "--import", str(mod),
               "--method", "s25nomem", "-q", "--tile", "32"])
    assert rc == 0, capsys.readouterr().err  # the advice works: tiles of 32 are not 48x64


def test_the_progress_bar_shows_a_newline_in_a_name_escaped(tmp_path, capsys):
    """-j 2 refreshes the bar with each finished pair's name (a raw newline split it); -j 1's bar
    escapes it the same way, but refreshes too seldom for a test of two tiny pairs to see it."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    for name, seed in (("new\nline.png", 1), ("plain.png", 2)):
        _img(a / name, seed)
        _img(b / name, 10 + seed)
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "out"), "--method", "average", "-j", "2"])
    err = capsys.readouterr().err
    assert rc == 0 and "new\nline" not in err, err  # shown escaped, when the bar shows it
    assert (tmp_path / "out" / "new\nline.png").is_file()
