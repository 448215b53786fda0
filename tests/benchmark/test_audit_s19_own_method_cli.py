"""Session 19 audit, a researcher's own method through ``mutualfuse benchmark``: ``--import`` of a
module in the working folder (the installed command has no working folder on its path), of a
file and of a package folder, also with ``-j 2``; one line naming the file and line of a failed
import or of a method's exception; ``--methods`` / ``--param`` in any case and with dotted
names; and the examples of docs/benchmark.md, "Your own method", run as written."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark.table import read_csv

ROOT = Path(__file__).resolve().parents[2]
#: the installed `mutualfuse` command: like it, `-P` leaves the working folder off sys.path
CLI = [sys.executable, "-P", "-m", "mutualfuse"]

AVG = textwrap.dedent('''
    from mutualfuse.methods import register_method

    @register_method("{name}", family="pixel")
    def fuse(a, b, w=0.5):
        return w * a + (1 - w) * b
''')


@pytest.fixture()
def root(tmp_path):
    rng = np.random.default_rng(7)
    for n, (h, w) in {"01": (80, 96), "02": (64, 72), "03": (88, 80)}.items():
        for role in ("ir", "vis"):
            d = tmp_path / "data" / "ir-vis" / "tno" / role
            d.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 256, (h, w)).astype(np.uint8)).save(d / f"{n}.png")
    (tmp_path / "nofig.yaml").write_text("figures: []\n")
    (tmp_path / "work").mkdir()
    return tmp_path


def _env(root, **extra):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(OMP_NUM_THREADS="1", XDG_CACHE_HOME=str(root / "xdg"),
               PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""), **extra)
    if os.environ.get("PYTHONPATH"):  # the suite's own path (a checkout run without installing), not the user's
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def _bench(root, *args, cwd=None, out="out"):
    cmd = CLI + ["benchmark", "--data-root", str(root / "data"), "--out", str(root / out), "--cache",
                 str(root / "cache"), "--tables", "1", "--weights", "none", "--fast-metrics",
                 "--figures", str(root / "nofig.yaml"), "-q", *args]
    return subprocess.run(cmd, cwd=cwd or root / "work", env=_env(root), capture_output=True, text=True, timeout=600)


def _values(root, out="out"):
    return read_csv((root / out / "tables" / "table1.csv").read_text()).values


@pytest.mark.slow
def test_import_a_module_of_the_working_folder_a_file_and_a_package_also_with_two_workers(root):
    """`--import mymethod` beside the module failed (ModuleNotFoundError) unless PYTHONPATH was
    set, and `--import mymethod.py` was a TypeError about relative imports."""
    (root / "work" / "mymethod.py").write_text(AVG.format(name="mine"))
    pkg = root / "elsewhere" / "fusionpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import impl\n")
    (pkg / "impl.py").write_text(AVG.format(name="pkgavg"))
    p = _bench(root, "--import", "mymethod", "--import", str(pkg), "--methods", "AVERAGE,Mine,pkgavg", "-j", "2")
    assert p.returncode == 0, p.stderr
    v = _values(root)
    assert set(v) == {"AVERAGE", "MINE", "PKGAVG"}
    assert v["MINE"] == v["AVERAGE"] == v["PKGAVG"]
    p = _bench(root, "--import", "./mymethod.py", "--methods", "mine", "--param", "MINE.w=1", "-j", "2", out="o2")
    assert p.returncode == 0, p.stderr
    assert set(_values(root, "o2")) == {"MINE(w=1)"}


@pytest.mark.parametrize("files, spec, said", [
    ({"broken.py": "import numpy\n\nraise RuntimeError('oops at import')\n"}, "broken",
     r"--import broken: RuntimeError: oops at import \(.*broken\.py, line 3\)$"),
    ({"syn.py": "def f(:\n"}, "syn.py", r"--import syn\.py: SyntaxError: invalid syntax \(.*syn\.py, line 1\)$"),
    ({"needs.py": "import numpy\nimport no_such_dependency_s19\n"}, "needs",
     r"--import needs: ModuleNotFoundError: No module named 'no_such_dependency_s19' \(.*needs\.py, line 2\)$"),
    ({}, "nosuch_s19", r"--import nosuch_s19: no module named 'nosuch_s19' on the Python path or in the working "
                       r"folder .* \(give its file, --import path/to/nosuch_s19\.py, or add its folder to PYTHONPATH\)$"),
    ({"clash.py": AVG.format(name="DWT")}, "clash.py",
     r"--import clash\.py: ValueError: fusion method 'DWT' is already registered as 'dwt' \(names are "
     r"case-insensitive\) by mutualfuse\.methods\.classical\.wavelet\.dwt: choose another name \(.*clash\.py, line 4\)$"),
])
def test_a_failed_import_is_one_line_naming_the_file_and_line(root, files, spec, said):
    for name, text in files.items():
        (root / "work" / name).write_text(text)
    p = _bench(root, "--import", spec)
    assert p.returncode == 2 and p.stdout == "", p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mutualfuse: error: "), p.stderr
    assert re.search(said, lines[0]), lines[0]
    assert not (root / "out").exists()


@pytest.mark.slow
def test_dotted_names_case_and_a_raising_method(root):
    """`--param my.avg.w=0.25` named a method 'my' (the key was split at the first dot); a
    method's exception is a problem of each pair that says where it was raised."""
    (root / "work" / "plug.py").write_text(AVG.format(name="my.avg") + textwrap.dedent('''
        @register_method("fragile", family="pixel")
        def fragile(a, b):
            if a.shape == (64, 72):
                raise RuntimeError("cannot do 72x64")
            return a
    '''))
    p = _bench(root, "--import", "plug.py", "--methods", "LP,MY.AVG,fragile", "--param", "MY.AVG.w=0.25")
    assert p.returncode == 1, p.stderr
    assert set(_values(root)) == {"LP", "MY.AVG(w=0.25)", "FRAGILE"}
    assert re.search(r"method:fragile on ir-vis/tno/02: RuntimeError: cannot do 72x64 \(.*plug\.py, line 11\)", p.stderr)


