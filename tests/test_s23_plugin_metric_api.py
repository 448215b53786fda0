"""A metric (and a metric profile) of one's own from Python: ``mutualfuse.metrics.register_metric``
and ``register_profile`` (there was no public way: only the private ``_reg`` of the built-ins).

The registered metric gets gray float64 0-255 images whatever it is given, goes through the
built-ins' input-range guard, is listed as unchecked (source ``own``), and every mistake is one
line: a built-in's or a profile's name, a bad direction, a function that cannot be called as
``fn(a, b, f)``, a result that is not one real number, an exception of its own."""
from __future__ import annotations

import importlib
import sys
import textwrap
import uuid

import numpy as np
import pytest

from mutualfuse.errors import InputError, ParameterError
from registry_state import registries_restored


@pytest.fixture()
def registries():
    """The metric, profile and method registries, ``sys.path`` and ``sys.modules`` restored afterwards."""
    with registries_restored("s23"):
        yield


def _pair():
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (24, 30), dtype=np.uint8)
    b = rng.integers(0, 256, (24, 30), dtype=np.uint8)
    return a, b, np.maximum(a, b)


def test_a_registered_metric_is_scored_like_a_built_in_one(registries):
    from mutualfuse.metrics import METRICS, evaluate_pair, goodness, register_metric

    seen = []

    @register_metric("meanabs", direction="lower", convention="mean |F - (A+B)/2|")
    def meanabs(a, b, f):
        seen.append((a.dtype, b.dtype, f.dtype, a.shape, a.flags.c_contiguous))
        return float(np.abs(f - (a + b) / 2).mean())

    a, b, f = _pair()
    want = float(np.abs(f.astype(np.float64) - (a.astype(np.float64) + b) / 2).mean())
    got = evaluate_pair(a, b, f, metrics=["meanabs", "EN@vifb"])
    assert list(got) == ["meanabs", "EN@vifb"] and got["meanabs"] == pytest.approx(want, rel=1e-12)
    assert seen[-1] == (np.float64, np.float64, np.float64, (24, 30), True)
    # uint16 is scaled by 255/65535 and colour goes through rgb2gray, as for the built-in metrics
    k = np.uint16(257)
    assert METRICS.get("MEANABS")(a.astype(np.uint16) * k, b.astype(np.uint16) * k, f.astype(np.uint16) * k) == \
        pytest.approx(want, rel=1e-12)
    rgb = np.repeat(f[..., None], 3, -1)
    assert METRICS.get("meanabs")(a, b, rgb) == pytest.approx(want, abs=1e-9)
    meta = METRICS.meta("meanabs")
    assert meta["checked"] is False and meta["source"] == "own" and meta["direction"] == "lower"
    assert meta["higher_is_better"] is False and meta["convention"] == "mean |F - (A+B)/2|"
    assert meta["defined_in"].endswith("meanabs") and "your metric" in meta["reference"]
    assert goodness("meanabs", 2.0) == -2.0
    # the built-ins' input-range guard: a 0-1 float image is refused, not scored as 0-255
    with pytest.raises(InputError, match="0-255 scale"):
        METRICS.get("meanabs")(a / 255.0, b, f)


def test_a_metric_of_the_fused_image_alone(registries):
    from mutualfuse.metrics import METRICS, register_metric

    @register_metric("fmean", uses_sources=False, direction="zero")
    def fmean(a, b, f):
        return f.mean() - 100  # a NumPy scalar

    _, _, f = _pair()
    assert METRICS.get("fmean")(None, None, f) == pytest.approx(f.mean() - 100)
    assert METRICS.meta("fmean")["higher_is_better"] is None and METRICS.meta("fmean")["uses_sources"] is False


def test_an_own_metric_is_unchecked_in_every_listing_and_only_in_the_all_profile(registries):
    from mutualfuse.evaluation import list_metrics
    from mutualfuse.metrics import PROFILES, register_metric

    @register_metric("s23listed", convention="for the list")
    def listed(a, b, f):
        return 0.0

    line = next(ln for ln in list_metrics().splitlines() if ln.strip().startswith("s23listed"))
    assert " unchecked: for the list [your metric: " in line and line.rstrip().endswith("listed]")
    assert "s23listed" in PROFILES["all"]()
    for p in ("default", "paper", "vifb", "rfn-nest", "nestfuse", "liu"):
        assert "s23listed" not in PROFILES[p]().values()


