"""s24: the web page serves weights of one's own (``mutualfuse serve --weights NAME=FILE``).

Before, the page offered the shipped weights only (a request naming a path is refused, and still
is). Now NAME is offered in the weights selector, labelled yours, and fuses exactly as ``mutualfuse
fuse --weights FILE`` does by default: the policy the weights' training recorded (here
``data.normalize full``) when the page's scaling is left at its default, their stored settings. A
request may name only the server's NAMEs (never a path); a file rewritten while the server runs is
read and checked again; bad entries at the start are one line, exit 2. The core functions and the
command (no gradio needed but for the page's selector)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mutualfuse.cli import main
from mutualfuse.errors import ParameterError, WeightsError
from mutualfuse.image_io import write_image
from mutualfuse.web import core

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from train_cli_helpers import trained_weights  # noqa: E402


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A tiny run (blend output) trained with ``data.normalize full`` (→ ``mine.safetensors``), an 8-bit pair (a
    bundled sample) and a 16-bit pair whose samples span a narrow part of the type's range (so
    ``full`` and ``auto``'s percentiles read it differently)."""
    d = tmp_path_factory.mktemp("ownw")
    # the blend output: a fused image that depends on how the inputs were read (two steps of the
    # direct output give 0 everywhere, whatever the scaling)
    w = trained_weights(d, model={"widths": [4, 8, 8], "depth": 3, "output": "blend"}, **{"data.normalize": "full"})
    shutil.copy(w, d / "mine.safetensors")
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:40, 0:48]
    a = 12000 + 3000 * np.sin(xx / 5.0) + rng.integers(0, 400, (40, 48))
    b = 20000 + 2500 * np.cos(yy / 4.0) + rng.integers(0, 400, (40, 48))
    for name, arr in (("a16.png", a), ("b16.png", b)):
        write_image(d / name, (arr / 65535.0).astype(np.float32), bit_depth=16)
    return d


def _pairs(base):
    sample = core.SAMPLES / "tno-01"
    return {"8-bit": (str(sample / "a.png"), str(sample / "b.png")),
            "16-bit": (str(base / "a16.png"), str(base / "b16.png"))}


def _own(base):
    return core.own_weights_table({"mine": str(base / "mine.safetensors")})


@pytest.mark.parametrize("depth", ["8-bit", "16-bit"])
def test_the_pages_result_is_fuse_with_the_file_byte_for_byte(base, depth, tmp_path):
    a, b = _pairs(base)[depth]
    w = str(base / "mine.safetensors")
    s = core.Settings(weights="mine", own_weights=_own(base), device="cpu")
    r = core.fuse_request(a, b, s, tmp_path / "work", core.FuserCache())
    assert main(["fuse", a, b, "-o", str(tmp_path / "cli.png"), "--weights", w, "--device", "cpu", "-q"]) == 0
    assert r.png.read_bytes() == (tmp_path / "cli.png").read_bytes()
    assert r.png.name.endswith("-mine.png")
    # the command the page shows is that command: the file (by its name: the server's folders are not
    # shown, session 25), and no --normalize (the weights' policy)
    cmd = s.command()
    assert "--weights mine.safetensors " in cmd and str(base) not in cmd and "--normalize" not in cmd, cmd
    if depth == "16-bit":
        assert main(["fuse", a, b, "-o", str(tmp_path / "cli.tif"), "--weights", w, "--device", "cpu", "-q"]) == 0
        assert r.tiff.read_bytes() == (tmp_path / "cli.tif").read_bytes()
        # the policy is used: --normalize auto (percentiles for 16-bit) gives another image, and
        # the page's explicit "auto" is that one
        assert main(["fuse", a, b, "-o", str(tmp_path / "auto.png"), "--weights", w, "--normalize", "auto",
                     "--device", "cpu", "-q"]) == 0
        assert r.png.read_bytes() != (tmp_path / "auto.png").read_bytes()
        s_auto = core.Settings(weights="mine", own_weights=_own(base), device="cpu", normalize="auto")
        r2 = core.fuse_request(a, b, s_auto, tmp_path / "work", core.FuserCache())
        assert r2.png.read_bytes() == (tmp_path / "auto.png").read_bytes()
        assert "--normalize auto" in s_auto.command()
        assert any("full" in n and "train_data" in n for n in r.notes), r.notes