@pytest.mark.slow
def test_the_docs_examples_run_as_written(root):
    """docs/benchmark.md, "Your own method": the module, the two commands, the Python example
    and the --fused commands (with a copy of shipped weights as the user's my.safetensors)."""
    from mutualfuse.weights import shipped_path

    text = (ROOT / "docs" / "benchmark.md").read_text()
    section = text[text.index("## Your own method"):text.index("## Paper vs reproduced")]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    # the fourth block (the other commands' --import) is run by tests/cli/test_own_method_import.py
    assert [lang for lang, _ in blocks] == ["python", "sh", "python", "sh", "sh"]
    work = root / "work"
    module, commands, script, _other_commands, fused = (b for _, b in blocks)
    assert module.startswith("# mymethod.py\n")
    (work / "mymethod.py").write_text(module)
    env = _env(root, MUTUALFUSE_DATA=str(root / "data"))
    p = subprocess.run(["bash", "-e", "-c", commands.replace("mutualfuse ", " ".join(CLI) + " ")], cwd=work, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert set(read_csv((work / "bench" / "tables" / "table1.csv").read_text()).values) == {"LP", "MINE(w=0.3)"}
    p = subprocess.run([sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    t = read_csv((work / "bench" / "tables" / "table1.csv").read_text())
    assert float(p.stdout.strip().splitlines()[-1]) == t.values["MINE(w=0.3)"][[h.split()[0] for h in t.headings].index("EI")]
    shutil.copy(shipped_path("default"), work / "my.safetensors")
    p = subprocess.run(["bash", "-e", "-c", fused.replace("mutualfuse ", " ".join(CLI) + " ")], cwd=work, env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert sorted(x.name for x in (work / "mine" / "ir-vis" / "tno").iterdir()) == ["01.png", "02.png", "03.png"]
    v = read_csv((work / "bench" / "tables" / "table1.csv").read_text()).values
    assert set(v) == {"LP", "mine"} and None not in v["mine"]


@pytest.mark.slow
def test_workers_import_the_module_of_a_method_the_caller_imported(root):
    """From Python, `import mymethod` then run_benchmark(jobs=2) without imports=: the workers did
    not have the method, and every pair failed with 'unknown method or weights'."""
    (root / "work" / "mymethod.py").write_text(AVG.format(name="mine"))
    script = textwrap.dedent(f'''
        import mymethod
        from mutualfuse.benchmark import BenchmarkConfig, run_benchmark
        out = run_benchmark(BenchmarkConfig(data_root={str(root / "data")!r}, out="out", cache="cache", jobs=2,
                                            tables=("table1",), methods=["mine"], weights=[], fast_metrics=True,
                                            figures_config={str(root / "nofig.yaml")!r}, progress=False))
        print(out.problems, out.stats["fused_computed"])
    ''')
    p = subprocess.run([sys.executable, "-c", script], cwd=root / "work", env=_env(root), capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1] == "[] 3"
