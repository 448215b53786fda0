"""pyproject.toml's dependency lower bounds against what the code needs (s17 audit).

The suite was run in a venv holding the lowest declared version of every dependency (torch
2.13.0 aside; s17, and again in s19: docs/dependency-floors.md); each row of ``NEEDS`` is a
failure such a run found, the first version that fixed it, and the code that makes it a need
(``TEST_NEEDS``: a need of the tests alone, binding the ``[test]`` extra only). A row whose code is
gone no longer binds (skipped), so that a compatible rewrite can lower the bound again. Nothing is
installed here: the last test checks the environment the suite runs in against the declared ranges.
"""
from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _requirements() -> list[tuple[str, Requirement]]:
    """(where, requirement) for the core list and every extra, less the self-references."""
    out = [("dependencies", Requirement(s)) for s in PROJECT["dependencies"]]
    for extra, reqs in PROJECT["optional-dependencies"].items():
        out += [(f"[{extra}]", Requirement(s)) for s in reqs if canonicalize_name(Requirement(s).name) != "mutualfuse"]
    return out


def _declared(name: str) -> list[tuple[str, Requirement]]:
    found = [(w, r) for w, r in _requirements() if canonicalize_name(r.name) == canonicalize_name(name)]
    assert found, f"{name} is not declared in pyproject.toml"
    return found


def _floor(req: Requirement) -> Version | None:
    lows = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
    return max(lows) if lows else None


def _uses(path: str, pattern: str) -> bool:
    return re.search(pattern, (ROOT / path).read_text(encoding="utf-8")) is not None


# (package, first version that works, the code that needs it (file, regex), what broke below it)
NEEDS = [
    ("pillow", "11", ("src/mutualfuse/image_io.py", r"im\.tile = \[t\._replace\("),
     "16-bit colour PNGs: Pillow 10 tiles are plain tuples (AttributeError: '_replace')"),
    ("pillow", "10.3", ("tests/io/test_cli_fuse.py", r'mode\.startswith\("I;16"\)'),
     "the tests open a 16-bit gray PNG as I;16 (Pillow 10.0-10.2: mode I, int32)"),
    ("pydicom", "3", ("src/mutualfuse/dicom.py", r"save_as\(.*enforce_file_format"),
     "writing .dcm: pydicom 2.4 save_as() has no enforce_file_format (TypeError)"),
    ("imageio-ffmpeg", "0.5", ("src/mutualfuse/video.py", r"import imageio_ffmpeg"),
     "0.4.9 imports pkg_resources, which current setuptools lacks: video said the extra was missing"),
    # s19: the floors run, then each line checked by hand beside the fixed version
    ("pydicom", "3.0.1", ("src/mutualfuse/dicom.py", r"\bimport pydicom\n"),
     "3.0.0: `import pydicom` downloads its example files from github.com wherever requests is installed "
     "(5 lookups on each `mutualfuse fuse a.dcm b.dcm`, a UserWarning each offline)"),
    ("imageio-ffmpeg", "0.6", ("src/mutualfuse/video.py", r"Error opening input:"),
     "0.5.x bundles ffmpeg 4.2.2, which prints no 'Error opening input:' line: a truncated MP4 was refused "
     "with 'Invalid data found when processing input' alone, without ffmpeg's reason 'moov atom not found'"),
    ("imageio-ffmpeg", "0.8", ("src/mutualfuse/video.py", r'plugin="FFMPEG", extension="\.mp4"'),
     "the ffmpeg builds of 0.5-0.7 (4.2.2, 7.0.2) crashed (SIGSEGV) on every MPEG-TS input on the project's "
     "machine: fuse-video refused each .ts as 'not a readable video (ffmpeg gave no reason)'"),
    ("dtcwt", "0.13", ("src/mutualfuse/methods/classical/wavelet.py", r"import dtcwt"),
     "dtcwt 0.12 calls np.int, removed in numpy 1.24 (the numpy floor)"),
    ("gradio", "6", ("src/mutualfuse/web/server.py", r"footer_links="),
     "serve calls launch(footer_links=), new in gradio 6 (5.x: TypeError, the page never started)"),
    ("gradio", "5.27", ("src/mutualfuse/web/app.py", r"gr\.ImageSlider\("),
     "gr.ImageSlider is gradio 5.27+ (AttributeError)"),
]


@pytest.mark.parametrize("name, first, where, why", NEEDS, ids=[f"{n}>={v}" for n, v, _, _ in NEEDS])
def test_declared_lower_bound_covers_what_the_code_needs(name, first, where, why):
    if not _uses(*where):
        pytest.skip(f"{where[0]} no longer matches {where[1]!r}: this need ({why}) is gone")
    for place, req in _declared(name):
        low = _floor(req)
        assert low is not None and low >= Version(first), \
            f"{place}: {req} allows versions below {first}, which fail: {why}"


# What only the tests need: (package, first version that works, the test code that needs it, what
# broke below it). Checked against the [test] extra alone; the library's own extra may stay lower.
TEST_NEEDS = [
    ("imageio-ffmpeg", "0.8", ("tests/io/test_audit_s18_video_inputs.py", r'"-fps_mode", "passthrough"'),
     "the test writes its variable-frame-rate input with the bundled ffmpeg: 4.2.2 (0.5.x) has no -fps_mode; "
     "7.0.2 (0.6, 0.7) writes that file with no frame rate (1k tbr), which fuse-video refuses"),
]