def test_shipped_weights_still_say_normalize_auto():
    """The page's default scaling is ``--normalize auto`` for shipped weights and classical methods, as before."""
    assert core.Settings().command().endswith("--weights default --chroma saturation --normalize auto")
    assert core.Settings(method="average").command().endswith("--chroma saturation --normalize auto")


def test_a_request_names_only_the_servers_names_never_a_path(base, tmp_path):
    a, b = _pairs(base)["8-bit"]
    own = _own(base)
    for name in (str(base / "mine.safetensors"), "other", "MINE"):
        s = core.Settings(weights=name, own_weights=own, device="cpu")
        with pytest.raises(ParameterError, match="not shipped weights nor weights of yours") as e:
            core.fuse_request(a, b, s, tmp_path / "w", core.FuserCache())
        assert "mine" in str(e.value) and "\n" not in str(e.value)
        with pytest.raises(ParameterError, match="not shipped weights nor weights of yours"):
            core.fuse_stack_request([a, b], s, tmp_path / "w", core.FuserCache())
    # without own weights a path is refused as before
    with pytest.raises(ParameterError, match="not shipped weights \\(the page serves default"):
        core.fuse_request(a, b, core.Settings(weights=str(base / "mine.safetensors"), device="cpu"),
                          tmp_path / "w", core.FuserCache())


def test_the_stack_fuses_with_own_weights_as_fuse_stack(base, tmp_path):
    a, b = _pairs(base)["8-bit"]
    w = str(base / "mine.safetensors")
    r = core.fuse_stack_request([a, b], core.Settings(weights="mine", own_weights=_own(base), device="cpu"),
                                tmp_path / "work", core.FuserCache(), names=["a.png", "b.png"])
    assert main(["fuse-stack", a, b, "-o", str(tmp_path / "s.png"), "--weights", w, "--device", "cpu", "-q"]) == 0
    assert r.out.read_bytes() == (tmp_path / "s.png").read_bytes()
    assert "--weights mine.safetensors " in r.command and str(base) not in r.command and "--normalize" not in r.command


def test_the_selector_lists_name_as_yours(base):
    choices = core.own_weights_choices(_own(base))
    assert ("mine  (your weights: mine.safetensors)", "mine") in choices
    assert ("default", "default") in choices


def test_the_page_lists_name_in_its_weights_selector(base, tmp_path):
    pytest.importorskip("gradio")
    from mutualfuse.web.app import build_app

    app = build_app(tmp_path / "work", device="cpu", own_weights={"mine": str(base / "mine.safetensors")})
    comps = {c.elem_id: c for c in app.blocks.values() if getattr(c, "elem_id", None)}
    assert ("mine  (your weights: mine.safetensors)", "mine") in [tuple(c) for c in comps["weights"].choices]
    assert comps["normalize"].value == core.DEFAULT_NORMALIZE
    handlers = {f.name: f.fn for f in app.fns.values()}
    a, b = _pairs(base)["16-bit"]
    out = handlers["run"](a, b, core.NETWORK, "mine", "", "saturation", core.DEFAULT_NORMALIZE, None, None, None,
                          False, "auto")
    assert out[0].startswith("done"), out[0]
    assert main(["fuse", a, b, "-o", str(tmp_path / "cli.png"), "--weights", str(base / "mine.safetensors"),
                 "--device", "cpu", "-q"]) == 0
    assert Path(out[1]).read_bytes() == (tmp_path / "cli.png").read_bytes()
    out = handlers["run"](a, b, core.NETWORK, str(base / "mine.safetensors"), "", "saturation", "auto", None, None,
                          None, False, "auto")
    assert out[0].startswith("mutualfuse: error: weights ") and "not shipped weights nor weights of yours" in out[0], out[0]


def test_a_file_rewritten_while_serving_is_read_and_checked_again(base, tmp_path):
    a, b = _pairs(base)["8-bit"]
    w = tmp_path / "w.safetensors"
    shutil.copy(base / "mine.safetensors", w)
    own = core.own_weights_table({"mine": str(w)})
    s = core.Settings(weights="mine", own_weights=own, device="cpu")
    cache = core.FuserCache()
    first = core.fuse_request(a, b, s, tmp_path / "work", cache).png.read_bytes()
    w.write_bytes(b"not weights at all" * 10)
    with pytest.raises(WeightsError) as e:
        core.fuse_request(a, b, s, tmp_path / "work", cache)
    msg = str(e.value)
    assert msg.startswith("your weights mine: w.safetensors: ") and str(tmp_path) not in msg and "\n" not in msg, msg
    shutil.copy(base / "mine.safetensors", w)
    (tmp_path / "w.safetensors.sha256").write_text("0" * 64 + "  w.safetensors\n")  # a sidecar that does not fit
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        core.fuse_request(a, b, s, tmp_path / "work", cache)
    (tmp_path / "w.safetensors.sha256").unlink()
    assert core.fuse_request(a, b, s, tmp_path / "work", cache).png.read_bytes() == first


