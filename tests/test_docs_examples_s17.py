"""The examples of docs/inputs, architecture, baselines, benchmark, web, metrics and ablations.md
still work as written (docs audit, session 17; since session 23 the option checks also read
docs/training.md, docs/dependency-floors.md and README.md, and the fenced ``mutualfuse`` lines of
inputs, metrics, training.md and the README are parsed too).

* every ``--option`` these pages name exists: in the command line it is written with
  (``mutualfuse CMD --opt``, ``python benchmarks/X.py --opt``), else in some ``mutualfuse``
  command, a ``benchmarks/`` or ``scripts/`` file, or an external tool the page runs (torchrun,
  Chromium, Octave);
* every ``mutualfuse`` line of their fenced shell blocks parses with the real parser;
* their Python blocks run on the bundled samples (baselines.md, metrics.md, benchmark.md's
  ``mymethod.py`` in a fresh process, since it registers a method);
* the error messages and the measured agreement table of baselines.md are what the code gives.

Cheap: the bundled samples and the committed reference files only, no shared data.
"""
from __future__ import annotations

import argparse
import ast
import re
import shlex
import subprocess
import sys
import textwrap
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["inputs.md", "architecture.md", "baselines.md", "benchmark.md", "web.md", "metrics.md",
         "ablations.md", "training.md", "dependency-floors.md", "README.md"]
FENCE = re.compile(r"^ *```(\w*)\n(.*?)^ *```", flags=re.S | re.M)  # also indented (in a list)
OPTION = re.compile(r"(?<![\w-])(--[a-z][\w-]*)")
# options of tools the pages run that are neither mutualfuse's nor a script's of this repository
EXTERNAL = {
    "torchrun": {"--standalone", "--nproc-per-node", "--nnodes", "--node-rank", "--rdzv-backend",
                 "--rdzv-endpoint", "--rdzv-id"},
    "chromium (web.md, the browser test)": {"--headless", "--no-sandbox", "--disable-gpu",
                                            "--disable-quic", "--no-first-run",
                                            "--disable-background-networking",
                                            "--disable-component-update", "--disable-sync",
                                            "--user-data-dir", "--window-size"},
    "octave-cli / mkoctfile (metrics.md)": {"--no-gui", "--norc", "--mex"},
    "pip (README.md, dependency-floors.md)": {"--index-url", "--no-deps", "--only-binary"},
}


def _text(page: str) -> str:
    """A page of docs/, or the README."""
    return (ROOT / ("README.md" if page == "README.md" else f"docs/{page}")).read_text(encoding="utf-8")


def _blocks(page: str, langs: tuple[str, ...]) -> list[str]:
    return [textwrap.dedent(body) for lang, body in FENCE.findall(_text(page)) if lang in langs]


def _spans(page: str) -> list[str]:
    """Inline code spans (outside fenced blocks), whitespace collapsed."""
    prose = FENCE.sub("", _text(page))
    return [" ".join(s.split()) for s in re.findall(r"`([^`]+)`", prose)]


def _shell_lines(page: str) -> list[str]:
    lines = []
    for body in _blocks(page, ("sh", "bash")):
        body = body.replace("\\\n", " ")
        lines += [line.split("  #")[0].strip() for line in body.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    from mutualfuse.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings}


def _script_sources() -> dict[str, str]:
    paths = [*ROOT.glob("benchmarks/*.py"), *ROOT.glob("scripts/*.py"), *ROOT.glob("tests/**/*.py")]
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in paths}


def _quoted(source: str, option: str) -> bool:
    return f'"{option}"' in source or f"'{option}'" in source


def test_the_pages_have_examples():
    assert sum(len(_shell_lines(p)) for p in PAGES) >= 15
    assert len(_blocks("baselines.md", ("python",))) == 1
    assert len(_blocks("metrics.md", ("python",))) == 1


def test_every_option_the_pages_name_exists():
    subs = _subcommands()
    cli = set().union(*(_options(p) for p in subs.values()))
    sources = _script_sources()
    external = set().union(*EXTERNAL.values())
    unknown = []
    for page in PAGES:
        for opt in sorted(set(OPTION.findall(_text(page)))):
            if opt in cli or opt in external or any(_quoted(s, opt) for s in sources.values()):
                continue
            unknown.append(f"{page}: {opt}")
    assert not unknown, f"options named in the docs that nothing accepts: {unknown}"


