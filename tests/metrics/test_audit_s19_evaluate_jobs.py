"""``mutualfuse evaluate -j N``: a worker that dies while the next pair is read (audit s19).

A worker killed (e.g. by the system, out of memory) while this process read the next pair broke
the pool before that pair's metrics were submitted: ``submit`` raised ``BrokenProcessPool``,
which reached the user as "internal error: BrokenProcessPool" (and made the s18 test of a killed
worker fail now and then). It is now the same one-line error as a death seen when collecting a
result, naming the file and metric the worker was computing and ``-j``.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time

import numpy as np
import pytest
from PIL import Image

import mutualfuse.evaluation as EV
from mutualfuse.errors import FuseError

forked = pytest.mark.skipif((mp.get_start_method(allow_none=True) or mp.get_all_start_methods()[0]) != "fork",
                            reason="workers must be forked to see the monkeypatched scorer")


def _die(key, a, b, f):  # module level: pickled by reference into the forked workers
    os._exit(3)


@forked
def test_a_worker_dying_while_the_next_pair_is_read_is_a_one_line_error(tmp_path, monkeypatch):
    rng = np.random.default_rng(2)
    for d in ("a", "b", "f"):
        (tmp_path / d).mkdir()
    for i in range(2):
        x = rng.integers(0, 256, (24, 24)).astype(np.uint8)
        for d in ("a", "b", "f"):
            Image.fromarray(x).save(tmp_path / d / f"{i:03d}.png")
    fused = [tmp_path / "f"]
    names, la, lb, lf = EV.pair_folders(tmp_path / "a", tmp_path / "b", fused)
    labels = EV.select_metrics(["SF@vifb"], None)
    real = EV.read_gray

    def slow_second_pair(path, *a, **k):
        if os.path.basename(path) == "001.png":
            time.sleep(1.5)  # the worker scoring 000 dies meanwhile: the pool is broken at the next submit
        return real(path, *a, **k)

    monkeypatch.setattr(EV, "read_gray", slow_second_pair)
    monkeypatch.setattr(EV, "_score_or_skip", _die)
    with pytest.raises(FuseError) as e:
        EV._compute(names, la, lb, lf, ["f"], fused, labels, 2, True)
    msg = str(e.value)
    assert "\n" not in msg and "000.png" in msg and "SF@vifb" in msg and "-j 2" in msg, msg
