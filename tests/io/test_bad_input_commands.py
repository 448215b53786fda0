"""Every command honest about failure (issue 9): each case is one line ``mutualfuse: error: …``,
exit status 2, nothing written and nothing lost; outputs get the permissions ``open()`` gives.

Cases use the classical ``average`` method or the tiny random network of ``tiny_weights`` so
that the whole file runs in seconds on one core.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from png_files import png16_colour  # tests/ is on sys.path
from mutualfuse.cli import main

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "mutualfuse" / "data" / "samples"


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, str]:
    """Every file under root (hidden ones too) → sha256 of its bytes (symlinks by target text)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = Path(dirpath) / n
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif p.is_file():
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                out[rel] = "dir"
    return out


def run_bad(capsys, args: list[str], root: Path, must: str, name: str | None = None) -> str:
    """Run the CLI; assert exit 2, one stderr line naming the problem, and ``root`` untouched."""
    before = snapshot(root)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rc = main(args)
    cap = capsys.readouterr()
    err = cap.err.strip().splitlines()
    assert rc == 2, (args, cap.err)
    assert len(err) == 1, err
    assert err[0].startswith("mutualfuse: error: "), err
    assert must in err[0], err
    if name is not None:
        assert name in err[0], err
    assert [str(w.message) for w in caught] == []
    assert snapshot(root) == before, "files were written, changed or removed"
    return err[0]


def png(path: Path, arr: np.ndarray) -> Path:
    Image.fromarray(arr).save(path)
    return path


@pytest.fixture()
def ws(tmp_path):
    """A workspace with a registered 8-bit pair a.png / b.png (40x48)."""
    rng = np.random.default_rng(0)
    png(tmp_path / "a.png", rng.integers(0, 256, (40, 48), dtype=np.uint8))
    png(tmp_path / "b.png", rng.integers(0, 256, (40, 48), dtype=np.uint8))
    return tmp_path


def _fuse(ws, *extra):
    return ["fuse", str(ws / "a.png"), str(ws / "b.png"), *extra]


def _checkpoint(path: Path, cfg) -> Path:
    from mutualfuse.model import build_model
    from mutualfuse.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    net = build_model(cfg)
    save_checkpoint(path, {"model": net.state_dict(), "config": json.dumps({"model": cfg.to_dict()}),
                           "step": 3, "elapsed": 1.5})
    return path


def _raw_weights(path: Path, tensors: dict, model_config, fmt="mutualfuse-weights-1") -> Path:
    from safetensors.torch import save_file

    save_file(tensors, str(path), metadata={"format": fmt, "model_config": json.dumps(model_config)})
    return path


# ---------------------------------------------------------------------------------------------
# 1. export-weights must not overwrite the checkpoint
# ---------------------------------------------------------------------------------------------


def test_export_weights_refuses_to_overwrite_its_checkpoint(tmp_path, capsys):
    from mutualfuse.model import ModelConfig

    ck = _checkpoint(tmp_path / "last.ckpt", ModelConfig(widths=(4, 8, 8)))
    run_bad(capsys, ["export-weights", str(ck), "-o", str(ck)], tmp_path, "checkpoint itself", "last.ckpt")
    run_bad(capsys, ["export-weights", str(ck), "-o", str(tmp_path / "w.pt")], tmp_path, ".safetensors")


def test_export_weights_writes_loadable_weights_with_digest(tmp_path, capsys):
    from safetensors import safe_open

    from mutualfuse.model import ModelConfig
    from mutualfuse.weights import load_model

    ck = _checkpoint(tmp_path / "last.ckpt", ModelConfig(widths=(4, 8, 8)))
    assert main(["export-weights", str(ck), "-o", str(tmp_path / "w.safetensors"), "-q"]) == 0
    assert capsys.readouterr().out == ""
    with safe_open(str(tmp_path / "w.safetensors"), "pt") as fh:
        md = fh.metadata()
    assert md["format"] == "mutualfuse-weights-2" and len(md["tensors_sha256"]) == 64 and md["steps"] == "3"
    load_model(tmp_path / "w.safetensors")


