"""Audit s21 (convert): the network's own settings given to a classical method, and report.method.

Before, ``Fuser("cbf", token_budget=0)``, ``max_window_pixels=...``, ``dtype="bfloat16"`` and
``mutualfuse fuse --method cbf --token-budget 0`` (``--window-pixels``, ``--dtype``) were taken
and ignored without a word, while ``blend_temperature`` / ``--blend-temperature`` and the other
network settings were refused. Their defaults must still pass (fuse-dir's workers and the web
page build every fuser with them). ``report.method`` was ``"default"`` for ``Fuser()`` but
``"mutualfuse"`` for ``Fuser(method="mutualfuse")``, the same network.
"""
from __future__ import annotations

import numpy as np
import pytest

import mutualfuse
from mutualfuse import Fuser
from mutualfuse.errors import ParameterError
from one_line_error import assert_one_line_error

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.parametrize("kw, match", [
    ({"token_budget": 0}, r"token_budget=0 applies to the network, not to method 'cbf'"),
    ({"token_budget": None}, r"token_budget=None applies to the network"),
    ({"max_window_pixels": 5000}, r"max_window_pixels=5000 applies to the network, not to method 'cbf'"),
    ({"dtype": "bfloat16"}, r"dtype='bfloat16' applies to the network, not to method 'cbf'"),
])
def test_classical_fuser_refuses_the_networks_settings(kw, match):
    for make in (lambda: Fuser("cbf", **kw), lambda: Fuser(method="cbf", **kw),
                 lambda: mutualfuse.fuse(np.zeros((16, 16)), np.zeros((16, 16)), method="cbf", **kw)):
        with pytest.raises(ParameterError, match=match) as e:
            make()
        assert "\n" not in str(e.value)


def test_classical_fuser_takes_the_networks_defaults():
    import torch

    from mutualfuse.validation import DEFAULT_WINDOW_PIXELS

    x = np.linspace(0, 1, 16 * 16).reshape(16, 16)
    ref = Fuser("average").fuse(x, x.T.copy())
    for kw in ({"token_budget": -1}, {"max_window_pixels": DEFAULT_WINDOW_PIXELS},
               {"max_window_pixels": np.int64(DEFAULT_WINDOW_PIXELS)}, {"dtype": "float32"},
               {"dtype": torch.float32}):
        np.testing.assert_array_equal(Fuser("average", **kw).fuse(x, x.T.copy()), ref)


@pytest.fixture
def pair_files(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(3)
    paths = []
    for n in ("a", "b"):
        (tmp_path / n).mkdir()
        p = tmp_path / n / "p.png"
        Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(p)
        paths.append(p)
    return tmp_path, paths


@pytest.mark.parametrize("opt, needle", [
    (["--token-budget", "0"], "--token-budget applies to the network; --method cbf has no mutual mapping"),
    (["--window-pixels", "5000"], "--window-pixels applies to the network; --method cbf has no streaming windows"),
    (["--dtype", "bfloat16"], "--dtype applies to the network; --method cbf has no network precision"),
])
def test_cli_refuses_the_networks_settings_with_a_classical_method(pair_files, capsys, opt, needle):
    tmp, (a, b) = pair_files
    out = tmp / "f.png"
    assert_one_line_error(capsys, ["fuse", str(a), str(b), "-o", str(out), "--method", "cbf", *opt], needle)
    assert not out.exists()
    assert_one_line_error(capsys, ["fuse-dir", str(a.parent), str(b.parent), "-o", str(tmp / "o"),
                                   "--method", "cbf", *opt], needle)
    assert not (tmp / "o").exists()


def test_cli_classical_with_the_defaults_spelled_out_still_fuses(pair_files, capsys):
    from mutualfuse.cli import main
    from mutualfuse.validation import DEFAULT_WINDOW_PIXELS

    tmp, (a, b) = pair_files
    same = ["--window-pixels", str(DEFAULT_WINDOW_PIXELS), "--dtype", "float32"]
    assert main(["fuse", str(a), str(b), "-o", str(tmp / "f.png"), "--method", "average", "-q", *same]) == 0
    assert main(["fuse-dir", str(a.parent), str(b.parent), "-o", str(tmp / "o"), "--method", "average", "-q"]) == 0
    assert main(["fuse-stack", str(a), str(b), "-o", str(tmp / "s.png"), "--method", "average", "-q"]) == 0
    capsys.readouterr()
    assert (tmp / "f.png").exists() and (tmp / "o" / "p.png").exists() and (tmp / "s.png").exists()


def test_web_settings_of_a_classical_method_build_a_fuser():
    """The web page passes every default through the CLI's parser (its FuserCache)."""
    core = pytest.importorskip("mutualfuse.web.core")
    ns = core._parse(["fuse", "a", "b", "-o", "out.png", "-q", "--method", "cbf"])
    assert core.FuserCache().get(ns).method == "cbf"


def test_network_still_takes_its_settings():
    f = Fuser("default", device="cpu", token_budget=0, max_window_pixels=5000)
    assert f.net.cfg.token_budget == 0 and f.runner.max_window_pixels == 5000


def test_report_method_is_the_same_for_the_same_network():
    plain, named = Fuser(device="cpu"), Fuser(method="mutualfuse", device="cpu")
    positional = Fuser("mutualfuse", device="cpu")
    assert plain.report.method == named.report.method == positional.report.method == "default"
    assert plain.method == named.method == "mutualfuse"
    x = np.linspace(0, 1, 32 * 32).reshape(32, 32)
    named.fuse(x, x.T.copy())
    assert named.report.method == "default"  # kept by every call's fresh report
    # what Fuser(report.method) makes is the same model
    assert Fuser(named.report.method, device="cpu").weights_spec == named.weights_spec
    assert Fuser("cbf").report.method == "cbf"
