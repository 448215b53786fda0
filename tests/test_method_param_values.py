"""Method parameter values are checked up front, from each method's declaration.

Every registered method declares the type and valid range or choices of its parameters
(``register_method(..., params=...)``, :mod:`mutualfuse.methods.params`). A bad value is a
one-line ParameterError at ``Fuser`` creation (before ``fuse`` reads an image, before ``fuse-dir``
creates its output folder); it used to pass the name check and fail on every pair (``fuse-dir
--method dwt --param levels=-1`` created the folder, then printed one error per pair). Every
method runs with its defaults and with valid non-default values, the bounds included.
"""
from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
from PIL import Image

from mutualfuse import Fuser
from mutualfuse.cli import main
from mutualfuse.errors import ParameterError
from mutualfuse.methods import METHODS, check_method_params, fuse_gray
from mutualfuse.methods.params import Bool, Choice, Float, Int, Text, keyword_names, with_params

# valid values other than the defaults, the bounds included; together they set every declared
# parameter of every method (checked below, so a new parameter needs a line here)
VALID = {
    "average": [{}],
    "max": [{}],
    "mutualfuse": [{"weights": "blend", "device": "cpu", "token_budget": 0}],
    "lp": [{"levels": 1, "highpass": "maxabs"}, {"levels": 5}],
    "rp": [{"levels": 1, "highpass": "maxabs"}, {"levels": 5}],
    "dwt": [{"levels": 1, "wavelet": "sym4", "highpass": "consistency"}, {"levels": 3, "wavelet": "haar"}],
    "dtcwt": [{"levels": 1, "biort": "near_sym_b", "qshift": "qshift_b", "highpass": "maxabs"}],
    "cvt": [{"scales": 3, "wedges": 24}, {"scales": 5, "wedges": 6}],
    "msvd": [{"signs": "aligned", "mat2gray": True}],
    "gtf": [{"lam": 100, "solver": "admm", "max_iter": 40, "tol": 1.0}, {"lam": 0.5, "loops": 2}],
    "cbf": [{"sigma_s": 1e-6, "sigma_r": 1e-6, "ksize": 3, "cov_wsize": 15},
            {"sigma_s": 1e6, "sigma_r": 1e6, "ksize": 31, "cov_wsize": 3}],
    "mgff": [{"radius": 100, "eps": 1e-3, "levels": 1}, {"radius": 1, "eps": 1e9, "levels": 10}],
    "asr": [{"epsilon": 10.0, "stride": 8, "max_atoms": 1}],
    "csr": [{"lam": 1e6, "multifocus": False, "max_iter": 5, "low_lambda": 0.5},
            {"lam": np.float32(0.02), "multifocus": np.bool_(True), "max_iter": np.int64(3)}],
}


@pytest.fixture(scope="module")
def crop(samples):
    """A 64x72 crop of the bundled TNO pair (uint8) and the same as [0, 1] floats."""
    a = np.asarray(Image.open(samples / "tno-01" / "a.png").convert("L"))[40:104, 100:172]
    b = np.asarray(Image.open(samples / "tno-01" / "b.png").convert("L"))[40:104, 100:172]
    return a, b, a / 255.0, b / 255.0


def test_every_method_declares_exactly_its_parameters():
    for e in METHODS:
        spec = e.meta.get("params")
        assert spec is not None, f"{e.name}: register_method(..., params={{...}}) missing"
        assert set(spec) == set(keyword_names(e.obj)), e.name
    assert set(VALID) == set(METHODS.names()), "VALID must list every registered method"
    for name, sets in VALID.items():
        assert set().union(*sets) == set(METHODS.meta(name)["params"]), f"{name}: VALID must set every parameter"


@pytest.mark.parametrize("method", METHODS.names())
def test_every_method_runs_with_its_defaults(crop, method):
    a, b, _, _ = crop
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = Fuser(method, device="cpu").fuse(a, b)
    assert f.shape == a.shape and f.dtype == np.uint8


