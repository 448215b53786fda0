"""Session 26 tiling audit: what ``--tile`` must keep from the whole image. Each tile is fused
independently, but the intensity scaling (percentiles of a 16-bit input) and the task detected
under ``task="auto"`` belong to the image: a tile scaled by its own percentiles would change
brightness tile by tile, and a tile detected as another task would run at other settings."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

import mutualfuse
from mutualfuse import Fuser
from mutualfuse.cli import main as cli_main

SAMPLES = Path(mutualfuse.__file__).parent / "data" / "samples"


def _halves16():
    """A 16-bit pair whose left half is dark (1000-3000) and right half bright (50000-60000):
    each half's own 0.1-99.9 percentiles would stretch it to the full range."""
    rng = np.random.default_rng(7)
    h, w = 96, 200
    a = np.empty((h, w), np.uint16)
    a[:, :100] = rng.integers(1000, 3000, (h, 100))
    a[:, 100:] = rng.integers(50000, 60000, (h, 100))
    b = np.empty_like(a)
    b[:, :100] = rng.integers(1500, 2500, (h, 100))
    b[:, 100:] = rng.integers(52000, 58000, (h, 100))
    return a, b


def test_16bit_tiles_share_the_whole_images_percentiles():
    a, b = _halves16()
    untiled = Fuser("average").fuse(a, b)
    f = Fuser("average", tile=64, tile_overlap=16)
    tiled = f.fuse(a, b)
    assert f.report.tiles > 1 and tiled.dtype == np.uint16
    np.testing.assert_array_equal(tiled, untiled)
    # the dark half stays dark: it is not stretched on its own
    assert tiled[:, :90].max() < tiled[:, 110:].min()


def test_16bit_files_tiled_equal_untiled(tmp_path, capsys):
    a, b = _halves16()
    for name, x in (("a", a), ("b", b)):
        Image.fromarray(x).save(tmp_path / f"{name}.png")
    outs = {}
    for tag, extra in (("untiled", []), ("tiled", ["--tile", "64", "--tile-overlap", "16"])):
        assert cli_main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / f"{tag}.png"),
                         "--method", "average", *extra]) == 0
        outs[tag] = np.asarray(Image.open(tmp_path / f"{tag}.png"))
    err = capsys.readouterr().err
    assert "note: tiled: " in err
    np.testing.assert_array_equal(outs["tiled"], outs["untiled"])


def test_auto_task_is_detected_once_on_the_whole_image(monkeypatch):
    """The shipped ``default`` weights under ``task="auto"`` with tiles: one detection, on the
    whole 360x270 pair, and its settings for every tile."""
    import mutualfuse.tasks as tasks

    seen = []
    real = tasks.detect_task

    def spy(p, q):
        seen.append(p.shape)
        return real(p, q)

    monkeypatch.setattr(tasks, "detect_task", spy)
    a, b = (np.asarray(Image.open(SAMPLES / "tno-01" / f"{n}.png")) for n in "ab")
    f = Fuser("default", device="cpu", tile=256, tile_overlap=32)
    settings = []
    run = f._net_batch

    def record(x, y):
        settings.append((x.shape[-2:], f.net.cfg.blend_temperature, f.net.cfg.detail_activity))
        return run(x, y)

    monkeypatch.setattr(f, "_net_batch", record)
    f.fuse(a, b)
    assert seen == [(270, 360)], seen
    assert f.report.task == "ir-vis" and f.report.tiles == 4
    assert len(settings) == 4 and all(s[0] == (256, 256) or max(s[0]) <= 256 for s in settings)
    assert {s[1:] for s in settings} == {(0.1, 10000.0)}, settings  # ir-vis: --blend-temperature 0.1 --detail-activity 10000
