"""s23: a metric of one's own (``register_metric``) and any other registered metric as extra columns
of ``mutualfuse benchmark`` (``--extra-metrics KEY``; the benchmark always printed the paper's columns
only).

The extra columns come after the paper's, whose columns, order and values are unchanged; a note under
the table says whose metric a column is and that one's own is unchecked (Markdown, CSV header,
LaTeX). The values are cached: the built-in entries keep their names (a run without the option, then
one with it, computes only the new columns), and a metric of one's own is cached under its key and the
digest of its module, so an edit of the module recomputes its column (and only it). Unknown,
ambiguous or profile names are one line (exit 2, nothing written); a metric of one's own that fails on
a pair leaves its own cell empty, with a note and a problem line (exit 1), not the paper's columns."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mutualfuse.benchmark.table import read_csv, read_latex, read_markdown

sys.path.insert(0, str(Path(__file__).resolve().parent))
from one_line_error import assert_one_line_error  # noqa: E402
from registry_state import registries_restored  # noqa: E402
from bench_roots import tno_pairs  # noqa: E402  (tests/ is on sys.path)

CLI = [sys.executable, "-m", "mutualfuse"]
#: Table 1 without VIF (--fast-metrics)
PAPER = ["EI", "CE", "SF", "EN", "Qabf", "MS_SSIM", "SD"]
SIZES = {"01": (64, 72), "02": (56, 60), "03": (68, 64)}

MODULE = textwrap.dedent('''
    from mutualfuse.metrics import register_metric

    OFFSET = {offset}

    @register_metric("{name}", direction="higher", uses_sources=True)
    def amean(a, b, f):
        if a.shape == {fail!r}:
            raise ValueError("cannot score this pair")
        return float(a.mean()) + OFFSET
''')


@pytest.fixture()
def root(tmp_path):
    return tno_pairs(tmp_path, 11, SIZES)


def _a_mean(root) -> float:
    """The expected column of ``amean`` (OFFSET 0): the mean over the pairs of the infrared image's mean."""
    return float(np.mean([np.asarray(Image.open(p), dtype=np.float64).mean()
                          for p in sorted((root / "data" / "ir-vis" / "tno" / "ir").glob("*.png"))]))


def _args(root, out, *extra):
    return ["benchmark", "--data-root", str(root / "data"), "--out", str(root / out), "--cache", str(root / "cache"),
            "--tables", "1", "--weights", "none", "--methods", "average,max", "--fast-metrics",
            "--figures", str(root / "nofig.yaml"), *extra]


def _bench(root, out, *extra):
    env = dict(os.environ, OMP_NUM_THREADS="1", XDG_CACHE_HOME=str(root / "xdg"))
    return subprocess.run(CLI + _args(root, out, *extra), cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def _computed(stdout: str) -> int:
    m = re.search(r"(\d+) metric values computed", stdout)
    assert m, stdout
    return int(m.group(1))


def _cache(root) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in (root / "cache" / "metrics").rglob("*.json")}


