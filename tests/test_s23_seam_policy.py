"""Seams between weights that record their training's intensity policy (``train_data``,
``data.normalize``/``data.percentiles``) and the commands that use the weights (session 23, the
end-to-end audit): the ONNX export must say that its graph expects inputs read with that policy
(its metadata said "fuse scales 16-bit by percentiles" for every weights), and a policy given on
the command line that differs from the training's must not be reported as "as weights ... were
trained"."""
from __future__ import annotations

import numpy as np
import pytest

from mutualfuse import Fuser
from mutualfuse.cli import main
from train_cli_helpers import trained_weights



@pytest.fixture(scope="module")
def full_weights(tmp_path_factory):
    """A tiny run trained with data.normalize full."""
    base = tmp_path_factory.mktemp("seam")
    return trained_weights(base, **{"data.normalize": "full"})


def _inputs_meta(path) -> tuple[str, str]:
    import onnx

    m = onnx.load(str(path))
    return {p.key: p.value for p in m.metadata_props}["mutualfuse.inputs"], m.doc_string


def test_onnx_export_records_the_training_policy(full_weights, tmp_path, capsys):
    pytest.importorskip("onnx")
    out = tmp_path / "my.onnx"
    assert main(["export-onnx", "--weights", full_weights, "-o", str(out), "--no-check"]) == 0
    err = capsys.readouterr().err
    inputs, doc = _inputs_meta(out)
    assert "--normalize full" in inputs and "scales 16-bit by percentiles" not in inputs, inputs
    assert inputs in doc
    assert "were trained on images read with --normalize full" in err, err


def test_onnx_export_of_shipped_weights_keeps_the_default_note(tmp_path, capsys):
    pytest.importorskip("onnx")
    from mutualfuse.onnx_export import INPUTS_NOTE

    out = tmp_path / "d.onnx"
    assert main(["export-onnx", "--weights", "blackout", "-o", str(out), "--no-check"]) == 0
    err = capsys.readouterr().err
    assert _inputs_meta(out)[0] == INPUTS_NOTE
    assert "trained on images read with" not in err


def test_a_policy_given_is_not_reported_as_the_trainings(full_weights):
    x = np.full((16, 16), 7000, np.uint16)
    x[::2] = 7600
    f = Fuser(full_weights, device="cpu", normalize="auto", percentiles=(1, 99))
    f.fuse(x, x[::-1].copy())
    notes = " | ".join(f.report.notes)
    assert "as weights" not in notes, notes  # it was not read as they were trained
    assert "--normalize auto --percentiles 1 99 as given" in notes and "read with --normalize full" in notes, notes
    g = Fuser(full_weights, device="cpu")  # the recorded policy: said as such
    g.fuse(x, x[::-1].copy())
    assert any("inputs read with --normalize full, as weights" in n for n in g.report.notes), g.report.notes
    h = Fuser(full_weights, device="cpu", normalize="full")  # given, equal to the training's: said so
    h.fuse(x, x[::-1].copy())
    assert any("as weights" in n for n in h.report.notes), h.report.notes


def test_fuse_volume_help_names_the_weights_policy(capsys):
    try:
        rc = main(["fuse-volume", "--help"])
    except SystemExit as e:
        rc = e.code
    assert rc == 0
    text = " ".join(capsys.readouterr().out.split())
    normalize = text.split("--normalize {auto,full,percentile} intensity", 1)[1].split("--percentiles LO HI", 1)[0]
    assert "(default auto)" not in normalize, normalize  # it said so; the weights' own policy is the default
    assert "default: auto, or the policy the weights were trained with" in normalize, normalize


def test_the_web_pages_weights_record_no_other_policy():
    """The page (serve) offers the shipped weights (and, since s24, weights of one's own) and its scaling
    menu defaults to auto for the shipped weights, which
    its 'same as' command line names: right while no shipped weights record another training policy
    (were one shipped so, the menu's default must become the weights' policy)."""
    from safetensors import safe_open

    from mutualfuse.io.samples import training_policy
    from mutualfuse.web.core import Settings, weights_names
    from mutualfuse.weights import shipped_path

    # since s24 the menu's default is "default" (the weights' recorded policy, for weights of one's
    # own served with serve --weights), which for the shipped weights is auto, as the command says
    assert Settings().normalize in ("auto", "default") and "--normalize auto" in Settings().command()
    for name in weights_names():
        with safe_open(str(shipped_path(name)), framework="pt") as fh:
            norm, pct = training_policy(dict(fh.metadata() or {}))
        assert norm in (None, "auto") and pct in (None, (0.1, 99.9)), (name, norm, pct)


def test_percentiles_alone_under_a_recorded_full_range_are_said_to_be_unused(full_weights):
    """--percentiles without --normalize, for weights trained with full: the recorded full range
    stays (percentiles do not apply to it), and the note now says the percentiles given are not
    used (it said only '--normalize / --percentiles choose another', as if they had)."""
    f = Fuser(full_weights, device="cpu", percentiles=(1, 99))
    assert (f.normalize, f.percentiles) == ("full", (1, 99))
    f.fuse(np.full((16, 16), 7000, np.uint16), np.full((16, 16), 7600, np.uint16))
    note = next(n for n in f.report.notes if "as weights" in n)
    assert "the percentiles given apply under --normalize auto or percentile only" in note, note
