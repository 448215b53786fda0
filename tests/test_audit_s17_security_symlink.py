"""s17 security audit: an output path that is a symbolic link was resolved by mutualfuse itself
(os.path.realpath) and the file it points to replaced. The kernel's fs.protected_symlinks (on by
default in every major distribution) makes open() refuse a link of another user in a sticky
world-writable folder such as /tmp; resolved in user space, that check never ran, so another
user's planted ``/tmp/fused.png -> ~victim/.bashrc`` had ``mutualfuse fuse a b -o /tmp/fused.png``
overwrite the victim's file. Such a link is now refused (one line, exit 2, the target untouched)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mutualfuse.errors import InputError
from mutualfuse.io.atomic import atomic_write, write_target

SAMPLES = Path(__file__).resolve().parents[1] / "src/mutualfuse/data/samples/tno-01"
OTHER = 65534  # nobody

needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="a link owned by another user can only be made as root")


@pytest.fixture
def shared(tmp_path):
    d = tmp_path / "shared"
    d.mkdir()
    os.chmod(d, 0o1777)  # as /tmp
    victim = tmp_path / "home" / "important.txt"
    victim.parent.mkdir()
    victim.write_text("precious")
    return d, victim


@needs_root
def test_foreign_link_in_a_sticky_folder_is_refused(shared):
    d, victim = shared
    link = d / "fused.png"
    link.symlink_to(victim)
    os.chown(link, OTHER, OTHER, follow_symlinks=False)
    with pytest.raises(InputError, match="symbolic link of another user") as e:
        with atomic_write(link) as tmp:
            tmp.write_bytes(b"x")
    assert str(e.value).startswith(f"{link}: ")
    assert victim.read_text() == "precious"
    r = subprocess.run([sys.executable, "-m", "mutualfuse", "fuse", str(SAMPLES / "a.png"), str(SAMPLES / "b.png"),
                        "-o", str(link), "--method", "average", "-q"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "symbolic link of another user" in r.stderr and "Traceback" not in r.stderr
    assert victim.read_text() == "precious" and link.is_symlink()
    assert sorted(p.name for p in victim.parent.iterdir()) == ["important.txt"]  # no temporary left


@needs_root
def test_foreign_link_reached_through_an_own_link_is_refused(shared, tmp_path):
    d, victim = shared
    hop = d / "hop.png"
    hop.symlink_to(victim)
    os.chown(hop, OTHER, OTHER, follow_symlinks=False)
    mine = tmp_path / "out.png"
    mine.symlink_to(hop)
    with pytest.raises(InputError, match="symbolic link of another user"):
        write_target(mine)


@needs_root
def test_foreign_link_in_an_ordinary_folder_is_followed(tmp_path):
    victim = tmp_path / "target.png"
    link = tmp_path / "link.png"
    link.symlink_to(victim)
    os.chown(link, OTHER, OTHER, follow_symlinks=False)
    assert write_target(link) == Path(os.path.realpath(victim))


def test_own_link_in_a_sticky_folder_is_written_through(shared):
    d, victim = shared
    link = d / "mine.png"
    link.symlink_to(victim)
    with atomic_write(link) as tmp:
        tmp.write_text("new")
    assert victim.read_text() == "new" and link.is_symlink()
