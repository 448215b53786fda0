"""``export-onnx --task`` takes ``fuse``'s ``stored`` and refuses ``auto`` with the reason,
``export_onnx`` refuses a ``pool`` or ``opset`` that is not an integer, ``run_onnx`` samples
that are not floats in [0, 1], and the ONNX section's program (docs/inputs.md, "Running the
graph") gives ``fuse``'s image for a 16-bit infrared frame.

Before: ``--task stored`` (the graph's own default, and what the docs tell a user to compare with)
was "invalid choice", ``--task auto`` (``fuse``'s default) "invalid choice" without saying that a
graph cannot detect the task per pair, and ``export_onnx(task="auto"|"stored")`` "unknown task".
The documented program read the infrared image with ``.convert("L")``, which Pillow applies to a
16-bit frame by clipping every sample to 255: a white frame, fused without an error.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from PIL import Image  # noqa: E402

from mutualfuse import Fuser  # noqa: E402
from mutualfuse.cli import main  # noqa: E402
from mutualfuse.errors import InputError, ParameterError  # noqa: E402
from mutualfuse.onnx_export import SETTING_KEYS, export_onnx, run_onnx  # noqa: E402
from one_line_error import assert_one_line_error  # noqa: E402
from tolerance import assert_close  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "inputs.md"


def test_task_auto_is_refused_in_one_line_with_the_reason(tmp_path, capsys):
    out = tmp_path / "m.onnx"
    assert_one_line_error(capsys, ["export-onnx", str(out), "--task", "auto", "--no-check"],
                          "--task", "auto", "per pair", "detect_task")
    with pytest.raises(ParameterError, match="per pair.*detect_task"):
        export_onnx(out, "default", pool=2, task="auto")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kw", [{"pool": 2.5}, {"pool": True}, {"opset": 17.0}, {"pool": "2"}])
def test_export_onnx_refuses_a_pool_or_opset_that_is_not_an_integer(kw, tmp_path, capfd):
    """``export_onnx(pool=2.5)`` exported pool 2 (and recorded 2), ``pool=True`` pool 1,
    ``opset=17.0`` failed with the exporter's graph printed (hundreds of lines), ``pool="2"`` a
    TypeError: now one ParameterError naming the argument, before anything is loaded."""
    (name, value), = kw.items()
    with pytest.raises(ParameterError, match=f"^{name} must be an integer, got {re.escape(repr(value))}$"):
        export_onnx(tmp_path / "m.onnx", "default", **kw)
    assert list(tmp_path.iterdir()) == []
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_run_onnx_refuses_samples_that_are_not_unit_floats(tiny_weights, tmp_path):
    """``run_onnx`` on uint8 arrays (or 0..255 floats) fed the samples as they were: the graph
    clipped its output and nothing was said. Now one InputError naming the input; floats within
    the tolerance of [0, 1] are clipped, as ``fuse`` reads them."""
    graph = export_onnx(tmp_path / "m.onnx", tiny_weights)
    rng = np.random.default_rng(0)
    u8 = (rng.random((23, 17)) * 255).astype(np.uint8)
    g = u8 / 255.0
    with pytest.raises(InputError, match="^a: expected float samples in \\[0, 1\\], got dtype uint8"):
        run_onnx(graph, u8, g)
    with pytest.raises(InputError, match="^b: float samples are in \\[0, 25[0-9]\\], not \\[0, 1\\]"):
        run_onnx(graph, g, u8.astype(np.float32))
    with pytest.raises(InputError, match="^a: image contains NaN"):
        run_onnx(graph, np.where(u8 > 200, np.nan, g), g)
    over = np.clip(g + 0.0005, 0, 1.0005)
    assert np.array_equal(run_onnx(graph, over, g), run_onnx(graph, np.clip(over, 0, 1), g))


def test_task_stored_exports_the_stored_settings(samples, tiny_weights, tmp_path, capsys):
    """``--task stored`` is the graph without ``--task``: metadata task ``stored``, the settings
    ``fuse --task stored`` computes with, and its output on a crop of TNO 01 at the float32
    tolerance (a 2x pooled mapping: ``default``'s ``map_min_pool``)."""
    import onnxruntime as ort

    out = tmp_path / "m.onnx"
    assert main(["export-onnx", str(out), "--pool", "2", "--task", "stored", "--no-check"]) == 0, capsys.readouterr()
    assert "settings: stored (as fuse --task stored" in capsys.readouterr().out
    meta = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    fuser = Fuser("default", device="cpu", task="stored")
    assert meta["mutualfuse.task"] == "stored"
    assert meta["mutualfuse.settings"] == " ".join(f"{k}={float(getattr(fuser.net.cfg, k))!r}" for k in SETTING_KEYS)
    a = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("L"), np.float64)[30:127, 40:201] / 255
    b = np.asarray(Image.open(samples / "tno-01" / "b.png").convert("L"), np.float64)[30:127, 40:201] / 255
    assert_close(run_onnx(out, a, b).astype(np.float64), fuser.fuse(a, b), dtype=np.float32)
    # the library function takes it too (weights without per-task settings: "stored" is theirs)
    api = export_onnx(tmp_path / "api.onnx", tiny_weights, task="stored")
    meta = ort.InferenceSession(str(api), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
    assert meta["mutualfuse.task"] == "stored"


def _section(start: str, stop: str) -> str:
    text = DOCS.read_text(encoding="utf-8")
    i = text.index(start)
    return text[i:text.index(stop, i)]


@pytest.fixture(scope="module")
def documented_model(tmp_path_factory) -> Path:
    """The graph the section's shell line exports (``model.onnx``, in a folder of its own)."""
    (sh,) = re.findall(r"```sh\n(.*?)```", _section("### Running the graph", "\n## "), flags=re.S)
    argv = shlex.split(sh.split("#")[0])
    assert argv[:2] == ["mutualfuse", "export-onnx"] and argv[2] == "model.onnx", argv
    folder = tmp_path_factory.mktemp("documented")
    assert main(argv[1:2] + [str(folder / argv[2])] + argv[3:] + ["-q"]) == 0
    return folder / "model.onnx"


def _documented_code() -> tuple[str, str]:
    """The section's ``to_unit`` (*16-bit inputs*) and its program (*Running the graph*), as written."""
    (to_unit,) = re.findall(r"```python\n(.*?)```", _section("### 16-bit inputs", "### Running the graph"), flags=re.S)
    (program,) = re.findall(r"```python\n(.*?)```", _section("### Running the graph", "\n## "), flags=re.S)
    return to_unit, program


def test_the_documented_program_with_a_16_bit_infrared_frame(samples, documented_model, tmp_path, monkeypatch,
                                                              capsys):
    """A colour visible image (an odd 161x97 crop of the bundled Lytro 01) and a 14-bit infrared
    frame in a 16-bit PNG (TNO 01's infrared, offset and scaled, with hot pixels): the program,
    with the documented ``to_unit``, writes ``fuse --task ir-vis``'s PNG within one grey level
    (measured on a 201x143 crop of MSRS 00556D: 2 of 86229 samples one level apart)."""
    monkeypatch.chdir(tmp_path)
    crop = (40, 30, 201, 127)
    Image.open(samples / "lytro-01" / "a.png").convert("RGB").crop(crop).save("vis.png")
    ir8 = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("L").crop(crop), np.float64)
    ir = 2500 + ir8 * 40
    ir[np.random.default_rng(0).random(ir.shape) < 0.002] = 16383  # hot pixels above p99.9
    Image.fromarray(np.round(ir).astype(np.uint16)).save("ir.png")
    assert Image.open("ir.png").mode.startswith("I;16")

    (tmp_path / "model.onnx").write_bytes(documented_model.read_bytes())
    namespace: dict = {"__name__": "docs_example"}
    for code in _documented_code():
        exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - the documented code, as written

    assert main(["fuse", "vis.png", "ir.png", "-o", "cli.png", "--task", "ir-vis", "-q"]) == 0, capsys.readouterr().err
    cli = np.asarray(Image.open("cli.png"), np.int16)
    png = np.asarray(Image.open("fused.png"), np.int16)
    assert png.shape == cli.shape == (97, 161, 3)
    assert int(np.abs(png - cli).max()) <= 1