@pytest.mark.parametrize("name, first, where, why", TEST_NEEDS, ids=[f"{n}>={v}" for n, v, _, _ in TEST_NEEDS])
def test_the_test_extra_covers_what_the_tests_need(name, first, where, why):
    if not _uses(*where):
        pytest.skip(f"{where[0]} no longer matches {where[1]!r}: this need ({why}) is gone")
    found = [req for place, req in _declared(name) if place == "[test]"]
    assert found, f"{name} is not in the [test] extra"
    for req in found:
        low = _floor(req)
        assert low is not None and low >= Version(first), \
            f"[test]: {req} allows versions below {first}, which fail: {why}"


def test_numpy_is_capped_below_2_while_dtcwt_may_be_0_13():
    # dtcwt 0.13 calls np.asfarray (removed in numpy 2.0); 0.14 declares numpy<2 itself
    (_, dtcwt_req), = _declared("dtcwt")
    if _floor(dtcwt_req) >= Version("0.14"):
        pytest.skip("dtcwt >= 0.14 caps numpy itself")
    (_, numpy_req), = _declared("numpy")
    assert not numpy_req.specifier.contains("2.0.0"), f"{numpy_req}: dtcwt 0.13 fails on numpy 2"


def test_gradio_floor_allows_the_pillow_floor():
    # gradio 5.0-5.3 require pillow<11 (5.4 allows <12)
    (_, pillow_req), = _declared("pillow")
    if _floor(pillow_req) < Version("11"):
        pytest.skip("pillow's floor is below 11")
    for place, req in _declared("gradio"):
        assert _floor(req) >= Version("5.4"), f"{place}: {req}: gradio below 5.4 cannot be installed with pillow>=11"


# What the release at each declared floor itself requires of another declared package (its
# Requires-Dist, read from the registry's metadata by `pip install --dry-run --ignore-installed
# --report` of every floor pinned together, in a throwaway venv with Python 3.11; s18): rows with
# a bare or trivially met requirement are left out. The lowest versions pyproject.toml allows must
# be installable together: onnxruntime 1.16.0 requires numpy>=1.24.2, so numpy>=1.24 (whose lowest
# release, 1.24.0, it refuses) made the floors impossible to install at once (pip:
# ResolutionImpossible). (package, its declared floor, the release pip takes there, requirement)
FLOOR_REQUIRES = [
    ("onnxruntime", "1.16", "1.16.0", "numpy>=1.24.2"),
    ("scipy", "1.10", "1.10.0", "numpy<1.27.0,>=1.19.5"),
    ("numba", "0.59", "0.59.0", "numpy<1.27,>=1.22"),
    ("scikit-image", "0.21", "0.21.0", "numpy>=1.21.1"),
    ("scikit-image", "0.21", "0.21.0", "pillow>=9.0.1"),
    ("curvelets", "1.2", "1.2", "numpy>=1.20"),
    ("matplotlib", "3.7", "3.7.0", "numpy>=1.20"),
    ("matplotlib", "3.7", "3.7.0", "pillow>=6.2.0"),
    ("nibabel", "5", "5.0.0", "numpy>=1.19"),
    ("PyWavelets", "1.4", "1.4.1", "numpy>=1.17.3"),
    ("scikit-learn", "1.3", "1.3.0", "numpy>=1.17.3"),
    ("tensorboard", "2.12", "2.12.0", "numpy>=1.12.0"),
    ("imageio", "2.31", "2.31.0", "pillow>=8.3.2"),
    ("gradio", "6.17.3", "6.17.3", "numpy<3.0,>=1.0"),
    ("gradio", "6.17.3", "6.17.3", "pillow<13.0,>=8.0"),
]


@pytest.mark.parametrize("name, floor, release, needs", FLOOR_REQUIRES,
                         ids=[f"{n}-{r}:{d}" for n, _, r, d in FLOOR_REQUIRES])
def test_the_lowest_allowed_versions_can_be_installed_together(name, floor, release, needs):
    for place, req in _declared(name):
        if _floor(req) != Version(floor):
            pytest.skip(f"{place}: {req}: the floor is no longer {floor}; measure what {name} at the new floor "
                        f"requires (pip install --dry-run --report with every floor pinned) and update this row")
    dep = Requirement(needs)
    for place, req in _declared(dep.name):
        low = _floor(req)
        assert dep.specifier.contains(low, prereleases=True), \
            f"{place}: {req} allows {dep.name} {low}, which {name} {release} (the {name} floor) refuses: it requires {needs}"


def test_every_dependency_has_a_lower_bound():
    for place, req in _requirements():
        assert _floor(req) is not None, f"{place}: {req} has no lower bound"


def test_installed_versions_are_within_the_declared_ranges():
    """The environment the suite runs in holds versions pyproject.toml allows (extras: where
    installed), so that a pass here says something about the declared ranges."""
    bad = []
    for place, req in _requirements():
        try:
            have = metadata.version(req.name)
        except metadata.PackageNotFoundError:
            assert place != "dependencies", f"{req.name} (a core dependency) is not installed"
            continue
        if not req.specifier.contains(have, prereleases=True):
            bad.append(f"{place}: {req.name} {have} is outside {req}")
    assert not bad, bad
