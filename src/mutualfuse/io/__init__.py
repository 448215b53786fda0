"""Input and output: atomic, umask-respecting writes (:mod:`.atomic`)."""
from __future__ import annotations

from .atomic import atomic_write, current_umask, default_mode, probe_writable, remove_stale_parts

__all__ = ["atomic_write", "current_umask", "default_mode", "probe_writable", "remove_stale_parts"]