def test_a_16_bit_colour_image_read_as_documented(samples, documented_model, tmp_path, monkeypatch, capsys):
    """The section's advice for a 16-bit colour visible image: Pillow opens a 16-bit RGB TIFF as
    8-bit RGB without an error (so the program's own reading is not ``fuse``'s); read with
    ``tifffile`` and ``to_unit`` of the whole array, the program's result written as 16-bit is
    ``fuse``'s 16-bit RGB TIFF within one level of 65535."""
    tifffile = pytest.importorskip("tifffile")
    monkeypatch.chdir(tmp_path)
    crop = (40, 30, 201, 127)
    rgb8 = np.asarray(Image.open(samples / "lytro-01" / "a.png").convert("RGB").crop(crop), np.uint16)
    tifffile.imwrite("vis.tif", rgb8 * 200 + 1000)  # 16 bits, of which Pillow keeps the high byte
    Image.open(samples / "tno-01" / "a.png").convert("L").crop(crop).save("ir.png")
    assert Image.open("vis.tif").convert("RGB").getextrema()[0][1] < 200  # 8-bit, said nothing
    (tmp_path / "model.onnx").write_bytes(documented_model.read_bytes())
    to_unit, program = _documented_code()
    lines = program.splitlines()
    (i,) = [k for k, line in enumerate(lines) if line.startswith("vis = ")]
    lines[i] = 'vis = to_unit(tifffile.imread("vis.tif"))  # the docs: a 16-bit reader, to_unit of the whole array'
    namespace: dict = {"__name__": "docs_example", "tifffile": tifffile}
    for code in (to_unit, "\n".join(lines)):
        exec(compile(code, str(DOCS), "exec"), namespace)  # noqa: S102 - the documented code, as advised
    assert main(["fuse", "vis.tif", "ir.png", "-o", "cli.tif", "--task", "ir-vis", "-q"]) == 0, capsys.readouterr().err
    cli = tifffile.imread("cli.tif")
    assert cli.dtype == np.uint16 and cli.shape == (97, 161, 3)
    got = np.round(namespace["fused"] * 65535).astype(np.int64)
    assert int(np.abs(got - cli.astype(np.int64)).max()) <= 1
