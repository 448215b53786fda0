"""``--import pkg/__init__.py`` (a package's own file, as a user tab-completes it) imports the
package, as ``--import pkg`` does: it was imported as a module named ``__init__`` (the listing
said ``your method: __init__.NAME``), a second package's ``__init__.py`` was refused as "a module
named '__init__' is already imported", and the package's relative imports failed."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from registry_state import registries_restored  # noqa: E402

INIT = '''from mutualfuse.methods import register_method
from .helper import WEIGHT  # a relative import: needs the package


@register_method("{name}", family="pixel")
def {name}(a, b):
    return WEIGHT * a + (1 - WEIGHT) * b
'''


def _package(root: Path, pkg: str, name: str) -> Path:
    d = root / pkg
    d.mkdir(parents=True)
    (d / "__init__.py").write_text(INIT.format(name=name))
    (d / "helper.py").write_text("WEIGHT = 0.25\n")
    return d / "__init__.py"


def test_two_packages_init_files_import_as_their_packages(tmp_path, monkeypatch):
    from mutualfuse.methods import METHODS
    from mutualfuse.plugins import import_user_module

    monkeypatch.setattr(sys, "path", list(sys.path))
    one = _package(tmp_path / "a", "s31api2pkga", "s31api2ma")
    two = _package(tmp_path / "b", "s31api2pkgb", "s31api2mb")
    with registries_restored("s31api2pkg"):
        assert import_user_module(str(one)) == ["s31api2ma"]
        assert import_user_module(str(two)) == ["s31api2mb"]
        assert METHODS.get("s31api2ma").__module__ == "s31api2pkga"
        assert METHODS.get("s31api2mb").__module__ == "s31api2pkgb"
        assert "__init__" not in sys.modules
        # the same file again (the -j N workers, a repeated option) is no error
        assert import_user_module(str(one)) == []
