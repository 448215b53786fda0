"""Whether a folder's file system takes user extended attributes (``fuse-dir`` records each
output's options in one; tests of that skip where it cannot)."""
from __future__ import annotations

import os


def xattrs_work(d) -> bool:
    """Whether ``os.setxattr`` of a ``user.*`` attribute works on a file in folder ``d``."""
    f = d / "probe"
    f.write_bytes(b"")
    try:
        os.setxattr(f, "user.probe", b"1")
        return True
    except (AttributeError, OSError):  # not Linux, or a file system without user attributes
        return False
    finally:
        f.unlink()
