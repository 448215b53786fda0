"""A refusal by an intensity policy is a structured error (session 25), and fuse-dir's all-fail
summary names the weights' policy.

* ``normalize_samples`` refuses a float image outside [0, 1] under ``full`` with
  :class:`~mutualfuse.errors.PolicyRefusalError` (an InputError: exit 2, the same message) whose
  ``normalize`` says the mode. ``fuse`` (``cli.fuse.policy_origin``) and the web page
  (``web.core.policy_origin``) decided whether to add "the policy came from the weights" by
  matching that message's words (``cli.fuse._REFUSALS_OF``); they now decide by the attribute.
* ``fuse-dir`` whose every pair failed printed no note of the policy the weights' training recorded
  (a run where some pair was fused did); serial and ``-j 2``.
"""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import tifffile

from mutualfuse.cli import main
from mutualfuse.errors import InputError, PolicyRefusalError
from mutualfuse.io.samples import normalize_samples
from train_cli_helpers import trained_weights

ORIGIN = "[--normalize full was not given: it is the policy weights"
NOTE = "note: inputs read with --normalize full, as weights"


def test_the_float_range_refusal_carries_its_mode():
    x = np.linspace(0, 300, 64, dtype=np.float32).reshape(8, 8)
    with pytest.raises(PolicyRefusalError) as e:
        normalize_samples(x, 32, "full", path="k.tif")
    err = e.value
    assert isinstance(err, InputError) and isinstance(err, ValueError) and err.exit_code == 2
    assert err.normalize == "full"
    assert str(err) == ("k.tif: float samples are in [0, 300], not [0, 1] (within 0.001; use normalize "
                        "'percentile' or 'auto')")
    back = pickle.loads(pickle.dumps(err))  # as a -j worker would send it
    assert type(back) is PolicyRefusalError and back.normalize == "full" and str(back) == str(err)
    for mode in ("auto", "percentile"):  # the other modes scale it: no refusal
        assert normalize_samples(x, 32, mode)[0].max() == 1.0


def test_fuse_decides_by_the_attribute_not_the_words(monkeypatch):
    from mutualfuse.cli import fuse as fuse_cli

    monkeypatch.setattr(fuse_cli, "POLICY_FROM_WEIGHTS", [("full", "w.safetensors")])
    said = fuse_cli.policy_origin(PolicyRefusalError("x.tif: reworded, no hint", normalize="full"))
    assert said.startswith("x.tif: reworded, no hint [--normalize full was not given: it is the policy weights "
                           "w.safetensors were trained with"), said
    # another mode's refusal, and an error that only quotes the old words: no origin
    assert fuse_cli.policy_origin(PolicyRefusalError("x.tif: no", normalize="percentile")) == "x.tif: no"
    words = "x.tif: float samples are in [0, 300], not [0, 1] (within 0.001; use normalize 'percentile' or 'auto')"
    assert fuse_cli.policy_origin(InputError(words)) == words
    # the message alone, inside the except block of its exception (how cli.main calls it)
    try:
        raise PolicyRefusalError("y.tif: refused", normalize="full")
    except InputError as e:
        assert ORIGIN in fuse_cli.policy_origin(str(e))
    assert fuse_cli.policy_origin("y.tif: refused") == "y.tif: refused"  # no exception: nothing to go by


def test_the_page_decides_by_the_attribute_too():
    from mutualfuse.web import core

    class Fuser:  # what policy_origin reads of a fuser: its policy, and that the weights recorded it
        normalize = "full"
        _policy_note = "inputs read with --normalize full, as weights mine were trained"

    s = core.Settings(weights="mine", own_weights={"mine": "/srv/w/mine.safetensors"})
    said = core.policy_origin("x.tif: reworded", s, Fuser(), PolicyRefusalError("x.tif: r", normalize="full"))
    assert said.startswith("x.tif: reworded [scaling full was not chosen: it is the policy your weights mine"), said
    assert core.policy_origin("x.tif: use normalize 'percentile' or 'auto'", s, Fuser(),
                              InputError("x.tif: use normalize 'percentile' or 'auto'")) == \
        "x.tif: use normalize 'percentile' or 'auto'"
    chosen = core.Settings(weights="mine", own_weights=s.own_weights, normalize="full")  # chosen: said as it is
    assert core.policy_origin("m", chosen, Fuser(), PolicyRefusalError("m", normalize="full")) == "m"


@pytest.fixture(scope="module")
def refused(tmp_path_factory):
    """Weights trained with ``data.normalize full`` and two float pairs outside [0, 1], which full refuses."""
    base = tmp_path_factory.mktemp("allfail")
    weights = trained_weights(base, **{"data.normalize": "full"})
    for side, seed in (("ir", 1), ("vis", 2)):
        (base / side).mkdir()
        for i in range(2):
            x = np.random.default_rng(seed * 10 + i).uniform(0, 300, (24, 32)).astype(np.float32)
            tifffile.imwrite(base / side / f"{i}.tif", x)
    return base, weights


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_fuse_dir_all_failed_still_notes_the_policy(refused, capsys, jobs):
    base, weights = refused
    out = base / f"out{jobs}"
    rc = main(["fuse-dir", str(base / "ir"), str(base / "vis"), "-o", str(out), "--weights", weights,
               "--device", "cpu", "-j", jobs])
    cap = capsys.readouterr()
    assert rc == 2 and "fused 0, skipped 0 already done, failed 2" in cap.out, (cap.out, cap.err)
    assert list(out.iterdir()) == []
    lines = cap.err.splitlines()
    assert sum(ln.startswith(NOTE) and "(their train_data)" in ln for ln in lines) == 1, cap.err
    failed = [ln for ln in lines if ln.startswith("  ")]
    assert len(failed) == 2 and all("not [0, 1]" in ln and ORIGIN in ln for ln in failed), cap.err
    assert "Traceback" not in cap.err and "internal error" not in cap.err
    if jobs != "1":  # (a -j 2 run starts two workers: the -q case once, serial)
        return
    # -q: no notes, as on success; the failures are still listed
    rc = main(["fuse-dir", str(base / "ir"), str(base / "vis"), "-o", str(out), "--weights", weights,
               "--device", "cpu", "-j", jobs, "-q"])
    cap = capsys.readouterr()
    assert rc == 2 and "note:" not in cap.err and len([ln for ln in cap.err.splitlines() if ln.startswith("  ")]) == 2
