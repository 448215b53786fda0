"""Audit s19: the web page's focus-stack mode (:func:`mutualfuse.web.core.fuse_stack_request`, no
Gradio needed). The page had no stack mode; it must write the very file ``mutualfuse fuse-stack``
writes with the same options (byte for byte), show the command that does, and report bad stacks
in one line naming the uploaded file by its own name."""
from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import build_parser, main
from mutualfuse.errors import FuseError, InputError, ParameterError
from mutualfuse.web import core

tifffile = pytest.importorskip("tifffile")


def _planes(n=3, shape=(48, 64), colour=False, seed=0, depth=8) -> list[np.ndarray]:
    """Planes of one scene, each sharp in another band (a focus stack in miniature)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[: shape[0], : shape[1]]
    base = 0.5 + 0.25 * np.sin(x / 4.0) * np.cos(y / 3.0)
    out = []
    for k in range(n):
        band = np.exp(-((y - (k + 0.5) * shape[0] / n) / (shape[0] / n)) ** 2)
        p = np.clip(base * (0.6 + 0.4 * band) + 0.05 * rng.random(shape), 0, 1)
        if colour:
            p = np.stack([p, p ** 1.2, 1 - p], axis=-1)
        top = 255 if depth == 8 else 4095  # 12 bits in 16, as a camera stores them
        out.append(np.round(p * top).astype(np.uint8 if depth == 8 else np.uint16))
    return out


def _uploads(tmp_path, named: dict[str, np.ndarray]) -> tuple[list[str], list[str], Path]:
    """The files as the server holds uploads (each in a folder of its own under a server path) and,
    beside them, the same files under their own names in one folder (where the user runs the CLI)."""
    mine = tmp_path / "mine"
    mine.mkdir(exist_ok=True)
    paths = []
    for i, (name, arr) in enumerate(named.items()):
        for f in (tmp_path / "server-uploads" / f"h{i:04d}" / name, mine / name):
            f.parent.mkdir(parents=True, exist_ok=True)
            if f.suffix == ".png":
                Image.fromarray(arr).save(f)
            else:
                tifffile.imwrite(f, arr, photometric="rgb" if arr.ndim == 3 else "minisblack")
        paths.append(str(tmp_path / "server-uploads" / f"h{i:04d}" / name))
    return paths, list(named), mine


def _run_shown_command(r: core.StackResult, folder: Path, monkeypatch) -> bytes:
    """Run the command the page shows, as shown (plus --device cpu), in the folder holding the files
    under their own names; the bytes it writes."""
    words = shlex.split(r.command)
    assert words[:2] == ["mutualfuse", "fuse-stack"] and "--device" not in words
    monkeypatch.chdir(folder)
    assert main([*words[1:], "--device", "cpu", "-q"]) == 0
    return (folder / words[words.index("-o") + 1]).read_bytes()


def test_a_stack_is_the_file_fuse_stack_writes_byte_for_byte(tmp_path, monkeypatch):
    """The default network on three planes uploaded in the file dialog's order (z10 first): the page
    stacks them by name, numbers by value, and its PNG is the CLI's for the command it shows."""
    planes = _planes()
    paths, names, mine = _uploads(tmp_path, {"z10.png": planes[2], "z1.png": planes[0], "z2.png": planes[1]})
    r = core.fuse_stack_request(paths, core.Settings(device="cpu"), tmp_path / "work", core.FuserCache(), names=names)
    assert r.command == ("mutualfuse fuse-stack z1.png z2.png z10.png -o z1-z10-default.png --order tree --method mutualfuse "
                         "--weights default --chroma saturation --normalize auto")
    assert r.out.read_bytes() == _run_shown_command(r, mine, monkeypatch)
    assert r.preview == r.out and r.out.name == "z1-z10-default.png"
    assert r.summary.startswith("z1-z10-default.png  (3 images, 2 fusions, ") and r.summary.endswith("8-bit gray)")
    assert r.seconds > 0
    # the order matters: the files in the order they were uploaded give another image
    assert main(["fuse-stack", *[str(mine / n) for n in names], "-o", str(tmp_path / "upload-order.png"),
                 "--device", "cpu", "-q"]) == 0
    assert (tmp_path / "upload-order.png").read_bytes() != r.out.read_bytes()