@pytest.mark.parametrize("method", METHODS.names())
def test_every_method_runs_with_valid_non_default_values(crop, method):
    a, b, af, bf = crop
    for params in VALID[method]:
        assert check_method_params(method, params) == {k: v.item() if hasattr(v, "item") else v
                                                      for k, v in params.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f = fuse_gray(method, af, bf, **params)
            if method != "mutualfuse":  # the network takes its settings as Fuser options instead
                assert Fuser(method, **params).fuse(a, b).shape == a.shape
        assert f.shape == af.shape and np.isfinite(f).all() and 0 <= f.min() <= f.max() <= 1, (method, params)


def _bad_values(p):
    """Values outside a declaration: wrong types, non-finite numbers, just past each bound."""
    if isinstance(p, Int):
        bad = ["abc", 2.5, True, float("nan"), p.lo - 1]
        bad += [] if p.hi is None else [p.hi + 1]
        bad += [] if p.optional else [None]
        bad += [p.lo + 1] if p.odd or p.multiple_of > 1 else []
        return bad
    if isinstance(p, Float):
        bad = ["0.5x", True, None, float("nan"), float("inf"), -float("inf")]
        if p.lo is not None:
            bad += [p.lo] if p.lo_open else [p.lo / 2, -p.lo]
        if p.hi is not None:
            bad += [p.hi * 1.5, 1e300]
        return bad
    if isinstance(p, Choice):
        return ["nonexistent", p.choices[0].upper(), 1, None]
    if isinstance(p, Bool):
        return [1, 0, "yes", "true", None]
    if isinstance(p, Text):
        return ["", 3, None]
    raise AssertionError(f"no bad values for {p!r}")


CASES = [(m, k, bad) for m in METHODS.names() for k, p in METHODS.meta(m)["params"].items() for bad in _bad_values(p)]


@pytest.mark.parametrize("method,name,bad", CASES, ids=[f"{m}-{k}-{b!r}" for m, k, b in CASES])
def test_a_bad_value_is_refused_at_fuser_creation_in_one_line(method, name, bad):
    with pytest.raises(ParameterError) as e:
        check_method_params(method, {name: bad})
    msg = str(e.value)
    assert "\n" not in msg and f"method {method!r}" in msg and f"parameter {name} must be " in msg
    assert msg.split(", got ", 1)[1].startswith(repr(bad)), msg
    if METHODS.meta(method).get("family") != "network":  # the network takes no method parameters at all
        with pytest.raises(ParameterError, match=f"parameter {name} must be "):
            Fuser(method, **{name: bad})


def test_registered_functions_check_their_values_when_called_directly(crop):
    from mutualfuse.methods.classical import sparse

    _, _, a, b = crop
    with pytest.raises(ParameterError, match=r"method 'cbf': parameter ksize must be an odd integer in 3\.\.31, got 4"):
        METHODS.get("cbf")(a, b, ksize=4)
    with pytest.raises(ParameterError, match="method 'asr': parameter stride"):
        sparse.asr_reference(a, b, stride=0)
    with pytest.raises(ParameterError, match="method 'csr': parameter multifocus must be true or false"):
        sparse.csr_reference(a, b, multifocus="yes")
    # what depends on the image is still checked when the method runs
    with pytest.raises(ParameterError, match="too deep"):
        fuse_gray("dwt", a, b, levels=10)


def test_a_declaration_must_match_its_function_and_its_defaults():
    def fn(a, b, *, levels: int = 4):
        return a

    with pytest.raises(ValueError, match="differ"):
        with_params("x", {"level": Int(1, 10)})(fn)
    with pytest.raises(ValueError, match="the default of method 'x': parameter levels"):
        with_params("x", {"levels": Int(5, 10)})(fn)
    assert "x" not in METHODS


@pytest.mark.parametrize("method,param,needle", [
    ("dwt", "levels=abc", "parameter levels must be an integer in 1..10, got 'abc'"),
    ("dwt", "levels=-1", "parameter levels must be an integer in 1..10, got -1"),
    ("dwt", "wavelet=nonexistent", "parameter wavelet must be a discrete wavelet of PyWavelets"),
    ("cbf", "sigma_s=-3", "parameter sigma_s must be a finite number >= 1e-6, got -3"),
    ("cvt", "wedges=4", "a multiple of 3, got 4"),
    ("msvd", "mat2gray=1", "parameter mat2gray must be true or false, got 1"),
    ("gtf", "lam=1e300", "parameter lam must be a finite number > 0 and <= 100, got 1e+300"),
    ("asr", "stride=2.5", "parameter stride must be an integer in 1..8, got 2.5"),
])
def test_fuse_dir_and_fuse_refuse_a_bad_value_before_any_output(samples, tmp_path, capsys, method, param, needle):
    for d, name in (("A", "a.png"), ("B", "b.png")):
        (tmp_path / d).mkdir()
        shutil.copy(samples / "tno-01" / name, tmp_path / d / "01.png")
    out = tmp_path / "out"
    rc = main(["fuse-dir", str(tmp_path / "A"), str(tmp_path / "B"), "-o", str(out), "--method", method,
               "--param", param, "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and err.startswith("mutualfuse: error: ") and needle in err, err
    assert f"method {method!r}" in err and not out.exists()
    rc = main(["fuse", str(tmp_path / "A" / "01.png"), str(tmp_path / "B" / "01.png"), "-o", str(tmp_path / "f.png"),
               "--method", method, "--param", param])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and needle in err and not (tmp_path / "f.png").exists()


def test_command_line_values_are_converted_then_checked(samples, tmp_path, capsys):
    """``--param KEY=VALUE`` strings become int, float, true/false or text first (as before)."""
    a, b = samples / "tno-01" / "a.png", samples / "tno-01" / "b.png"
    for method, params in [("dwt", ["levels=3", "wavelet=sym4", "highpass=consistency"]),
                           ("msvd", ["mat2gray=true", "signs=aligned"]), ("cbf", ["sigma_s=2", "sigma_r=1e1", "ksize=5"])]:
        out = tmp_path / f"{method}.png"
        rc = main(["fuse", str(a), str(b), "-o", str(out), "--method", method, "-q",
                   *[x for p in params for x in ("--param", p)]])
        assert rc == 0 and out.is_file(), capsys.readouterr().err