def _refused(capsys, args, *must):
    rc = main(["serve", "--device", "cpu", *args])
    cap = capsys.readouterr()
    lines = cap.err.strip().splitlines()
    assert rc == 2 and len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), cap.err
    assert "Traceback" not in cap.err and "internal error" not in cap.err and cap.out == ""
    for m in must:
        assert m in lines[0], (m, lines[0])


def test_bad_weights_entries_at_the_start_are_one_line(base, tmp_path, capsys):
    w = str(base / "mine.safetensors")
    (tmp_path / "text.safetensors").write_text("hello")
    bad_side = tmp_path / "side.safetensors"
    shutil.copy(w, bad_side)
    (tmp_path / "side.safetensors.sha256").write_text("f" * 64 + "\n")
    _refused(capsys, ["--weights", f"default={w}"], "'default' is the name of shipped weights")
    _refused(capsys, ["--weights", f"my weights={w}"], "must be one word")
    _refused(capsys, ["--weights", "mine="], "no weights file after '='")
    _refused(capsys, ["--weights", f"m={w}", "--weights", f"M={w}"], "given twice")
    _refused(capsys, ["--weights", w, "--weights", w], "given twice")
    _refused(capsys, ["--weights", str(tmp_path / "text.safetensors")], "text.safetensors")
    _refused(capsys, ["--weights", f"x={tmp_path / 'missing.safetensors'}"], "not found")
    _refused(capsys, ["--weights", str(bad_side)], "sha256 mismatch")


def test_the_command_exits_2_before_the_server_starts(base, tmp_path):
    import os

    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.run([sys.executable, "-m", "mutualfuse", "serve", "--device", "cpu", "--weights",
                        f"default={base / 'mine.safetensors'}"], env=env, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 2 and p.stdout == "" and len(p.stderr.strip().splitlines()) == 1, (p.stdout, p.stderr)
    assert p.stderr.startswith("mutualfuse: error: --weights default="), p.stderr


def test_a_refusal_by_the_weights_policy_says_where_it_came_from(base, tmp_path, capsys):
    """A float TIFF outside [0, 1] is refused under the policy ``full`` the weights recorded; as
    ``fuse`` says it, the page says that the scaling was the weights' policy, not a choice."""
    from PIL import Image

    from mutualfuse.errors import InputError

    a = tmp_path / "hot.tif"
    Image.fromarray((np.arange(40 * 48, dtype=np.float32).reshape(40, 48) / 100.0)).save(a)
    b = str(base / "b16.png")
    s = core.Settings(weights="mine", own_weights=_own(base), device="cpu")
    with pytest.raises(InputError) as e:
        core.fuse_request(str(a), b, s, tmp_path / "work", core.FuserCache())
    msg = str(e.value)
    assert "scaling full was not chosen: it is the policy your weights mine were trained with" in msg, msg
    assert main(["fuse", str(a), b, "-o", str(tmp_path / "x.png"), "--weights", str(base / "mine.safetensors"),
                 "--device", "cpu", "-q"]) == 2
    assert "--normalize full was not given" in capsys.readouterr().err
    # chosen on the page, "full" is the user's: no such words
    with pytest.raises(InputError) as e:
        core.fuse_request(str(a), b, core.Settings(weights="mine", own_weights=_own(base), device="cpu",
                                                   normalize="full"), tmp_path / "work", core.FuserCache())
    assert "was not chosen" not in str(e.value)


def test_a_task_is_refused_for_own_weights_as_fuse_refuses_it(base, tmp_path):
    a, b = _pairs(base)["8-bit"]
    s = core.Settings(weights="mine", own_weights=_own(base), device="cpu", task="ir-vis")
    with pytest.raises(ParameterError, match="per-task settings are recorded for shipped weights only"):
        core.fuse_request(a, b, s, tmp_path / "work", core.FuserCache())
