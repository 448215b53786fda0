"""A researcher's own fusion method on the fusing commands: ``--import MODULE`` on ``fuse``,
``fuse-dir``, ``fuse-stack`` and ``methods`` (only ``benchmark`` had it: the others could not name
a method of one's own), a module of the working folder or a ``.py`` file, applied before
``--method`` is looked up; one-line errors (exit 2) for a failed import, an unknown method (naming
the candidates, the imported ones included) and a result that breaks the method contract; every
``torchrun`` rank of ``fuse-dir`` imports the module; the docs' examples run as written."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from one_line_error import assert_one_line_error  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]

MODULE = textwrap.dedent('''
    from mutualfuse.methods import register_method

    @register_method("{name}", family="pixel")
    def fuse(a, b, w=0.25):
        return w * a + (1 - w) * b

    @register_method("{name}255", family="pixel")
    def fuse255(a, b):
        return 255 * a
''')


@pytest.fixture()
def own(tmp_path, monkeypatch):
    """A working folder holding a module that registers ``<name>`` (a weighted mean) and
    ``<name>255`` (a result on the 0-255 scale), 3 gray pairs in A/ and B/; the registry,
    ``sys.modules`` and ``sys.path`` are restored afterwards."""
    from mutualfuse.methods import METHODS

    saved, path, mods = dict(METHODS._entries), list(sys.path), set(sys.modules)
    tag = uuid.uuid4().hex[:8]
    name, modname = f"own{tag}", f"ownmod{tag}"
    work = tmp_path / "work"
    work.mkdir()
    (work / f"{modname}.py").write_text(MODULE.format(name=name))
    rng = np.random.default_rng(3)
    for d in ("A", "B"):
        (work / d).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (40, 52), dtype=np.uint8)).save(work / d / f"p{i}.png")
    monkeypatch.chdir(work)
    yield work, name, modname
    METHODS._entries.clear()
    METHODS._entries.update(saved)
    sys.path[:] = path
    for m in set(sys.modules) - mods:
        if m.startswith("ownmod") or m.startswith("broken"):
            del sys.modules[m]


def _gray(p) -> np.ndarray:
    return np.asarray(Image.open(p)).astype(np.float64)


def _expected(work: Path, i: int, w: float = 0.25) -> np.ndarray:
    return np.clip(np.round(w * _gray(work / "A" / f"p{i}.png") + (1 - w) * _gray(work / "B" / f"p{i}.png")), 0, 255)


def _check(out: Path, work: Path, i: int, w: float = 0.25) -> None:
    # 8-bit output of a float mean of 8-bit inputs: within one grey level of the rounded mean
    assert np.abs(_gray(out) - _expected(work, i, w)).max() <= 1


@pytest.mark.parametrize("how", ["name", "file"])
def test_fuse_with_a_method_of_a_module_of_the_working_folder_or_a_file(own, capsys, how):
    work, name, modname = own
    spec = modname if how == "name" else str(work / f"{modname}.py")
    assert main(["fuse", "A/p0.png", "B/p0.png", "-o", "out.png", "--method", name, "--import", spec, "-q"]) == 0
    _check(work / "out.png", work, 0)
    assert main(["fuse", "A/p1.png", "B/p1.png", "-o", "out1.png", "--method", name, "--param", "w=0.5",
                 "--import", spec, "-q"]) == 0
    _check(work / "out1.png", work, 1, 0.5)


@pytest.mark.parametrize("how", ["name", "file"])
def test_fuse_dir_with_a_method_of_one_s_own(own, capsys, how):
    work, name, modname = own
    spec = modname if how == "name" else f"./{modname}.py"
    assert main(["fuse-dir", "A", "B", "-o", "out", "--method", name, "--import", spec]) == 0
    assert "fused 3, skipped 0 already done, failed 0" in capsys.readouterr().out
    for i in range(3):
        _check(work / "out" / f"p{i}.png", work, i)


@pytest.mark.parametrize("how", ["name", "file"])
def test_fuse_stack_with_a_method_of_one_s_own(own, capsys, how):
    work, name, modname = own
    spec = modname if how == "name" else f"{modname}.py"
    assert main(["fuse-stack", "A/p0.png", "B/p0.png", "-o", "st.png", "--method", name, "--import", spec]) == 0
    assert "(2 images, 1 fusion," in capsys.readouterr().out
    _check(work / "st.png", work, 0)


@pytest.mark.parametrize("how", ["name", "file"])
def test_methods_lists_it_and_shows_its_card(own, capsys, how):
    work, name, modname = own
    spec = modname if how == "name" else str(work / f"{modname}.py")
    assert main(["methods", "--import", spec]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^{name} +pixel +\(your method: {modname}\.fuse\)$", out, re.M), out
    assert main(["methods", "--card", name, "--import", spec]) == 0
    card = capsys.readouterr().out
    assert card.startswith(f"method {name}\n") and re.search(r"^ +w +default 0\.25", card, re.M), card


def test_without_import_the_method_is_unknown_and_the_error_says_import(own, capsys):
    work, name, modname = own
    assert_one_line_error(capsys, ["fuse", "A/p0.png", "B/p0.png", "-o", "o.png", "--method", name],
                          f"unknown fusion method {name!r}", "--import its module")
    assert_one_line_error(capsys, ["methods", "--card", name], name, "--import its module")


@pytest.mark.parametrize("cmd", [["fuse", "A/p0.png", "B/p0.png", "-o", "o.png"],
                                 ["fuse-dir", "A", "B", "-o", "od"],
                                 ["fuse-stack", "A", "-o", "o.png"],
                                 ["methods"]])
def test_an_unknown_method_after_import_names_the_candidates(own, capsys, cmd):
    work, name, modname = own
    typo = name[:-1] + ("x" if name[-1] != "x" else "y")
    opt = ["--card", typo] if cmd == ["methods"] else ["--method", typo]
    err = assert_one_line_error(capsys, [*cmd, *opt, "--import", modname], repr(typo) if cmd != ["methods"] else typo,
                                f"did you mean {name}", "average")
    assert f"{name}255" in err  # the imported methods are among the candidates
    assert not (work / "o.png").exists() and not (work / "od").exists()


@pytest.mark.parametrize("cmd", [["fuse", "A/p0.png", "B/p0.png", "-o", "o.png", "--method", "average"],
                                 ["fuse-dir", "A", "B", "-o", "od", "--method", "average"],
                                 ["fuse-stack", "A", "-o", "o.png", "--method", "average"],
                                 ["methods"]])
def test_a_failed_import_is_one_line_naming_the_file_and_line(own, capsys, cmd):
    work, name, modname = own
    bad = work / f"broken{name}.py"
    bad.write_text("import numpy\n\nraise RuntimeError('no weights here')\n")
    assert_one_line_error(capsys, [*cmd, "--import", bad.stem], f"--import {bad.stem}: RuntimeError: no weights here",
                          f"({bad}, line 3)")
    assert_one_line_error(capsys, [*cmd, "--import", "nosuchmodule_zz"], "--import nosuchmodule_zz: no module named",
                          "working folder")
    assert_one_line_error(capsys, [*cmd, "--import", "missing/nosuch.py"], "--import missing/nosuch.py: no such file")
    assert not (work / "o.png").exists() and not (work / "od").exists()


@pytest.mark.parametrize("cmd", [["fuse", "A/p0.png", "B/p0.png", "-o", "o.png"],
                                 ["fuse-dir", "A", "B", "-o", "od"],
                                 ["fuse-stack", "A", "-o", "o.png"]])
def test_a_result_on_the_0_255_scale_is_one_line_and_nothing_is_written(own, capsys, cmd):
    """fuse-dir listed the same failure once per pair (3 lines under a header); it now calls the
    method once on a test pair before any work."""
    work, name, modname = own
    assert_one_line_error(capsys, [*cmd, "--method", f"{name}255", "--import", modname],
                          f"method '{name}255' ({modname}.fuse255)", "0-255 scale")
    assert not (work / "o.png").exists() and not (work / "od").exists()


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    if os.environ.get("PYTHONPATH"):  # the suite's own path (a checkout run without installing)
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def test_the_installed_command_finds_a_module_of_the_working_folder(own):
    """As the installed `mutualfuse` (`-P`: the working folder is not on its path)."""
    work, name, modname = own
    p = subprocess.run([sys.executable, "-P", "-m", "mutualfuse", "fuse-dir", "A", "B", "-o", "out", "--method", name,
                        "--import", modname, "-q"], cwd=work, env=_env(), capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", p
    for i in range(3):
        _check(work / "out" / f"p{i}.png", work, i)


def test_fuse_dir_under_torchrun_every_rank_imports_the_module(own):
    """Two processes (torchrun ranks, gloo on CPU): each rank runs the command and imports the
    module; rank 0's summary counts both shards."""
    work, name, modname = own
    p = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
                        "-m", "mutualfuse", "fuse-dir", "A", "B", "-o", "out", "--method", name, "--import",
                        f"{modname}.py", "--device", "cpu"], cwd=work, env=_env(), capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("fused 3, skipped 0 already done, failed 0") == 1, p.stdout
    for i in range(3):
        _check(work / "out" / f"p{i}.png", work, i)


