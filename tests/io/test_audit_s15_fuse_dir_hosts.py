"""``fuse-dir`` on several machines sharing an output folder (``torchrun --nnodes 2``): a rank's
start-up clean-up (:func:`mutualfuse.io.atomic.remove_stale_parts`) removed every temporary whose
process id was not running *on its own machine*, so it deleted the other node's outputs while
they were being written (that pair then failed with "cannot write output"). Temporaries now
carry a host tag, and only this host's are judged by their process id."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.io.atomic import _PART, atomic_write, host_tag, remove_stale_parts


def _dead_pid() -> int:
    pid = 2 ** 22 + 4321
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1


def test_another_hosts_temporary_is_left_alone_and_this_hosts_stale_one_removed(tmp_path):
    pid = _dead_pid()
    other_tag = "0000dead" if host_tag() != "0000dead" else "0000beef"
    other = tmp_path / f".01.png.{pid}.h{other_tag}_k2j4.part.png"  # another node, still writing
    mine = tmp_path / f".02.png.{pid}.h{host_tag()}_k2j4.part.png"  # killed here with kill -9
    legacy = tmp_path / f".03.png.{pid}.abc123.part.png"  # written before the host tag
    for p in (other, mine, legacy):
        p.write_bytes(b"half")
    removed = remove_stale_parts(tmp_path)
    assert sorted(p.name for p in removed) == sorted([mine.name, legacy.name])
    assert other.exists()


def test_temporaries_are_named_with_the_host_tag_and_still_match_the_documented_form(tmp_path):
    with atomic_write(tmp_path / "f.png") as tmp:
        assert _PART.match(tmp.name), tmp.name
        assert tmp.name.startswith(f".f.png.{os.getpid()}.h{host_tag()}_"), tmp.name
        tmp.write_bytes(b"x")
    assert sorted(os.listdir(tmp_path)) == ["f.png"]


def test_fuse_dir_keeps_another_nodes_temporary(tmp_path):
    da, db, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    for d in (da, db, out):
        d.mkdir()
    rng = np.random.default_rng(0)
    for d in (da, db):
        Image.fromarray(rng.integers(0, 256, (16, 20), dtype=np.uint8)).save(d / "01.png")
    other_tag = "0000dead" if host_tag() != "0000dead" else "0000beef"
    other = out / f".02.png.{_dead_pid()}.h{other_tag}_zz.part.png"
    other.write_bytes(b"half")
    assert main(["fuse-dir", str(da), str(db), "-o", str(out), "--method", "average", "-q"]) == 0
    assert other.exists() and (out / "01.png").is_file()