@pytest.mark.parametrize("kw,words", [
    (dict(direction="up"), "direction='up': use 'higher' or 'lower'"),
    (dict(direction="higher", checked=True), "checked=True: only the project's conformance tables"),
    (dict(uses_sources="yes"), "uses_sources='yes': True or False"),
    (dict(convention=3), "convention=3: a string"),
])
def test_bad_registration_options_are_one_line(registries, kw, words):
    from mutualfuse.metrics import register_metric

    with pytest.raises(ParameterError) as e:
        register_metric("s23bad", **kw)
    assert words in str(e.value) and "\n" not in str(e.value) and str(e.value).startswith("register_metric('s23bad')")


@pytest.mark.parametrize("name,words", [
    ("Qabf@vifb", "a built-in metric is registered as 'Qabf@vifb'"),
    ("qabf@VIFB", "a built-in metric is registered as 'Qabf@vifb' (names are case-insensitive)"),
    ("paper", "'paper' is a metric profile's name"),
    ("qabf", "'qabf' is the short name of the built-in metric Qabf@vifb (evaluate --metrics qabf names it)"),
    ("EN", "'EN' is the short name of the built-in metrics EN@rfn-nest, EN@vifb"),
    ("two words", "no spaces or commas"),
    ("a,b", "no spaces or commas"),
    ("", "a non-empty string"),
])
def test_names_that_are_taken_or_unusable_are_refused(registries, name, words):
    from mutualfuse.metrics import METRICS, register_metric

    before = METRICS.names()
    with pytest.raises(ParameterError) as e:
        register_metric(name)(lambda a, b, f: 1.0)
    assert words in str(e.value) and "\n" not in str(e.value)
    assert METRICS.names() == before
    if name.lower() == "qabf@vifb":  # the built-in is untouched
        assert "replacing a built-in metric is not supported" in str(e.value)
        assert METRICS.meta("Qabf@vifb")["checked"] is True and METRICS.meta("Qabf@vifb")["source"] == "vifb"


def test_a_function_that_cannot_be_called_with_three_images_is_refused(registries):
    from mutualfuse.metrics import METRICS, register_metric

    with pytest.raises(ParameterError, match=r"cannot be called as fn\(a, b, f\)") as e:
        @register_metric("s23one")
        def one(f):
            return 1.0
    assert "s23one" not in METRICS and "uses_sources=False" in str(e.value)
    with pytest.raises(ParameterError, match="is not a function"):
        register_metric("s23num")(3)


