"""Session 25 (lead), from the weights/registry and classical-method audits:

* ``fuse --weights cbf`` ran the classical method ``cbf`` and reported success: refused, saying to
  use ``--method``;
* ``--param levels=3 --param levels=2`` silently used the last value: refused;
* every unknown name gets the registry's one "did you mean" (``mutualfuse.registry.did_you_mean``):
  a method's parameter through the command line and ``Fuser(...)``, ``benchmark --methods`` and
  ``--weights`` (``PAPER`` for ``paper``), a training loss;
* a model card says seconds for a run under a minute ("0.0 min" before) and "1 pair".
"""
from __future__ import annotations

from pathlib import Path

import pytest

from mutualfuse import Fuser
from mutualfuse.errors import ParameterError
from mutualfuse.train.config import UnknownLossError
from mutualfuse.weights.card import _data_lines, _run_lines
from one_line_error import assert_one_line_error

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "mutualfuse" / "data" / "samples"


def _argv(*extra, out):
    return ["fuse", str(SAMPLES / "tno-01" / "a.png"), str(SAMPLES / "tno-01" / "b.png"), "-o", str(out), *extra]


@pytest.mark.parametrize("w", ["cbf", "DWT"])
def test_weights_naming_a_method_is_refused(tmp_path, capsys, w):
    out = tmp_path / "o.png"
    assert_one_line_error(capsys, _argv("--weights", w, out=out),
                          f"--weights {w}: {w!r} is a fusion method, not weights; use --method {w}")
    assert not out.exists()


def test_a_parameter_given_twice_is_refused(tmp_path, capsys):
    out = tmp_path / "o.png"
    assert_one_line_error(capsys, _argv("--method", "dwt", "--param", "levels=3", "--param", "levels=2", out=out),
                          "--param levels given twice")
    assert not out.exists()


def test_unknown_parameter_names_get_a_suggestion(tmp_path, capsys):
    with pytest.raises(ParameterError, match=r"unknown parameter levls .*; did you mean levels\?$"):
        Fuser("dwt", levls=3)
    err = assert_one_line_error(capsys, _argv("--method", "dwt", "--param", "levls=3", out=tmp_path / "o.png"))
    assert err.rstrip().endswith("did you mean levels?"), err


@pytest.mark.parametrize("args, hint", [(["--methods", "cbff"], "did you mean cbf?"),
                                        (["--weights", "PAPER"], "did you mean paper, paper-3000?"),
                                        (["--weights", "defualt"], "did you mean default?")])
def test_benchmark_names_get_a_suggestion(tmp_path, capsys, monkeypatch, args, hint):
    monkeypatch.delenv("MUTUALFUSE_DATA", raising=False)
    (tmp_path / "data").mkdir()
    err = assert_one_line_error(capsys, ["benchmark", "--quick", *args, "--data-root", str(tmp_path / "data"),
                                         "--out", str(tmp_path / "b")])
    assert err.rstrip().endswith(hint), err
    assert not (tmp_path / "b").exists()


def test_an_unknown_loss_gets_a_suggestion():
    assert str(UnknownLossError("var_ssimm")).endswith("; did you mean var_ssim, var_ssim_grad, mean_ssim?")


def test_cards_count_pairs_and_short_runs():
    run = _run_lines({"steps": "3", "wall_time_s": "2.5"})[0]
    assert run == "run:         3 steps done; 2.5 s wall of training steps (validation excluded)", run
    run = _run_lines({"steps": "3", "wall_time_s": "90"})[0]
    assert "1.5 min wall" in run, run
    line = _data_lines({"train_data": '{"train_pairs": 1, "held_out": 1, "sets": {"s": 2}}'})[0]
    assert line.startswith("trained on:  1 pair, 1 held out (s 2;"), line
