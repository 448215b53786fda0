"""A researcher's own fusion method or metric, on every command: ``--import MODULE`` (a module
name, a ``.py`` file or a package folder) imports the module that registers it
(:func:`mutualfuse.methods.register_method`; :func:`mutualfuse.metrics.register_metric` and
:func:`mutualfuse.metrics.register_profile`) before the command looks its ``--method`` (or
``--metrics`` / ``--profile``) up.

* :func:`import_user_module`: ``--import mymethod`` (a module on the Python path, or in the
  working folder, as ``python -m`` finds it), ``--import path/to/mymethod.py`` (a file) or
  ``--import path/to/mypackage`` (a package folder; its ``__init__.py`` given as a file imports the
  package too); one-line errors naming the file and line of
  the failure (the module's line, also when it failed inside a library it called), a module that
  exits while imported (``sys.exit``, a script's ``argparse``: its SystemExit was the command's
  exit), a file or package folder named like a module of Python's library, an installed package
  (one would hide the other) or a module imported before (another folder's package of that
  name: it was imported instead, silently) and, for a package's file given as a file, how to import it with its package. The
  ``-j N`` workers of ``benchmark`` import the same way
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


def _library_dirs() -> tuple[Path, ...]:
    """The folders of Python's own library and of installed packages (numpy, torch, argparse):
    where a user's module failed is rarely there, but in the user's line that called them."""
    import sysconfig

    dirs = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            d = sysconfig.get_paths().get(key)
        except Exception:  # noqa: BLE001 - a broken install: no folder to leave out
            d = None
        if d:
            dirs.add(Path(d).resolve())
    for d in sys.path:
        if d and Path(d).name in ("site-packages", "dist-packages"):
            dirs.add(Path(d).resolve())
    return tuple(sorted(dirs))


def _where(e: BaseException) -> str:
    """`` (file, line N)`` of the innermost frame of the user's code in ``e``'s traceback: frames in
    this package and in importlib are never the user's; of the others, the innermost that is not in
    Python's library or an installed package (the user's line that called ``argparse``,
    ``numpy``, ``sys.exit``), else the innermost (a plugin installed as a package)."""
    frames = []
    for f in traceback.extract_tb(e.__traceback__):
        if f.filename.startswith("<") or "importlib" in Path(f.filename).parts:
            continue
        if Path(f.filename).resolve().is_relative_to(_PACKAGE):
            continue
        frames.append(f)
    if not frames:
        return ""
    libs = _library_dirs()
    own = [f for f in frames if not any(Path(f.filename).resolve().is_relative_to(d) for d in libs)]
    f = (own or frames)[-1]
    return f" ({f.filename}, line {f.lineno})"


def _describe(e: BaseException) -> str:
    if isinstance(e, SyntaxError):  # its str() names only the file's base name
        return f"{type(e).__name__}: {_one_line(e.msg)} ({e.filename}, line {e.lineno})"
    return f"{type(e).__name__}: {_one_line(e)}{_where(e)}"


def _relative_import_hint(spec: str, e: BaseException) -> str:
    """For a file of a package given as a file (``--import pkg/sub.py``) whose relative import
    (``from . import helper``) failed: how to import it with its package."""
    p = Path(spec).expanduser()
    if not (isinstance(e, ImportError) and "relative import" in str(e) and p.suffix == ".py"
            and (p.resolve().parent / "__init__.py").is_file()):
        return ""
    parts = [p.stem]
    folder = p.resolve().parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return (f"; it is part of the package {parts[0]!r}: import it with its package, --import {'.'.join(parts)} "
            f"run in {folder} (or with that folder on PYTHONPATH)")


def _add_to_path(folder: str) -> None:
    """Put a user's folder on ``sys.path`` (where it is not yet), so that its module can import its
    neighbours and the ``-j N`` workers, which start with this process's path, find it again:
    before the installed packages, as ``python FILE`` has it, but after Python's standard library.
    First, as ``python FILE`` puts it, a ``json.py``, ``code.py`` or ``random.py`` beside the
    module hid that standard module from every later import: from this process's (the web
    server's lazy imports) and from every spawned worker's (which crashed while starting,
    "internal error: BrokenProcessPool")."""
    if folder in sys.path:
        return
    import sysconfig

    std = Path(sysconfig.get_paths()["stdlib"]).resolve()
    zipped = f"python{sys.version_info[0]}{sys.version_info[1]}.zip"
    at = 0
    for i, entry in enumerate(sys.path):
        try:
            if entry and (Path(entry).name == zipped or Path(entry).resolve().is_relative_to(std)):
                at = i + 1
        except (OSError, ValueError):  # an odd entry: not the standard library
            continue
    sys.path.insert(at, folder)


def _other_module_named(name: str, p: Path) -> str | None:
    """What else ``name`` is (a module of Python's library, a module installed in site-packages),
    if it is not the file ``p`` itself; None otherwise (a module of the same name in another folder
    on the path, e.g. an earlier ``--import``'s, is left to the "already imported" check)."""
    if name in getattr(sys, "stdlib_module_names", ()) or name in sys.builtin_module_names:
        return "a module of Python's standard library"
    try:
        found = importlib.util.find_spec(name)
    except Exception:  # noqa: BLE001 - a broken package of that name: still another module
        return f"the installed module {name!r}"
    if found is None:
        return None
    origin = found.origin if found.origin not in (None, "namespace") else None
    if origin and Path(origin).resolve() == p.resolve():
        return None  # this file, found on the path (its folder is the working folder, or on PYTHONPATH)
    if origin is None:  # a namespace package (a folder without __init__.py somewhere on the path): the file wins
        return None
    if not any(Path(origin).resolve().is_relative_to(d) for d in _library_dirs()):
        return None  # a file of a folder on the path (another --import's folder, PYTHONPATH): as before
    return f"the installed module {name!r} ({origin})"


def _module_name_like(name: str) -> str:
    """A module name close to the file stem ``name``, which is none: every character that cannot
    be in one as ``_``, and ``m_`` before a leading digit (``my-method`` → ``my_method``, ``2step`` →
    ``m_2step``, ``my method`` → ``my_method``; the suggestion was the same bad name for any but
    ``-`` and ``.``)."""
    import re

    out = re.sub(r"\W", "_", name) or "mymethod"
    if not out.isidentifier():  # a leading digit
        out = "m_" + out
    return out if out.isidentifier() else "mymethod"


def _imported_already(spec: str, name: str, path: Path, advice: str) -> bool:
    """Whether module ``name`` is imported already from ``path`` (True: nothing to do); a module of
    that name from elsewhere (or built in) is a one-line :class:`ParameterError` ending in ``advice``
    (after the other module's file, in brackets)."""
    have = sys.modules.get(name)
    if have is None:
        return False
    if getattr(have, "__file__", None) and Path(have.__file__).resolve() == path.resolve():
        return True
    raise ParameterError(f"--import {spec}: a module named {name!r} is already imported "
                         f"({getattr(have, '__file__', None) or 'built in'}){advice}")


def _load_file(spec: str) -> None:
    p = Path(spec).expanduser()
    if p.name == "__init__.py" and p.is_file():
        # a package's own file: the package (its folder), as `--import pkg`; imported as a module
        # of its own it was named '__init__' (the listing said `__init__.mymethod`, a second
        # package's __init__.py was refused as "already imported", its relative imports failed)
        p = p.parent
    if p.is_dir():  # a package folder: import it by name from its parent
        init = p / "__init__.py"
        if not init.is_file():
            raise ParameterError(f"--import {spec}: a folder without __init__.py (give a module file or a package)")
        parent, name = str(p.resolve().parent), p.resolve().name
        # as for a file (below): a package named like a module already imported (Python's `json`,
        # another folder's package of that name) or like a module of Python's library or an
        # installed package was that module, imported or found instead, silently: nothing registered
        if "." in name:  # imported by name, it is a submodule of a package 'my' (was "No module named 'my'")
            raise ParameterError(f"--import {spec}: {name!r} is not a Python package name (a '.' in the folder's "
                                 f"name); rename the folder, e.g. {_module_name_like(name)}")
        other = _other_module_named(name, init)
        if other:
            raise ParameterError(f"--import {spec}: {name!r} is the name of {other}, which clashes with this "
                                 f"package (one hides the other from every import); rename the folder "
                                 f"(e.g. my_{name})")
        if _imported_already(spec, name, init, ", not this folder's package; rename the folder"):
            return  # the main process, or a second --import of the same folder
        _add_to_path(parent)
        importlib.import_module(name)
        return
    if not p.is_file():
        raise ParameterError(f"--import {spec}: no such file")
    name = p.stem
    if not name.isidentifier():
        raise ParameterError(f"--import {spec}: {name!r} is not a Python module name (rename the file, e.g. "
                             f"{_module_name_like(name)}.py)")
    if _imported_already(spec, name, p, "; rename the file"):
        return  # the main process, or a second --import of the same file
    other = _other_module_named(name, p)
    if other:
        # imported under that name, it would hide that module from everything imported after it
        # (`--import ./cmd.py` broke pdb, `./random.py` numpy's and torch's own imports)
        raise ParameterError(f"--import {spec}: {name!r} is the name of {other}, which this module would hide "
                             f"from every later import; rename the file (e.g. my_{name}.py)")
    # its folder on the path (after the standard library, _add_to_path): the module can import its
    # neighbours, and the -j N workers (which start with this process's path) find it again
    parent = str(p.resolve().parent)
    _add_to_path(parent)
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
    top = spec.split(".")[0]
    here = Path(os.getcwd())
    if (top in getattr(sys, "stdlib_module_names", ()) and
            ((here / f"{top}.py").is_file() or (here / top / "__init__.py").is_file())):
        # the name finds Python's own module (which registers nothing, silently), not the user's file
        raise ParameterError(f"--import {spec}: {top!r} is the name of a module of Python's standard library, "
                             f"which this name imports, not {here / top}*; rename your module (e.g. my_{top})")
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
            _add_to_path(cwd)
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
        raise ParameterError(f"--import {spec}: {_describe(e)}{_relative_import_hint(spec, e)}") from None
    except SystemExit as e:  # sys.exit() or a script's argparse at import: was the command's exit, 0 included
        code = e.code if e.code is not None else 0
        said = f": {_one_line(code)}" if not isinstance(code, int) else ""
        raise ParameterError(f"--import {spec}: the module exited (SystemExit {code!r}{said}) while it was "
                             f"imported{_where(e)}: a script's code (argparse, sys.exit) runs at import; put it "
                             "under `if __name__ == \"__main__\":`") from None
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
