"""``mutualfuse fuse`` / ``fuse-dir``: good pairs, and every bad input → one line, exit 2, no output."""
from __future__ import annotations

import os
import shutil
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main


def _png(path, arr):
    Image.fromarray(arr).save(path)
    return path


@pytest.fixture()
def pair(tmp_path):
    rng = np.random.default_rng(0)
    a = _png(tmp_path / "a.png", rng.integers(0, 256, (40, 52), dtype=np.uint8))
    b = _png(tmp_path / "b.png", rng.integers(0, 256, (40, 52), dtype=np.uint8))
    return a, b


def _zero_png(path):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 40, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))
    return path


def _bad_cases(tmp, a, b):
    """name → (a, b, out, extra args, text that must appear, file that must be named)"""
    import tifffile

    out = tmp / "out" / "f.png"
    trunc = tmp / "trunc.png"
    trunc.write_bytes(a.read_bytes()[: len(a.read_bytes()) // 2])
    text = tmp / "notes.png"
    text.write_text("this is not an image\n")
    small = _png(tmp / "small.png", np.zeros((30, 52), np.uint8))
    zero = _zero_png(tmp / "zero.png")
    five = tmp / "five.tif"
    tifffile.imwrite(five, np.zeros((40, 52, 5), np.uint8), photometric="minisblack", planarconfig="contig")
    nan = tmp / "nan.tif"
    x = np.full((40, 52), 0.5, np.float32)
    x[3, 4] = np.nan
    tifffile.imwrite(nan, x)
    afile = tmp / "plainfile"
    afile.write_text("x")
    return {
        "missing": (tmp / "nope.png", b, out, [], "file not found", "nope.png"),
        "truncated": (trunc, b, out, [], "truncated", "trunc.png"),
        "not an image": (a, text, out, [], "not a readable image", "notes.png"),
        "size mismatch": (a, small, out, [], "size mismatch", "small.png"),
        "zero pixels": (zero, b, out, [], "0 pixels", "zero.png"),
        "channels": (five, b, out, [], "unsupported channel count 5", "five.tif"),
        "nan": (nan, b, out, [], "NaN or infinite", "nan.tif"),
        "bomb": (a, b, out, ["--max-pixels", "1000"], "decompression bomb", "a.png"),
        "no folder": (a, b, tmp / "missing-dir" / "f.png", [], "does not exist", "f.png"),
        "parent is a file": (a, b, afile / "f.png", [], "plainfile exists and is not a folder", "f.png"),
        "output is input": (a, b, b, [], "same file as input", "b.png"),
        "bad extension": (a, b, tmp / "out" / "f.xyz", [], "unsupported output format", "f.xyz"),
    }


@pytest.mark.parametrize("case", ["missing", "truncated", "not an image", "size mismatch", "zero pixels",
                                  "channels", "nan", "bomb", "no folder", "parent is a file",
                                  "output is input", "bad extension"])
def test_bad_input_one_line_exit_2_no_output(case, pair, tmp_path, capsys, lively_weights):
    a, b = pair
    (tmp_path / "out").mkdir()
    ca, cb, out, extra, text, named = _bad_cases(tmp_path, a, b)[case]
    before_b = b.read_bytes()
    rc = main(["fuse", str(ca), str(cb), "-o", str(out), "--weights", str(lively_weights), "-q", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("mutualfuse: error:"), err
    assert text in err[0] and named in err[0], err[0]
    assert os.listdir(tmp_path / "out") == []  # nothing written, no temp file left
    if case != "output is input":
        assert not out.exists()
    assert b.read_bytes() == before_b


def test_fuse_gray_odd_size_and_16bit(tmp_path, lively_weights, capsys):
    rng = np.random.default_rng(5)
    ir = rng.integers(2000, 12000, (37, 29)).astype(np.uint16)
    vis = rng.integers(0, 256, (37, 29), dtype=np.uint8)
    Image.fromarray(ir).save(tmp_path / "ir.png")
    _png(tmp_path / "vis.png", vis)
    rc = main(["fuse", str(tmp_path / "ir.png"), str(tmp_path / "vis.png"), "-o", str(tmp_path / "f.png"),
               "--weights", str(lively_weights)])
    assert rc == 0
    out = Image.open(tmp_path / "f.png")
    assert out.size == (29, 37) and out.mode.startswith("I;16")  # 16-bit in → 16-bit out
    assert "scaled by percentile" in capsys.readouterr().err
    rc = main(["fuse", str(tmp_path / "ir.png"), str(tmp_path / "vis.png"), "-o", str(tmp_path / "f8.png"),
               "--weights", str(lively_weights), "--bit-depth", "8", "-q"])
    assert rc == 0 and Image.open(tmp_path / "f8.png").mode == "L"


def test_fuse_colour_keeps_chroma_of_colour_source(samples, tmp_path, lively_weights):
    from mutualfuse.color import rgb_to_ycbcr

    vis = np.asarray(Image.open(samples / "lytro-01" / "a.png").convert("RGB"))[:96, :120]
    ir = np.asarray(Image.open(samples / "lytro-01" / "b.png").convert("L"))[:96, :120]
    _png(tmp_path / "vis.png", vis)
    _png(tmp_path / "ir.png", ir)
    rc = main(["fuse", str(tmp_path / "ir.png"), str(tmp_path / "vis.png"), "-o", str(tmp_path / "f.png"),
               "--weights", str(lively_weights), "-q"])
    assert rc == 0
    out = np.asarray(Image.open(tmp_path / "f.png"))
    assert out.shape == vis.shape
    yo, yv = rgb_to_ycbcr(out / 255.0), rgb_to_ycbcr(vis / 255.0)
    inside = (out > 8).all(-1) & (out < 247).all(-1)  # away from RGB clipping
    assert inside.mean() > 0.5
    assert np.abs(yo[..., 1:][inside] - yv[..., 1:][inside]).max() < 3 / 255


def test_fuse_chroma_gray_writes_the_fused_luminance(samples, tmp_path, lively_weights):
    """``--chroma gray``: a colour pair gives a gray PNG, the API's ``chroma="gray"`` result; the
    same in fuse-dir."""
    from mutualfuse import Fuser
    from mutualfuse.image_io import read_image

    for name, conv in (("a", "RGB"), ("b", "RGB")):
        _png(tmp_path / f"{name}.png", np.asarray(Image.open(samples / "lytro-01" / f"{name}.png").convert(conv))[:64, :80])
    rc = main(["fuse", str(tmp_path / "a.png"), str(tmp_path / "b.png"), "-o", str(tmp_path / "f.png"),
               "--weights", str(lively_weights), "--chroma", "gray", "-q"])
    assert rc == 0
    out = Image.open(tmp_path / "f.png")
    assert out.mode == "L" and out.size == (80, 64)
    a, b = (read_image(tmp_path / f"{n}.png")[0] for n in ("a", "b"))
    want = Fuser(lively_weights, device="cpu", chroma="gray").fuse_arrays(a[None], b[None])[0]
    assert want.ndim == 2
    np.testing.assert_array_equal(np.asarray(out), np.round(np.clip(want, 0, 1) * 255).astype(np.uint8))
    da, db = tmp_path / "A", tmp_path / "B"
    da.mkdir(), db.mkdir()
    shutil.copy(tmp_path / "a.png", da / "p.png")
    shutil.copy(tmp_path / "b.png", db / "p.png")
    rc = main(["fuse-dir", str(da), str(db), "-o", str(tmp_path / "F"), "--weights", str(lively_weights),
               "--chroma", "gray", "-q"])
    assert rc == 0
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "F" / "p.png")), np.asarray(out))


def _dirs(tmp_path):
    rng = np.random.default_rng(7)
    da, db = tmp_path / "A", tmp_path / "B"
    da.mkdir(), db.mkdir()
    for name in ("01.png", "02.png", "03.png"):
        _png(da / name, rng.integers(0, 256, (24, 32), dtype=np.uint8))
        _png(db / name, rng.integers(0, 256, (24, 32), dtype=np.uint8))
    (db / "02.png").write_bytes((db / "02.png").read_bytes()[:40])  # truncated
    _png(da / "04.png", np.zeros((24, 32), np.uint8))  # no partner
    (da / "readme.txt").write_text("ignored")
    return da, db


def test_fuse_dir_keeps_going_lists_failures_and_resumes(tmp_path, lively_weights, capsys):
    da, db = _dirs(tmp_path)
    out = tmp_path / "OUT"
    args = ["fuse-dir", str(da), str(db), "-o", str(out), "--weights", str(lively_weights)]
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2
    assert sorted(os.listdir(out)) == ["01.png", "03.png"]
    assert "2 pair(s) failed" in err and "02.png" in err and "not a readable image" in err and "no file named 04.png" in err
    mtime = (out / "01.png").stat().st_mtime_ns
    (db / "02.png").write_bytes((db / "01.png").read_bytes())  # repair
    rc = main(args)
    cap = capsys.readouterr()
    assert rc == 2  # 04.png still has no partner
    assert "fused 1, skipped 2 already done" in cap.out
    assert (out / "01.png").stat().st_mtime_ns == mtime  # not redone
    assert sorted(os.listdir(out)) == ["01.png", "02.png", "03.png"]


def test_fuse_dir_csv_pairs(tmp_path, lively_weights, capsys):
    da, db = _dirs(tmp_path)
    lst = tmp_path / "pairs.csv"
    lst.write_text("a,b,out\nA/01.png,B/01.png,first.tif\nA/03.png,B/03.png\n")
    rc = main(["fuse-dir", "--pairs", str(lst), "-o", str(tmp_path / "O"), "--weights", str(lively_weights), "-q"])
    assert rc == 0, capsys.readouterr().err
    assert sorted(os.listdir(tmp_path / "O")) == ["03.png", "first.tif"]
    shutil.rmtree(tmp_path / "O")
    # an output in a subfolder of -o: the subfolder is created
    lst.write_text("A/01.png,B/01.png,sub/deeper/s1.png\n")
    rc = main(["fuse-dir", "--pairs", str(lst), "-o", str(tmp_path / "O"), "--weights", str(lively_weights), "-q"])
    assert rc == 0, capsys.readouterr().err
    assert (tmp_path / "O" / "sub" / "deeper" / "s1.png").is_file()


def test_fuse_dir_says_subfolders_are_not_searched(tmp_path, lively_weights, capsys):
    da, db = _dirs(tmp_path)
    (da / "nested").mkdir()
    rc = main(["fuse-dir", str(da), str(db), "-o", str(tmp_path / "O"), "--weights", str(lively_weights)])
    err = capsys.readouterr().err
    assert rc == 2, err  # _dirs holds a truncated file and an unpaired one
    assert f"{da}: 1 subfolder(s) not searched" in err, err


def test_fuse_quiet_prints_nothing_but_errors(tmp_path, lively_weights, capsys):
    """``-q``: no notes (token budget, 16-bit scaling) and no summary on success; errors still print."""
    rng = np.random.default_rng(6)
    ir = rng.integers(2000, 12000, (40, 52)).astype(np.uint16)
    Image.fromarray(ir).save(tmp_path / "ir.png")
    vis = _png(tmp_path / "vis.png", rng.integers(0, 256, (40, 52), dtype=np.uint8))
    args = ["fuse", str(tmp_path / "ir.png"), str(vis), "-o", str(tmp_path / "f.png"),
            "--weights", str(lively_weights), "--token-budget", "16"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "approximate mutual mapping" in err and "scaled by percentile" in err  # the notes exist
    assert main(args + ["-q"]) == 0
    assert capsys.readouterr() == ("", "")
    assert main(args[:2] + [str(tmp_path / "nope.png")] + args[3:] + ["-q"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "nope.png" in err and len(err.strip().splitlines()) == 1


def test_fuse_default_task_mode_auto_prints_the_detected_task(samples, tmp_path, capsys):
    """Without --task, `default` detects the task and says so; --task stored / a task fuse at those
    settings without detecting; auto on weights without per-task settings is a one-line error."""
    a, b = (str(samples / "lytro-01" / f"{r}.png") for r in "ab")
    outs = {}
    for task in (None, "multi-focus", "stored"):
        outs[task] = tmp_path / f"{task}.png"
        rc = main(["fuse", a, b, "-o", str(outs[task]), "--device", "cpu"] + (["--task", task] if task else []))
        err = capsys.readouterr().err
        assert rc == 0, err
        assert ("note: task: multi-focus, detected (low-pass correlation 0.99" in err) == (task is None), err
    read = [np.asarray(Image.open(outs[t])) for t in (None, "multi-focus", "stored")]
    assert np.array_equal(read[0], read[1]) and not np.array_equal(read[0], read[2])
    rc = main(["fuse", a, b, "-o", str(tmp_path / "p.png"), "--weights", "pyramid", "--task", "auto"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "record no per-task settings" in err[0], err
    assert not (tmp_path / "p.png").exists()


def test_fuse_task_auto_refused_names_auto_not_a_task_it_was_never_given(pair, tmp_path, capsys):
    """--task auto on weights without per-task settings (shipped, or a file of one's own): the one
    line names task 'auto', what was asked, not 'ir-vis' (the first task looked up), and no file."""
    from mutualfuse.weights import load_model, save_weights

    net, _ = load_model("paper")
    own = save_weights(tmp_path / "own.safetensors", net, net.cfg)  # the same tensors, not a shipped file
    a, b = pair
    for weights in ("paper", str(own)):
        out = tmp_path / "t.png"
        rc = main(["fuse", str(a), str(b), "-o", str(out), "--device", "cpu", "--weights", weights,
                   "--task", "auto"])
        err = capsys.readouterr().err.strip().splitlines()
        assert rc == 2 and len(err) == 1 and err[0].startswith("mutualfuse: error: "), err
        assert "'auto'" in err[0] and "ir-vis" not in err[0], err
        assert not out.exists()


def test_demo_fuses_the_bundled_pairs_each_at_its_detected_task(tmp_path, capsys):
    rc = main(["demo", "-o", str(tmp_path / "demo"), "--device", "cpu"])
    out, err = capsys.readouterr()
    assert rc == 0, out
    assert "note: approximate mutual mapping" in err, err  # as `fuse` says it
    want = {"tno-01": "ir-vis", "lytro-01": "multi-focus", "ct-mr-c01": "medical"}
    for name, task in want.items():
        assert (tmp_path / "demo" / f"{name}-fused.png").is_file()
        assert f"{name}, task {task})" in out, out


def test_fuse_dir_auto_summarises_the_detected_tasks(samples, tmp_path, capsys):
    import shutil

    for role in "ab":
        (tmp_path / role).mkdir()
        for name in ("tno-01", "lytro-01", "ct-mr-c01"):
            shutil.copy(samples / name / f"{role}.png", tmp_path / role / f"{name}.png")
    rc = main(["fuse-dir", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "out"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert rc == 0, err
    assert ("note: task detected per pair: ir-vis 1 (tno-01.png), medical 1 (ct-mr-c01.png), "
            "multi-focus 1 (lytro-01.png); --task chooses one for all") in err, err
    rc = main(["fuse-dir", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "out2"), "--device", "cpu",
               "--task", "stored"])
    assert rc == 0 and "task detected" not in capsys.readouterr().err


def test_task_summary_lists_names_of_small_groups_only():
    from mutualfuse.cli.fuse_dir import task_summary

    s = task_summary({"ir-vis": [f"{i:02d}.png" for i in range(5)], "medical": ["c07.png"]})
    assert s == "task detected per pair: ir-vis 5, medical 1 (c07.png); --task chooses one for all"


def test_fuse_bfloat16_on_cpu(samples, tmp_path, capsys):
    """``--dtype bfloat16 --device cpu`` with the shipped model writes the fused image."""
    out = tmp_path / "f.png"
    rc = main(["fuse", str(samples / "tno-01" / "a.png"), str(samples / "tno-01" / "b.png"), "-o", str(out),
               "--device", "cpu", "--dtype", "bfloat16", "-q"])
    assert rc == 0, capsys.readouterr().err
    f = np.asarray(Image.open(out))
    a = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("L"))
    assert f.shape == a.shape and f.dtype == np.uint8 and f.std() > 5


def test_closed_stdout_pipe_ends_quietly():
    """`mutualfuse methods | head -1`: the reader leaves; no "internal error", no traceback, 141."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "import time, sys; time.sleep(1.5); "
                             "from mutualfuse.cli import main; sys.exit(main(['methods']))"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # before it writes
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err
    assert err == "", err