# ---------------------------------------------------------------------------------------------
# 2. train: refuse configs that cannot train, before any allocation
# ---------------------------------------------------------------------------------------------

_TRAIN_BASE = {"model": {"widths": [4, 8, 8]}, "data": {"sets": ["s"], "val_pairs": 1, "crop": 16},
               "steps": 2, "batch_size": 2, "lr": 1.0e-3}


@pytest.mark.parametrize("change,must", [
    ({"steps": 0}, "steps must be an integer >= 1"),
    ({"steps": -5}, "steps must be an integer >= 1"),
    ({"lr": 0}, "lr must be a finite number > 0"),
    ({"lr": -1.0e-4}, "lr must be a finite number > 0"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1"),
    ({"data": {**_TRAIN_BASE["data"], "crop": 0}}, "data.crop must be"),
    ({"checkpoint_every": -1}, "checkpoint_every must be"),
])
def test_train_refuses_bad_config(tmp_path, capsys, change, must):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({**_TRAIN_BASE, **change, "out_dir": str(tmp_path / "run")}))
    run_bad(capsys, ["train", "--config", str(cfg), "--data-root", str(tmp_path)], tmp_path, must)


def test_train_refuses_empty_config_and_zero_steps_override(tmp_path, capsys):
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here\n")
    run_bad(capsys, ["train", "--config", str(empty)], tmp_path, "config file is empty", "empty.yaml")
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({**_TRAIN_BASE, "out_dir": str(tmp_path / "run")}))
    run_bad(capsys, ["train", "--config", str(cfg), "--steps", "0"], tmp_path, "steps must be an integer >= 1")


