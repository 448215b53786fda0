"""``--import MODULE`` on ``fuse-video``, ``fuse-volume``, ``serve`` and ``evaluate`` (they took
none, so a method of one's own could not fuse a video or a volume or be tried on the web page),
with the one-line errors of every command's ``--import``; the web page lists the method and its
"same as" command lines name the module; ``methods --import`` names the metrics a module registers."""
from __future__ import annotations

import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import build_parser, main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from one_line_error import assert_one_line_error  # noqa: E402
from registry_state import registries_restored  # noqa: E402
from tolerance import assert_close  # noqa: E402

MODULE = textwrap.dedent('''
    from mutualfuse.methods import register_method

    @register_method("{name}", family="pixel")
    def wmean(a, b, w=0.25):
        return w * a + (1 - w) * b
''')


@pytest.fixture()
def own(tmp_path, monkeypatch):
    """A working folder with a module registering the method ``<name>`` (``w*a + (1-w)*b``);
    registries, ``sys.path``, ``sys.modules`` and the web page's imports restored afterwards."""
    from mutualfuse.web import core

    served = getattr(core, "SERVED_IMPORTS", None)
    tag = uuid.uuid4().hex[:8]
    name, modname = f"wm{tag}", f"s23meth{tag}"
    work = tmp_path / "work"
    work.mkdir()
    (work / f"{modname}.py").write_text(MODULE.format(name=name))
    monkeypatch.chdir(work)
    with registries_restored("s23"):
        yield work, name, modname
    if served is not None:
        core.SERVED_IMPORTS = served


def _options(command: str) -> set[str]:
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[command]
    return {o for a in sub._actions for o in a.option_strings}


@pytest.mark.parametrize("command", ["fuse", "fuse-dir", "fuse-stack", "fuse-video", "fuse-volume", "serve",
                                     "methods", "benchmark", "evaluate"])
def test_every_command_that_names_a_method_or_metric_takes_import(command):
    assert "--import" in _options(command)


@pytest.mark.parametrize("argv", [
    ["fuse-video", "a.mp4", "b.mp4", "-o", "o.mp4"],
    ["fuse-volume", "a.nii.gz", "b.nii.gz", "-o", "o.nii.gz"],
    ["serve", "--port", "0"],
    ["evaluate", "--list"],
])
def test_a_module_that_fails_to_import_is_one_line_on_every_new_command(own, capsys, argv):
    work, name, modname = own
    (work / "s23broken.py").write_text("x = 1\nraise ValueError('bad module')\n")
    assert_one_line_error(capsys, [*argv, "--import", "s23broken.py"],
                          "--import s23broken.py: ValueError: bad module", "s23broken.py, line 2)")
    assert_one_line_error(capsys, [*argv, "--import", "nosuch_s23_module"],
                          "--import nosuch_s23_module: no module named 'nosuch_s23_module'")


def test_fuse_volume_with_a_method_of_ones_own(own, capsys):
    nib = pytest.importorskip("nibabel")
    work, name, modname = own
    rng = np.random.default_rng(2)
    aff = np.diag([0.9, 0.9, 2.0, 1.0])
    va, vb = (rng.random((36, 40, 4)).astype(np.float32) for _ in range(2))
    nib.save(nib.Nifti1Image(va, aff), str(work / "a.nii.gz"))
    nib.save(nib.Nifti1Image(vb, aff), str(work / "b.nii.gz"))
    argv = ["fuse-volume", "a.nii.gz", "b.nii.gz", "-o", "f.nii.gz", "--method", name, "--param", "w=0.75",
            "--normalize", "full", "-q"]
    assert_one_line_error(capsys, argv, f"--method unknown fusion method '{name}'", "--import its module first")
    assert main([*argv, "--import", f"{modname}.py"]) == 0, capsys.readouterr().err
    img = nib.load(str(work / "f.nii.gz"))
    assert f"method {name}".encode() in bytes(img.header["descrip"])
    want = 0.75 * va.astype(np.float64) + 0.25 * vb.astype(np.float64)
    assert_close(np.asarray(img.dataobj), want.astype(np.float32), dtype=np.float32)