@pytest.mark.parametrize("writer", ["imagej", "ome", "pages"])
@pytest.mark.parametrize("fmt", ["png", "tif"])
def test_one_multi_page_tiff_is_fused_as_fuse_stack_fuses_it(tmp_path, monkeypatch, writer, fmt):
    """A 16-bit z-stack in one TIFF (as Fiji and microscopes save it): the CLI's bytes in either
    download format, the joint-percentile note naming the file by its own name."""
    planes = np.stack(_planes(4, depth=16, seed=1))
    mine = tmp_path / "mine"
    mine.mkdir()
    up = tmp_path / "server-uploads" / "h0"
    up.mkdir(parents=True)
    for f in (up / "cells z-stack.tif", mine / "cells z-stack.tif"):
        if writer == "imagej":
            tifffile.imwrite(f, planes, imagej=True, metadata={"axes": "ZYX"})
        elif writer == "ome":
            tifffile.imwrite(f, planes, ome=True, metadata={"axes": "ZYX"})
        else:
            with tifffile.TiffWriter(f) as w:
                for p in planes:
                    w.write(p, metadata=None)
    s = core.Settings(method="lp", device="cpu")
    r = core.fuse_stack_request([str(up / "cells z-stack.tif")], s, tmp_path / "work", core.FuserCache(), fmt=fmt)
    assert r.command == (f"mutualfuse fuse-stack 'cells z-stack.tif' -o {shlex.quote(r.out.name)} --order tree --method lp "
                         "--chroma saturation --normalize auto")
    assert r.out.suffix == f".{fmt}" and r.out.read_bytes() == _run_shown_command(r, mine, monkeypatch)
    assert "(4 planes, 3 fusions, " in r.summary and "16-bit gray" in r.summary, r.summary
    assert any(n.startswith("4 of 4 planes (16-bit) scaled by the joint") for n in r.notes), r.notes
    assert not any(str(tmp_path) in n for n in r.notes + [r.summary])
    if fmt == "tif":  # the page shows an 8-bit PNG of the TIFF (a browser shows no TIFF)
        with Image.open(r.preview) as im:
            assert r.preview.suffix == ".png" and im.mode == "L" and im.size == (64, 48)
        assert np.asarray(Image.open(r.preview)).max() > 128  # on the type's full range, not a dark 8-bit cut
    else:
        assert r.preview == r.out


def test_colour_sequential_classical_with_parameters_and_network_options(tmp_path, monkeypatch):
    """The page's other options reach fuse-stack: --order sequential, a classical method's --param, the
    network's --detail-gain / --task, the server's --max-pixels; each result is the shown command's."""
    planes = _planes(3, colour=True, seed=2)
    paths, names, mine = _uploads(tmp_path, {f"img_{i}.png": p for i, p in enumerate(planes)})
    cache = core.FuserCache()
    runs = [(core.Settings(method="dwt", params="levels = 2", device="cpu", max_pixels=10**6), "sequential",
             "--param levels=2 --chroma saturation --normalize auto --max-pixels 1000000"),
            (core.Settings(device="cpu", detail_gain=1.25, task="medical", chroma="mean"), "tree",
             "--detail-gain 1.25 --task medical --chroma mean --normalize auto")]
    for s, order, tail in runs:
        r = core.fuse_stack_request(paths, s, tmp_path / "work", cache, names=names, order=order, fmt="tif")
        assert r.command.startswith(f"mutualfuse fuse-stack img_0.png img_1.png img_2.png -o {r.out.name} --order {order}")
        assert r.command.endswith(tail), r.command
        assert r.out.read_bytes() == _run_shown_command(r, mine, monkeypatch)
        assert "8-bit colour" in r.summary


def _fails(tmp_path, paths, names=None, **kw) -> str:
    work = tmp_path / "work"
    with pytest.raises(FuseError) as e:
        core.fuse_stack_request(paths, core.Settings(method="average", device="cpu", **kw), work, core.FuserCache(),
                                names=names)
    msg = str(e.value)
    assert "\n" not in msg and str(tmp_path) not in msg, msg
    written = [p for p in work.rglob("*") if p.is_file()] if work.exists() else []
    assert written == [], written  # no partial output
    return msg