def test_options_belong_to_the_command_they_are_written_with():
    """``mutualfuse fuse-video … --crf``, ``export-onnx --opset``, ``python scripts/X.py --opt``:
    the option is one of that command's (a span or line naming a command: its options after it)."""
    subs = _subcommands()
    sources = _script_sources()
    names = "|".join(sorted(map(re.escape, subs), key=len, reverse=True))
    command = re.compile(rf"(?:^|mutualfuse |-m mutualfuse )({names})(?= |$)(.*)")
    script = re.compile(r"((?:benchmarks|scripts|tests)/[\w/]+\.py)(.*)")
    wrong, checked = [], 0
    for page in PAGES:
        for text in _spans(page) + _shell_lines(page):
            m = command.search(text)
            if m and (m.start(1) > 0 or text.startswith(m.group(1) + " -")):
                known = _options(subs[m.group(1)])
                for opt in OPTION.findall(m.group(2)):
                    checked += 1
                    if opt not in known:
                        wrong.append(f"{page}: `{text}`: {opt} is not an option of {m.group(1)}")
            m = script.search(text)
            if m and m.group(1) in sources:
                for opt in OPTION.findall(m.group(2)):
                    checked += 1
                    if not _quoted(sources[m.group(1)], opt):
                        wrong.append(f"{page}: `{text}`: {m.group(1)} has no {opt}")
    assert checked >= 60
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("page", ["baselines.md", "benchmark.md", "web.md", "ablations.md", "inputs.md",
                                  "metrics.md", "training.md", "README.md"])
def test_fenced_mutualfuse_lines_parse(page):
    from mutualfuse.cli import build_parser

    lines = [line for line in _shell_lines(page) if re.search(r"(?:^|-m )mutualfuse ", line)]
    assert lines
    for line in lines:
        args = shlex.split(re.split(r"(?:^|-m )mutualfuse ", line, maxsplit=1)[1])
        assert callable(build_parser().parse_args(args).func), line


def _sample(name: str, crop: slice | None = None) -> tuple[np.ndarray, np.ndarray]:
    from mutualfuse.image_io import read_image

    a, b = (read_image(files("mutualfuse") / f"data/samples/{name}/{n}.png")[0] for n in "ab")  # [0, 1]
    if crop is not None:
        a, b = a[crop, crop], b[crop, crop]
    return a, b


def test_baselines_python_block_runs():
    a, b = _sample("ct-mr-c01", slice(96, 160))
    ns = {"a": a, "b": b}
    (block,) = _blocks("baselines.md", ("python",))
    exec(compile(block, "docs/baselines.md", "exec"), ns)  # noqa: S102 - the repository's own docs
    assert ns["f"].shape == a.shape and 0 <= ns["f"].min() and ns["f"].max() <= 1
    meta = ns["METHODS"].meta("gtf")
    comment = re.search(r'METHODS\.meta\("gtf"\)\s+# (.*)', block).group(1)
    assert {k.strip() for k in comment.split(",")} <= set(meta)


def test_baselines_error_messages_are_the_documented_ones():
    from mutualfuse.errors import InputError, ParameterError
    from mutualfuse.methods import METHODS, fuse_gray

    text = " ".join(_text("baselines.md").split())
    a, b = _sample("tno-01")
    quoted = re.search(r"\(`(method 'dwt': parameter levels [^`]*)`\)", text).group(1)
    with pytest.raises(ParameterError) as e:
        fuse_gray("dwt", a, b, levels=-1)
    assert str(e.value) == quoted
    quoted = re.search(r"\(`(scales=5, wedges=12 is too many [^`]*)`\)", text).group(1)
    with pytest.raises(ParameterError) as e:
        fuse_gray("cvt", a[:63, :200], b[:63, :200], wedges=12)
    assert quoted in str(e.value)
    assert "InputError` that starts with `method 'rp': `" in text
    with pytest.raises(InputError, match=r"^method 'rp': "):
        METHODS.get("rp")(np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8))


