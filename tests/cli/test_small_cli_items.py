"""Small command-line items: the selection-temperature range (fuse, fuse-dir, serve, Fuser),
``benchmark -q`` and its ``--param`` values, and a Ctrl+C just after export-onnx wrote its file."""
from __future__ import annotations

import os
import shutil
import signal

import numpy as np
import pytest
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.cli import main
from mutualfuse.errors import ParameterError


@pytest.fixture()
def pair_dirs(samples, tmp_path):
    for d, name in (("A", "a.png"), ("B", "b.png")):
        (tmp_path / d).mkdir()
        shutil.copy(samples / "tno-01" / name, tmp_path / d / "01.png")
    return tmp_path / "A", tmp_path / "B"


# ---------------------------------------------------------------------------------------------
# --blend-temperature / blend_temperature: finite, > 0 and <= 1e6 everywhere
# ---------------------------------------------------------------------------------------------
ABSURD = ["1e300", "1e7", "1000000.5", "inf", "-inf", "nan", "0", "-0.5", "-1e300"]


@pytest.mark.parametrize("t", ABSURD)
def test_fuse_and_fuse_dir_refuse_an_absurd_temperature_before_any_output(pair_dirs, tmp_path, capsys, t):
    """1e300 (and anything above 1e6) was accepted: the weights are 1/2 there to float precision."""
    a, b = pair_dirs
    out = tmp_path / "f.png"
    rc = main(["fuse", str(a / "01.png"), str(b / "01.png"), "-o", str(out), f"--blend-temperature={t}", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and not out.exists(), err
    assert err.startswith("mutualfuse: error: --blend-temperature must be a finite number > 0 and <= 1000000, got ")
    rc = main(["fuse-dir", str(a), str(b), "-o", str(tmp_path / "out"), f"--blend-temperature={t}", "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "--blend-temperature must be" in err and not (tmp_path / "out").exists()


def test_the_largest_temperature_is_accepted_and_fuses(pair_dirs, tmp_path, capsys):
    a, b = pair_dirs
    out = tmp_path / "f.png"
    rc = main(["fuse", str(a / "01.png"), str(b / "01.png"), "-o", str(out), "--blend-temperature", "1e6", "-q",
               "--device", "cpu"])
    assert rc == 0 and out.is_file(), capsys.readouterr().err


@pytest.mark.parametrize("t", [1e300, 1e7, float("inf"), float("nan"), 0, -1.0, np.float64(2e6)])
def test_fuser_refuses_the_same_temperatures(t):
    with pytest.raises(ParameterError, match=r"blend_temperature must be a finite number > 0 and <= 1000000, got "):
        Fuser("default", device="cpu", blend_temperature=t)


def test_fuser_accepts_the_bound():
    assert Fuser("default", device="cpu", task="stored", blend_temperature=1e6).net.cfg.blend_temperature == 1e6


def test_serve_refuses_an_absurd_temperature_in_one_line():
    """The page's requests go through fuse's parser and checks (mutualfuse.web.core)."""
    from mutualfuse.web import core

    for t in (1e300, 1e7):
        with pytest.raises(ParameterError, match="--blend-temperature must be a finite number > 0 and <= 1000000"):
            core.FuserCache().get(core._namespace(core.Settings(blend_temperature=t, device="cpu")))


# ---------------------------------------------------------------------------------------------
# benchmark: -q as every command (nothing on success), --param values checked before any work
# ---------------------------------------------------------------------------------------------
@pytest.fixture()
def bench_root(tmp_path):
    rng = np.random.default_rng(1)
    for role in ("ir", "vis"):
        d = tmp_path / "data" / "ir-vis" / "tno" / role
        d.mkdir(parents=True)
        for n in ("01", "02"):
            Image.fromarray(rng.integers(0, 256, (64, 72)).astype(np.uint8)).save(d / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    return tmp_path


def _bench(root, *args):
    return ["benchmark", "--data-root", str(root / "data"), "--out", str(root / "out"), "--cache", str(root / "cache"),
            "--tables", "1", "--methods", "average,dwt", "--weights", "none", "--fast-metrics",
            "--figures", str(root / "nofig.yaml"), *args]


def test_benchmark_quiet_prints_nothing_on_success(bench_root, capsys, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    rc = main(_bench(bench_root, "-q"))
    cap = capsys.readouterr()
    assert rc == 0 and cap.out == "" and cap.err == "", cap  # was "wrote out/report.html (...)"
    assert (bench_root / "out" / "report.html").is_file()
    rc = main(_bench(bench_root))  # without -q: the summary line (all from the cache now)
    cap = capsys.readouterr()
    assert rc == 0 and cap.out.startswith(f"wrote {bench_root / 'out' / 'report.html'} (") and cap.out.count("\n") == 1


@pytest.mark.parametrize("param,needle", [
    ("dwt.levels=abc", "--param dwt.levels: method 'dwt': parameter levels must be an integer in 1..10, got 'abc'"),
    ("dwt.levels=0", "parameter levels must be an integer in 1..10, got 0"),
    ("dwt.wavelet=nonexistent", "parameter wavelet must be a discrete wavelet of PyWavelets"),
    ("cbf.ksize=4", "--param cbf.ksize: method 'cbf': parameter ksize must be an odd integer in 3..31, got 4"),
])
def test_benchmark_refuses_a_bad_param_value_before_any_work(bench_root, capsys, param, needle):
    """A bad value used to fail every pair as a problem line each (exit 1) after the whole run."""
    rc = main(_bench(bench_root, "-q", "--param", param))
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and needle in err, err
    assert not (bench_root / "out").exists() and not (bench_root / "cache").exists()


# ---------------------------------------------------------------------------------------------
# export-onnx: a Ctrl+C arriving as the output is renamed into place
# ---------------------------------------------------------------------------------------------
@pytest.fixture()
def sigint_raises():
    """SIGINT as Python's default (KeyboardInterrupt) for the test, whatever the runner set."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def _replace_with_ctrl_c(monkeypatch, when: str):
    """os.replace that sends the process SIGINT just before or just after renaming the .onnx output."""
    real = os.replace

    def replace(src, dst):
        if str(dst).endswith(".onnx") and when == "before":
            os.kill(os.getpid(), signal.SIGINT)
        real(src, dst)
        if str(dst).endswith(".onnx") and when == "after":
            os.kill(os.getpid(), signal.SIGINT)  # delivered at the next bytecode unless held

    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("check", [False, True])
def test_ctrl_c_at_the_rename_reports_the_complete_output(tiny_weights, tmp_path, capsys, monkeypatch, sigint_raises,
                                                          when, check):
    """It said "mutualfuse: interrupted" (exit 130) with the output complete in place."""
    pytest.importorskip("onnx")
    if check:
        pytest.importorskip("onnxruntime")
    out = tmp_path / "m.onnx"
    _replace_with_ctrl_c(monkeypatch, when)
    rc = main(["export-onnx", str(out), "--weights", str(tiny_weights), "-q", *([] if check else ["--no-check"])])
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert rc == 130 and err.count("\n") == 1, err
    assert err.startswith(f"mutualfuse: interrupted after {out} was written (the file is complete"), err
    assert ("passed the onnxruntime check" in err) == check
    import onnx

    onnx.checker.check_model(str(out))  # complete
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # no temporary left


def test_ctrl_c_during_the_check_leaves_no_output(tiny_weights, tmp_path, capsys, monkeypatch, sigint_raises):
    """Before the check is over the export is abandoned: nothing written, an earlier file kept."""
    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from mutualfuse.cli import export_onnx as cli_export_onnx

    old = tmp_path / "m.onnx"
    old.write_bytes(b"an earlier export")
    real = cli_export_onnx.compare_with_pytorch

    def check_then_ctrl_c(*a, **k):
        msg = real(*a, **k)
        os.kill(os.getpid(), signal.SIGINT)
        return msg

    monkeypatch.setattr(cli_export_onnx, "compare_with_pytorch", check_then_ctrl_c)
    rc = main(["export-onnx", str(old), "--weights", str(tiny_weights)])
    err = capsys.readouterr().err
    assert rc == 130 and err == "mutualfuse: interrupted\n", err
    assert old.read_bytes() == b"an earlier export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_benchmark_param_values_are_read_as_fuse_reads_them():
    """One reading of --param values: ``mgff.eps=1e3`` is a number for benchmark as for fuse
    (benchmark used YAML 1.1, which reads 1e3 as text, and the value check then refused it)."""
    from mutualfuse.cli.benchmark import _check_params, _params
    from mutualfuse.cli.fuse import parse_params

    p = _params(["mgff.eps=1e3", "dwt.levels=3", "dwt.wavelet=db2", "lp.levels=4"])
    assert p == {"mgff": {"eps": 1000.0}, "dwt": {"levels": 3, "wavelet": "db2"}, "lp": {"levels": 4}}
    assert p["mgff"] == parse_params(["eps=1e3"])
    _check_params(p)  # all valid: no error


def test_methods_card_lists_every_methods_parameters(capsys):
    """``mutualfuse methods --card NAME`` for each registered method: its reference and every
    keyword parameter with its default and what is allowed (as declared, so as checked)."""
    import inspect

    from mutualfuse.cli import main
    from mutualfuse.methods import METHODS

    for e in METHODS:
        assert main(["methods", "--card", e.name]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"method {e.name}\n")
        names = [n for n, p in list(inspect.signature(e.obj).parameters.items())[2:]
                 if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
        for n in names:
            allowed = e.meta["params"][n].allowed() if n in (e.meta.get("params") or {}) else "not declared"
            assert any(line.split()[:1] == [n] and allowed in line for line in out.splitlines()), (e.name, n, out)
        if not names:
            assert "parameters none" in out
    rc = main(["methods", "--card", "dwx"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "no fusion method, shipped weights or weights file named dwx" in err[0]
