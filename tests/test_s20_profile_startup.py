"""What the everyday commands load and decode (s20 profiling audit).

``mutualfuse fuse --method average`` took about 1.7 s on a 360x270 pair, of which about 1 s was
importing PyTorch (the API, the weights table and the memory check imported it at the top) and
0.15 s SciPy (every classical method's module imported it when the registry was built), for a
method that needs neither. ``fuse-dir`` imported the benchmark package (its metrics, SciPy's
signal and stats: about 1 s) to learn that a built-in method is built in. ``fuse-stack`` of
16-bit images decoded every file twice (the joint percentile mapping read them again).
``mutualfuse --version`` built the whole parser (NumPy, Pillow).

The commands run in fresh interpreters (``sys.modules`` is the point); their outputs are
compared with the API's (values unchanged).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "mutualfuse" / "data" / "samples"


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object on its last line."""
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


_LOADED = ("json.dumps({m: m in sys.modules for m in ('torch', 'scipy', 'mutualfuse.benchmark', "
           "'mutualfuse.metrics', 'numpy', 'PIL')} | extra)")


def _cli(args: list[str], extra: str = "{}") -> dict:
    return _run("import sys, json\nfrom mutualfuse.cli import main\n"
                f"rc = main({args!r})\nextra = {extra} | {{'rc': rc}}\nprint({_LOADED})")


@pytest.mark.parametrize("method", ["average", "dwt"])
def test_fuse_with_a_classical_method_loads_no_torch(tmp_path, method):
    out = tmp_path / "f.png"
    a, b = SAMPLES / "tno-01" / "a.png", SAMPLES / "tno-01" / "b.png"
    got = _cli(["fuse", str(a), str(b), "-o", str(out), "--method", method, "-q"])
    assert got["rc"] == 0 and got["torch"] is False, got
    assert got["mutualfuse.benchmark"] is False
    if method == "average":  # nor SciPy: the registry's classical modules import it on first use
        assert got["scipy"] is False, got
    # the same values as the API gives (where PyTorch is loaded: this test process)
    import mutualfuse

    want = mutualfuse.fuse(np.asarray(Image.open(a)), np.asarray(Image.open(b)), method=method)
    assert np.array_equal(np.asarray(Image.open(out)), want)


def test_methods_list_loads_no_torch():
    got = _cli(["methods"])
    assert got["rc"] == 0 and got["torch"] is False and got["scipy"] is False, got


def test_version_loads_no_numpy():
    got = _cli(["--version"])
    assert got["rc"] == 0 and got["numpy"] is False and got["PIL"] is False, got


def test_version_prints_what_the_parser_prints(capsys):
    from mutualfuse import __version__
    from mutualfuse.cli import main

    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"mutualfuse {__version__}\n"


def test_fuse_dir_with_a_builtin_method_loads_neither_torch_nor_the_benchmark(tmp_path):
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    for d, n in ((a_dir, "a.png"), (b_dir, "b.png")):
        d.mkdir()
        for name in ("p1.png", "p2.png"):
            (d / name).write_bytes((SAMPLES / "tno-01" / n).read_bytes())
    got = _cli(["fuse-dir", str(a_dir), str(b_dir), "-o", str(tmp_path / "out"), "--method", "average", "-q"])
    assert got["rc"] == 0, got
    assert got["mutualfuse.benchmark"] is False and got["mutualfuse.metrics"] is False and got["torch"] is False, got
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p1.png", "p2.png"]


def test_fuse_dir_workers_of_a_builtin_method_load_neither(tmp_path):
    """``-j N``: the main process's list of modules for the workers and a worker's start-up
    (:func:`fuse_dir_jobs._init`, run here in a fresh interpreter) for ``--method average``."""
    code = ("import sys, json, argparse\n"
            "from mutualfuse.cli import fuse_dir_jobs as J\n"
            f"opts = dict(method='average', weights=None, device='cpu', dtype='float32', token_budget=None, "
            f"blend_temperature=None, detail_gain=None, detail_activity=None, task=None, chroma='saturation', "
            f"normalize='auto', percentiles=(0.1, 99.9), window_pixels=400000, tile=None, tile_overlap=64, "
            f"param=[], imports=[], out={str(tmp_path)!r})\n"
            "mods = J._method_modules(argparse.Namespace(**opts))\n"
            "J._init(opts, 1, mods)\n"
            "extra = {'mods': list(mods), 'error': J._STATE.get('error'), 'method': J._STATE['fuser'].method}\n"
            f"print({_LOADED})")
    got = _run(code)
    assert got["error"] is None and got["method"] == "average" and got["mods"] == [], got
    assert got["mutualfuse.benchmark"] is False and got["torch"] is False, got


