"""Weights files of one's own named on a command line, ``NAME=FILE`` (``benchmark --weights``,
``serve --weights``): the one check both commands make before any work."""
from __future__ import annotations

import os
import re

#: a NAME of ``NAME=FILE``: one word (it becomes a table row ``Ours[NAME]`` or a menu entry)
OWN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def check_named_weights(items: list[tuple[str, str, str]], option: str = "--weights",
                        noun: str = "weights name") -> dict[str, str]:
    """``(entry as given, NAME, FILE)`` each, checked → ``{NAME: absolute FILE}`` in the order
    given. Each file is read and verified as ``fuse`` reads it (:func:`mutualfuse.weights.read_weights`:
    its ``.sha256`` sidecar, header, config, tensors): a file that is not valid weights is a one-line
    :class:`~mutualfuse.errors.WeightsError`; a NAME that is not one word (:data:`OWN_NAME`), is a
    shipped name or is given twice (case aside), or an entry with no file after ``=``, a one-line
    :class:`~mutualfuse.errors.ParameterError` naming ``option``, the entry and the ``noun``."""
    from ..errors import ParameterError
    from . import SHIPPED, read_weights

    out: dict[str, str] = {}
    seen: dict[str, str] = {}
    shipped = {n.lower() for n in SHIPPED}
    for entry, name, path in items:
        path = str(path).strip()
        if not OWN_NAME.fullmatch(name or ""):
            raise ParameterError(f"{option} {entry}: the {noun} {name!r} must be one word of letters, digits "
                                 "and . _ + - (NAME=FILE)")
        if not path:
            raise ParameterError(f"{option} {entry}: no weights file after '=' (NAME=FILE)")
        if name.lower() in shipped:
            raise ParameterError(f"{option} {entry}: {name!r} is the name of shipped weights; give your file "
                                 "another name (NAME=FILE)")
        if name.lower() in seen:
            raise ParameterError(f"{option}: the {noun} {name!r} is given twice ({seen[name.lower()]}, {entry})")
        seen[name.lower()] = entry
        read_weights(path)  # not valid weights, or failing its sidecar: one line, before any work
        out[name] = os.path.abspath(path)
    return out
