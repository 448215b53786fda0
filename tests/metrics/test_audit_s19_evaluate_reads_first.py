"""``mutualfuse evaluate`` decodes every image before any metric (audit s19).

A file whose header reads but whose pixels do not decode (a truncated PNG, JPEG or TIFF; the
size check reads headers only) was found when its pair was reached: nothing partial was
written, but every metric before it was computed for nothing (an hour on a big set with slow
metrics). Every image is now decoded once, as the scoring reads it, before the first metric:
a one-line error naming the file (all of them, when several), exit status 2, no metric
computed, no output file.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import mutualfuse.evaluation as EV
from mutualfuse.cli import main


def _set(root, names=("01", "02", "03"), side=40):
    rng = np.random.default_rng(7)
    for d in ("a", "b", "f"):
        (root / d).mkdir()
    for n in names:
        a = rng.integers(0, 256, (side, side + 8), dtype=np.uint8)
        b = rng.integers(0, 256, (side, side + 8), dtype=np.uint8)
        for d, x in (("a", a), ("b", b), ("f", np.maximum(a, b))):
            Image.fromarray(x).save(root / d / f"{n}.png")


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def _argv(root, *more):
    return ["evaluate", "--a", str(root / "a"), "--b", str(root / "b"), "--fused", str(root / "f"),
            "--metrics", "SF@vifb", "Qabf@vifb", "-q", *more]


@pytest.fixture()
def scored(monkeypatch):
    """Counts the metric values computed in this process (-j 1)."""
    calls = []
    real = EV._score

    def counting(key, a, b, f):
        calls.append(key)
        return real(key, a, b, f)

    monkeypatch.setattr(EV, "_score", counting)
    return calls


@pytest.mark.parametrize("fmt", ["png", "jpg", "tif"])
def test_a_truncated_last_image_stops_before_any_metric(tmp_path, capsys, scored, fmt):
    _set(tmp_path)
    last = tmp_path / "f" / "03.png"
    broken = last.with_suffix(f".{fmt}")
    if broken != last:
        Image.open(last).save(broken)
        last.unlink()
    _truncate(broken)
    assert EV._size_of(broken) == (48, 40)  # the header still reads: the size check passes it
    out = tmp_path / "r.csv"
    assert main(_argv(tmp_path, "-o", str(out))) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(broken) in err and "truncated" in err, err
    assert scored == []  # before: the metrics of 01 and 02, then the error
    assert not out.exists()


def test_a_truncated_source_and_a_float_fused_image_are_named_together(tmp_path, capsys, scored):
    tifffile = pytest.importorskip("tifffile")
    _set(tmp_path, names=("01", "02", "03", "04"))
    _truncate(tmp_path / "a" / "04.png")
    f = np.asarray(Image.open(tmp_path / "f" / "03.png"))
    (tmp_path / "f" / "03.png").unlink()
    tifffile.imwrite(tmp_path / "f" / "03.tif", f.astype(np.float32) / 255)
    assert main(_argv(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "2 of 12 images cannot be read" in err, err
    assert str(tmp_path / "f" / "03.tif") in err and "float samples" in err
    assert str(tmp_path / "a" / "04.png") in err
    assert scored == []


def test_with_jobs_no_worker_pool_is_started(tmp_path, capsys, monkeypatch):
    _set(tmp_path)
    _truncate(tmp_path / "b" / "03.png")

    def no_pool(*a, **k):
        raise AssertionError("the worker pool was started before the images were checked")

    monkeypatch.setattr(EV, "ProcessPoolExecutor", no_pool)
    assert main(_argv(tmp_path, "-j", "2")) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(tmp_path / "b" / "03.png") in err, err


def test_sound_images_score_as_before(tmp_path, capsys, scored):
    _set(tmp_path)
    out = tmp_path / "r.csv"
    assert main(_argv(tmp_path, "-o", str(out))) == 0
    assert len(scored) == 3 * 2  # each metric once per pair: the check computes none
    rows = out.read_text().splitlines()
    assert rows[0] == "method,folder,image,SF@vifb,Qabf@vifb" and len(rows) == 5


def test_verify_reads_reports_narrow_16_bit_images(tmp_path):
    _set(tmp_path, names=("01",))
    f = np.asarray(Image.open(tmp_path / "f" / "01.png"))
    Image.fromarray(f.astype(np.uint16)).save(tmp_path / "f" / "01.png")  # 8-bit values, 16-bit file
    names, la, lb, lf = EV.pair_folders(tmp_path / "a", tmp_path / "b", [tmp_path / "f"])
    got = EV.verify_reads(names, la, lb, lf)
    assert got["sources"] == [] and got["fused"] == [(tmp_path / "f" / "01.png", int(f.min()), int(f.max()))]
