"""The web page shows weights of one's own (``serve --weights NAME=FILE``) by their file's name,
never by the server's absolute path (session 25).

The "same as" command lines (pair and stack) named ``--weights /the/servers/folder/FILE``, and the
page's notes ("inputs read with --normalize full, as weights /the/servers/folder/FILE were
trained") and a weights refusal named it too: a page served with ``--share`` (or on another
``--host``, or through a tunnel, which the server cannot tell) showed the server's folders to
other machines' users. They now name the file's name; the command shown runs in the weights'
folder (elsewhere, its path goes in place of the name: docs/web.md). The page still fuses with the
file itself."""
from __future__ import annotations

import shlex
import shutil

import pytest

from mutualfuse.cli import main
from mutualfuse.errors import WeightsError
from train_cli_helpers import trained_weights

core = pytest.importorskip("mutualfuse.web.core")


@pytest.fixture(scope="module")
def own(tmp_path_factory):
    """Weights trained with ``data.normalize full`` (a note on every page result) in a folder whose
    name must not reach the page."""
    base = tmp_path_factory.mktemp("q7page")
    w = trained_weights(base, **{"data.normalize": "full"})
    folder = base / "srv-private-folder"
    folder.mkdir()
    shutil.copy(w, folder / "mine.safetensors")
    return folder, core.own_weights_table({"mine": str(folder / "mine.safetensors")})


def _pair():
    sample = core.SAMPLES / "tno-01"
    return str(sample / "a.png"), str(sample / "b.png")


def test_the_pair_page_names_the_file_and_its_command_runs_there(own, tmp_path, monkeypatch):
    folder, table = own
    a, b = _pair()
    s = core.Settings(weights="mine", own_weights=table, device="cpu")
    assert str(folder / "mine.safetensors") in s.cli_args()  # the page's own fusion reads the file itself
    r = core.fuse_request(a, b, s, tmp_path / "work", core.FuserCache())
    cmd = s.command()
    shown = " ".join([cmd, *r.notes])
    assert str(folder) not in shown and "srv-private-folder" not in shown, shown
    assert "--weights mine.safetensors " in cmd and "--normalize" not in cmd, cmd
    assert any("as weights mine.safetensors were trained" in n for n in r.notes), r.notes
    # the command shown, run in the weights' folder (A, B and the output put in), is the page's result
    argv = shlex.split(cmd)
    assert argv[:6] == ["mutualfuse", "fuse", "A", "B", "-o", "fused.png"], argv
    monkeypatch.chdir(folder)
    out = tmp_path / "cli.png"
    assert main(["fuse", a, b, "-o", str(out), *argv[6:], "-q"]) == 0
    assert out.read_bytes() == r.png.read_bytes()


def test_the_stack_page_names_the_file_too(own, tmp_path):
    folder, table = own
    a, b = _pair()
    s = core.Settings(weights="mine", own_weights=table, device="cpu")
    r = core.fuse_stack_request([a, b], s, tmp_path / "work", core.FuserCache(), names=["a.png", "b.png"])
    shown = " ".join([r.command, r.summary, *r.notes])
    assert str(folder) not in shown and "srv-private-folder" not in shown, shown
    assert "--weights mine.safetensors " in r.command, r.command
    assert any("as weights mine.safetensors were trained" in n for n in r.notes), r.notes


def test_a_weights_refusal_names_the_file(own, tmp_path):
    folder, _ = own
    bad = folder / "later.safetensors"
    shutil.copy(folder / "mine.safetensors", bad)
    table = core.own_weights_table({"later": str(bad)})
    bad.write_bytes(b"not weights any more")  # rewritten while the server runs: refused on the next request
    with pytest.raises(WeightsError) as e:
        core.fuse_request(*_pair(), core.Settings(weights="later", own_weights=table, device="cpu"),
                          tmp_path / "work", core.FuserCache())
    msg = str(e.value)
    assert msg.startswith("your weights later: ") and "later.safetensors" in msg, msg
    assert "srv-private-folder" not in msg, msg


def test_a_file_name_that_starts_with_a_dash_stays_a_value():
    s = core.Settings(weights="w", own_weights={"w": "/srv/x/-w.safetensors"})
    assert shlex.split(s.command())[8:10] == ["--weights", "./-w.safetensors"], s.command()
    assert "--weights ./-w.safetensors " in s.stack_command(["a.png", "b.png"])
    assert s.cli_args()[:4] == ["--method", "mutualfuse", "--weights", "/srv/x/-w.safetensors"]
    # shipped weights and classical methods: as before
    assert core.Settings().command().endswith("--weights default --chroma saturation --normalize auto")


def test_the_stacks_name_count_check_counts_in_words(tmp_path):
    """``fuse_stack_request`` with names that do not match the paths: "1 paths" read "1 path"."""
    with pytest.raises(ValueError, match=r"^1 path but 0 names$"):
        core.fuse_stack_request([str(tmp_path / "x.png")], core.Settings(), tmp_path / "w", core.FuserCache(), names=[])
    with pytest.raises(ValueError, match=r"^2 paths but 1 name$"):
        core.fuse_stack_request(["a.png", "b.png"], core.Settings(), tmp_path / "w", core.FuserCache(), names=["a"])
