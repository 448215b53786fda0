"""Weights trained with ``data.normalize`` / ``data.percentiles`` other than the defaults are fused
with the same intensity policy unless ``--normalize`` / ``--percentiles`` say otherwise: the
policy is recorded in the weights' ``train_data`` (``mutualfuse train``, session 23), and before
this ``fuse`` read 16-bit inputs with ``auto`` (per-image percentiles) whatever the training saw."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.cli import main
from train_cli_helpers import trained_weights


def _png16(path, seed):
    x = np.random.default_rng(seed).integers(7000, 7600, (24, 32)).astype(np.uint16)
    Image.fromarray(x).save(path)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two tiny runs: data.normalize full, and percentile with percentiles [2, 98]."""
    base = tmp_path_factory.mktemp("policy")
    out = {"full": trained_weights(base, "full", **{"data.normalize": "full"}),
           "pct": trained_weights(base, "pct", **{"data.normalize": "percentile", "data.percentiles": [2, 98]})}
    return out


def _network_inputs(f: Fuser, a, b) -> np.ndarray:
    """The [0, 1] source the network is given for ``a`` (a 2-step network's output is no test of it)."""
    seen = []
    inner = f.fuse_arrays
    f.fuse_arrays = lambda x, y, *k, **kw: seen.append(np.array(x)) or inner(x, y, *k, **kw)
    f.fuse(a, b)
    return seen[0]


def test_fuser_reads_as_the_training_did(trained, tmp_path):
    a, b = _png16(tmp_path / "a.png", 1), _png16(tmp_path / "b.png", 2)
    f = Fuser(trained["full"], device="cpu")
    assert (f.normalize, f.percentiles) == ("full", (0.1, 99.9))
    ia, ib = Image.open(a), Image.open(b)
    got = _network_inputs(f, ia, ib)
    assert any("--normalize full, as weights" in n for n in f.report.notes), f.report.notes
    np.testing.assert_allclose(got.squeeze(), np.asarray(ia, np.float64) / 65535, rtol=0, atol=1e-6)
    other = Fuser(trained["full"], device="cpu", normalize="auto")
    auto = _network_inputs(other, ia, ib)
    assert other.normalize == "auto" and not any("as weights" in n for n in other.report.notes)
    assert auto.max() > 0.99 and got.max() < 0.2  # auto stretches the 7000-7600 counts, full does not

    p = Fuser(trained["pct"], device="cpu")
    assert (p.normalize, p.percentiles) == ("percentile", (2.0, 98.0))
    p.fuse(ia, ib)
    assert any("--normalize percentile --percentiles 2 98" in n for n in p.report.notes), p.report.notes
    assert Fuser(trained["pct"], device="cpu", percentiles=(1, 99)).percentiles == (1, 99)


def test_shipped_and_classical_keep_auto():
    for f in (Fuser("default", device="cpu"), Fuser("average")):
        assert (f.normalize, f.percentiles) == ("auto", (0.1, 99.9))
        f.fuse(np.zeros((8, 8), np.uint8), np.full((8, 8), 200, np.uint8))
        assert not any("as weights" in n for n in f.report.notes), f.report.notes


def test_cli_fuse_follows_the_weights(trained, tmp_path, capsys):
    a, b = _png16(tmp_path / "a.png", 3), _png16(tmp_path / "b.png", 4)
    outs = {}
    # (a 2-step network's output is flat: the note, and the Fuser test above, tell the readings apart)
    for tag, extra in (("default", []), ("full", ["--normalize", "full"]), ("auto", ["--normalize", "auto"])):
        o = tmp_path / f"{tag}.png"
        assert main(["fuse", str(a), str(b), "--weights", trained["full"], "-o", str(o), *extra]) == 0
        outs[tag] = (np.asarray(Image.open(o)), capsys.readouterr().err)
    assert "as weights" in outs["default"][1] and "as weights" not in outs["auto"][1]
    note = next(ln for ln in outs["default"][1].splitlines() if "as weights" in ln)
    assert note.startswith("note: inputs read with --normalize full, as weights"), outs["default"][1]
