"""``Fuser(progress=True, tile=...)`` draws a ``tiles`` bar on stderr in library use (s27), as
``fuse --tile`` does at a terminal; ``progress=False`` draws none; the result is the same."""
import numpy as np

from mutualfuse.api import Fuser


def test_fuser_progress_shows_tiles(capsys):
    rng = np.random.default_rng(27)
    a, b = rng.random((96, 128)), rng.random((96, 128))
    quiet = Fuser(method="average", tile=32).fuse(a, b)
    assert "tiles" not in capsys.readouterr().err
    shown = Fuser(method="average", tile=32, progress=True).fuse(a, b)
    err = capsys.readouterr().err
    assert "tiles:" in err and "tile/s" in err, repr(err)
    assert np.array_equal(quiet, shown)
