"""``mutualfuse fuse --tile``'s progress (session 27): a tiled run of a classical method showed
nothing at a terminal (``--method cbf --tile 256`` of a 2000x1500 pair: 108-142 s on one thread
of a loaded 2-core machine, without a word), and neither did the network's whenever each tile
was one streaming window (the runner's ``windows`` bar only shows for a tile of several). At a
terminal a ``tiles`` bar is now drawn (tqdm, cleared when done, as the ``windows`` bar); not at
a terminal, and with ``-q``, nothing, as the untiled run; the fused bytes are those of a run
without the bar."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "mutualfuse" / "data" / "samples"


def _fuse(capsys, out, *extra, method="average"):
    a, b = SAMPLES / "tno-01" / "a.png", SAMPLES / "tno-01" / "b.png"
    rc = main(["fuse", str(a), str(b), "-o", str(out), "--method", method, *extra])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _terminal(monkeypatch):
    # in the test itself: capsys's stream is swapped in after the fixtures are set up
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)


def test_a_tiled_classical_run_shows_its_tiles_at_a_terminal(tmp_path, capsys, monkeypatch):
    _terminal(monkeypatch)
    rc, out, err = _fuse(capsys, tmp_path / "f.png", "--tile", "64")
    assert rc == 0, err
    assert "tiles:" in err and "/88 " in err and "tile/s" in err, repr(err)  # 88 tiles of 360x270 at 64
    # cleared before the notes, as the windows' bar: the tiled note starts a line of its own
    assert "\nnote: tiled: 88 independent 64px tiles" in err.replace("\r", "\n"), repr(err)
    assert out.startswith(f"{tmp_path / 'f.png'}  ("), out


def test_no_bar_in_a_log_or_quiet(tmp_path, capsys, monkeypatch):
    rc, _, err = _fuse(capsys, tmp_path / "f.png", "--tile", "64")
    assert rc == 0 and "\r" not in err and "tiles:" not in err, repr(err)
    assert err.startswith("note: tiled: 88 independent"), err
    _terminal(monkeypatch)
    rc, out, err = _fuse(capsys, tmp_path / "q.png", "--tile", "64", "-q")
    assert rc == 0 and err == "" and out == "", (out, err)


def test_no_bar_for_an_untiled_run(tmp_path, capsys, monkeypatch):
    _terminal(monkeypatch)
    rc, _, err = _fuse(capsys, tmp_path / "f.png", "--tile", "1000")  # larger than the image: one piece
    assert rc == 0 and "tiles:" not in err and "\r" not in err, repr(err)


def test_the_bar_changes_no_byte(tmp_path, capsys, monkeypatch):
    rc, _, err = _fuse(capsys, tmp_path / "log.png", "--tile", "96", method="lp")
    assert rc == 0, err
    _terminal(monkeypatch)
    rc, _, err = _fuse(capsys, tmp_path / "tty.png", "--tile", "96", method="lp")
    assert rc == 0 and "tiles:" in err, repr(err)
    assert (tmp_path / "log.png").read_bytes() == (tmp_path / "tty.png").read_bytes()


def test_a_failing_tile_at_a_terminal_is_one_clean_line(tmp_path, capsys, monkeypatch):
    _terminal(monkeypatch)
    # lp's 4 levels need 32 px: the first 16-px tile fails; the bar is cleared before the error
    rc, out, err = _fuse(capsys, tmp_path / "f.png", "--tile", "16", method="lp")
    assert rc == 2 and out == "", (rc, out, err)
    shown = [seg for seg in err.replace("\r", "\n").split("\n") if seg.strip()]
    assert shown[-1].startswith("mutualfuse: error: ") and "a 16x16 tile" in shown[-1], repr(err)
    assert sum(s.startswith("mutualfuse: error: ") for s in shown) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "f.png").exists() and list(tmp_path.iterdir()) == []


def test_the_network_tiled_run_shows_its_tiles(tmp_path, capsys, monkeypatch):
    _terminal(monkeypatch)
    # a 128x96 pair in tiles of 64: each tile is one streaming window, so no windows bar showed
    a = np.asarray(Image.open(SAMPLES / "tno-01" / "a.png"))[:96, :128]
    b = np.asarray(Image.open(SAMPLES / "tno-01" / "b.png"))[:96, :128]
    Image.fromarray(a).save(tmp_path / "a.png")
    Image.fromarray(b).save(tmp_path / "b.png")
    rc = main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.png"),
               "--tile", "64", "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert "tiles:" in err and "/6 " in err and "windows:" not in err, repr(err)


def test_tiled_fuse_progress_argument():
    from mutualfuse.tiling import count_tiles, tile_bar, tiled_fuse

    a = np.linspace(0, 1, 50 * 70).reshape(1, 50, 70)
    b = a[:, ::-1, ::-1].copy()
    seen: list[int] = []
    want = tiled_fuse(lambda x, y: np.maximum(x, y), a, b, 24, 8, progress=seen.append)
    n = count_tiles(50, 70, 24, 8)
    assert seen == list(range(1, n + 1)) and n > 1
    for kw in ({"progress": True}, {"progress": False}, {}):
        got = tiled_fuse(lambda x, y: np.maximum(x, y), a, b, 24, 8, **kw)
        assert np.array_equal(got, want)
    seen.clear()
    with tile_bar():  # a callable given is called, no bar drawn in its place
        tiled_fuse(lambda x, y: np.maximum(x, y), a, b, 24, 8, progress=seen.append)
    assert seen == list(range(1, n + 1))


def test_tile_bar_is_scoped(capsys):
    from mutualfuse.tiling import tile_bar, tiled_fuse

    a = np.zeros((1, 40, 40))

    def run():
        tiled_fuse(lambda x, y: x, a, a, 16, 4)
        return capsys.readouterr().err

    with tile_bar():
        assert "tiles:" in run()
        with tile_bar(False):
            assert run() == ""
        assert "tiles:" in run()
    assert run() == ""  # left: no bar


def test_the_bar_is_closed_when_a_tile_fails(capsys):
    from mutualfuse.errors import FuseError
    from mutualfuse.tiling import tiled_fuse

    calls = []

    def bad(x, y):
        calls.append(1)
        if len(calls) == 3:
            raise FuseError("boom")
        return x

    a = np.zeros((1, 40, 40))
    with pytest.raises(FuseError, match="boom"):
        tiled_fuse(bad, a, a, 16, 4, progress=True)
    err = capsys.readouterr().err
    assert "tiles:" in err
    # leave=False: the last thing written blanks the bar's line and returns to its start
    assert err.endswith("\r") and err.rsplit("\r", 2)[-2].strip() == "", repr(err)
