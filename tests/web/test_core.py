"""The web page's core (:mod:`mutualfuse.web.core`, no Gradio needed) on bad or odd requests:
every problem is a one-line FuseError, never a SystemExit in the server or a file read from the
server's own disk; metrics an image is too small for are empty, with no verdict."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.errors import FuseError, ParameterError
from mutualfuse.web import core


@pytest.fixture()
def pair(tmp_path):
    rng = np.random.default_rng(3)
    for n in ("a", "b"):
        Image.fromarray(rng.integers(0, 256, (9, 13)).astype(np.uint8)).save(tmp_path / f"{n}.png")
    return str(tmp_path / "a.png"), str(tmp_path / "b.png")


def _fuse(pair, tmp_path, **kw):
    return core.fuse_request(*pair, core.Settings(device="cpu", **kw), tmp_path / "work", core.FuserCache())


@pytest.mark.parametrize("kw,words", [(dict(chroma="purple"), "--chroma"), (dict(task="cooking"), "--task"),
                                      (dict(normalize="loud"), "--normalize")])
def test_a_value_the_page_does_not_offer_is_a_one_line_error_not_an_exit(pair, tmp_path, kw, words, capsys):
    """argparse's SystemExit (and its message on the server's stderr) escaped fuse_request."""
    with pytest.raises(ParameterError, match=words) as e:
        _fuse(pair, tmp_path, **kw)
    assert "\n" not in str(e.value) and "see mutualfuse" not in str(e.value)
    assert capsys.readouterr().err == ""


def test_weights_must_be_shipped_weights_not_a_path_on_the_server(pair, tmp_path, tiny_weights):
    with pytest.raises(ParameterError, match="not shipped weights"):
        _fuse(pair, tmp_path, weights=str(tiny_weights))


def test_metrics_an_image_is_too_small_for_are_empty_without_a_verdict(pair, tmp_path, recwarn):
    """On 13x9 SSIM@vifb was NaN and the table said the pixel average was better."""
    r = _fuse(pair, tmp_path, method="average")
    rows = {row[0].split(" ")[0]: row for row in r.metrics}
    assert rows["SSIM"][1:] == [None, None, "—"]
    assert all(isinstance(v, float) for row in r.metrics if row[3] != "—" for v in row[1:3])
    assert rows["EN"][3] == "equal" and rows["EN"][1] == rows["EN"][2]
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_bad_pairs_are_one_line_errors(pair, tmp_path):
    Image.fromarray(np.zeros((10, 13), np.uint8)).save(tmp_path / "c.png")
    (tmp_path / "d.png").write_bytes((tmp_path / "c.png").read_bytes()[:40])
    for b in ("c.png", "d.png", "none.png"):
        with pytest.raises(FuseError) as e:
            _fuse((pair[0], str(tmp_path / b)), tmp_path)
        assert b in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("value", ["-1", "0", "nan", "1e9"])
def test_serve_max_pixels_is_checked_as_fuse_checks_it(value, capsys):
    """``serve --max-pixels -1`` started a server that refused every image ('more than the limit of -1')."""
    assert main(["serve", "--max-pixels", value]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mutualfuse: error: serve: argument --max-pixels") and err.count("\n") == 1


def test_params_with_spaces_around_the_equals_sign(pair, tmp_path):
    """``wavelet = db2`` in the parameters box was the wavelet ' db2' (an error on the page)."""
    assert core.param_lines("levels = 3\n  wavelet= db2 , highpass =maxabs\n\n") == [
        "levels=3", "wavelet=db2", "highpass=maxabs"]
    s = core.Settings(method="dwt", params="levels = 1\nwavelet = db2", device="cpu")
    assert s.cli_args()[:6] == ["--method", "dwt", "--param", "levels=1", "--param", "wavelet=db2"]
    r = core.fuse_request(*pair, s, tmp_path / "work", core.FuserCache())
    assert r.png.is_file()


def test_the_page_notes_how_inputs_were_scaled_as_fuse_does(tmp_path, capsys):
    """A 16-bit input scaled by percentile: ``fuse`` said so on stderr, the page did not."""
    rng = np.random.default_rng(5)
    for n in ("ir16", "vis16"):
        Image.fromarray(rng.integers(1000, 3000, (24, 32)).astype(np.uint16)).save(tmp_path / f"{n}.png")
    a, b = str(tmp_path / "ir16.png"), str(tmp_path / "vis16.png")
    assert main(["fuse", a, b, "-o", str(tmp_path / "cli.png"), "--method", "average", "--device", "cpu"]) == 0
    cli_notes = [ln.removeprefix("note: ").replace(str(tmp_path) + "/", "")
                 for ln in capsys.readouterr().err.splitlines() if ln.startswith("note: ")]
    assert any("ir16.png: 16-bit input scaled by percentile" in n for n in cli_notes), cli_notes
    r = core.fuse_request(a, b, core.Settings(method="average", device="cpu"), tmp_path / "work", core.FuserCache(),
                          names=("ir16.png", "vis16.png"))
    assert r.notes == cli_notes
    assert not any(str(tmp_path) in n for n in r.notes)


def test_compare_pair_follows_the_radio():
    state = {"a": "a.png", "b": "b.png", "fused": "f.png"}
    assert core.compare_pair(state, "a vs fused") == ("a.png", "f.png")
    assert core.compare_pair(state, "b vs fused") == ("b.png", "f.png")
    assert core.compare_pair(None, "b vs fused") is None


def test_serve_refuses_a_port_in_use_in_one_line(capsys):
    """Was Gradio's 'Cannot find empty port in range … set GRADIO_SERVER_PORT … launch()'."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err == (f"mutualfuse: error: --port {port}: already in use on 127.0.0.1 (another program listens "
                   "there; --port 0 picks a free one)\n")


def test_serve_device_cuda_without_cuda_is_refused_at_start(capsys):
    """The server started and then every fuse on the page failed."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(["serve", "--device", "cuda"]) == 2
    assert capsys.readouterr().err == "mutualfuse: error: --device cuda: CUDA is not available on this machine\n"
