"""The page's pair fusion (:func:`mutualfuse.web.core.fuse_request`) as a thermal or medical user
meets it (session 21 audit): a float input's note gives the CLI's advice, a float or 16-bit
input gets the TIFF ``fuse -o fused.tif`` writes, the page's Fuser cache is safe between threads,
and ``gtf``'s solver-dependent parameters work from the page's pre-filled defaults."""
from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile
from PIL import Image

from mutualfuse.cli import main
from mutualfuse.errors import ParameterError
from mutualfuse.web import core


def _smooth(h, w, k):
    y, x = np.mgrid[0:h, 0:w]
    return (np.sin(x / 7.0 + k) * np.cos(y / 5.0) + 1) / 2.2


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("pairs")
    h, w = 40, 56
    # radiometric float frames: one in [0, 1], one outside it (scaled by percentile)
    tifffile.imwrite(d / "ir.tif", _smooth(h, w, 0).astype(np.float32))
    tifffile.imwrite(d / "ir_celsius.tif", (_smooth(h, w, 1) * 40 - 5).astype(np.float32))
    Image.fromarray((_smooth(h, w, 2) * 65535).astype(np.uint16)).save(d / "ct.png")
    Image.fromarray((_smooth(h, w, 3) * 255).astype(np.uint8)).save(d / "mr.png")
    Image.fromarray((_smooth(h, w, 4) * 255).astype(np.uint8)).save(d / "vis.png")
    return d


def _page(a, b, tmp_path, cache=None, **kw):
    return core.fuse_request(str(a), str(b), core.Settings(device="cpu", **kw), tmp_path / "work",
                             cache or core.FuserCache(), names=(a.name, b.name))


def _cli(a, b, out, s, capsys):
    capsys.readouterr()
    assert main(["fuse", str(a), str(b), "-o", str(out), *s.cli_args()]) == 0
    return [ln.removeprefix("note: ") for ln in capsys.readouterr().err.splitlines() if ln.startswith("note: ")]


def test_a_float_input_outside_0_1_gets_the_clis_advice_not_normalize_full(files, tmp_path, capsys):
    """The page advised '--normalize full for the type's full range' for a float frame scaled by
    percentile; full refuses float samples outside [0, 1] (the CLI says so)."""
    a, b = files / "ir_celsius.tif", files / "vis.png"
    r = _page(a, b, tmp_path, method="average")
    cli = _cli(a, b, tmp_path / "cli.png", core.Settings(method="average", device="cpu"), capsys)
    page_note = [n for n in r.notes if n.startswith("ir_celsius.tif:")]
    assert page_note == [n.replace(str(a), a.name) for n in cli if n.startswith(str(a))], (r.notes, cli)
    assert "takes float data in [0, 1] only" in page_note[0]
    # --normalize full on the page with that frame is refused, as the advice now says
    with pytest.raises(Exception, match="ir_celsius.tif"):
        _page(a, b, tmp_path, method="average", normalize="full")


@pytest.mark.parametrize("a,b,dtype", [("ir.tif", "vis.png", np.float32), ("ir_celsius.tif", "ir.tif", np.float32),
                                       ("ct.png", "mr.png", np.uint16)])
def test_the_tiff_download_is_what_fuse_writes_for_fused_tif(files, tmp_path, capsys, a, b, dtype):
    """A float (radiometric) pair got only a 16-bit PNG: `fuse -o fused.tif` keeps float samples.
    The page's TIFF is now written at the depth the CLI writes for a .tif, pixel-identical."""
    a, b = files / a, files / b
    r = _page(a, b, tmp_path, method="dwt")
    assert r.tiff is not None and r.tiff.name == f"{a.stem}-{b.stem}-dwt.tif"
    _cli(a, b, tmp_path / "cli.tif", core.Settings(method="dwt", device="cpu"), capsys)
    page, cli = tifffile.imread(r.tiff), tifffile.imread(tmp_path / "cli.tif")
    assert page.dtype == cli.dtype == dtype and np.array_equal(page, cli)
    _cli(a, b, tmp_path / "cli.png", core.Settings(method="dwt", device="cpu"), capsys)
    assert np.array_equal(np.asarray(Image.open(r.png)), np.asarray(Image.open(tmp_path / "cli.png")))


def test_an_8_bit_pair_has_no_tiff(files, tmp_path):
    assert _page(files / "mr.png", files / "vis.png", tmp_path, method="average").tiff is None


