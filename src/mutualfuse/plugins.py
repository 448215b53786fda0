"""A researcher's own fusion method or metric, on every command: ``--import MODULE`` (a module
name, a ``.py`` file or a package folder) imports the module that registers it
(:func:`mutualfuse.methods.register_method`; :func:`mutualfuse.metrics.register_metric` and
:func:`mutualfuse.metrics.register_profile`) before the command looks its ``--method`` (or
``--metrics`` / ``--profile``) up.

* :func:`import_user_module`: ``--import mymethod`` (a module on the Python path, or in the
  working folder, as ``python -m`` finds it), ``--import path/to/mymethod.py`` (a file) or
  ``--import path/to/mypackage`` (a package folder); one-line errors naming the file and line of
  the failure. The ``-j N`` workers of ``benchmark`` import the same way
  (:func:`mutualfuse.benchmark.jobs.init_worker`); every ``torchrun`` rank of ``fuse-dir`` runs
  the command itself, and so imports them too, as does every ``fuse-dir -j N`` worker
  (:mod:`mutualfuse.cli.fuse_dir_jobs`).
* :func:`import_user_modules`: the ``--import`` options of a command, in order.

Used by ``mutualfuse fuse``, ``fuse-dir``, ``fuse-stack``, ``fuse-video``, ``fuse-volume``,
``serve`` (the web page), ``methods``, ``benchmark`` (:mod:`mutualfuse.benchmark.plugins` holds
the benchmark's own checks of the methods) and ``evaluate`` (metrics of one's own; its ``-j N``
workers import the modules too, :func:`mutualfuse.evaluation._worker_init`, whether they are
forked or spawned).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from pathlib import Path
from typing import Iterable

from .errors import ParameterError


def _one_line(text: str, limit: int = 200) -> str:
    return " ".join(str(text).split())[:limit]


def _is_path(spec: str) -> bool:
    """A file or folder (``mymethod.py``, ``./pkg``), not a module name (``mymethod``, ``pkg.sub``,
    which :func:`_load_name` also finds in the working folder)."""
    return spec.endswith(".py") or "/" in spec or os.sep in spec


#: the package's own folder: frames in it are not where a user's module failed
_PACKAGE = Path(__file__).resolve().parent


def _where(e: BaseException) -> str:
    """`` (file, line N)`` of the innermost frame of the user's code in ``e``'s traceback."""
    frames = []
    for f in traceback.extract_tb(e.__traceback__):
        if f.filename.startswith("<") or "importlib" in Path(f.filename).parts:
            continue
        if Path(f.filename).resolve().is_relative_to(_PACKAGE):
            continue
        frames.append(f)
    return f" ({frames[-1].filename}, line {frames[-1].lineno})" if frames else ""


def _describe(e: BaseException) -> str:
    if isinstance(e, SyntaxError):  # its str() names only the file's base name
        return f"{type(e).__name__}: {_one_line(e.msg)} ({e.filename}, line {e.lineno})"
    return f"{type(e).__name__}: {_one_line(e)}{_where(e)}"


def _load_file(spec: str) -> None:
    p = Path(spec).expanduser()
    if p.is_dir():  # a package folder: import it by name from its parent
        if not (p / "__init__.py").is_file():
            raise ParameterError(f"--import {spec}: a folder without __init__.py (give a module file or a package)")
        parent, name = str(p.resolve().parent), p.resolve().name
        if parent not in sys.path:
            sys.path.insert(0, parent)
        importlib.import_module(name)
        return
    if not p.is_file():
        raise ParameterError(f"--import {spec}: no such file")
    name = p.stem
    if not name.isidentifier():
        raise ParameterError(f"--import {spec}: {name!r} is not a Python module name (rename the file, e.g. "
                             f"{name.replace('-', '_').replace('.', '_')}.py)")
    have = sys.modules.get(name)
    if have is not None:
        if getattr(have, "__file__", None) and Path(have.__file__).resolve() == p.resolve():
            return  # already imported (the main process, or a second --import of the same file)
        raise ParameterError(f"--import {spec}: a module named {name!r} is already imported "
                             f"({getattr(have, '__file__', None) or 'built in'}); rename the file")
    # its folder on the path first, as `python FILE` has it: the module can import its neighbours,
    # and the -j N workers (which start with this process's path) find it again
    parent = str(p.resolve().parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    mspec = importlib.util.spec_from_file_location(name, p)
    if mspec is None or mspec.loader is None:
        raise ParameterError(f"--import {spec}: cannot import this file (not Python source?)")
    mod = importlib.util.module_from_spec(mspec)
    sys.modules[name] = mod
    try:
        mspec.loader.exec_module(mod)
    except BaseException:
        sys.modules.pop(name, None)
        raise


def _load_name(spec: str) -> None:
    if not all(part.isidentifier() for part in spec.split(".")):
        raise ParameterError(f"--import {spec}: not a module name (e.g. mymethod, or the file mymethod.py)")
    try:
        importlib.import_module(spec)
        return
    except ModuleNotFoundError as e:
        top = spec.split(".")[0]
        # not found on the path: the working folder, as `python -m mutualfuse` has it on its path
        # (the installed `mutualfuse` command has not)
        cwd = os.getcwd()
        if e.name is None or top != e.name.split(".")[0]:
            raise  # a module the user's module imports is missing: say so as it is
        if (Path(cwd) / f"{top}.py").is_file() or (Path(cwd) / top / "__init__.py").is_file():
            if cwd not in sys.path:
                sys.path.insert(0, cwd)
            importlib.import_module(spec)
            return
        raise ParameterError(f"--import {spec}: no module named {e.name!r} on the Python path or in the working "
                             f"folder {cwd} (give its file, --import path/to/{top}.py, or add its folder to "
                             "PYTHONPATH)") from None


def import_user_module(spec: str) -> list[str]:
    """Import ``spec`` (a module name or a file / package path) and return the names of the
    fusion methods it registered. Any failure is one :class:`ParameterError` line naming the
    module and the file and line where its import failed."""
    # the method registry only where it is loaded (it loads torch, which evaluate and its -j
    # workers do not need): a module that registers methods loads it itself
    methods = sys.modules.get("mutualfuse.methods")
    before = set(methods.METHODS.names()) if methods is not None else None
    try:
        (_load_file if _is_path(spec) else _load_name)(spec)
    except ParameterError as e:
        if str(e).startswith(f"--import {spec}:"):  # the loader's own (no such file, not a module name)
            raise
        # raised by the module's code (register_metric / register_method refusing a registration): named
        # with the module and the file and line, as any other failure of its import
        raise ParameterError(f"--import {spec}: {_one_line(e, 400)}{_where(e)}") from None
    except Exception as e:  # noqa: BLE001 - whatever the user's module raises
        raise ParameterError(f"--import {spec}: {_describe(e)}") from None
    methods = sys.modules.get("mutualfuse.methods")
    if methods is None:
        return []
    if before is None:  # loaded by the module: the built-in methods came with it
        return [e.name for e in methods.METHODS if methods._is_own(e.obj)]
    return [n for n in methods.METHODS.names() if n not in before]


def import_user_modules(specs: Iterable[str]) -> dict[str, list[str]]:
    """Import every module of ``specs`` in order (:func:`import_user_module`) → ``{spec: the
    methods it registered}``; the first failure is its one-line :class:`ParameterError`."""
    return {s: import_user_module(s) for s in specs}