def test_classical_fuser_device_and_checks_unchanged():
    """A classical Fuser made without PyTorch still has its torch ``device`` and ``dtype`` (made
    on first use), and refuses what it refused before, in the same order."""
    got = _run("import sys, json, numpy as np\n"
               "from mutualfuse import Fuser\n"
               "f = Fuser('cbf', ksize=5)\n"
               "x = np.linspace(0, 1, 64 * 64).reshape(64, 64)\n"
               "y = f.fuse(x, x[::-1].copy())\n"
               "before = 'torch' in sys.modules\n"
               "extra = {'before': before, 'device': str(f.device), 'dtype': str(f.dtype), 'repr': repr(f)}\n"
               f"print({_LOADED})")
    assert got["before"] is False, got
    assert got["device"] in ("cpu", "cuda") and got["dtype"] == "torch.float32" and got["repr"] == "Fuser('cbf', ksize=5)"
    import torch

    from mutualfuse import Fuser
    from mutualfuse.errors import ParameterError

    with pytest.raises(ParameterError, match="device must be cpu, cuda or auto"):
        Fuser("nosuch", device="tpu")  # the device is still checked first
    with pytest.raises(ParameterError, match="unknown method or weights 'nosuch'"):
        Fuser("nosuch", device="cpu")
    with pytest.raises(ParameterError, match="float16 on CPU"):
        Fuser("average", device="cpu", dtype="float16")
    if not torch.cuda.is_available():
        with pytest.raises(ParameterError, match="CUDA is not available"):
            Fuser("average", device="cuda")
    with pytest.raises(ParameterError, match="dtype='bfloat16' applies to the network"):  # s21
        Fuser("average", device="cpu", dtype="bfloat16")
    f = Fuser("average", device="cpu")
    assert f.device == torch.device("cpu") and f.dtype is torch.float32
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        f.nothing  # noqa: B018


def test_weights_table_without_torch_and_its_old_names():
    got = _run("import sys, json\n"
               "from mutualfuse.weights import SHIPPED, resolve_weights\n"
               "path, sha = resolve_weights('default')\n"
               "before = 'torch' in sys.modules\n"
               "import mutualfuse.weights as W\n"
               "names = [W.build_model.__name__, W.ModelConfig.__name__, W.FusionNet.__name__, W.torch.__name__]\n"
               "extra = {'before': before, 'names': names, 'has_default': 'default' in SHIPPED}\n"
               f"print({_LOADED})")
    assert got["before"] is False and got["has_default"], got
    assert got["names"] == ["build_model", "ModelConfig", "FusionNet", "torch"]


def _stack16(folder: Path, n: int = 6) -> list[Path]:
    folder.mkdir()
    a = np.asarray(Image.open(SAMPLES / "lytro-01" / "a.png").convert("L"), dtype=np.float64)[:96, :128]
    b = np.asarray(Image.open(SAMPLES / "lytro-01" / "b.png").convert("L"), dtype=np.float64)[:96, :128]
    paths = []
    for k, t in enumerate(np.linspace(0, 1, n)):
        x = np.round((a * (1 - t) + b * t) * 200 + 900 + 400 * k).astype(np.uint16)  # planes of other brightness
        paths.append(folder / f"z{k}.png")
        Image.fromarray(x).save(paths[-1])
    return paths


def test_fuse_stack_of_16_bit_images_decodes_each_once(tmp_path, monkeypatch):
    from mutualfuse import image_io
    from mutualfuse.cli import main

    paths = _stack16(tmp_path / "st")
    decoded: list[str] = []
    real = image_io._decode_samples

    def counting(p, *a, **k):
        decoded.append(Path(p).name)
        return real(p, *a, **k)

    monkeypatch.setattr(image_io, "_decode_samples", counting)
    out = tmp_path / "f.png"
    assert main(["fuse-stack", str(tmp_path / "st"), "-o", str(out), "--method", "lp", "-q"]) == 0
    assert sorted(decoded) == sorted(p.name for p in paths)  # the joint mapping read them a second time
    # the result is still that of the stack's joint percentiles: as Fuser.fuse_stack maps uint16 arrays
    from mutualfuse import Fuser

    want = Fuser("lp").fuse_stack([np.asarray(Image.open(p)) for p in paths])
    got = np.asarray(Image.open(out))
    assert got.dtype == np.uint16 and np.array_equal(got, want)


def test_fuse_stack_percentile_policy_and_mixed_depths_unchanged(tmp_path):
    """8-bit images under --normalize percentile join the mapping from their kept samples too;
    a stack of one 16-bit image and 8-bit ones has no joint mapping (nothing kept past the read)."""
    from mutualfuse import Fuser
    from mutualfuse.cli import main

    paths = _stack16(tmp_path / "st", 4)
    eight = []
    for p in paths:
        q = tmp_path / f"{p.stem}_8.png"
        Image.fromarray((np.asarray(Image.open(p)) >> 8).astype(np.uint8)).save(q)
        eight.append(q)
    out = tmp_path / "p.tif"
    assert main(["fuse-stack", *map(str, eight), "-o", str(out), "--method", "average", "--normalize",
                 "percentile", "-q"]) == 0
    want = Fuser("average", normalize="percentile").fuse_stack([np.asarray(Image.open(p)) for p in eight])
    assert np.array_equal(np.asarray(Image.open(out)), want)
    mixed = [paths[0], *eight[1:]]
    out2 = tmp_path / "m.png"
    assert main(["fuse-stack", *map(str, mixed), "-o", str(out2), "--method", "average", "-q"]) == 0
    want2 = Fuser("average").fuse_stack([np.asarray(Image.open(p)) for p in mixed])
    assert np.array_equal(np.asarray(Image.open(out2)), want2)
