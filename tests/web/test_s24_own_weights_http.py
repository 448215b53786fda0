"""s24: ``mutualfuse serve --weights mine=FILE`` as a process, through its HTTP API (gradio_client,
no browser): the page's weights selector lists ``mine`` as yours, a request with ``mine`` downloads
the file ``mutualfuse fuse --weights FILE`` writes (weights trained with ``data.normalize full``, a
16-bit pair: their policy, not the page's ``auto``), and a request naming the file's path, or a name
the server was not started with, is refused. Before, ``serve`` had no ``--weights``."""
from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from mutualfuse.cli import main
from mutualfuse.image_io import write_image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from train_cli_helpers import trained_weights  # noqa: E402

from serve_process import serving  # noqa: E402

NETWORK = "mutualfuse"
#: params, chroma, scaling (the page's default with own weights), temperature, gain, activity, detail off, task
OPTS = ["", "saturation", "default", None, None, None, False, "auto", "a vs fused"]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    pytest.importorskip("gradio")
    pytest.importorskip("gradio_client")
    base = tmp_path_factory.mktemp("ownhttp")
    w = trained_weights(base, model={"widths": [4, 8, 8], "depth": 3, "output": "blend"},
                        **{"data.normalize": "full"})
    rng = np.random.default_rng(4)
    yy, xx = np.mgrid[0:40, 0:48]
    for name, arr in (("a16.png", 12000 + 3000 * np.sin(xx / 5.0) + rng.integers(0, 400, (40, 48))),
                      ("b16.png", 20000 + 2500 * np.cos(yy / 4.0) + rng.integers(0, 400, (40, 48)))):
        write_image(base / name, (arr / 65535.0).astype(np.float32), bit_depth=16)
    with serving(base, "--weights", f"mine={w}") as (url, _):
        yield url, base, w


def _weights_choices(url: str) -> list:
    with urllib.request.urlopen(url + "config", timeout=60) as r:
        config = json.loads(r.read())
    comp = next(c for c in config["components"] if c.get("props", {}).get("elem_id") == "weights")
    return [tuple(c) for c in comp["props"]["choices"]]


def test_the_selector_lists_your_weights(served):
    url, _, w = served
    choices = _weights_choices(url)
    assert ("mine  (your weights: final.safetensors)", "mine") in choices
    assert ("default", "default") in choices
    assert not any(w in str(c) for c in choices)  # the server's path is not on the page


@pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword).*")
def test_a_request_with_your_weights_is_fuse_with_the_file_and_a_path_is_refused(served, tmp_path):
    from gradio_client import Client, handle_file

    url, base, w = served
    a, b = str(base / "a16.png"), str(base / "b16.png")
    client = Client(url, verbose=False, download_files=str(tmp_path / "dl"))
    out = client.predict(handle_file(a), handle_file(b), NETWORK, "mine", *OPTS, api_name="/run")
    assert out[0].startswith("done: a16-b16-mine.png"), out[0]
    downloads = {Path(d).suffix: Path(d) for d in out[4]}
    assert main(["fuse", a, b, "-o", str(tmp_path / "cli.png"), "--weights", w, "--device", "cpu", "-q"]) == 0
    assert main(["fuse", a, b, "-o", str(tmp_path / "cli.tif"), "--weights", w, "--device", "cpu", "-q"]) == 0
    assert downloads[".png"].read_bytes() == (tmp_path / "cli.png").read_bytes()
    assert downloads[".tif"].read_bytes() == (tmp_path / "cli.tif").read_bytes()
    # no --normalize: the policy; the file by its name (the server's folders are not on the page)
    assert "--weights final.safetensors --chroma saturation`" in " ".join(out[5].split()), out[5]
    # a path or a name the server was not started with is refused before anything is read: the
    # selector takes its listed values only (Gradio's own check; core.fuse_request checks it again)
    from gradio_client.exceptions import AppError

    for name in (w, "other", "default.safetensors"):
        with pytest.raises(AppError, match="not in the list of choices"):
            client.predict(handle_file(a), handle_file(b), NETWORK, name, *OPTS, api_name="/run")
