"""scripts/ship_ablations.py: --help and a folder without finished runs leave the registry alone."""
from __future__ import annotations

import pytest

from tests.script_module import load


@pytest.fixture
def mod(tmp_path):
    m = load("scripts/ship_ablations.py")
    m.WDIR = tmp_path / "weights"  # never the real src/mutualfuse/weights
    m.WDIR.mkdir()
    return m


def test_help_writes_nothing(mod, capsys):
    # it took "--help" for the runs folder and rewrote ablations.py with no entries
    with pytest.raises(SystemExit) as e:
        mod.main(["--help"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("usage:")
    assert not any(mod.WDIR.iterdir())


@pytest.mark.parametrize("sub", ["missing", "empty"])
def test_no_finished_run_is_an_error_and_writes_nothing(mod, tmp_path, capsys, sub):
    runs = tmp_path / sub
    if sub == "empty":
        (runs / "var-mapping-s0").mkdir(parents=True)  # a run without final.safetensors
    assert mod.main([str(runs)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nothing shipped" in err
    assert not any(mod.WDIR.iterdir())
