"""``--import`` of a module that fails in ways the earlier checks missed (the S2 plugin audit):

* a module that exits while it is imported (``sys.exit(0)``, ``sys.exit("bye")``, a script's
  ``argparse`` at the top level): its SystemExit was the command's exit, so ``fuse`` ended with
  status 0 (or 1, or argparse's ``usage: mutualfuse --x X``) and wrote nothing; now one line naming
  the module, its file and line, and exit status 2;
* a file named like a module of Python's library or an installed package (``--import ./cmd.py``)
  was imported under that name and hid that module from every later import (``cmd.py`` broke pdb
  with "internal error: AttributeError"); now refused, naming what it would hide;
* a failure inside Python's library called by the module (``json.loads`` of bad text) was placed
  at the library's line (``json/decoder.py``), not the module's;
* a file of a package given as a file (``--import pkg/sub.py``) whose relative import failed:
  the line says how to import it with its package.
"""
from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from one_line_error import assert_one_line_error  # noqa: E402


@pytest.fixture()
def work(tmp_path, monkeypatch):
    """A working folder with a small gray pair ``ir.png`` / ``vis.png``; ``sys.path`` and
    ``sys.modules`` restored afterwards (the old code left a module it imported there)."""
    rng = np.random.default_rng(0)
    for name in ("ir", "vis"):
        Image.fromarray((rng.random((40, 48)) * 255).astype(np.uint8)).save(tmp_path / f"{name}.png")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    for name, mod in list(sys.modules.items()):  # the modules imported from the folder (the old code kept them)
        f = getattr(mod, "__file__", None)
        if f and Path(f).resolve().is_relative_to(tmp_path.resolve()):
            del sys.modules[name]


def _fuse(module: str) -> list[str]:
    return ["fuse", "ir.png", "vis.png", "-o", "out.png", "--import", module, "--method", "lp"]


@pytest.mark.parametrize("body, said", [
    ("import sys\nsys.exit(0)\n", "SystemExit 0"),
    ("import sys\nsys.exit('bye')\n", "SystemExit 'bye': bye"),
    ("import sys\n\nraise SystemExit(3)\n", "SystemExit 3"),
])
def test_a_module_that_exits_at_import_is_one_line_not_the_commands_exit(work, capsys, body, said):
    (work / "s25exits.py").write_text(body)
    line = assert_one_line_error(capsys, _fuse("s25exits.py"), "--import s25exits.py: the module exited",
                                 said, f"({work / 's25exits.py'}, line {body.count(chr(10))})",
                                 'if __name__ == "__main__"')
    assert "Traceback" not in line
    assert not (work / "out.png").exists()


def test_a_script_parsing_its_arguments_at_import_is_named(work, capsys):
    (work / "s25script.py").write_text(textwrap.dedent("""\
        import argparse
        p = argparse.ArgumentParser()
        p.add_argument("--epochs", required=True)
        args = p.parse_args()
    """))
    rc = main(_fuse("s25script.py"))
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (rc, out, err)
    last = err.splitlines()[-1]  # argparse itself printed its usage before it raised SystemExit(2)
    assert last.startswith("mutualfuse: error: --import s25script.py: the module exited (SystemExit 2)"), err
    assert f"({work / 's25script.py'}, line 4)" in last, last  # the module's line, not argparse's
    assert not (work / "out.png").exists()


def test_a_file_named_like_a_standard_module_is_refused(work, capsys):
    name = "tabnanny"  # a module of Python's library that nothing here imports
    assert name in sys.stdlib_module_names
    (work / f"{name}.py").write_text("X = 1\n")
    assert_one_line_error(capsys, _fuse(f"./{name}.py"), f"--import ./{name}.py: {name!r} is the name of a module "
                          "of Python's standard library", "rename the file")
    assert getattr(sys.modules.get(name), "__file__", None) != str(work / f"{name}.py")
    assert not (work / "out.png").exists()


def test_a_file_named_like_an_installed_module_is_refused(work, capsys):
    name = next((n for n in ("isympy", "execnet", "flatbuffers")
                 if n not in sys.modules and importlib.util.find_spec(n) is not None), None)
    if name is None:
        pytest.skip("none of the installed modules this test hides is installed and not imported")
    (work / f"{name}.py").write_text("X = 1\n")
    assert_one_line_error(capsys, _fuse(f"./{name}.py"), f"{name!r} is the name of the installed module {name!r}",
                          "rename the file")


def test_a_file_of_its_own_folder_on_the_path_is_still_imported(work, capsys, monkeypatch):
    """The check finds the file itself on the path (its folder is on it): not another module."""
    (work / "s25plain.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(work))
    assert main(_fuse("./s25plain.py")) == 0, capsys.readouterr().err
    assert (work / "out.png").is_file()


def test_a_failure_inside_the_standard_library_is_placed_at_the_modules_line(work, capsys):
    (work / "s25json.py").write_text("import json\n\nCONFIG = json.loads('{not json')\n")
    assert_one_line_error(capsys, _fuse("s25json.py"), "--import s25json.py: JSONDecodeError",
                          f"({work / 's25json.py'}, line 3)")


def test_a_package_file_with_a_relative_import_says_how_to_import_it(work, capsys):
    pkg = work / "s25pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text("W = 0.5\n")
    (pkg / "sub.py").write_text("from . import helper\n")
    assert_one_line_error(capsys, _fuse("s25pkg/sub.py"), "attempted relative import",
                          "part of the package 's25pkg'", f"--import s25pkg.sub run in {work}")
    assert main(_fuse("s25pkg.sub")) == 0, capsys.readouterr().err  # as the line says


def test_a_module_name_that_is_a_standard_modules_is_refused(work, capsys):
    """``--import code`` with ``code.py`` in the working folder imported Python's ``code`` module,
    which registers nothing, without a word."""
    (work / "code.py").write_text("X = 1\n")
    assert_one_line_error(capsys, _fuse("code"), "--import code: 'code' is the name of a module of Python's "
                          "standard library", "rename your module")
