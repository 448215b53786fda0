"""Session-21 ablation audit: scripts/ablation_verdicts.py, scripts/run_ablations.sh and
scripts/ship_ablations.py on bad input and on the cases where they were wrong, and the shipped
ablation weights against docs/ablations.md's table of variants.

The scripts are taken from ``$S21_ABL_SCRIPTS`` when set (a folder holding older copies, to check
that these tests fail on them), else from this checkout's scripts/."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(os.environ.get("S21_ABL_SCRIPTS", ROOT / "scripts"))
VERDICTS = SCRIPTS / "ablation_verdicts.py"
RUN = SCRIPTS / "run_ablations.sh"
HEAD = "row_id,method,kind,n_pairs,n_ok,EI ↑,CE ↓,note\n"


def _table(d: Path, n: int, rows: list[tuple[str, float, float]]) -> None:
    (d / "tables").mkdir(exist_ok=True)
    body = "".join(f"x,{label},ablation,21,21,{ei},{ce},\n" for label, ei, ce in rows)
    (d / "tables" / f"table{n}.csv").write_text(HEAD + body, encoding="utf-8")


def _verdicts(d: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(VERDICTS), str(d)], capture_output=True, text=True)


# --- ablation_verdicts.py -------------------------------------------------------------------

def test_pooled_seed_sd_counts_a_variant_shown_in_two_tables_once(tmp_path):
    # Concat (EI sd 1) is in Tables 5 and 6, Add (EI sd 0) only in Table 6: the pooled variance
    # is (1 + 0) / 2, s = 0.707; the script counted Concat twice: (1 + 1 + 0) / 3, s = 0.816.
    concat = [(f"Concat [ablation-var-concat-s{i}]", 50 + (i - 1), 1.0 + 0.01 * i) for i in range(3)]
    add = [(f"Add [ablation-var-add-s{i}]", 40.0, 1.0 + 0.01 * i) for i in range(3)]
    _table(tmp_path, 5, [(f"Ours(Var) [ablation-var-concat-s{i}]", e, c) for i, (_, e, c) in enumerate(concat)])
    _table(tmp_path, 6, add + concat)
    r = _verdicts(tmp_path)
    assert r.returncode == 0, r.stderr
    rule = r.stdout.splitlines()[0]
    assert "EI 0.707," in rule, rule


def test_differences_beyond_noise_in_both_directions_are_mixed_not_within_noise(tmp_path):
    # Table 5: Var better on EI, worse on CE, both far beyond the seed spread (p < 0.001): the
    # rule printed "within noise", which says no metric differs
    _table(tmp_path, 5, [(f"Ours(Mean) [m{i}]", 40 + 0.1 * i, 1.0 + 0.01 * i) for i in range(3)]
           + [(f"Ours(Var) [v{i}]", 45 + 0.1 * i, 1.5 + 0.01 * i) for i in range(3)])
    r = _verdicts(tmp_path)
    assert r.returncode == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if "Ours(Var) vs Ours(Mean)" in x)
    assert line.startswith("- **Ours(Var) vs Ours(Mean): mixed** — better beyond noise on EI; "
                           "worse beyond noise on CE;"), line
    # the p-values the verdict rests on follow it
    nxt = r.stdout.splitlines()[r.stdout.splitlines().index(line) + 1]
    assert nxt.startswith("  Welch p (uncorrected): EI ") and ", CE " in nxt, nxt


def test_all_metrics_within_noise_is_still_within_noise(tmp_path):
    _table(tmp_path, 6, [(f"Mapping [a{i}]", 50 + 0.1 * i, 1.0 + 0.01 * i) for i in range(3)]
           + [(f"Concat [b{i}]", 50 + 0.1 * (2 - i), 1.0 + 0.01 * (2 - i)) for i in range(3)])
    r = _verdicts(tmp_path)
    assert "- **Mapping vs Concat: within noise** — better beyond noise on none; worse beyond noise on none;" \
        in r.stdout, r.stdout


@pytest.mark.parametrize("body", [
    "not,a,table\n1,2,3\n",
    HEAD + "x,VIF-Net,ablation,21,21,forty,1.0,\n",
    HEAD + "x,VIF-Net,ablation,21,21\n",
])
def test_a_malformed_table_is_a_one_line_error(tmp_path, body):
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "table4.csv").write_text(body, encoding="utf-8")
    r = _verdicts(tmp_path)
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "table4.csv" in r.stderr and "Traceback" not in r.stderr, r.stderr


# --- run_ablations.sh -----------------------------------------------------------------------

FAKE_PY = """#!/bin/sh
echo "$@" >> "$FAKE_LOG"
out=""; prev=""
for a in "$@"; do [ "$prev" = "-o" ] && out=$a; prev=$a; done
[ -n "$FAKE_FAIL" ] && exit 3
mkdir -p "$out" && : > "$out/final.safetensors"
"""


@pytest.fixture
def fake(tmp_path):
    """A stand-in for Python that records its arguments and 'trains' by writing final.safetensors."""
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    py = tmp_path / "fakepy"
    py.write_text(FAKE_PY)
    py.chmod(0o755)
    data = tmp_path / "data"
    (data / "train" / "roadscene").mkdir(parents=True)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "MUTUALFUSE_DATA"}
    env.update(PYTHON=str(py), FAKE_LOG=str(tmp_path / "log"))
    return {"data": data, "cwd": cwd, "env": env, "log": tmp_path / "log"}


def _run(fake, *args, **env):
    return subprocess.run(["bash", str(RUN), *args], cwd=fake["cwd"], env={**fake["env"], **env},
                          capture_output=True, text=True, timeout=60)


def test_run_ablations_without_a_data_root_is_a_one_line_error_and_writes_nothing(fake):
    # it created OUT_ROOT and a lock folder and started the first training run
    r = _run(fake, "out")
    assert r.returncode == 2 and r.stdout == "", (r.returncode, r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "data root" in r.stderr
    assert not (fake["cwd"] / "out").exists() and not fake["log"].exists()
    r = _run(fake, "out", MUTUALFUSE_DATA=str(fake["cwd"] / "missing"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "missing" in r.stderr
    assert not (fake["cwd"] / "out").exists() and not fake["log"].exists()


def test_run_ablations_takes_data_root_as_an_option_and_out_root_relative_to_the_caller(fake):
    # its usage line promised --data-root, which it took for OUT_ROOT (a folder named
    # "--data-root" in the checkout); OUT_ROOT was relative to the checkout, not the caller
    r = _run(fake, "--data-root", str(fake["data"]), "out")
    assert r.returncode == 0, r.stderr
    calls = fake["log"].read_text().splitlines()
    assert len(calls) == 15
    out = fake["cwd"] / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["vifnet-mean-concat-s0", "var-mapping-d4-s0", "var-mapping-d5-s0"]
        + [f"{v}-s{s}" for v in ("mean-concat", "var-concat", "var-add", "var-mapping") for s in range(3)])
    assert all(f"--data-root {fake['data']} " in c and f"-o {out}/" in c for c in calls), calls[0]
    assert not (ROOT / "--data-root").exists()


def test_run_ablations_leaves_no_lock_after_a_failed_run_and_rejects_unknown_options(fake):
    r = _run(fake, "out", MUTUALFUSE_DATA=str(fake["data"]), FAKE_FAIL="1")
    assert r.returncode == 3
    assert [p.name for p in (fake["cwd"] / "out").iterdir()] == []  # no .lock-* left behind
    r = _run(fake, "--bogus", MUTUALFUSE_DATA=str(fake["data"]))
    assert r.returncode == 2 and r.stdout == "" and r.stderr.count("\n") == 1 and "--bogus" in r.stderr
    assert not (ROOT / "--bogus").exists()


# --- ship_ablations.py ----------------------------------------------------------------------

SMALL = "ablation-vifnet-mean-concat-s0"  # the smallest shipped ablation file (0.5 MB)


def _ship_module(tmp_path):
    path = SCRIPTS / "ship_ablations.py"
    spec = importlib.util.spec_from_file_location("ship_ablations_s21", path)
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    m.WDIR = tmp_path / "weights"  # never the real src/mutualfuse/weights, runs-log or configs
    m.WDIR.mkdir()
    m.LOGS = tmp_path / "runs-log"
    m.CONFIGS = tmp_path / "configs"
    m.CONFIGS.mkdir()
    (m.CONFIGS / "var-add.yaml").write_text("# Ablation (test). Table 6 row Add: a test variant.\nsteps: 20\n")
    return m


def _fake_run(runs: Path, name: str, steps: int = 20, log: bool = True) -> None:
    d = runs / name
    d.mkdir(parents=True)
    shutil.copyfile(ROOT / "src/mutualfuse/weights" / f"{SMALL}.safetensors", d / "final.safetensors")
    cfg = json.loads((ROOT / "runs-log/ablation/var-add-s0/config.json").read_text())
    cfg["steps"] = steps
    (d / "config.json").write_text(json.dumps(cfg))
    if log:
        (d / "log.csv").write_text("step,loss,val_loss,val_ei\n10,0.5,,\n20,0.4,0.3,41.5\n")


def test_ship_records_the_runs_budget_and_keeps_entries_it_does_not_reship(tmp_path, capsys):
    m = _ship_module(tmp_path)
    _fake_run(tmp_path / "runs1", "var-add-s7")
    _fake_run(tmp_path / "runs1", "var-add-s8")
    assert m.main([str(tmp_path / "runs1")]) == 0
    reg = (m.WDIR / "ablations.py").read_text()
    # the budget is the run's (20 steps), not a hard-coded "500 steps"
    assert "Seed 7; 20 steps (batch 4, 128x128 crops)" in reg and "500 steps" not in reg
    assert "('ei', 41.5)" in reg
    # shipping one run again kept the other registered (it rewrote the registry with one entry,
    # leaving ablation-var-add-s7.safetensors shipped but unregistered)
    _fake_run(tmp_path / "runs2", "var-add-s8")
    assert m.main([str(tmp_path / "runs2")]) == 0
    reg = (m.WDIR / "ablations.py").read_text()
    assert "name='ablation-var-add-s7'" in reg and "name='ablation-var-add-s8'" in reg
    assert "kept 1 registered" in capsys.readouterr().out


def test_ship_checks_every_run_before_writing_anything(tmp_path, capsys):
    # a run without log.csv: it copied the runs before it, then stopped with a traceback,
    # leaving shipped weights that no registry names
    m = _ship_module(tmp_path)
    _fake_run(tmp_path / "runs", "var-add-s7")
    _fake_run(tmp_path / "runs", "var-add-s8", log=False)
    assert m.main([str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "log.csv" in err and "nothing shipped" in err
    assert list(m.WDIR.iterdir()) == []
    assert not m.LOGS.exists() or list(m.LOGS.rglob("*")) == []


def test_ship_refuses_a_run_of_an_unknown_variant(tmp_path, capsys):
    # it printed "skip" and exited 0, as if the run had been shipped
    m = _ship_module(tmp_path)
    _fake_run(tmp_path / "runs", "var-bogus-s0")
    assert m.main([str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "var-bogus" in err
    assert list(m.WDIR.iterdir()) == []


# --- the shipped weights against docs/ablations.md --------------------------------------------

#: docs/ablations.md, "What was trained": variant -> (arch, depth, fusion, loss)
VARIANTS = {
    "vifnet-mean-concat": ("vifnet", 3, None, "mean_ssim"),
    "mean-concat": ("fmm", 3, "concat", "mean_ssim"),
    "var-concat": ("fmm", 3, "concat", "var_ssim"),
    "var-add": ("fmm", 3, "add", "var_ssim"),
    "var-mapping": ("fmm", 3, "mapping", "var_ssim"),
    "var-mapping-d4": ("fmm", 4, "mapping", "var_ssim"),
    "var-mapping-d5": ("fmm", 5, "mapping", "var_ssim"),
}


def test_shipped_ablation_weights_are_the_documented_variants():
    from safetensors import safe_open

    from mutualfuse.weights import HERE, file_sha256
    from mutualfuse.weights.ablations import ENTRIES

    names = sorted(e.name for e in ENTRIES)
    assert names == sorted([f"ablation-{v}-s0" for v in VARIANTS]
                           + [f"ablation-{v}-s{s}" for v in ("mean-concat", "var-concat", "var-add", "var-mapping")
                              for s in (1, 2)])
    doc = (ROOT / "docs/ablations.md").read_text(encoding="utf-8")
    for e in ENTRIES:
        variant, seed = e.name.removeprefix("ablation-").rsplit("-s", 1)
        assert f"`configs/ablation/{variant}.yaml`" in doc and e.config == f"configs/ablation/{variant}.yaml"
        assert file_sha256(HERE / e.file) == e.sha256, e.name
        with safe_open(str(HERE / e.file), framework="pt") as fh:
            md = fh.metadata()
        mc, tc = json.loads(md["model_config"]), json.loads(md["train_config"])
        arch, depth, fusion, loss = VARIANTS[variant]
        assert (mc["arch"], mc["depth"], tc["loss"], tc["seed"], tc["steps"], tc["batch_size"]) == \
            (arch, depth, loss, int(seed), 500, 4), e.name
        if fusion is not None:
            assert mc["fusion"] == fusion, e.name
        if fusion == "mapping":  # the locality bias the doc describes
            assert (mc["attn_dim"], mc["attn_pos_freqs"], mc["attn_local_sigma"]) == (32, 4, 1.5), e.name
        assert json.loads((ROOT / "runs-log/ablation" / f"{variant}-s{seed}" / "config.json").read_text()) == tc


def test_the_docs_verdict_section_is_the_scripts_output_on_the_committed_tables():
    """docs/ablations.md says its section from "Verdict rule:" on is the output of
    ``scripts/ablation_verdicts.py docs/results/ablations``, unchanged."""
    r = _verdicts(ROOT / "docs/results/ablations")
    assert r.returncode == 0, r.stderr
    doc = (ROOT / "docs/ablations.md").read_text(encoding="utf-8")
    assert doc[doc.index("Verdict rule: see"):].strip() == r.stdout.strip()
    # the one-line summaries above it name the same verdicts
    for claim, verdict in (("Table 4, our network beats VIF-Net", "does not hold"),
                           ("Table 5, Var-SSIM beats Mean-SSIM", "mixed"),
                           ("Table 6, the mutual mapping beats concatenation and addition", "within noise"),
                           ("Table 7, three levels are best", "within noise")):
        assert f"- {claim}: **{verdict}**" in doc, claim