def test_another_definition_under_a_taken_name_is_refused_the_same_one_again_replaces_it(registries, tmp_path):
    from mutualfuse.metrics import METRICS, register_metric

    @register_metric("s23twice")
    def first(a, b, f):
        return 1.0

    with pytest.raises(ParameterError, match="already registered by .*first: choose another name"):
        @register_metric("s23twice")
        def second(a, b, f):
            return 2.0

    name = f"s23mod{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent('''
        from mutualfuse.metrics import register_metric

        @register_metric("s23reload", convention="v1")
        def m(a, b, f):
            return 1.0
    '''))
    sys.path.insert(0, str(tmp_path))
    mod = importlib.import_module(name)
    (tmp_path / f"{name}.py").write_text((tmp_path / f"{name}.py").read_text().replace("v1", "v2")
                                         .replace("return 1.0", "return 2.0"))
    importlib.reload(mod)  # a notebook's reload: replaced, not refused
    a, b, f = _pair()
    assert METRICS.meta("s23reload")["convention"] == "v2" and METRICS.get("s23reload")(a, b, f) == 2.0


@pytest.mark.parametrize("ret,words", [
    (None, "returned None (a missing return statement?)"),
    (np.ones(3), "returned an array of shape (3,)"),
    (np.ones((1, 1)), "returned an array of shape (1, 1)"),
    ("0.5", "returned a str"),
    (1 + 2j, "returned a complex"),
    (True, "returned True, a bool"),
])
def test_a_result_that_is_not_one_real_number_is_one_line(registries, ret, words):
    from mutualfuse.metrics import METRICS, MetricResultError, register_metric

    @register_metric("s23ret")
    def ret_fn(a, b, f):
        return ret

    with pytest.raises(MetricResultError) as e:
        METRICS.get("s23ret")(*_pair())
    assert words in str(e.value) and "metric 's23ret' (" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("ret", [float("nan"), float("inf"), np.float32(-np.inf), 7, np.array(0.25)])
def test_nan_inf_and_other_scalars_are_values(registries, ret):
    from mutualfuse.metrics import METRICS, register_metric

    @register_metric("s23val")
    def val(a, b, f):
        return ret

    got = METRICS.get("s23val")(*_pair())
    assert isinstance(got, float) and (np.isnan(got) if np.isnan(ret) else got == float(ret))


def test_an_exception_of_the_metric_is_one_line_naming_it(registries):
    from mutualfuse.errors import ImageTooSmallError
    from mutualfuse.metrics import METRICS, MetricResultError, register_metric

    @register_metric("s23boom")
    def boom(a, b, f):
        return {}["missing"]

    with pytest.raises(MetricResultError) as e:
        METRICS.get("s23boom")(*_pair())
    assert "metric 's23boom' (" in str(e.value) and "failed: KeyError: 'missing'" in str(e.value)
    assert "test_s23_plugin_metric_api.py, line" in str(e.value)

    @register_metric("s23small")
    def small(a, b, f):
        raise ImageTooSmallError("needs 99 pixels", 99)

    with pytest.raises(ImageTooSmallError):  # the package's own errors pass (evaluate: an empty cell)
        METRICS.get("s23small")(*_pair())


def test_images_of_different_shapes_are_refused(registries):
    from mutualfuse.metrics import METRICS, register_metric

    register_metric("s23shape")(lambda a, b, f: 0.0)
    a, b, f = _pair()
    with pytest.raises(InputError, match="images differ in size: a 30×24, b 30×24, f 30×23"):
        METRICS.get("s23shape")(a, b, f[:-1])


def test_a_profile_of_ones_own(registries):
    from mutualfuse.evaluation import select_metrics
    from mutualfuse.metrics import PROFILES, evaluate_pair, register_metric, register_profile

    register_metric("s23m")(lambda a, b, f: float(f.mean()))
    register_profile("s23prof", {"Q": "qabf@vifb", "Mine": "S23M"})
    register_profile("s23keys", ["EN@vifb", "s23m"])
    assert PROFILES["s23prof"]() == {"Q": "Qabf@vifb", "Mine": "s23m"}
    a, b, f = _pair()
    got = evaluate_pair(a, b, f, profile="s23prof")
    assert list(got) == ["Q", "Mine"] and got["Mine"] == pytest.approx(f.mean())
    assert select_metrics(None, ["s23keys"]) == {"EN@vifb": "EN@vifb", "s23m": "s23m"}
    register_profile("s23prof", {"Only": "s23m"})  # the same module again: replaced
    assert PROFILES["s23prof"]() == {"Only": "s23m"}


@pytest.mark.parametrize("args,words", [
    (("paper", ["EN@vifb"]), "'paper' is a built-in profile; replacing it is not supported"),
    (("s23p", ["nosuch"]), "column 'nosuch': unknown metric 'nosuch'"),
    (("s23p", {}), "no columns"),
    (("s23p", "EN@vifb"), "a dict {label: metric key} or a list of metric keys, got str"),
    (("EN@vifb", ["SD@vifb"]), "'EN@vifb' is a metric's name"),
    (("s23p", {"A": "EN@vifb", "B": "en@VIFB"}), "a metric is in two columns"),
])
def test_bad_profiles_are_one_line(registries, args, words):
    from mutualfuse.metrics import PROFILES, register_profile

    before = list(PROFILES)
    with pytest.raises(ParameterError) as e:
        register_profile(*args)
    assert words in str(e.value) and "\n" not in str(e.value) and list(PROFILES) == before
