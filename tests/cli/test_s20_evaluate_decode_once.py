"""``mutualfuse evaluate`` decodes each image once (s20).

Since s19 every image is decoded before the first metric (a truncated file is one line, exit 2,
before any work), and the scoring then decoded every image a second time. The check now keeps
the decoded images (under ``evaluation.READ_CACHE_BYTES``) and the scoring takes them from
there; images past the budget are decoded again when their pair is scored. The values must be
bit-for-bit those of the old way (every image decoded at scoring time), for every reading
option, and the memory kept never passes the budget.
"""
from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import mutualfuse.cli.evaluate as CE
import mutualfuse.evaluation as EV
from mutualfuse.cli import main
from png_files import png16_colour  # tests/ is on sys.path

H, W = 40, 48
NAMES = ("01", "02", "03", "04")


def _dicom(path, arr):
    """A 12-bit CT slice (tests/io/test_io_read.py's writer, defaults: MONOCHROME2, no window)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "io"))
    try:
        from test_io_read import _dicom as write
    finally:
        sys.path.pop(0)
    write(path, arr)


@pytest.fixture()
def mixed(tmp_path):
    """Four pairs, two fused folders: 8-bit gray and colour, 16-bit gray (narrow and full range)
    and 16-bit colour PNG, a JPEG fused image and a DICOM source."""
    pytest.importorskip("pydicom")
    rng = np.random.default_rng(20)
    for d in ("a", "b", "f1", "f2"):
        (tmp_path / d).mkdir()
    y, x = np.mgrid[0:H, 0:W]
    scene = np.clip(127.5 + 90 * np.sin(x / 5.0) * np.cos(y / 4.0) + rng.normal(0, 10, (H, W)), 0, 255)

    def u8(v):
        return np.clip(v, 0, 255).astype(np.uint8)

    for n in NAMES:
        a = u8(scene + rng.normal(0, 20, (H, W)))
        b = u8(255 - scene + rng.normal(0, 20, (H, W)))
        f = u8((a.astype(float) + b) / 2)
        if n == "01":  # 8-bit gray / colour
            Image.fromarray(a).save(tmp_path / "a" / f"{n}.png")
            Image.fromarray(np.stack([b, u8(b * 0.8), u8(b * 0.5 + 40)], -1)).save(tmp_path / "b" / f"{n}.png")
            Image.fromarray(f).save(tmp_path / "f1" / f"{n}.png")
            Image.fromarray(np.stack([f, f, u8(f * 0.9)], -1)).save(tmp_path / "f2" / f"{n}.png")
        elif n == "02":  # 16-bit: a narrow thermal-like source, a full-range colour one
            Image.fromarray((7000 + 4 * a.astype(np.uint16)).astype(np.uint16)).save(tmp_path / "a" / f"{n}.png")
            rgb = np.stack([b, u8(b * 0.7), u8(b * 0.4 + 60)], -1).astype(np.uint16) * 257
            png16_colour(tmp_path / "b" / f"{n}.png", rgb + rng.integers(0, 200, rgb.shape).astype(np.uint16))
            Image.fromarray(f.astype(np.uint16) * 257).save(tmp_path / "f1" / f"{n}.png")
            Image.fromarray(f).save(tmp_path / "f2" / f"{n}.jpg", quality=90)
        elif n == "03":  # a DICOM source
            _dicom(tmp_path / "a" / f"{n}.dcm", (a.astype(np.uint16) * 16))
            Image.fromarray(b).save(tmp_path / "b" / f"{n}.png")
            Image.fromarray(f).save(tmp_path / "f1" / f"{n}.png")
            Image.fromarray(u8(f * 0.9 + 10)).save(tmp_path / "f2" / f"{n}.png")
        else:  # 8-bit TIFF / BMP
            Image.fromarray(a).save(tmp_path / "a" / f"{n}.tif")
            Image.fromarray(b).save(tmp_path / "b" / f"{n}.bmp")
            Image.fromarray(f).save(tmp_path / "f1" / f"{n}.png")
            Image.fromarray(u8(f.astype(float) * 1.1)).save(tmp_path / "f2" / f"{n}.png")
    return tmp_path


@pytest.fixture()
def decodes(monkeypatch):
    """Counts the images decoded for evaluate: (path, is a source) -> times read."""
    counts: Counter = Counter()
    lock = threading.Lock()
    real = EV.read_gray

    def counting(path, normalize=None, percentiles=None, *, source=False):
        with lock:
            counts[(str(path), source)] += 1
        return real(path, normalize, percentiles, source=source)

    monkeypatch.setattr(EV, "read_gray", counting)
    return counts


def _argv(root, out, *more):
    return ["evaluate", "--a", str(root / "a"), "--b", str(root / "b"), "--fused", str(root / "f1"),
            "--fused", str(root / "f2"), "-q", "-o", str(out), *more]


def _files(root):
    return sorted(str(p) for d in ("a", "b", "f1", "f2") for p in (root / d).iterdir())


FAST = ("--metrics", "SF@vifb", "Qabf@vifb", "MI@vifb", "SSIM@vifb", "EN@vifb")
OPTIONS = {
    "stored": FAST,
    "normalize-auto": (*FAST, "--normalize", "auto"),
    "normalize-full": (*FAST, "--normalize", "full"),
    "normalize-percentile": (*FAST, "--normalize", "percentile", "--percentiles", "2", "98"),
    "profile-default": ("--profile", "default"),
    "jobs-2": (*FAST, "-j", "2"),
    "jobs-2-normalize-auto": (*FAST, "-j", "2", "--normalize", "auto", "--percentiles", "1", "99"),
}


@pytest.mark.parametrize("option", list(OPTIONS))
def test_each_image_is_decoded_once_and_scores_bit_for_bit_as_decoded_twice(mixed, capsys, decodes, monkeypatch,
                                                                           option):
    more = OPTIONS[option]
    kept = mixed / "kept.csv"
    assert main(_argv(mixed, kept, *more)) == 0
    once = capsys.readouterr()
    files = _files(mixed)
    assert len(files) == 16
    # every file once (the sources as sources, the fused images as stored); before: twice each
    assert sorted(decodes) == sorted((p, "/f" not in p) for p in files)
    assert set(decodes.values()) == {1}, decodes
    decodes.clear()
    monkeypatch.setattr(EV, "READ_CACHE_BYTES", 0)  # nothing kept: every image decoded again to score it
    again = mixed / "again.csv"
    assert main(_argv(mixed, again, *more)) == 0
    twice = capsys.readouterr()
    assert set(decodes.values()) == {2}
    assert kept.read_bytes() == again.read_bytes()  # every value at full precision (repr)
    assert once.out == twice.out and once.err == twice.err


def test_values_are_those_of_the_metrics_on_the_images_as_read(mixed):
    """An independent check of one cell per image (not only old == new): the metric on
    ``read_gray``'s arrays, compared exactly with the CSV's full-precision value."""
    out = mixed / "r.csv"
    assert main(_argv(mixed, out, "--metrics", "Qabf@vifb", "--normalize", "auto")) == 0
    rows = [r.split(",") for r in out.read_text().splitlines()[1:]]
    got = {(r[0], r[2]): r[3] for r in rows}
    la, lb = EV._listing(mixed / "a"), EV._listing(mixed / "b")
    for m in ("f1", "f2"):
        lf = EV._listing(mixed / m)
        for n in NAMES:
            a = EV.read_gray(la[n], "auto", source=True)
            b = EV.read_gray(lb[n], "auto", source=True)
            assert got[(m, n)] == repr(EV._score("Qabf@vifb", a, b, EV.read_gray(lf[n])))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_set_over_the_budget_scores_the_same_and_keeps_no_more_than_the_budget(mixed, capsys, decodes,
                                                                                  monkeypatch, jobs):
    base = mixed / "base.csv"
    assert main(_argv(mixed, base, *FAST, "-j", jobs)) == 0
    base_out = capsys.readouterr().out
    decodes.clear()
    budget = 5 * H * W  # five 8-bit gray images: part of the set (the float64 DICOM source never fits)
    made = []
    real = EV.DecodedImages

    class Watched(real):
        peak = 0

        def put(self, key, x):
            ok = super().put(key, x)
            Watched.peak = max(Watched.peak, self.held)
            return ok

    def make(*a, **k):
        made.append(Watched(*a, **k))
        return made[-1]

    monkeypatch.setattr(EV, "READ_CACHE_BYTES", budget)
    monkeypatch.setattr(CE, "DecodedImages", make)
    small = mixed / "small.csv"
    assert main(_argv(mixed, small, *FAST, "-j", jobs)) == 0
    assert small.read_bytes() == base.read_bytes() and capsys.readouterr().out == base_out
    (cache,) = made
    assert cache.budget == budget and 0 < Watched.peak <= budget
    assert cache.kept >= 1 and cache.passed >= 1  # some images kept, the others decoded again
    assert cache.taken == cache.kept and len(cache) == 0 and cache.held == 0  # all handed over, none left
    assert sorted(decodes.values()).count(1) == cache.kept and sorted(decodes.values()).count(2) == cache.passed
    assert sum(decodes.values()) == 16 + cache.passed


def test_the_library_hands_every_kept_image_over(mixed):
    names, la, lb, lf = EV.pair_folders(mixed / "a", mixed / "b", [mixed / "f1", mixed / "f2"])
    keep = EV.DecodedImages()
    assert keep.budget == EV.READ_CACHE_BYTES == 512 * 2**20
    EV.verify_reads(names, la, lb, lf, keep=keep)
    assert len(keep) == 16 and keep.held > 0
    table = EV._compute(names, la, lb, lf, ["f1", "f2"], [mixed / "f1", mixed / "f2"], {"SF": "SF@vifb"}, 1, True,
                        reads=keep)
    assert len(keep) == 0 and keep.held == 0 and keep.taken == 16
    assert table == EV._compute(names, la, lb, lf, ["f1", "f2"], [mixed / "f1", mixed / "f2"], {"SF": "SF@vifb"},
                                1, True)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_truncated_file_is_still_one_line_before_any_metric(mixed, capsys, monkeypatch, jobs):
    calls = []
    real = EV._score
    monkeypatch.setattr(EV, "_score", lambda *a: calls.append(a[0]) or real(*a))
    broken = mixed / "f2" / "04.png"
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    out = mixed / "r.csv"
    assert main(_argv(mixed, out, *FAST, "-j", jobs)) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(broken) in err and "Traceback" not in err, err
    assert calls == [] and not out.exists()


def test_one_folder_as_a_source_and_as_fused_scores_as_decoded_twice(mixed, capsys, decodes, monkeypatch):
    """The same file read as --a, --b and --fused (a source under --normalize, a fused image as
    stored): kept once per reading, never handed to the other reading."""
    argv = ["evaluate", "--a", str(mixed / "a"), "--b", str(mixed / "a"), "--fused", str(mixed / "a"), "-q",
            *FAST, "--normalize", "percentile"]
    kept, again = mixed / "kept.csv", mixed / "again.csv"
    assert main([*argv, "-o", str(kept)]) == 0
    out = capsys.readouterr().out
    # each file decoded by the check as --a, as --b (one reading, kept once) and as --fused; the
    # scoring takes one source reading and the fused one from the check and decodes the other
    # source reading again (before: 4 source readings and 2 fused ones)
    assert len(decodes) == 2 * len(NAMES), decodes
    assert all(v == (3 if source else 1) for (_, source), v in decodes.items()), decodes
    monkeypatch.setattr(EV, "READ_CACHE_BYTES", 0)
    assert main([*argv, "-o", str(again)]) == 0
    assert kept.read_bytes() == again.read_bytes() and capsys.readouterr().out == out