def test_the_cache_builds_one_fuser_for_simultaneous_requests_with_the_same_settings(monkeypatch):
    """Two requests arriving together with new settings each built the Fuser (the weights loaded
    twice); now the second waits for the first's build and shares it. Requests with other
    settings each get a Fuser of their own settings."""
    import mutualfuse.cli.fuse as cli_fuse

    built = []

    def slow_make_fuser(ns, progress=False):
        time.sleep(0.3)
        f = SimpleNamespace(method=ns.method)
        built.append(f)
        return f

    monkeypatch.setattr(cli_fuse, "make_fuser", slow_make_fuser)
    cache = core.FuserCache()
    ns = {m: core._namespace(core.Settings(method=m, device="cpu")) for m in ("average", "max")}
    got: dict = {}

    def ask(key, method):
        got[key] = cache.get(ns[method])

    threads = [threading.Thread(target=ask, args=(k, "average")) for k in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(built) == 1 and got[1] is got[2] is built[0]
    threads = [threading.Thread(target=ask, args=(m, m)) for m in ("max", "average", "max")]
    for t in threads:
        t.start()
        time.sleep(0.05)
    for t in threads:
        t.join(10)
    assert got["max"].method == "max" and got["average"].method == "average"


def test_two_threads_fuse_their_own_pairs_with_their_own_notes(files, tmp_path):
    """One cached Fuser shared by two simultaneous requests (api.Fuser: one call at a time, the
    report per thread): each result and note list is the one the request gets alone."""
    pairs = {"float": (files / "ir_celsius.tif", files / "vis.png"), "16": (files / "ct.png", files / "mr.png")}
    alone = {k: _page(a, b, tmp_path / f"alone-{k}", method="dwt") for k, (a, b) in pairs.items()}
    cache = core.FuserCache()
    got, errors = {}, []
    barrier = threading.Barrier(2)

    def one(key):
        try:
            barrier.wait(5)
            for _ in range(3):
                got[key] = _page(*pairs[key], tmp_path / "shared", cache=cache, method="dwt")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=one, args=(k,)) for k in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in threads)
    for k in pairs:
        assert got[k].notes == alone[k].notes
        assert np.array_equal(np.asarray(Image.open(got[k].png)), np.asarray(Image.open(alone[k].png)))
        assert got[k].png.parent != got["16" if k == "float" else "float"].png.parent


@pytest.mark.parametrize("solver", ["irn", "admm"])
def test_gtf_works_from_the_pages_prefilled_defaults_with_either_solver(files, tmp_path, capsys, solver):
    """The page sends every default of the box (loops, max_iter and tol included), so a parameter
    used only with the other solver arrives at its default: accepted, and the same pixels as the
    CLI given only the solver."""
    params = core.default_params("gtf").replace("solver=irn", f"solver={solver}")
    assert "solver=" + solver in params and "tol=" in params and "loops=" in params
    a, b = files / "mr.png", files / "vis.png"
    r = _page(a, b, tmp_path, method="gtf", params=params)
    _cli(a, b, tmp_path / "cli.png", core.Settings(method="gtf", params=f"solver={solver}", device="cpu"), capsys)
    assert np.array_equal(np.asarray(Image.open(r.png)), np.asarray(Image.open(tmp_path / "cli.png")))


@pytest.mark.parametrize("solver,extra,name", [("irn", "tol=0.001", "tol"), ("irn", "max_iter=50", "max_iter"),
                                               ("admm", "loops=7", "loops")])
def test_gtf_a_dependent_value_with_the_wrong_solver_is_refused_in_one_line(files, tmp_path, solver, extra, name):
    values = dict(ln.split("=") for ln in core.default_params("gtf").splitlines())
    values.update(solver=solver, **dict([extra.split("=")]))
    params = "\n".join(f"{k}={v}" for k, v in values.items())  # the box, one value edited
    with pytest.raises(ParameterError) as e:
        _page(files / "mr.png", files / "vis.png", tmp_path, method="gtf", params=params)
    msg = str(e.value)
    assert "\n" not in msg and f"{name}=" in msg and f"solver={solver}" in msg and "used only with" in msg


def _evaluate(a, b, fused, tmp_path, normalize=None) -> dict:
    """``mutualfuse evaluate`` of one fused file against its sources: {key: value}."""
    import json
    import shutil

    folders = {d: tmp_path / "ev" / d for d in ("A", "B", "F")}
    for d, src in zip(folders.values(), (a, b, fused)):
        d.mkdir(parents=True)
        shutil.copy(src, d / f"x{src.suffix}")
    assert main(["evaluate", "--a", str(folders["A"]), "--b", str(folders["B"]), "--fused", str(folders["F"]),
                 "--metrics", *core.FAST_METRICS.values(), "-o", str(tmp_path / "ev.json"), "-q",
                 *(["--normalize", normalize] if normalize else [])]) == 0
    return json.loads((tmp_path / "ev.json").read_text())["methods"]["F"]["images"]["x"]


@pytest.mark.parametrize("a,b,normalize", [("ir.tif", "vis.png", "percentile"), ("ir_rgb.tif", "vis.png", "auto"),
                                           ("ct.png", "mr.png", "auto"), ("ir_celsius.tif", "ct.png", "auto")])
def test_the_metrics_table_is_evaluates(files, tmp_path, a, b, normalize):
    """The table equals `mutualfuse evaluate` on the page's PNG: 8/16-bit sources as stored (its
    default); a pair with a float source, which evaluate scores only with --normalize, as
    `evaluate --normalize MODE` with the page's scaling option. The float source alone was read
    with BT.601 luma at the default scaling, the other source as stored: no evaluate command's
    values (a float colour source, a percentile-scaled pair, a float + 16-bit pair)."""
    if not (files / "ir_rgb.tif").exists():
        tifffile.imwrite(files / "ir_rgb.tif", np.stack([_smooth(40, 56, k) for k in (5, 6, 7)], -1)
                         .astype(np.float32), photometric="rgb")
    a, b = files / a, files / b
    r = _page(a, b, tmp_path, method="dwt", normalize=normalize)
    float_source = any(p.suffix == ".tif" for p in (a, b))
    ev = _evaluate(a, b, r.png, tmp_path, normalize if float_source else None)
    page = {row[0].split(" (")[1][:-1]: row[1] for row in r.metrics}
    assert set(page) == set(ev)
    for key, value in ev.items():
        assert page[key] == pytest.approx(round(value, 4), rel=0, abs=1e-9), key