def test_extra_columns_after_the_papers_cached_by_the_modules_digest(root):
    (root / "mymetric.py").write_text(MODULE.format(name="Amean@own", offset=0, fail=None))
    p = _bench(root, "plain", "-q")
    assert p.returncode == 0, p.stderr
    plain_csv = (root / "plain" / "tables" / "table1.csv").read_text()
    before = _cache(root)

    # the extra columns, after the paper's: a metric of one's own and a built-in key (any case)
    p = _bench(root, "out", "--import", "mymetric.py", "--extra-metrics", "amean@own,qcb@liu")
    assert p.returncode == 0, p.stderr
    assert _computed(p.stdout) == 2 * 3 * 2  # only the two new columns: the paper's values were cached
    tdir = root / "out" / "tables"
    csv = read_csv((tdir / "table1.csv").read_text())
    plain = read_csv(plain_csv)
    assert [h.split()[0] for h in csv.headings] == PAPER + ["Amean@own", "Qcb@liu"]
    assert csv.headings[:len(PAPER)] == plain.headings
    for row in ("AVERAGE", "MAX"):
        assert csv.values[row][:len(PAPER)] == plain.values[row]  # the paper's columns untouched
        assert csv.values[row][len(PAPER)] == pytest.approx(_a_mean(root), rel=1e-12)
        assert csv.values[row][-1] is not None
    md = (tdir / "table1.md").read_text()
    assert read_markdown(md).headings == csv.headings
    assert [h.split("$")[0].replace("\\", "") for h in read_latex((tdir / "table1.tex").read_text()).headings][-2:] \
        == ["Amean@own", "Qcb@liu"]
    own = next(ln for ln in md.splitlines() if ln.startswith("- Amean@own:"))
    assert "of your own (mymetric.amean)" in own and "unchecked" in own and "not in the paper's table" in own
    assert any(ln.startswith("- Qcb@liu: checked against") for ln in md.splitlines()), md
    assert "Amean@own: a metric of your own" in (tdir / "table1.tex").read_text()
    # the built-in entries keep their names and values; the metric of one's own is cached as key#digest
    after = _cache(root)
    assert set(after) == set(before)
    owns = set()
    for name, doc in after.items():
        assert {k: v for k, v in doc.items() if k in before[name]} == before[name]
        assert set(doc) - set(before[name]) - {"Qcb@liu"} == {k for k in doc if k.startswith("Amean@own#")}
        owns |= {k for k in doc if k.startswith("Amean@own#")}
    assert len(owns) == 1

    # unchanged: nothing computed; the module edited: its column (only) computed again, never the stale values
    p = _bench(root, "out", "--import", "mymetric.py", "--extra-metrics", "Amean@own", "Qcb@liu")
    assert p.returncode == 0 and _computed(p.stdout) == 0, p.stderr
    (root / "mymetric.py").write_text(MODULE.format(name="Amean@own", offset=1000, fail=None))
    p = _bench(root, "out", "--import", "mymetric.py", "--extra-metrics", "Amean@own", "Qcb@liu")
    assert p.returncode == 0, p.stderr
    assert _computed(p.stdout) == 2 * 3
    again = read_csv((tdir / "table1.csv").read_text())
    for row in ("AVERAGE", "MAX"):
        assert again.values[row][len(PAPER)] == pytest.approx(_a_mean(root) + 1000, rel=1e-12)
        assert again.values[row][:len(PAPER)] == plain.values[row]
        assert again.values[row][-1] == csv.values[row][-1]
    assert len({k for doc in _cache(root).values() for k in doc if k.startswith("Amean@own#")}) == 2


def test_a_failing_metric_of_ones_own_leaves_its_cell_empty_not_the_papers(root):
    (root / "failing.py").write_text(MODULE.format(name="Fails@own", offset=0, fail=SIZES["02"]))
    p = _bench(root, "out", "-q", "--import", "failing.py", "--extra-metrics", "Fails@own")
    assert p.returncode == 1, p.stderr
    problems = [ln for ln in p.stderr.splitlines() if "Fails@own" in ln]
    assert len(problems) == 2 and all("cannot score this pair" in ln and "failing.py, line" in ln
                                       for ln in problems), p.stderr
    assert "Traceback" not in p.stderr
    csv = read_csv((root / "out" / "tables" / "table1.csv").read_text())
    for row in ("AVERAGE", "MAX"):
        assert csv.values[row][-1] is None
        assert None not in csv.values[row][:-1]
    md = (root / "out" / "tables" / "table1.md").read_text()
    assert "Fails@own failed on 1 of 3 pairs (first: 02: metric 'Fails@own' (failing.amean) failed" in md
    assert "†" not in md  # the rows are whole: only the extra cell is empty


@pytest.fixture()
def registries():
    with registries_restored("s23um"):
        yield


@pytest.mark.parametrize("names, said", [
    (["Nope@own"], "--extra-metrics: unknown metric 'Nope@own'"),
    (["Qcb"], "--extra-metrics: metric 'Qcb' is ambiguous: use one of Qcb@vifb, Qcb@liu"),
    (["qabf@vifb", "Paper"], "--extra-metrics Paper: 'paper' is a metric profile, not a metric"),
    ([","], "--extra-metrics ',' names no metric"),
])
def test_unknown_ambiguous_or_profile_names_are_one_line(root, capsys, registries, names, said):
    mod = f"s23um{uuid.uuid4().hex[:8]}"
    (root / f"{mod}.py").write_text(MODULE.format(name=f"{mod}@own", offset=0, fail=None))
    err = assert_one_line_error(capsys, _args(root, "out", "--import", str(root / f"{mod}.py"),
                                              "--extra-metrics", *names), said)
    assert not (root / "out").exists(), err