def test_train_refuses_crop_larger_than_every_image(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for role in ("ir", "vis"):
        (tmp_path / "s" / role).mkdir(parents=True)
        for i in range(3):
            png(tmp_path / "s" / role / f"{i}.png", rng.integers(0, 256, (24, 32), dtype=np.uint8))
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({**_TRAIN_BASE, "data": {**_TRAIN_BASE["data"], "crop": 100000},
                               "out_dir": str(tmp_path / "run")}))
    before = snapshot(tmp_path)
    rc = main(["train", "--config", str(cfg), "--data-root", str(tmp_path), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "data.crop 100000 is larger than every training image" in err[0], err
    after = snapshot(tmp_path)
    assert not any(k.endswith((".safetensors", ".pt")) for k in after), sorted(set(after) - set(before))


# ---------------------------------------------------------------------------------------------
# 3 + digest. weights: non-finite, oversized configs, bad metadata, tampering
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def tiny_state(tiny_weights):
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(tiny_weights), "pt") as fh:
        mc = json.loads(fh.metadata()["model_config"])
    return load_file(str(tiny_weights)), mc


def test_weights_with_nan_are_refused(ws, capsys, tiny_state):
    st, mc = tiny_state
    st = {k: v.clone() for k, v in st.items()}
    k = sorted(st)[0]
    st[k].view(-1)[0] = float("nan")
    w = _raw_weights(ws / "nan.safetensors", st, mc)
    run_bad(capsys, _fuse(ws, "-o", str(ws / "f.png"), "--weights", str(w)), ws, "NaN or infinite", "nan.safetensors")
    from mutualfuse.errors import WeightsError
    from mutualfuse.model import ModelConfig, build_model
    from mutualfuse.weights import save_weights

    net = build_model(ModelConfig(widths=(4, 8, 8)))
    with torch.no_grad():
        next(net.parameters()).view(-1)[0] = float("inf")
    with pytest.raises(WeightsError, match="NaN or infinite"):
        save_weights(ws / "inf.safetensors", net, ModelConfig(widths=(4, 8, 8)))
    assert not (ws / "inf.safetensors").exists()


def test_small_weights_file_cannot_request_huge_memory(ws, capsys, tiny_state):
    import resource

    st, mc = tiny_state
    w = _raw_weights(ws / "huge.safetensors", {"x": torch.zeros(3)}, {**mc, "widths": [40000, 40000, 40000]})
    w2 = _raw_weights(ws / "huge2.safetensors", st, {**mc, "widths": [40000, 40000, 40000]})
    assert w.stat().st_size < 2000
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for f in (w, w2):
        run_bad(capsys, _fuse(ws, "-o", str(ws / "f.png"), "--weights", str(f)), ws, "do not fit", f.name)
    # the model these configs describe has ~4e10 parameters (160 GB): nothing near that was allocated
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0 < 500_000  # KiB


@pytest.mark.parametrize("change,must", [
    ({"arch": "nope"}, "unknown architecture 'nope'"),
    ({"widths": [-4, 8, 8]}, "widths must be positive"),
    ({"depth": 9}, "bad model_config"),
])
def test_bad_model_config_in_weights(ws, capsys, tiny_state, change, must):
    st, mc = tiny_state
    w = _raw_weights(ws / "bad.safetensors", st, {**mc, **change})
    run_bad(capsys, _fuse(ws, "-o", str(ws / "f.png"), "--weights", str(w)), ws, must, "bad.safetensors")


def test_empty_sha256_sidecar_is_refused(ws, capsys, tiny_weights):
    import shutil

    w = ws / "w.safetensors"
    shutil.copy(tiny_weights, w)
    (ws / "w.safetensors.sha256").write_text("")
    run_bad(capsys, _fuse(ws, "-o", str(ws / "f.png"), "--weights", str(w)), ws, "sidecar is empty or malformed")


def test_flipped_byte_refused_without_sidecar(ws, capsys, tiny_weights):
    data = bytearray(tiny_weights.read_bytes())
    data[-7] ^= 0x01  # inside the last tensor's data
    w = ws / "flip.safetensors"
    w.write_bytes(bytes(data))
    assert not Path(str(w) + ".sha256").exists()
    run_bad(capsys, _fuse(ws, "-o", str(ws / "f.png"), "--weights", str(w)), ws, "tensor digest mismatch", "flip.safetensors")


def test_shipped_weights_carry_the_digest():
    from safetensors import safe_open

    from mutualfuse.weights import HERE, SHIPPED, load_model

    for w in SHIPPED.values():
        with safe_open(str(HERE / w.file), "pt") as fh:
            md = fh.metadata()
        assert md["format"] == "mutualfuse-weights-2" and len(md["tensors_sha256"]) == 64
    load_model("default")


# ---------------------------------------------------------------------------------------------
# 4. outputs respect the umask
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def umask027():
    old = os.umask(0o027)
    try:
        yield 0o640
    finally:
        os.umask(old)


def test_outputs_respect_umask(ws, capsys, umask027, tiny_weights):
    from mutualfuse.model import ModelConfig, build_model
    from mutualfuse.train.checkpoint import save_checkpoint
    from mutualfuse.weights import save_weights

    mode = umask027
    assert main(_fuse(ws, "-o", str(ws / "f.png"), "--method", "average", "-q")) == 0
    assert main(["fuse-dir", str(ws / "da"), str(ws / "db"), "-o", str(ws / "fd"), "-q"]) == 2  # no folders
    (ws / "da").mkdir(), (ws / "db").mkdir()
    os.link(ws / "a.png", ws / "da" / "x.png"), os.link(ws / "b.png", ws / "db" / "x.png")
    assert main(["fuse-dir", str(ws / "da"), str(ws / "db"), "-o", str(ws / "fd"), "--method", "average", "-q"]) == 0
    assert main(["evaluate", "--a", str(ws / "da"), "--b", str(ws / "db"), "--fused", str(ws / "fd"),
                 "--metrics", "EN@rfn-nest", "-o", str(ws / "r.csv"), "-q"]) == 0
    cfg = ModelConfig(widths=(4, 8, 8))
    save_weights(ws / "w.safetensors", build_model(cfg), cfg)
    save_checkpoint(ws / "c.pt", {"step": 1})
    capsys.readouterr()
    for f in ("f.png", "fd/x.png", "r.csv", "w.safetensors", "w.safetensors.sha256", "c.pt"):
        assert (ws / f).stat().st_mode & 0o777 == mode, f
    # replacing an existing file keeps that file's mode, as open(path, "w") does
    os.chmod(ws / "f.png", 0o600)
    assert main(_fuse(ws, "-o", str(ws / "f.png"), "--method", "max", "-q")) == 0
    assert (ws / "f.png").stat().st_mode & 0o777 == 0o600


def test_onnx_and_video_outputs_respect_umask(ws, capsys, umask027, tiny_weights):
    pytest.importorskip("onnx")
    iio = pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    assert main(["export-onnx", "-o", str(ws / "m.onnx"), "--weights", str(tiny_weights), "--no-check", "-q"]) == 0
    assert (ws / "m.onnx").stat().st_mode & 0o777 == umask027
    rng = np.random.default_rng(0)
    for n in ("va.mp4", "vb.mp4"):
        w = iio.get_writer(str(ws / n), format="FFMPEG", fps=5, codec="libx264", macro_block_size=1,
                           ffmpeg_log_level="error")
        for _ in range(2):
            w.append_data(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
        w.close()
    assert main(["fuse-video", str(ws / "va.mp4"), str(ws / "vb.mp4"), "-o", str(ws / "f.mp4"),
                 "--method", "average", "-q"]) == 0
    assert (ws / "f.mp4").stat().st_mode & 0o777 == umask027
    capsys.readouterr()


# ---------------------------------------------------------------------------------------------
# 5. fuse-dir never reads and writes the same place; CSV outputs stay in the output folder
# ---------------------------------------------------------------------------------------------


def test_fuse_dir_output_is_an_input_folder(ws, capsys):
    (ws / "da").mkdir(), (ws / "db").mkdir()
    os.link(ws / "a.png", ws / "da" / "x.png"), os.link(ws / "b.png", ws / "db" / "x.png")
    for out in ("da", "db"):
        run_bad(capsys, ["fuse-dir", str(ws / "da"), str(ws / "db"), "-o", str(ws / out), "--method", "average"],
                ws, "output folder is the input folder")


@pytest.mark.parametrize("extra, must", [(["--ext", ".xyz"], "--ext .xyz: unsupported output format"),
                                         (["--ext", "jpg", "--bit-depth", "16"], ".jpg cannot hold 16-bit")])
def test_fuse_dir_impossible_ext_is_refused_before_any_work(ws, capsys, extra, must):
    """Checked once, before the output folder exists (was: once per pair, after creating it)."""
    (ws / "da").mkdir(), (ws / "db").mkdir()
    os.link(ws / "a.png", ws / "da" / "x.png"), os.link(ws / "b.png", ws / "db" / "x.png")
    run_bad(capsys, ["fuse-dir", str(ws / "da"), str(ws / "db"), "-o", str(ws / "new"), "--method", "average",
                     *extra], ws, must)
    assert not (ws / "new").exists()


@pytest.mark.parametrize("out_col", ["../escape.png", "/tmp/mutualfuse-absolute-escape.png", "sub/../../x.png"])
def test_fuse_dir_csv_output_cannot_leave_the_output_folder(ws, capsys, out_col):
    (ws / "out").mkdir()
    (ws / "pairs.csv").write_text(f"a.png,b.png,{out_col}\n")
    before = snapshot(ws)
    rc = main(["fuse-dir", "--pairs", str(ws / "pairs.csv"), "-o", str(ws / "out"), "--method", "average", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "must be a relative path inside the output folder" in err
    assert snapshot(ws) == before
    assert not Path("/tmp/mutualfuse-absolute-escape.png").exists()


def test_fuse_dir_csv_output_equal_to_an_input_is_refused(ws, capsys):
    (ws / "pairs.csv").write_text("a.png,b.png,../a.png\n")
    (ws / "pairs2.csv").write_text(f"a.png,b.png\n")
    before = snapshot(ws)
    assert main(["fuse-dir", "--pairs", str(ws / "pairs2.csv"), "-o", str(ws), "--method", "average", "-q"]) == 2
    assert "same file as an input" in capsys.readouterr().err
    assert snapshot(ws) == before


# ---------------------------------------------------------------------------------------------
# 6. evaluate checks --out before computing any metric
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def eval_ws(ws):
    for d, src in (("da", "a.png"), ("db", "b.png"), ("df", "a.png")):
        (ws / d).mkdir()
        os.link(ws / src, ws / d / "x.png")
    return ws


@pytest.mark.parametrize("out,must", [
    ("missing/r.csv", "does not exist"),
    ("/proc/r.csv", "cannot write"),
    ("adir.csv", "is a directory"),
])
def test_evaluate_out_checked_before_metrics(eval_ws, capsys, monkeypatch, out, must):
    import mutualfuse.cli.evaluate as ev

    (eval_ws / "adir.csv").mkdir()
    monkeypatch.setattr(ev, "_compute", lambda *a, **k: pytest.fail("metrics computed before --out was checked"))
    target = out if out.startswith("/") else str(eval_ws / out)
    run_bad(capsys, ["evaluate", "--a", str(eval_ws / "da"), "--b", str(eval_ws / "db"), "--fused", str(eval_ws / "df"),
                     "--metrics", "EN@rfn-nest", "--out", target], eval_ws, must)


# ---------------------------------------------------------------------------------------------
# 7. inputs that used to be "internal error"
# ---------------------------------------------------------------------------------------------


def test_unwritable_and_looping_paths(ws, capsys):
    run_bad(capsys, _fuse(ws, "-o", "/proc/x.png", "--method", "average"), ws, "cannot write", "/proc/x.png")
    os.symlink("loop.png", ws / "loop.png")
    run_bad(capsys, ["fuse", str(ws / "loop.png"), str(ws / "b.png"), "-o", str(ws / "f.png"), "--method", "average"],
            ws, "looping symbolic link", "loop.png")
    run_bad(capsys, _fuse(ws, "-o", str(ws / "loop.png"), "--method", "average"), ws, "looping symbolic link")
    run_bad(capsys, ["demo", "-o", "/proc/demo-out"], ws, "cannot create output folder")
    run_bad(capsys, ["demo", "-o", str(ws / "a.png")], ws, "not a folder")


def test_export_onnx_bad_opset_is_one_line_and_prints_no_graph(ws, capsys):
    run_bad(capsys, ["export-onnx", "-o", str(ws / "m.onnx"), "--opset", "3"], ws, "--opset: must be at least 14")
    run_bad(capsys, ["export-onnx", "-o", str(ws / "m.onnx"), "--opset", "99"], ws, "--opset: must be in 14..20")
    run_bad(capsys, ["export-onnx", "-o", str(ws / "m.onnx"), "--pool", str(10**20)], ws, "--pool: must be in 1..4096")
    assert capsys.readouterr().out == ""


def test_export_weights_on_wrong_inputs(ws, capsys, tiny_weights):
    import shutil

    shutil.copy(tiny_weights, ws / "t.safetensors")
    run_bad(capsys, ["export-weights", str(ws / "t.safetensors"), "-o", str(ws / "w.safetensors")], ws,
            "already a weights file")
    from mutualfuse.train.checkpoint import save_checkpoint

    torch.save({"model": {"x": torch.zeros(1)}, "config": "{}", "step": 1}, ws / "old.pt")
    run_bad(capsys, ["export-weights", str(ws / "old.pt"), "-o", str(ws / "w.safetensors")], ws,
            "pickle checkpoint", "old.pt")  # never unpickled
    save_checkpoint(ws / "sd.ckpt", {"conv.weight": torch.zeros(2)})
    run_bad(capsys, ["export-weights", str(ws / "sd.ckpt"), "-o", str(ws / "w.safetensors")], ws,
            "not a mutualfuse training checkpoint", "sd.ckpt")
    save_checkpoint(ws / "bad.ckpt", {"model": {"x": torch.zeros(1)}, "config": "{}", "step": 1})
    run_bad(capsys, ["export-weights", str(ws / "bad.ckpt"), "-o", str(ws / "w.safetensors")], ws,
            "does not hold a usable model")
    run_bad(capsys, ["export-weights", str(ws / "nope.pt"), "-o", str(ws / "w.safetensors")], ws, "not found")


def test_usage_errors_are_one_line(ws, capsys):
    run_bad(capsys, ["fuse", str(ws / "a.png")], ws, "required")
    run_bad(capsys, ["no-such-command"], ws, "invalid choice")


# ---------------------------------------------------------------------------------------------
# 8. method / weights confusion and array layouts
# ---------------------------------------------------------------------------------------------


def test_method_and_weights_confusion(ws, capsys):
    import mutualfuse
    from mutualfuse.errors import InputError, ParameterError

    a = np.random.default_rng(0).random((32, 32))
    with pytest.raises(ParameterError, match="takes no weights"):
        mutualfuse.fuse(a, a, method="dwt", weights="paper")
    with pytest.raises(ParameterError, match="unknown method or weights 'nope'"):
        mutualfuse.Fuser("nope")
    run_bad(capsys, _fuse(ws, "-o", str(ws / "f.png"), "--method", "nope"), ws, "unknown fusion method 'nope'")
    run_bad(capsys, _fuse(ws, "-o", str(ws / "f.png"), "--method", "dwt", "--weights", "paper"), ws, "takes no weights")
    x = np.zeros((1, 1, 32, 40), np.float32)
    with pytest.raises(InputError, match="channels-first"):
        mutualfuse.fuse(x, x, method="average")


# ---------------------------------------------------------------------------------------------
# 9. no silent reductions
# ---------------------------------------------------------------------------------------------


def test_multi_page_and_animated_inputs_are_refused(ws, capsys):
    import tifffile

    tifffile.imwrite(ws / "multi.tif", np.zeros((40, 48), np.uint8))
    tifffile.imwrite(ws / "multi.tif", np.full((40, 48), 9, np.uint8), append=True)
    run_bad(capsys, ["fuse", str(ws / "multi.tif"), str(ws / "b.png"), "-o", str(ws / "f.png"), "--method", "average"],
            ws, "holds 2 pages", "multi.tif")
    frames = [Image.new("L", (48, 40), v) for v in (0, 100, 200)]
    frames[0].save(ws / "anim.gif", save_all=True, append_images=frames[1:])
    run_bad(capsys, ["fuse", str(ws / "anim.gif"), str(ws / "b.png"), "-o", str(ws / "f.png"), "--method", "average"],
            ws, "holds 3 frames", "anim.gif")


def test_16_bit_colour_png_is_read_at_16_bits(tmp_path):
    from mutualfuse.image_io import read_image

    rng = np.random.default_rng(0)
    x = rng.integers(0, 65536, (20, 24, 3), dtype=np.uint16)
    x[0, 0] = (0x1234, 0x00FF, 0xFF00)  # low bytes that an 8-bit read would lose
    arr, info = read_image(png16_colour(tmp_path / "c16.png", x), normalize="full")
    assert info.bit_depth == 16 and arr.shape == (20, 24, 3)
    assert np.array_equal(np.round(arr * 65535).astype(np.uint16), x)


@pytest.mark.parametrize("name", ["default", "paper"])
def test_method_named_like_shipped_weights_points_to_weights(ws, capsys, name):
    """`--method default` (the API's `method="default"`): the one line says to use --weights."""
    run_bad(capsys, _fuse(ws, "-o", str(ws / "f.png"), "--method", name), ws, f"use --weights {name}")


def test_float16_on_cpu_is_refused(ws, capsys):
    run_bad(capsys, _fuse(ws, "-o", str(ws / "f.png"), "--dtype", "float16", "--device", "cpu"), ws,
            "float16 on CPU is refused")


# ---------------------------------------------------------------------------------------------
# 10. temporaries of killed runs are removed by the next run
# ---------------------------------------------------------------------------------------------


def test_stale_part_files_are_removed_on_rerun(ws, capsys):
    (ws / "da").mkdir(), (ws / "db").mkdir(), (ws / "out").mkdir()
    os.link(ws / "a.png", ws / "da" / "x.png"), os.link(ws / "b.png", ws / "db" / "x.png")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)  # that process has exited
    stale = ws / "out" / f".x.png.{pid}.abc123.part.png"
    stale.write_bytes(b"half")
    live = ws / "out" / f".y.png.{os.getppid()}.abc123.part.png"  # a live writer's temporary stays
    live.write_bytes(b"busy")
    assert main(["fuse-dir", str(ws / "da"), str(ws / "db"), "-o", str(ws / "out"), "--method", "average", "-q"]) == 0
    capsys.readouterr()
    assert not stale.exists() and live.exists() and (ws / "out" / "x.png").is_file()


# ---------------------------------------------------------------------------------------------
# 11. decoder warnings do not add lines
# ---------------------------------------------------------------------------------------------


def test_decoder_warnings_do_not_add_lines(ws, capsys):
    import tifffile

    tifffile.imwrite(ws / "ok.tif", np.zeros((40, 48), np.uint8))
    data = bytearray((ws / "ok.tif").read_bytes())
    data[4:8] = b"\xff\xff\xff\x0f"  # first-IFD offset past the end: tifffile logs a warning
    (ws / "badifd.tif").write_bytes(bytes(data))
    run_bad(capsys, ["fuse", str(ws / "badifd.tif"), str(ws / "b.png"), "-o", str(ws / "f.png"), "--method", "average"],
            ws, "badifd.tif")
    pytest.importorskip("pydicom")
    (ws / "bad.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\x04\x00abcd")  # invalid UI value
    run_bad(capsys, ["fuse", str(ws / "bad.dcm"), str(ws / "b.png"), "-o", str(ws / "f.png"), "--method", "average"],
            ws, "bad.dcm")


# ---------------------------------------------------------------------------------------------
# 12. numeric options checked before any work
# ---------------------------------------------------------------------------------------------


def test_numeric_options_checked_before_work(ws, capsys, monkeypatch):
    import mutualfuse.api as api

    monkeypatch.setattr(api.Fuser, "fuse_arrays", lambda *a, **k: pytest.fail("fused before the options were checked"))
    out = str(ws / "f.png")
    run_bad(capsys, _fuse(ws, "-o", out, "--max-pixels", "0"), ws, "--max-pixels: must be at least 1")
    run_bad(capsys, _fuse(ws, "-o", out, "--token-budget", "-1"), ws, "--token-budget: must be at least 0")
    run_bad(capsys, _fuse(ws, "-o", out, "--tile", "4"), ws, "--tile: must be at least 16")
    for t in ("0", "-0.5", "nan", "inf"):
        run_bad(capsys, _fuse(ws, "-o", out, "--blend-temperature", t), ws, "--blend-temperature must be a finite")
    run_bad(capsys, _fuse(ws, "-o", out, "--method", "dwt", "--blend-temperature", "0.5"), ws,
            "--blend-temperature applies to the network")
    for g in ("0.4", "2.5", "nan"):
        run_bad(capsys, _fuse(ws, "-o", out, "--detail-gain", g), ws, "--detail-gain must be a number in")
    run_bad(capsys, _fuse(ws, "-o", out, "--method", "dwt", "--detail-gain", "1.2"), ws,
            "--detail-gain applies to the network")
    for g in ("-1", "20000", "nan"):
        run_bad(capsys, _fuse(ws, "-o", out, "--detail-activity", g), ws, "--detail-activity must be a number in")
    run_bad(capsys, _fuse(ws, "-o", out, "--method", "dwt", "--detail-activity", "100"), ws,
            "--detail-activity applies to the network")
    run_bad(capsys, _fuse(ws, "-o", out, "--method", "dwt", "--task", "ir-vis"), ws, "--task applies to the network")
    run_bad(capsys, _fuse(ws, "-o", out, "--weights", "pyramid", "--task", "ir-vis"), ws,
            "task 'ir-vis': weights 'pyramid' record no per-task settings")
    run_bad(capsys, _fuse(ws, "-o", out, "--task", "thermal"), ws, "argument --task: invalid choice: 'thermal'")
    run_bad(capsys, _fuse(ws, "-o", str(ws / "f.jpg"), "--bit-depth", "16", "--method", "average"), ws,
            "cannot hold 16-bit", "f.jpg")
    run_bad(capsys, ["fuse-video", "a.mp4", "b.mp4", "-o", str(ws / "f.mp4"), "--crf", "99"], ws, "--crf")