def test_bad_stacks_are_one_line_errors_naming_the_uploaded_file(tmp_path):
    planes = _planes(2)
    paths, names, _ = _uploads(tmp_path, {"plane one.png": planes[0], "plane two.png": planes[1]})
    # one image only (not a multi-page TIFF): the page cannot upload a folder, so none is offered
    assert _fails(tmp_path, paths[:1], names[:1]) == ("plane one.png: a stack needs at least 2 images (or one "
                                                      "multi-page TIFF)")
    # different sizes
    small = tmp_path / "server-uploads" / "h9" / "smaller.png"
    small.parent.mkdir()
    Image.fromarray(planes[1][:40, :60]).save(small)
    assert _fails(tmp_path, [paths[0], str(small)], ["plane one.png", "smaller.png"]) == (
        "smaller.png: size mismatch: plane one.png is 64x48, smaller.png is 60x40 (the stack must be registered)")
    # a hyperstack: channels by depth planes
    hyper = tmp_path / "server-uploads" / "h8" / "hyper.tif"
    hyper.parent.mkdir()
    tifffile.imwrite(hyper, np.zeros((3, 2, 48, 64), np.uint16), imagej=True, metadata={"axes": "ZCYX"})
    msg = _fails(tmp_path, [str(hyper)])
    assert msg.startswith("hyper.tif: TIFF holds 3 depth planes (Z) by 2 channels (C); a focus stack is one axis"), msg
    # more pixels than the server's --max-pixels: the server's limit, not advice the page's user cannot follow
    zstack = tmp_path / "server-uploads" / "h7" / "z.tif"
    zstack.parent.mkdir()
    tifffile.imwrite(zstack, np.zeros((3, 48, 64), np.uint16), imagej=True, metadata={"axes": "ZYX"})
    for p, n in ((paths, names), ([str(zstack)], None)):
        msg = _fails(tmp_path, p, n, max_pixels=1000)
        assert "more than the limit of 1000" in msg and core.SERVER_LIMIT in msg and "raise it" not in msg, msg
    assert _fails(tmp_path, paths, names, max_pixels=1000).startswith("plane one.png: image is 64x48 = 3072 pixels")
    # nothing uploaded, a value the page does not offer, weights that are a path on the server
    assert "none uploaded" in _fails(tmp_path, [])
    with pytest.raises(ParameterError, match="^argument --order: invalid choice: 'spiral'"):
        core.fuse_stack_request(paths, core.Settings(device="cpu"), tmp_path / "work", core.FuserCache(),
                                order="spiral")
    with pytest.raises(ParameterError, match="not shipped weights"):
        core.fuse_stack_request(paths, core.Settings(weights=paths[0], device="cpu"), tmp_path / "work",
                                core.FuserCache())
    with pytest.raises(ParameterError, match="the page writes png or tif"):
        core.fuse_stack_request(paths, core.Settings(device="cpu"), tmp_path / "work", core.FuserCache(), fmt="jpg")


def test_a_stack_the_server_has_no_memory_for_is_refused_in_the_pages_words(tmp_path, monkeypatch):
    """fuse-stack's memory check advises --tile, which the page does not have."""
    import mutualfuse.runner as runner

    planes = _planes(3)
    paths, names, _ = _uploads(tmp_path, {f"z{i}.png": p for i, p in enumerate(planes)})
    monkeypatch.setattr(runner, "available_memory", lambda: 1000)
    with pytest.raises(InputError) as e:
        core.fuse_stack_request(paths, core.Settings(device="cpu"), tmp_path / "work", core.FuserCache(), names=names)
    msg = str(e.value)
    assert msg.startswith("z0.png: fusing this 64x48 stack with the network") and "too large for this server" in msg
    assert "--tile 2048` fuses it" in msg and str(tmp_path) not in msg


def test_the_shown_command_parses_back_to_what_the_page_ran():
    s = core.Settings(method="cbf", params="sigma_s=1.8\nsigma_r=25", device="cpu", max_pixels=5000000)
    cmd = s.stack_command(["-z1.png", "z 2.png"], order="sequential", fmt="tif")
    args = build_parser().parse_args(shlex.split(cmd)[1:])
    assert args.images == ["./-z1.png", "z 2.png"] and args.out == "fused.tif" and args.order == "sequential"
    assert args.method == "cbf" and args.param == ["sigma_s=1.8", "sigma_r=25"] and args.max_pixels == 5000000
    assert "--device" not in cmd


def test_the_default_limit_serve_passes_is_not_named_in_the_commands():
    """``serve`` passes its default --max-pixels (200000000) to the page, so every command shown
    said ``--max-pixels 200000000``, an option the user never chose."""
    from mutualfuse.image_io import MAX_PIXELS

    s = core.Settings(method="average", device="cpu", max_pixels=MAX_PIXELS)
    assert "--max-pixels" not in s.command() and "--max-pixels" not in s.stack_command(["a.png", "b.png"])
    s.max_pixels = 1000
    assert s.command().endswith("--max-pixels 1000") and s.stack_command(["a.png", "b.png"]).endswith(
        "--max-pixels 1000")


def test_stack_order_is_name_order_numbers_by_value():
    names = ["z10.tif", "z2.tif", "z1.tif", "a.tif"]
    got = core.stack_order([f"/up/{i}/{n}" for i, n in enumerate(names)], names)
    assert [n for _, n in got] == ["a.tif", "z1.tif", "z2.tif", "z10.tif"]
    assert [p for p, _ in got][1] == "/up/2/z1.tif"
