"""The figures quoted in docs/results/README.md and README.md are those of the files they come from
(session 26's number audit): the committed run's summary, the dtcwt-only pass's log, the runtime and
paper-vs-ours tables, the figure config and the registries.

Cheap: reads Markdown, CSV and YAML and the registries; the one test that needs the git history
(the full-precision bound of the dtcwt change) skips outside a git checkout.
"""
from __future__ import annotations

import csv
import io
import math
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "results"
DTCWT_LOG = ROOT / "runs-log" / "dtcwt_magnitude_20261206"


def _text(path: Path) -> str:
    # Line breaks and indentation of the Markdown source are not part of a sentence.
    return re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))


def _readme() -> str:
    return _text(RESULTS / "README.md")


def _summary_facts(path: Path) -> tuple[str, int, int, int]:
    text = path.read_text(encoding="utf-8")
    cmd = re.search(r"^Command: `([^`]+)`", text, re.M).group(1)
    m = re.search(r"Wall time (\d+) s; (\d+) fused images and (\d+) metric values computed", text)
    return cmd, int(m.group(1)), int(m.group(2)), int(m.group(3))


def _csv_rows(text: str) -> tuple[list[str], dict[str, list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], {r[0]: r for r in rows[1:]}


def test_the_dtcwt_only_pass_is_quoted_as_its_log_says():
    """It said 53 s and a command without -q; the log says 51 s and -q."""
    cmd, wall, _, _ = _summary_facts(DTCWT_LOG / "summary.md")
    m = re.search(r"pass of the new code \(`([^`]+)`, (\d+) s, this Intel Xeon", _readme())
    assert m, "docs/results/README.md: the dtcwt-only pass's sentence is gone"
    assert m.group(1) == cmd
    assert int(m.group(2)) == wall


def test_the_committed_run_is_quoted_as_its_summary_says():
    cmd, wall, fused, values = _summary_facts(RESULTS / "summary.md")
    text = _readme()
    m = re.search(r"\(`--out (\S+) -j 2 -q`, every registered method and every shipped weights file, the files "
                  r"then copied here\) on a 2-core Intel Xeon, from the cache the earlier passes left: (\d+) s wall, "
                  r"(\d+) fused images and (\d+) metric values computed", text)
    assert m, "docs/results/README.md: the committed run's paragraph is gone"
    assert cmd == f"mutualfuse benchmark --out {m.group(1)} -j 2 -q"
    assert (int(m.group(2)), int(m.group(3)), int(m.group(4))) == (wall, fused, values)


def _git_show(spec: str) -> str:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the pre-change CSV is in the history only")
    done = subprocess.run([git, "show", spec], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"git show {spec}: not in this clone's history")
    return done.stdout


def test_the_dtcwt_change_bound_covers_every_cell_that_kept_its_printed_value():
    """It said 'full precision moves by <= 1.3e-5'; Table 3's SD moved by 2.9e-5 and MI by 1.4e-5."""
    m = re.search(r"full precision moves by ≤ (\d(?:\.\d+)?)e-(\d+)", _readme())
    assert m, "docs/results/README.md: the full-precision bound of the dtcwt change is gone"
    bound = float(m.group(1)) * 10.0 ** -int(m.group(2))
    worst = 0.0
    for t in (1, 2, 3):
        head, old = _csv_rows(_git_show(f"7a5e30d:docs/results/tables/table{t}.csv"))
        head2, new = _csv_rows((DTCWT_LOG / f"table{t}.csv").read_text(encoding="utf-8"))
        assert head == head2
        for col, a, b in zip(head, old["method:dtcwt"], new["method:dtcwt"]):
            if "↑" not in col and "↓" not in col:
                continue
            if f"{float(a):.4f}" != f"{float(b):.4f}":
                continue  # the printed cell that moves is quoted on its own
            worst = max(worst, abs(float(a) - float(b)))
    assert worst > 0
    assert worst <= bound, f"the README's bound {bound:g} is below the largest move {worst:.3g}"
    assert bound < 1.1 * worst, f"the README's bound {bound:g} is loose against the largest move {worst:.3g}"


def test_the_asr_paper_comparison_counts_are_the_table():
    reader = list(csv.DictReader(io.StringIO((RESULTS / "tables" / "paper_vs_ours.csv").read_text(encoding="utf-8"))))
    asr = [r for r in reader if r["method"] == "ASR"]
    not_run = sum(r["status"] == "not run" for r in reader)
    text = _readme()
    m = re.search(r"its (\d+) cells of `paper_vs_ours`.*?all within (\d+\.\d+) %.*?; (\d+) cells \"not run\"", text)
    assert m, "docs/results/README.md: the ASR paper-comparison sentence is gone"
    assert int(m.group(1)) == len(asr) and int(m.group(3)) == not_run
    worst = max(abs(float(r["rel_diff"])) for r in asr) * 100
    quoted = float(m.group(2))
    # the largest relative difference rounded up to the quoted decimals, not a looser figure
    assert quoted == math.ceil(worst * 100) / 100, (quoted, worst)


def test_the_runtime_quotes_are_the_committed_runtime_table():
    reader = list(csv.DictReader(io.StringIO((RESULTS / "tables" / "runtime.csv").read_text(encoding="utf-8"))))
    s_per_mp = {r["method"]: float(r["s_per_mp"]) for r in reader}
    m = re.search(r"\(e\.g\. ASR (\S+) s/MP against \S+, CSR (\S+) against \S+, CBF (\S+) against \S+, "
                  r"MGFF (\S+) against \S+\)", _readme())
    assert m, "docs/results/README.md: the runtime comparison is gone"
    for name, quoted in zip(("ASR", "CSR", "CBF", "MGFF"), m.groups()):
        digits = len(quoted.split(".")[1]) if "." in quoted else 0
        assert abs(float(quoted) - s_per_mp[name]) <= 0.5 * 10.0 ** -digits + 1e-12, (name, quoted, s_per_mp[name])


def test_the_figure_and_ablation_counts_are_the_config_and_registry():
    import yaml

    from mutualfuse.weights import WEIGHTS

    text = _readme()
    figures = yaml.safe_load((ROOT / "configs" / "benchmark" / "figures.yaml").read_text(encoding="utf-8"))["figures"]
    m = re.search(r"`figures/` \((\d+) files of PNG and PDF: the (\d+) figures", text)
    assert m and int(m.group(1)) == 2 * len(figures) and int(m.group(2)) == len(figures)
    m = re.search(r"all (\d+) TNO pairs, the (\d+) shipped ablation weights", text)
    assert m
    ablation = [e.name for e in WEIGHTS if e.name.startswith("ablation-")]
    assert int(m.group(2)) == len(ablation)
    reader = list(csv.DictReader(io.StringIO((RESULTS / "ablations" / "table4.csv").read_text(encoding="utf-8"))))
    assert {int(r["n_pairs"]) for r in reader} == {int(m.group(1))}


def test_readme_names_every_shipped_model_and_the_bundled_pairs():
    from mutualfuse.weights import WEIGHTS

    text = _text(ROOT / "README.md")
    m = re.search(r"`docs/training\.md` — the shipped models \(([^)]*)\)", text)
    assert m, "README.md: the shipped models' list is gone"
    listed = re.findall(r"`([\w-]+)`", m.group(1))
    assert len(listed) == len(set(listed))
    assert set(listed) == {e.name for e in WEIGHTS if not e.name.startswith("ablation-")}
    samples = ROOT / "src" / "mutualfuse" / "data" / "samples"
    pairs = sorted(p.name for p in samples.iterdir() if (p / "a.png").is_file() and (p / "b.png").is_file())
    words = {2: "two", 3: "three", 4: "four", 5: "five"}
    assert f"the {words[len(pairs)]} bundled pairs" in text
    for name in pairs:
        assert f"`{name}`" in text, name
