"""A name by which safetensors can open a file.

safetensors' file functions (``safe_open``, ``load_file``) take UTF-8 paths only: a file in a
folder named in Latin-1 bytes (Python gives such a byte as a lone surrogate) was "not valid
UTF-8" to them, and our checkpoints and weights at such paths could not be read. Reading the
whole file into memory and deserialising its bytes would work everywhere but gives up the
header check before any tensor is read and doubles the memory; instead the file is opened by its
bytes and named ``/proc/self/fd/N``, where the system has it (Linux, where such names occur).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


@contextlib.contextmanager
def safetensors_name(path: str | os.PathLike) -> Iterator[str]:
    """``str(path)``, or for a path that is not UTF-8 ``/proc/self/fd/N`` of the file opened by
    its bytes, for as long as the ``with`` lasts (elsewhere than Linux: the path, which
    safetensors then refuses as before). ``OSError`` where such a file cannot be opened.

    >>> with safetensors_name("w.safetensors") as name:
    ...     name
    'w.safetensors'
    """
    try:
        os.fspath(path).encode("utf-8")
    except UnicodeEncodeError:
        if os.path.isdir("/proc/self/fd"):
            fd = os.open(path, os.O_RDONLY)
            try:
                yield f"/proc/self/fd/{fd}"
            finally:
                os.close(fd)
            return
    yield str(path)