def test_baselines_agreement_table_is_what_the_documented_command_prints():
    """``python scripts/baseline_agreement.py`` (the committed references) against the table rows
    of the current code (not the 'before issue 14' / 'old default' / full-size rows)."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "baseline_agreement.py")],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    printed = {}
    for line in out.splitlines():
        m = re.match(r"(\w+)\s+ir-vis/tno/05 crop .*\]\s+([\d.]+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)%$", line)
        if m:
            printed[m.group(1)] = m.groups()[1:]
    assert len(printed) == 8, out
    rows = {}
    for line in _text("baselines.md").splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if (len(cells) == 7 and cells[2].endswith("crop of TNO 05")
                and not re.search(r"before|old default", cells[1])):
            rows[cells[0].strip("`")] = cells[3:]
    assert set(rows) == set(printed)
    for method, (r, maxd, meand, differ) in printed.items():
        doc_r, doc_max, doc_mean, doc_differ = rows[method]
        assert float(doc_r) == pytest.approx(float(r), abs=5e-7), method
        assert int(doc_max) == int(maxd), method
        digits = len(doc_mean.split(".")[1]) if "." in doc_mean else 0
        assert float(doc_mean) == round(float(meand), digits), method
        doc_differ = doc_differ.rstrip(" %") or "0"
        assert float(doc_differ) == pytest.approx(float(differ), abs=0.005), method


def test_metrics_python_block_runs(tmp_path, monkeypatch):
    from PIL import Image

    from mutualfuse.methods import fuse_gray

    a, b = _sample("ct-mr-c01")
    f = fuse_gray("average", a, b)
    for name, x in (("ct.png", a), ("mr.png", b), ("fused.png", f)):
        Image.fromarray(np.round(x * 255).astype(np.uint8)).save(tmp_path / name)
    monkeypatch.chdir(tmp_path)
    (block,) = _blocks("metrics.md", ("python",))
    tree = ast.parse(block)
    for i, node in enumerate(tree.body):  # keep each bare expression's value: value_<line number>
        if isinstance(node, ast.Expr):
            tree.body[i] = ast.Assign([ast.Name(f"value_{node.lineno}", ast.Store())], node.value)
    ns: dict = {}
    exec(compile(ast.fix_missing_locations(tree), "docs/metrics.md", "exec"), ns)  # noqa: S102
    values = [v for k, v in ns.items() if k.startswith("value_")]
    assert len(values) == 4 and all(np.all(np.isfinite(list(np.atleast_1d(v)))) for v in values[:2])
    scores = next(v for v in values if isinstance(v, dict))
    keys = list(scores)
    assert keys[:2] == ["EI", "SF"] and keys[-1] == "VIF", keys  # the comment's {"EI", "SF", ..., "VIF"}
    assert all(np.isfinite(v) for v in scores.values())


def test_benchmark_mymethod_block_registers_its_method(tmp_path):
    (block,) = [b for b in _blocks("benchmark.md", ("python",)) if "# mymethod.py" in b]
    (tmp_path / "mymethod.py").write_text(block, encoding="utf-8")
    code = ("import sys, numpy as np; sys.path.insert(0, sys.argv[1]); import mymethod; "
            "from mutualfuse.methods import METHODS, fuse_gray; "
            "a = np.linspace(0, 1, 256).reshape(16, 16); b = a[::-1].copy(); "
            "assert 'mine' in METHODS.names(); "
            "assert np.allclose(fuse_gray('mine', a, b), (a + b) / 2); print('ok')")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_baselines_fuse_command_runs(tmp_path, monkeypatch, capsys):
    """baselines.md's ``mutualfuse fuse --method cbf a.png b.png -o fused.png``, with a.png and
    b.png the bundled IR/visible pair."""
    from mutualfuse.cli import main

    sample = files("mutualfuse") / "data/samples/tno-01"
    for n in "ab":
        (tmp_path / f"{n}.png").write_bytes((sample / f"{n}.png").read_bytes())
    (line,) = [x for x in _shell_lines("baselines.md") if x.startswith("mutualfuse fuse ")]
    monkeypatch.chdir(tmp_path)
    assert main(shlex.split(line)[1:]) == 0
    assert (tmp_path / "fused.png").stat().st_size > 0
    assert capsys.readouterr().out.startswith("fused.png  (")


def test_baselines_lp_constant_images_counts():
    """baselines.md, ``lp``: two constant images fuse to 0.5 except near the corners (es2's zero
    corners); the counted pixels and maxima are the documented ones."""
    from mutualfuse.methods import fuse_gray

    text = " ".join(_text("baselines.md").split())
    m = re.search(r"up to ([\d.]+) there .*?, (\d+) of the 3072 pixels of a 64x48 image off by more than half "
                  r"a grey level \((\d+) by a whole level or more\), (\d+) \((\d+)\) of the 65536 of a "
                  r"256x256 one; 0 and 1 give up to ([\d.]+)\. With `levels=1`, (\d+) pixels \((\d+)\)", text)
    assert m, "the lp paragraph of docs/baselines.md changed: update this test"
    peak, half64, whole64, half256, whole256, peak01, half1, whole1 = m.groups()

    def off(h, w, levels=4):
        d = np.abs(fuse_gray("lp", np.full((h, w), 0.3), np.full((h, w), 0.7), levels=levels) - 0.5) * 255
        return int((d > 0.5).sum()), int((d >= 1).sum()), float(d.max() / 255 + 0.5)

    assert off(48, 64)[:2] == (int(half64), int(whole64))
    assert round(off(48, 64)[2], 3) == float(peak)
    assert off(256, 256)[:2] == (int(half256), int(whole256))
    assert off(48, 64, levels=1)[:2] == (int(half1), int(whole1))
    assert round(float(fuse_gray("lp", np.zeros((48, 64)), np.ones((48, 64))).max()), 3) == float(peak01)


def test_python_names_the_pages_give_exist():
    """``mutualfuse.tasks.detect_task``, ``metrics.rgb2gray_matlab``, ``mutualfuse.io.atomic_write``
    …: every dotted name starting with ``mutualfuse.`` or ``metrics.`` in a code span resolves."""
    import importlib

    def resolve(name: str):
        parts = name.split(".")
        if parts[0] == "metrics":
            parts = ["mutualfuse", *parts]
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            for attr in parts[i:]:
                obj = getattr(obj, attr)
            return obj
        raise ImportError(name)

    names = {(page, n) for page in PAGES for span in _spans(page)
             for n in re.findall(r"(?<![\w.])((?:mutualfuse|metrics)(?:\.[A-Za-z_]\w*)+)", span)
             if not n.endswith(".md")}
    assert len(names) >= 20
    missing = []
    for page, name in sorted(names):
        try:
            resolve(name)
        except (ImportError, AttributeError) as e:
            missing.append(f"{page}: {name} ({e})")
    assert not missing, missing