def test_fuse_video_with_a_method_of_ones_own(own, capsys):
    iio = pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    work, name, modname = own
    frames = {}
    for n, seed in (("a", 0), ("b", 1)):
        base = np.random.default_rng(seed).integers(0, 256, (30, 42), dtype=np.uint8)
        frames[n] = [np.roll(base, 3 * i, axis=1) for i in range(3)]
        w = iio.get_writer(str(work / f"{n}.mkv"), format="FFMPEG", fps=5, codec="ffv1", macro_block_size=1,
                           pixelformat="gray", ffmpeg_log_level="error")
        for f in frames[n]:
            w.append_data(f)
        w.close()
    argv = ["fuse-video", "a.mkv", "b.mkv", "-o", "f.mkv", "--method", name, "--param", "w=0.75", "--bit-depth", "16",
            "-q"]
    assert_one_line_error(capsys, argv, f"--method unknown fusion method '{name}'", "--import its module first")
    assert main([*argv, "--import", modname]) == 0, capsys.readouterr().err
    import subprocess

    from imageio_ffmpeg import get_ffmpeg_exe

    raw = subprocess.run([get_ffmpeg_exe(), "-v", "error", "-i", str(work / "f.mkv"), "-f", "rawvideo", "-pix_fmt",
                          "gray16le", "-"], capture_output=True, check=True).stdout
    got = np.frombuffer(raw, dtype="<u2").reshape(3, 30, 42).astype(np.float64) / 65535
    for i in range(3):  # lossless 16-bit FFV1: the 16-bit rounding of the method's result
        want = (0.75 * frames["a"][i].astype(np.float64) + 0.25 * frames["b"][i]) / 255
        assert np.abs(got[i] - want).max() <= 0.5 / 65535 + 1e-12


def test_the_web_page_offers_a_method_of_ones_own_and_names_its_module(own, capsys):
    """``serve --import``: the page's core lists the method (family marked ``yours``), fuses with
    it, and the "same as" command lines (fuse and fuse-stack) carry ``--import``, so that they run."""
    from mutualfuse.plugins import import_user_modules
    from mutualfuse.web import core

    work, name, modname = own
    rng = np.random.default_rng(8)
    for n in ("a", "b"):
        Image.fromarray(rng.integers(0, 256, (36, 40), dtype=np.uint8)).save(work / f"{n}.png")
    assert import_user_modules([f"{modname}.py"]) == {f"{modname}.py": [name]}
    core.SERVED_IMPORTS = (f"{modname}.py",)
    assert (name, "pixel, yours") in core.methods() and ("lp", "multiscale") in core.methods()
    assert core.default_params(name) == "w=0.25"
    s = core.Settings(method=name, params="w=0.5", device="cpu")
    cmd = s.command()
    assert cmd.startswith(f"mutualfuse fuse A B -o fused.png --import {modname}.py --method {name} --param w=0.5")
    assert "--import" not in core.Settings(method="lp", device="cpu").command()  # the project's methods: as before
    r = core.fuse_request(str(work / "a.png"), str(work / "b.png"), s, work / "req", core.FuserCache())
    got = np.asarray(Image.open(r.png)).astype(np.float64)
    a, b = (np.asarray(Image.open(work / f"{n}.png")).astype(np.float64) for n in "ab")
    assert np.abs(got - (a + b) / 2).max() <= 0.5 + 1e-9
    # the page's command, run as shown (A, B: the uploads), writes the same image
    argv = cmd.split()[1:]
    argv[argv.index("A")], argv[argv.index("B")] = "a.png", "b.png"
    assert main([*argv, "-q"]) == 0, capsys.readouterr().err
    assert np.array_equal(np.asarray(Image.open(work / "fused.png")), np.asarray(Image.open(r.png)))
    st = core.fuse_stack_request([str(work / "a.png"), str(work / "b.png")], s, work / "req", core.FuserCache())
    assert f"--import {modname}.py --method {name}" in st.command


def test_serve_imports_the_module_before_the_page_is_built(own, capsys, monkeypatch):
    import mutualfuse.web.server as server
    from mutualfuse.errors import ParameterError
    from mutualfuse.web import core

    work, name, modname = own
    seen = {}

    def fake_serve(**kw):  # what the page would be built with: the registry and the served imports then
        from mutualfuse.methods import METHODS

        seen["methods"] = [n for n, _ in core.methods()]
        seen["imports"] = core.SERVED_IMPORTS
        seen["registered"] = name in METHODS
        raise ParameterError("s23: stopped before the page")  # leave before the command's os._exit

    monkeypatch.setattr(server, "serve", fake_serve)
    assert_one_line_error(capsys, ["serve", "--port", "0", "--import", f"{modname}.py"], "s23: stopped before the page")
    assert seen == {"methods": seen["methods"], "imports": (f"{modname}.py",), "registered": True}
    assert name in seen["methods"]


def test_methods_names_the_metrics_an_imported_module_registers(own, capsys):
    work, name, modname = own
    (work / "s23metmod.py").write_text("from mutualfuse.metrics import register_metric\n"
                                       "register_metric('s23listedmetric')(lambda a, b, f: 0.0)\n")
    assert main(["methods", "--import", "s23metmod.py", "--import", f"{modname}.py"]) == 0
    out = capsys.readouterr().out
    assert f"\n{name} " in out
    assert out.rstrip().splitlines()[-1].startswith("your metrics: s23listedmetric (mutualfuse evaluate --import")