def test_the_docs_examples_run_as_written(own):
    """docs/benchmark.md, 'Your own method': the block of fuse, fuse-dir, fuse-stack and methods
    commands (the module mymethod.py of the section's first block, in the working folder)."""
    work, name, modname = own
    text = (ROOT / "docs" / "benchmark.md").read_text()
    section = text[text.index("## Your own method"):text.index("## Paper vs reproduced")]
    module = re.search(r"```python\n(# mymethod\.py\n.*?)```", section, re.S).group(1)
    block = re.search(r"```sh\n(mutualfuse fuse .*?)```", section, re.S).group(1)
    for cmd in ("fuse ", "fuse-dir ", "fuse-stack ", "methods "):
        assert f"mutualfuse {cmd}" in block, cmd
    (work / "mymethod.py").write_text(module)
    (work / "ir.png").write_bytes((work / "A" / "p0.png").read_bytes())
    (work / "vis.png").write_bytes((work / "B" / "p0.png").read_bytes())
    for d, src in (("ir", "A"), ("vis", "B"), ("stack", "A")):
        (work / d).mkdir()
        for f in (work / src).iterdir():
            (work / d / f.name).write_bytes(f.read_bytes())
    cli = " ".join(shlex.quote(a) for a in [sys.executable, "-P", "-m", "mutualfuse"])
    p = subprocess.run(["bash", "-e", "-c", block.replace("mutualfuse ", cli + " ")], cwd=work, env=_env(),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    assert (work / "fused.png").is_file() and (work / "edf.png").is_file()
    assert sorted(f.name for f in (work / "fused").iterdir()) == ["p0.png", "p1.png", "p2.png"]
    assert re.search(r"^mine +pixel", p.stdout, re.M), p.stdout
