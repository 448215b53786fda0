"""s31: ``evaluate --normalize full`` on float sources outside [0, 1] names the option as typed
(it said the Python API's "use normalize 'percentile' or 'auto'")."""
from __future__ import annotations

import numpy as np
import tifffile
from PIL import Image

from mutualfuse.cli import main


def test_evaluate_names_the_option_as_typed(tmp_path, capsys):
    rng = np.random.default_rng(4)
    for d in ("A", "B", "F"):
        (tmp_path / d).mkdir()
    for d in ("A", "B"):
        tifffile.imwrite(tmp_path / d / "x.tif", (rng.random((40, 48)) * 300).astype(np.float32))
    Image.fromarray(rng.integers(0, 256, (40, 48), dtype=np.uint8)).save(tmp_path / "F" / "x.png")
    rc = main(["evaluate", "--a", str(tmp_path / "A"), "--b", str(tmp_path / "B"), "--fused", str(tmp_path / "F"),
               "--normalize", "full", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert "use --normalize percentile or --normalize auto)" in err and "normalize 'percentile'" not in err, err
