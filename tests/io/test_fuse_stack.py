"""Focus stacks: ``Fuser.fuse_stack`` and ``mutualfuse fuse-stack`` (N ≥ 2 registered images)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.cli import main
from mutualfuse.errors import InputError, ParameterError


def _stack(n: int, shape=(40, 48), seed=0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.random(shape) for _ in range(n)]


@pytest.mark.parametrize("order", ["tree", "sequential"])
def test_stack_equals_the_chained_pairwise_fusions(order):
    """The reduction is exactly the pairwise fusions in the documented order."""
    f = Fuser("lp")
    xs = _stack(5)
    out = f.fuse_stack(xs, order=order)
    pair = lambda x, y: Fuser("lp").fuse(x, y)  # noqa: E731
    if order == "tree":
        want = pair(pair(pair(xs[0], xs[1]), xs[2]), pair(xs[3], xs[4]))  # balanced: halves of 3 and 2
    else:
        want = pair(pair(pair(pair(xs[0], xs[1]), xs[2]), xs[3]), xs[4])
    assert np.array_equal(out, want)
    assert f.report.fusions == 4


def test_two_images_are_one_fusion_and_the_network_uses_the_multifocus_setting():
    xs = _stack(2)
    f = Fuser("default", device="cpu")
    out = f.fuse_stack(xs)
    assert out.shape == xs[0].shape and f.report.fusions == 1 and f.report.task == "multi-focus"
    g = Fuser("default", device="cpu", task="multi-focus")
    assert np.array_equal(out, g.fuse(xs[0], xs[1]))


def test_stack_kinds_and_colour():
    rng = np.random.default_rng(1)
    pil = [Image.fromarray(rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)) for _ in range(3)]
    out = Fuser("average").fuse_stack(pil)
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (40, 32)


@pytest.mark.parametrize("images,order,err,must", [
    ([np.zeros((16, 16))], "tree", InputError, "at least 2 images"),
    ([np.zeros((16, 16)), np.zeros((16, 17))], "tree", InputError, "image 2: size mismatch"),
    ([np.zeros((16, 16)), np.zeros((16, 16))], "zigzag", ParameterError, "order must be"),
])
def test_stack_refusals(images, order, err, must):
    with pytest.raises(err, match=must):
        Fuser("average").fuse_stack(images, order=order)


def _pngs(folder, n, shape=(32, 40), seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        p = folder / f"z{i:02d}.png"
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(p)
        paths.append(str(p))
    return paths


def test_cli_files_and_folder_give_the_api_result(tmp_path, capsys):
    paths = _pngs(tmp_path / "stack", 4)
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "a.png"), "--method", "lp", "-q"]) == 0
    assert main(["fuse-stack", str(tmp_path / "stack"), "-o", str(tmp_path / "b.png"), "--method", "lp"]) == 0
    out = capsys.readouterr().out
    assert "4 images, 3 fusions" in out
    a, b = (np.asarray(Image.open(tmp_path / n)) for n in ("a.png", "b.png"))
    api = Fuser("lp").fuse_stack([np.asarray(Image.open(p)) for p in paths])
    assert np.array_equal(a, b) and np.array_equal(a, api)


@pytest.mark.parametrize("args,must", [
    (["ONE"], "a stack needs at least 2 images"),
    (["DIR", "z00"], "a folder, among other arguments"),
    (["z00", "big"], "size mismatch"),
    (["z00", "z01", "--order", "tree", "--method", "lp", "--param", "levels=99"], "parameter levels must be"),
])
def test_cli_refusals_are_one_line_and_write_nothing(tmp_path, capsys, args, must):
    paths = _pngs(tmp_path / "s", 2)
    Image.fromarray(np.zeros((33, 40), np.uint8)).save(tmp_path / "s" / "big.png")
    subs = {"ONE": paths[0], "DIR": str(tmp_path / "s"), "z00": paths[0], "z01": paths[1],
            "big": str(tmp_path / "s" / "big.png")}
    argv = ["fuse-stack", *[subs.get(a, a) for a in args], "-o", str(tmp_path / "out.png")]
    if "--method" not in args:
        argv += ["--method", "average"]
    rc = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and must in err[0], err
    assert not (tmp_path / "out.png").exists()
    assert sorted(os.listdir(tmp_path)) == ["s"]


def test_a_16bit_stack_shares_one_percentile_mapping(tmp_path, capsys):
    """16-bit focal planes keep their relative brightness: one mapping (the stack's joint
    percentiles), not one per image (which would stretch a dim plane as much as a bright one)."""
    rng = np.random.default_rng(3)
    bright = rng.integers(1000, 40000, (32, 40)).astype(np.uint16)
    dim = (bright // 2).astype(np.uint16)
    f = Fuser("average")
    out = f.fuse_stack([bright, dim])
    full = [bright / 65535.0, dim / 65535.0]
    lo, hi = np.percentile(np.concatenate([x.ravel() for x in full]), [0.1, 99.9])
    want = np.mean([np.clip((x - lo) / (hi - lo), 0, 1) for x in full], axis=0)
    # the result comes back as uint16: a rounding of the float64 value, so at most half a step off
    assert out.dtype == np.uint16 and np.abs(out / 65535.0 - want).max() <= 1 / 65535.0
    assert any("joint 0.1-99.9 percentiles" in n for n in f.report.notes)
    per_image = Fuser("average").fuse(bright, dim)  # a pair: each image its own percentiles
    assert np.abs(per_image.astype(float) - out.astype(float)).mean() > 1000  # really different
    # the command line reads 16-bit files the same way
    for name, arr in (("z0.png", bright), ("z1.png", dim)):
        Image.fromarray(arr).save(tmp_path / name)
    assert main(["fuse-stack", str(tmp_path / "z0.png"), str(tmp_path / "z1.png"), "-o", str(tmp_path / "o.png"),
                 "--method", "average"]) == 0
    err = capsys.readouterr().err
    assert "2 of 2 images (16-bit) scaled by the joint 0.1-99.9 percentiles" in err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), out)


def test_a_stack_folder_says_what_it_ignored(tmp_path, capsys):
    paths = _pngs(tmp_path / "z", 3)
    (tmp_path / "z" / "sub").mkdir()
    _pngs(tmp_path / "z" / "sub", 2, seed=5)
    (tmp_path / "z" / "notes.txt").write_text("acquisition log")
    assert main(["fuse-stack", str(tmp_path / "z"), "-o", str(tmp_path / "o.png"), "--method", "lp"]) == 0
    cap = capsys.readouterr()
    assert "1 subfolder and 1 other file ignored" in cap.err and "3 images, 2 fusions" in cap.out
    assert len(paths) == 3


@pytest.mark.parametrize("dtype", [np.uint16, np.uint8])
def test_percentile_normalisation_keeps_the_joint_mapping_on_the_command_line(tmp_path, capsys, dtype):
    """``--normalize percentile``: the command line gives the API's result, one joint mapping (each
    already normalised image was scaled again by its own percentiles: the dim plane stretched as
    much as the bright one, and two contradictory notes)."""
    rng = np.random.default_rng(4)
    top = 40000 if dtype == np.uint16 else 200
    bright = rng.integers(top // 40, top, (32, 40)).astype(dtype)
    dim = (bright // 2).astype(dtype)
    paths = []
    for name, arr in (("z0.png", bright), ("z1.png", dim)):
        Image.fromarray(arr).save(tmp_path / name)
        paths.append(str(tmp_path / name))
    assert main(["fuse-stack", *paths, "-o", str(tmp_path / "o.png"), "--method", "average",
                 "--normalize", "percentile"]) == 0
    err = capsys.readouterr().err
    assert "float input scaled by percentile" not in err and "scaled by the joint 0.1-99.9 percentiles" in err
    api = Fuser("average", normalize="percentile").fuse_stack([bright, dim])
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o.png")), api)


def test_a_folder_stack_is_in_name_order_with_numbers_by_value(tmp_path, capsys):
    """Planes numbered without zero padding (z1 … z10): z2 comes after z1, not z10."""
    folder = tmp_path / "planes"
    folder.mkdir()
    rng = np.random.default_rng(6)
    planes = [rng.integers(0, 256, (32, 40), dtype=np.uint8) for _ in range(10)]
    for i, x in enumerate(planes, 1):
        Image.fromarray(x).save(folder / f"z{i}.png")
    out = tmp_path / "o.png"
    assert main(["fuse-stack", str(folder), "-o", str(out), "--method", "lp", "--order", "sequential", "-q"]) == 0
    capsys.readouterr()
    got = np.asarray(Image.open(out))
    assert np.array_equal(got, Fuser("lp").fuse_stack(planes, order="sequential"))
    by_text = [planes[int(n[1:]) - 1] for n in sorted(f"z{i}" for i in range(1, 11))]  # z1, z10, z2, …
    assert not np.array_equal(got, Fuser("lp").fuse_stack(by_text, order="sequential"))


def test_a_single_missing_argument_is_named_as_missing(tmp_path, capsys):
    rc = main(["fuse-stack", str(tmp_path / "planes"), "-o", str(tmp_path / "o.png"), "--method", "average"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and f"{tmp_path / 'planes'}: no such file or folder" in err[0], err
    assert sorted(os.listdir(tmp_path)) == []


def test_the_output_inside_the_stack_folder_is_not_a_plane_so_a_rerun_works(tmp_path, capsys):
    """``fuse-stack DIR -o DIR/edf.png`` worked once; the rerun read the previous result as a
    plane (or stopped: 'same file as input'). The output is left out of the folder's stack."""
    paths = _pngs(tmp_path / "stack", 3)
    out = tmp_path / "stack" / "edf.png"
    assert main(["fuse-stack", str(tmp_path / "stack"), "-o", str(out), "--method", "lp"]) == 0
    first = np.asarray(Image.open(out)).copy()
    capsys.readouterr()
    assert main(["fuse-stack", str(tmp_path / "stack"), "-o", str(out), "--method", "lp"]) == 0
    out_text, err_text = capsys.readouterr()
    assert "3 images, 2 fusions" in out_text
    assert "not read as a plane" in err_text and "other file" not in err_text
    assert np.array_equal(np.asarray(Image.open(out)), first)
    api = Fuser("lp").fuse_stack([np.asarray(Image.open(p)) for p in paths])
    assert np.array_equal(first, api)
