"""s31: ``--normalize full`` on a float TIFF outside [0, 1] was refused with the Python API's
words ("use normalize 'percentile' or 'auto'"); on the command line the refusal names the
option as it is typed. The API keeps its own words (normalize='percentile' is a keyword)."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile

from mutualfuse.cli import main

CLI = "use --normalize percentile or --normalize auto)"


def _floats(tmp_path):
    rng = np.random.default_rng(3)
    for d in ("A", "B"):
        (tmp_path / d).mkdir()
        tifffile.imwrite(tmp_path / d / "x.tif", (rng.random((40, 48)) * 300).astype(np.float32))
    return str(tmp_path / "A" / "x.tif"), str(tmp_path / "B" / "x.tif")


@pytest.mark.parametrize("command", ["fuse", "fuse-stack", "fuse-dir"])
def test_the_refusal_names_the_option_as_typed(tmp_path, capsys, command):
    a, b = _floats(tmp_path)
    argv = {"fuse": ["fuse", a, b, "-o", str(tmp_path / "f.tif")],
            "fuse-stack": ["fuse-stack", a, b, "-o", str(tmp_path / "s.tif")],
            "fuse-dir": ["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(tmp_path / "o")]}[command]
    rc = main([*argv, "--method", "average", "--normalize", "full"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "not [0, 1]" in err and CLI in err and "normalize 'percentile'" not in err, err
    assert not (tmp_path / "f.tif").exists() and not (tmp_path / "s.tif").exists()


def test_the_api_keeps_its_words(tmp_path):
    from mutualfuse import Fuser
    from mutualfuse.errors import PolicyRefusalError

    x = np.random.default_rng(0).random((40, 48)) * 300
    with pytest.raises(PolicyRefusalError, match=r"use normalize 'percentile' or 'auto'\)"):
        Fuser(method="average", normalize="full").fuse(x, x)
