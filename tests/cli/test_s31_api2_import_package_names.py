"""``--import path/to/PKG`` (a package folder) whose name is taken: a module of Python's library
(``json/``), an installed package (``numpy/``) or another folder's package imported before
(two ``plugins/`` folders) was that other module, imported instead without a word, so nothing
was registered; a folder named ``my.pkg`` failed as "No module named 'my'". Each is now a
one-line error saying to rename the folder, as for a module file."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from registry_state import registries_restored  # noqa: E402

from mutualfuse.errors import ParameterError  # noqa: E402

INIT = '''from mutualfuse.methods import register_method


@register_method("{name}", family="pixel")
def {name}(a, b):
    return 0.5 * (a + b)
'''


def _package(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(INIT.format(name=name))
    return folder


@pytest.mark.parametrize("pkg, words", [
    ("json", "'json' is the name of a module of Python's standard library"),
    ("numpy", "'numpy' is the name of the installed module 'numpy'"),
    ("s31api2.pkg", "'s31api2.pkg' is not a Python package name"),
])
def test_a_taken_package_name_is_refused(tmp_path, monkeypatch, pkg, words):
    from mutualfuse.plugins import import_user_module

    monkeypatch.setattr(sys, "path", list(sys.path))
    folder = _package(tmp_path / pkg, "s31api2taken")
    with registries_restored("s31api2"):
        with pytest.raises(ParameterError) as e:
            import_user_module(str(folder))
        assert words in str(e.value) and "rename the folder" in str(e.value), str(e.value)


def test_a_second_folders_package_of_the_same_name_is_refused(tmp_path, monkeypatch):
    from mutualfuse.plugins import import_user_module

    monkeypatch.setattr(sys, "path", list(sys.path))
    one = _package(tmp_path / "a" / "s31api2plug", "s31api2one")
    two = _package(tmp_path / "b" / "s31api2plug", "s31api2two")
    with registries_restored("s31api2"):
        assert import_user_module(str(one)) == ["s31api2one"]
        assert import_user_module(str(one)) == []  # the same folder again: no error
        with pytest.raises(ParameterError, match=r"a module named 's31api2plug' is already imported .*rename"):
            import_user_module(str(two))
