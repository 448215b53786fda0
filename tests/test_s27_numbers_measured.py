"""Figures of docs/training.md, docs/architecture.md and docs/ablations.md that can be measured
cheaply, measured again (session 27's number audit): what the shipped weights files store (learned
locality σ, inference settings, training wall time and steps, sha256), the token counts of the
attention tables (from the bundled sample pairs and the scripts' crop rule), the TNO report tables
(means of the committed per-pair CSVs), the ablation recipe (the configs) and the logged convergence
of `default`'s run; and that the commands quoted for a former `default` name the weights that give
their numbers today.

Cheap: reads Markdown, YAML, CSV and the weights files' headers and a few tensors; no network runs.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from safetensors import safe_open

from mutualfuse.weights import SHIPPED

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
WEIGHTS = ROOT / "src" / "mutualfuse" / "weights"
SAMPLES = ROOT / "src" / "mutualfuse" / "data" / "samples"


def _text(name: str) -> str:
    # Line breaks and indentation of the Markdown source are not part of a sentence.
    return re.sub(r"\s+", " ", (DOCS / name).read_text(encoding="utf-8"))


def _section(name: str, heading: str) -> str:
    """The Markdown of one section (from its heading to the next heading of the same or a higher level)."""
    text = (DOCS / name).read_text(encoding="utf-8")
    m = re.search(r"^(#+) " + re.escape(heading) + r".*$", text, re.M)
    assert m, f"docs/{name}: section {heading!r} is gone"
    level = len(m.group(1))
    end = re.compile(r"^#{1,%d} " % level, re.M).search(text, m.end())
    return text[m.start(): end.start() if end else len(text)]


def _rounds_to(quoted: str, value: float) -> bool:
    digits = len(quoted.split(".")[1]) if "." in quoted else 0
    return abs(float(quoted) - value) <= 0.5 * 10.0 ** -digits + 1e-12


def _meta(name: str) -> dict:
    with safe_open(str(WEIGHTS / SHIPPED[name].file), "np") as f:
        return f.metadata()


def _model_config(name: str) -> dict:
    return json.loads(_meta(name)["model_config"])


def _sigma(name: str) -> tuple[float, float]:
    with safe_open(str(WEIGHTS / SHIPPED[name].file), "np") as f:
        log_sigma = f.get_tensor("fusion.local_log_sigma")
    return tuple(float(v) for v in np.exp(log_sigma.astype(np.float64)))


# --- learned locality σ -------------------------------------------------------------------------

@pytest.mark.parametrize("doc, pattern, name", [
    ("training.md", r"learned σ (\d\.\d+) / (\d\.\d+) deepest-grid cells", "default"),
    ("architecture.md", r"default-centred-bright-train2_20261204\.txt`\): σ (\d\.\d+) / (\d\.\d+) cells", "default"),
    ("training.md", r"σ learned (\d\.\d+) / (\d\.\d+) cells \|\n?", "local"),
    ("architecture.md", r"σ learned: (\d\.\d+) / (\d\.\d+) cells for Map_X / Map_Y", "local"),
    ("training.md", r"`runs-log/val_default-centred-cont\.txt`; σ learned (\d\.\d+) / (\d\.\d+) cells", "centred"),
])
def test_the_learned_sigma_quoted_is_the_weights(doc, pattern, name):
    m = re.search(pattern, _text(doc))
    assert m, f"docs/{doc}: the learned σ of {name} is gone"
    got = _sigma(name)
    for quoted, value in zip(m.groups(), got):
        assert _rounds_to(quoted, value), (doc, name, m.groups(), got)


def test_centred_6000_sigma_range():
    """'the learned σ shrank to 1.2–1.3 cells in `default-centred`' (shipped as centred-6000)."""
    m = re.search(r"the learned σ shrank to (\d\.\d)–(\d\.\d) cells in `default-centred`", _text("architecture.md"))
    assert m
    lo, hi = (float(g) for g in m.groups())
    got = _sigma("centred-6000")
    assert lo == round(min(got), 1) and hi == round(max(got), 1), got


# --- stored inference settings --------------------------------------------------------------------

def test_default_stores_the_quoted_temperature_and_min_pool():
    text = _text("training.md")
    assert "`blend_temperature: 0.5` and `map_min_pool: 2` stored with the weights" in text
    cfg = _model_config("default")
    assert (cfg["blend_temperature"], cfg["map_min_pool"], cfg["base_brightness"]) == (0.5, 2, 50.0)


def test_pyramid_models_store_the_quoted_temperature_range_and_bound():
    text = _text("architecture.md")
    m = re.search(r"stored per shipped model \((\d\.\d+)–(\d\.\d+) for the `pyramid` ones\)", text)
    assert m, "docs/architecture.md: the stored temperature range is gone"
    assert "5 (every shipped `blend` and `pyramid` model)" in text
    temps, bounds = [], []
    for name in SHIPPED:
        cfg = _model_config(name)
        if cfg.get("output") == "pyramid":
            temps.append(cfg["blend_temperature"])
            assert cfg["pyramid_levels"] == 4, name
        if cfg.get("output") in ("blend", "pyramid"):
            bounds.append(cfg["blend_bound"])
    assert temps and (min(temps), max(temps)) == (float(m.group(1)), float(m.group(2)))
    assert set(bounds) == {5.0}


# --- sha256 prefixes and file sizes ----------------------------------------------------------------

def test_quoted_sha256_prefixes_are_files_in_the_tree():
    text = _text("training.md")
    quoted = set(re.findall(r"sha256 ([0-9a-f]{8})…", text))
    assert len(quoted) >= 5
    have = {w.sha256[:8] for w in SHIPPED.values()}
    run = hashlib.sha256((ROOT / "runs-log" / "centred-cont2" / "final.safetensors").read_bytes()).hexdigest()[:8]
    assert quoted <= have | {run}, quoted - have - {run}
    for w in SHIPPED.values():  # the table of SHIPPED is the files (verified at load too)
        if w.sha256[:8] in quoted:
            assert hashlib.sha256((WEIGHTS / w.file).read_bytes()).hexdigest() == w.sha256


@pytest.mark.parametrize("pattern, path", [
    (r"`runs-log/centred-cont2/final\.safetensors`, (\d+\.\d) MB", "runs-log/centred-cont2/final.safetensors"),
    (r"its checkpoint \(model \+ optimiser \+ RNG, (\d+\.\d) MB\)", "runs-log/residual/last.ckpt"),
    (r"`runs-log/detail-train/` \((\d+\.\d) MB", "runs-log/detail-train/final.safetensors"),
])
def test_quoted_file_sizes(pattern, path):
    m = re.search(pattern, _text("training.md"))
    assert m, pattern
    assert _rounds_to(m.group(1), (ROOT / path).stat().st_size / 1e6), (path, m.group(1))


# --- wall times and steps from the weights' metadata ------------------------------------------------

def _minutes(name: str) -> float:
    return float(_meta(name)["wall_time_s"]) / 60


@pytest.mark.parametrize("pattern, names", [
    (r"`centred-bright-train` \(\+4000 with the rule on, `configs/centred-bright-train\.yaml`, (\d+) s\) "
     r"→ `default` \(\+6000, (\d+) s\)", ("centred-bright-train", "default")),
    (r"\| wall time \| (\d+) s \(`paper-3000`\) \+ (\d+) s \(the continuation", ("paper-3000", "paper")),
    (r"\| wall time \| (\d+) s of training \(63 min", ("blend",)),
    (r"\| wall time \| (\d+) s \(26 min\) for the 1500 steps", ("local",)),
    (r"\| wall time \| (\d+) s \(24 min\) for the 4000 steps", ("centred",)),
])
def test_wall_times_are_the_weights_metadata(pattern, names):
    m = re.search(pattern, _text("training.md"))
    assert m, pattern
    for quoted, name in zip(m.groups(), names):
        assert abs(int(quoted) - float(_meta(name)["wall_time_s"])) <= 0.5, (name, quoted)


def test_paper_total_time():
    m = re.search(r"\(the continuation, 1 thread, beside other trainings and benchmarks\) = (\d+) h (\d+) min",
                  _text("training.md"))
    assert m
    total = _minutes("paper-3000") + _minutes("paper")
    assert int(m.group(1)) * 60 + int(m.group(2)) == round(total), total


def test_ablation_run_times_are_the_model_cards():
    """'4–7 min without the mapping, 10 min with it at three levels, 22 and 46 min at four and five levels'."""
    m = re.search(r"training steps took (\d+)–(\d+) min without the mapping, (\d+) min with it at three levels, "
                  r"(\d+) and (\d+) min at four and five levels", _text("ablations.md"))
    assert m, "docs/ablations.md: the ablation run times are gone"
    lo, hi, three, four, five = (int(g) for g in m.groups())
    plain = [_minutes(n) for n in SHIPPED if n.startswith("ablation-") and "mapping" not in n]
    mapping3 = [_minutes(n) for n in ("ablation-var-mapping-s0", "ablation-var-mapping-s1", "ablation-var-mapping-s2")]
    assert len(plain) == 10
    assert (round(min(plain)), round(max(plain))) == (lo, hi), plain
    assert {round(t) for t in mapping3} == {three}, mapping3
    assert round(_minutes("ablation-var-mapping-d4-s0")) == four
    assert round(_minutes("ablation-var-mapping-d5-s0")) == five
    steps = {int(_meta(n)["steps"]) for n in SHIPPED if n.startswith("ablation-")}
    assert steps == {500}


# --- the ablation recipe: one for all, as the page says -------------------------------------------

def test_the_ablation_recipe_is_the_configs():
    text = _text("ablations.md")
    assert ("RoadScene IR–VIS training pairs (8 held out for validation) plus 30 % synthetic multi-focus pairs "
            "made on the fly, 128×128 crops, batch 4, horizontal flips, Adam 5·10⁻⁴ with 50 warm-up steps and a "
            "cosine decay to 5 %, **500 steps**") in text
    files = sorted((ROOT / "configs" / "ablation").glob("*.yaml"))
    assert len(files) == 7
    for f in files:
        c = yaml.safe_load(f.read_text(encoding="utf-8"))
        d = c["data"]
        assert (d["sets"], d["val_pairs"], d["crop"], d["hflip"], d["multifocus"]) == (
            ["train/roadscene"], 8, 128, True, 0.3), f
        assert (c["batch_size"], c["lr"], c["lr_schedule"], c["warmup_steps"], c["min_lr_ratio"], c["steps"]) == (
            4, 5e-4, "cosine", 50, 0.05, 500), f
    m = re.search(r"500 steps of batch 4 \((\d) (\d+) crops of 128×128\)", text)
    assert m and int(m.group(1) + m.group(2)) == 500 * 4


# --- token counts of the attention tables -----------------------------------------------------------

def _grid(pair: str, multiple: int) -> tuple[int, int]:
    # scripts/attention_stats.py crops each sample to a multiple of the model's padding multiple;
    # the deepest grid of a depth-3 network is 1/4 of that
    w, h = Image.open(SAMPLES / pair / "a.png").size
    return (h // multiple) * multiple // 4, (w // multiple) * multiple // 4


def _uniform_distance(gh: int, gw: int) -> float:
    ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float64)
    return float(np.hypot(ys - ys.mean(), xs - xs.mean()).mean())


def test_attention_table_token_counts_are_the_samples():
    """Every row '| pair | N | log N | … | (uniform) |' of docs/architecture.md: N, log N and the uniform
    attention's mean distance are those of the sample's crop for a multiple of 4 (`blend`) or 8 (pyramid)."""
    rows = re.findall(r"^\| (tno-01|lytro-01|ct-mr-c01) \| (\d+) \| (\d+\.\d+) \| [^|]+ \| [^|]+ \| [^|]+ \| "
                      r"(\d+\.\d+) \|", (DOCS / "architecture.md").read_text(encoding="utf-8"), re.M)
    assert len(rows) >= 15
    grids = {(p, m): _grid(p, m) for p in ("tno-01", "lytro-01", "ct-mr-c01") for m in (4, 8)}
    for pair, n, log_n, uniform in rows:
        fits = [g for (p, _), g in grids.items() if p == pair and g[0] * g[1] == int(n)]
        assert fits, (pair, n)
        assert _rounds_to(log_n, math.log(int(n))), (pair, n, log_n)
        assert _rounds_to(uniform, _uniform_distance(*fits[0])), (pair, uniform, _uniform_distance(*fits[0]))


def test_the_first_model_token_count():
    """'on TNO pair 01 (N = 6030 tokens) … log N = 8.70450 …, 1/N = 1.658e-4'."""
    m = re.search(r"on TNO pair 01 \(N = (\d+) tokens\).*?log N = (\d+\.\d+),.*?1/N = (\d\.\d+)e-4",
                  _text("architecture.md"))
    assert m
    gh, gw = _grid("tno-01", 4)
    assert int(m.group(1)) == gh * gw
    assert _rounds_to(m.group(2), math.log(gh * gw))
    assert _rounds_to(m.group(3), 1e4 / (gh * gw))


# --- the TNO report tables: means of the committed per-pair CSVs -----------------------------------

def _csv_means(name: str) -> dict[str, list[float]]:
    rows = list(csv.DictReader((DOCS / "figures" / f"tno_{name}.csv").open(encoding="utf-8")))
    out = {}
    for method in ("model", "average"):
        rr = [r for r in rows if r["method"] == method]
        assert len(rr) == 21
        out[method] = [sum(float(r[k]) for r in rr) / 21 for k in ("EN", "SD", "SF", "AG", "Qabf")]
    return out


@pytest.mark.parametrize("label, csv_name", [
    ("model (9000 steps, CPU)", "cpu-9000"),
    ("model (3000 steps, CPU)", "cpu-3000"),
    ("`paper-3000` (below)", "cpu-3000"),
    ("`default` (dot, paper)", "cpu-3000"),
    ("`cosine`", "cpu-cosine-3000"),
    ("average", "cpu-3000"),
])
def test_tno_report_rows_are_the_per_pair_csvs(label, csv_name):
    text = (DOCS / "training.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| " + re.escape(label) + r" \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$",
                      text, re.M)
    assert rows, label
    means = _csv_means(csv_name)["average" if label == "average" else "model"]
    for row in rows:
        for quoted, value in zip(row, means):
            assert _rounds_to(quoted, value), (label, row, means)
    if label == "average":  # every report scored the same average
        for other in ("cpu-9000", "cpu-cosine-3000", "default-cpu-3000"):
            assert np.allclose(_csv_means(other)["average"], means, rtol=0, atol=5e-7)


def test_blend_report_line_is_its_csv():
    m = re.search(r"which also gives TNO EN (\S+), SD \(VIFB\) (\S+), SF (\S+), AG (\S+), Qabf (\S+) against the "
                  r"average's (\S+), (\S+), (\S+), (\S+), (\S+)\):", _text("training.md"))
    assert m
    means = _csv_means("default-cpu-3000")
    for quoted, value in zip(m.groups(), means["model"] + means["average"]):
        assert _rounds_to(quoted, value), (quoted, value)


def test_paper_gains_over_paper_3000():
    """'6000 more steps of the same recipe raised all five (SF +15 %, AG +10 %, Q^AB/F +14 %)'."""
    m = re.search(r"raised all five \(SF \+(\d+) %, AG \+(\d+) %, Q\^AB/F \+(\d+) %\)", _text("training.md"))
    assert m
    new, old = _csv_means("cpu-9000")["model"], _csv_means("cpu-3000")["model"]
    for quoted, k in zip(m.groups(), (2, 3, 4)):
        assert int(quoted) == round(100 * (new[k] / old[k] - 1)), (k, new[k], old[k])


# --- `default`'s run converged as its log says -----------------------------------------------------

def test_default_convergence_is_its_log():
    m = re.search(r"loss (\S+) at step 250 → (\S+) at 6000, flat over the last 1500 steps \((\S+)–(\S+)\); "
                  r"SF (\S+)–(\S+), EI (\S+)–(\S+), Q\^AB/F (\S+)–(\S+), MF PSNR (\S+)–(\S+) dB throughout",
                  _text("training.md"))
    assert m
    rows = [r for r in csv.DictReader((ROOT / "runs-log" / "centred-bright-train2" / "log.csv").open())
            if r["val_loss"]]
    val = {int(r["step"]): float(r["val_loss"]) for r in rows}
    last = [v for s, v in val.items() if s >= 4500]  # steps 4500-6000, the last 1500
    want = [val[250], val[6000], min(last), max(last)]
    for k in ("val_sf", "val_ei", "val_qabf", "val_mf_psnr"):
        xs = [float(r[k]) for r in rows]
        want += [min(xs), max(xs)]
    for quoted, value in zip(m.groups(), want):
        assert _rounds_to(quoted, value), (quoted, value)


# --- commands quoted for a former `default` give its numbers today --------------------------------

@pytest.mark.parametrize("heading, stale", [
    ("`blackout`", "attention_stats.py --weights default`"),
    ("`pyramid` (", "attention_stats.py --weights default`"),
    ("`blend` (", "attention_stats.py --weights default`"),
    ("`blend` (", "report_model.py --weights default "),
    ("`blend` (", "val_metrics.py paper`"),
    ("`pyramid-long`", "bench_quality.py --models default --mean-maps"),
])
def test_former_default_sections_name_the_weights_that_give_their_numbers(heading, stale):
    """`--weights default` is today's `default` (another network) and `paper` the 9000-step model: a command
    quoted for a former default with those names prints other numbers than the ones beside it (and
    report_model.py --weights default would overwrite the section's figures with today's model)."""
    section = re.sub(r"\s+", " ", _section("training.md", heading))
    assert stale not in section, (heading, stale)


def test_the_cosine_comparison_names_paper_3000():
    text = _text("training.md")
    m = re.search(r"it scored as `paper-3000` \(`paper` then; SF (\S+) vs (\S+), EI (\S+) vs (\S+), "
                  r"Qabf (\S+) vs (\S+), "
                  r"multi-focus PSNR (\S+) vs (\S+) dB; `python scripts/val_metrics.py (\S+)`", text)
    assert m
    assert m.group(9) == "paper-3000"
    # the paper-3000 values are the ones its own section quotes
    assert "(`paper-3000`: 12.87, 54.50, 0.5470, 28.4;" in text
    assert _rounds_to("12.87", float(m.group(2))) and m.group(4) == "54.50" and m.group(6) == "0.5470"
    assert _rounds_to("28.4", float(m.group(8)))


# --- the GPU section's payload sizes ---------------------------------------------------------------

def test_the_tracked_size_quoted_is_that_commits_tree():
    import shutil
    import subprocess
    m = re.search(r"tracked files were (\d+\.\d) MB \(the tree of ([0-9a-f]{7}), the commit that wrote this sentence; "
                  r"(\d+\.\d) MB on", _text("training.md"))
    assert m, "docs/training.md: the GPU section's tracked size is gone"
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    done = subprocess.run([git, "ls-tree", "-r", "-l", m.group(2)], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"{m.group(2)} is not in this clone's history")
    size = sum(int(line.split()[3]) for line in done.stdout.splitlines() if line.split()[3].isdigit())
    assert _rounds_to(m.group(1), size / 1e6), size
    wrote = subprocess.run([git, "log", "--format=%h", "-S", "tracked files are 54 MB", "--", "docs/training.md"],
                           cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert wrote and wrote[-1].startswith(m.group(2))


@pytest.mark.needs_shared("data/train/roadscene")
def test_the_roadscene_size_quoted(shared):
    root = shared / "data" / "train" / "roadscene"
    pairs = len([p for p in (root / "ir").iterdir() if not p.name.startswith(".")])
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    text = _text("training.md")
    m = re.search(r"`train/roadscene` is (\d+\.\d) MB \((\d+) pairs\)", text)
    assert m
    assert _rounds_to(m.group(1), size / 1e6) and int(m.group(2)) == pairs, (size, pairs)
    m = re.search(r"0\.18 s for RoadScene's (\d+) pairs, (\d+) MB", text)
    assert m and int(m.group(1)) == pairs and _rounds_to(m.group(2), size / 1e6)


# --- the peers' FLOP counts at 256² ---------------------------------------------------------------

def test_the_peers_flop_counts_and_rates_at_256():
    """'19.2 GFLOP (10.6 of convolution, 8.6 of the exact N = 4096 attention) against DenseFuse's 11.5 and
    IFCNN's 17.0 … at 62 GFLOP/s against DenseFuse's 40–55 (its 11.5 GFLOP in 0.21–0.29 s)'; it said 37–55."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from script_module import load

    text = _text("training.md")
    m = re.search(r"against DenseFuse's (\d+\.\d) and IFCNN's (\d+\.\d) \(counted in the same way; re-counted "
                  r"2026-12-07: (\d+\.\d+) and (\d+\.\d+)\), at (\d+) GFLOP/s against DenseFuse's (\d+)–(\d+) "
                  r"\(its (\d+\.\d) GFLOP in (\d\.\d+)–(\d\.\d+) s\)", text)
    assert m, "docs/training.md: the FLOP comparison at 256² is gone"
    bench = load("benchmarks/bench_fuse.py")
    gflop = {}
    a = torch.rand(1, 1, 256, 256)
    for name in ("densefuse", "ifcnn"):
        with torch.inference_mode(), FlopCounterMode(display=False) as fc:
            bench._peer_net(name)(a, a)
        gflop[name] = fc.get_total_flops() / 1e9
    for quoted, name in zip(m.group(1, 2), ("densefuse", "ifcnn")):
        assert _rounds_to(quoted, gflop[name]), (name, gflop[name])
    for quoted, name in zip(m.group(3, 4), ("densefuse", "ifcnn")):
        assert _rounds_to(quoted, gflop[name]), (name, gflop[name])
    assert _rounds_to(m.group(8), gflop["densefuse"])
    fast, slow = float(m.group(9)), float(m.group(10))
    assert "DenseFuse's 256² time moved between " + m.group(9) + " and " + m.group(10) + " s across runs" in text
    assert (int(m.group(6)), int(m.group(7))) == (round(gflop["densefuse"] / slow), round(gflop["densefuse"] / fast))
    log = (ROOT / "runs-log" / "bench_fuse_20261202_channels_last.txt").read_text(encoding="utf-8")
    row = re.search(r"256x256 +default +(\S+) s .*? conv +(\S+) \+ map +(\S+) GFLOP +(\S+) GFLOP/s", log)
    conv, amap = float(row.group(2)), float(row.group(3))
    assert f"computes {conv + amap:.1f} GFLOP ({conv:.1f} of convolution, {amap:.1f} of the exact N = 4096" in text
    assert int(m.group(5)) == round(float(row.group(4)))


# --- mean ranks quoted from scripts/val_rank.py ----------------------------------------------------

def _val_rank(*files: str) -> list[tuple[float, str]]:
    import subprocess
    import sys
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "val_rank.py"), *files], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return [(float(m.group(1)), m.group(2)) for m in re.finditer(r"^\s+(\d+\.\d+)\s+(.+)$", done.stdout, re.M)]


def test_default_mean_ranks_are_val_rank_output():
    """'5.65, against 6.30–7.95 for `centred-bright-train` at its four temperatures (6.45 at its chosen T = 0.5)
    and 6.60 for `centred-bright`' (it said 6.30–6.45, two of the four)."""
    text = _text("training.md")
    m = re.search(r"it is first: (\d\.\d+), against (\d\.\d+)–(\d\.\d+) for `centred-bright-train` at its four "
                  r"temperatures \((\d\.\d+) at its chosen T = 0\.5\) and (\d\.\d+) for `centred-bright`", text)
    assert m
    rows = _val_rank("runs-log/val_base_brightness_centred_combined.txt", "runs-log/val_centred-bright-train.txt",
                     "runs-log/val_centred-bright-train2.txt")
    assert rows[0] == (float(m.group(1)), "runs/centred-bright-train2/final.safetensors "
                                          "blend_temperature=0.5,map_min_pool=2")
    cbt = {label.split("blend_temperature=")[1].split(",")[0]: r for r, label in rows
           if label.startswith("runs-log/centred-bright-train/")}
    assert len(cbt) == 4
    assert (min(cbt.values()), max(cbt.values())) == (float(m.group(2)), float(m.group(3)))
    assert cbt["0.5"] == float(m.group(4))
    assert dict((label, r) for r, label in rows)["centred base_brightness=50"] == float(m.group(5))
    m = re.search(r"T = 0\.5 has the best mean rank within its grid \((\d\.\d+)\)", text)
    grid = _val_rank("runs-log/val_centred-bright-train2.txt")
    assert m and grid[0][0] == float(m.group(1)) and "blend_temperature=0.5," in grid[0][1]


@pytest.mark.parametrize("task, quoted", [
    ("ir-vis", {"1": 2.95, "0.5": 2.58, "0.25": 2.37, "0.1": 2.11}),
    ("medical", {"1": 2.22, "0.5": 2.22, "0.25": 2.56, "0.1": 3.00}),
])
def test_round_1_task_ranks_are_val_rank_output(task, quoted):
    row = re.search(r"^\| `" + task + r"` \|[^|]+\| ([\d.*]+) / ([\d.*]+) / ([\d.*]+) / ([\d.*]+) \|",
                    (DOCS / "training.md").read_text(encoding="utf-8"), re.M)
    assert row, task
    assert [float(g.strip("*")) for g in row.groups()] == [quoted[t] for t in ("1", "0.5", "0.25", "0.1")]
    got = {label.split("blend_temperature=")[1].split(",")[0]: r
           for r, label in _val_rank("--task", task, "runs-log/val_default_tno40.txt")}
    assert got == quoted


def test_round_2_ir_vis_ranks_are_val_rank_output():
    m = re.search(r"\| `ir-vis` \(19 columns\) \| T = 0\.1 \((\d\.\d+)\) \| T = 0\.1, G = 3000 \(\*\*(\d\.\d+)\*\*; "
                  r"G = 1000 (\d\.\d+), G = 300 (\d\.\d+)\)", _text("training.md"))
    assert m
    got = {label.split("default ")[1]: r for r, label in _val_rank(
        "--task", "ir-vis", "runs-log/val_default_tno40.txt", "runs-log/val_default_tno40_detail_activity.txt")}
    want = [got["blend_temperature=0.1,map_min_pool=2"]] + [
        got[f"blend_temperature=0.1,detail_activity={g}.0,map_min_pool=2"] for g in (3000, 1000, 300)]
    assert [float(g) for g in m.groups()] == want


@pytest.mark.parametrize("sentence", [
    "logged 7 s and took 24 s on the clock, s18 audit, 2026-12-06)",
    "which take 5.8 s to decode; s22 audit, 2026-12-06)",
])
def test_one_off_timings_say_when_and_by_whom(sentence):
    """Timings with no committed log are stated as what they are (the audit that measured them, its date),
    found with git log -S; they were undated."""
    assert sentence in _text("training.md")


def test_the_profiled_copy_cost_says_it_is_not_logged():
    assert ("the copy cost 232 ms of a 2.0 s fuse in the torch profiler (that day's code, cb26793's session; "
            "the profile is not logged)") in _text("architecture.md")


# --- FLOPs of one training step per sample, attention included --------------------------------------

def _train_step_gflop(config: str) -> tuple[float, float, float, float]:
    """(total, attention, attention forward, convolution backward) GFLOP of one 256² training sample: forward,
    the recipe's loss, backward; PyTorch's CPU flash-attention kernel counted as benchmarks/bench_fuse.py counts it."""
    import dataclasses

    import torch
    from torch.utils.flop_counter import FlopCounterMode, sdpa_backward_flop_count, sdpa_flop_count

    from mutualfuse import losses
    from mutualfuse.model import build_model
    from mutualfuse.train.config import TrainConfig

    ops = torch.ops.aten

    def fwd(q_shape, k_shape, v_shape, *args, out_shape=None, **kwargs):
        return sdpa_flop_count(q_shape, k_shape, v_shape)

    def bwd(grad_out_shape, q_shape, k_shape, v_shape, *args, out_shape=None, **kwargs):
        return sdpa_backward_flop_count(grad_out_shape, q_shape, k_shape, v_shape)

    cfg = TrainConfig.load(str(ROOT / "configs" / config))
    mc = cfg.model
    if cfg.train_token_budget:
        mc = dataclasses.replace(mc, token_budget=cfg.train_token_budget)
    torch.manual_seed(0)
    net = build_model(mc).train()
    x, y = torch.rand(1, 1, 256, 256), torch.rand(1, 1, 256, 256)
    mapping = {ops._scaled_dot_product_flash_attention_for_cpu: fwd,
               ops._scaled_dot_product_flash_attention_for_cpu_backward: bwd}
    with FlopCounterMode(display=False, custom_mapping=mapping) as fc:
        losses.LOSSES[cfg.loss](x, y, net(x, y), **(cfg.loss_params or {})).backward()
    counts = fc.get_flop_counts()["Global"]
    att = sum(v for k, v in counts.items() if "scaled_dot_product" in str(k))
    att_fwd = sum(v for k, v in counts.items() if "scaled_dot_product" in str(k) and "backward" not in str(k))
    conv_bwd = sum(v for k, v in counts.items() if "convolution_backward" in str(k))
    return fc.get_total_flops() / 1e9, att / 1e9, att_fwd / 1e9, conv_bwd / 1e9


def test_training_flops_per_sample_count_the_attention():
    """It said 31.6 GFLOP per sample for `default` and 31.2 for `paper`: the CPU flash-attention kernel was
    not counted (30.1 GFLOP of `paper`'s 61.2)."""
    text = _text("training.md")
    m = re.search(r"(\d+\.\d) GFLOP per sample for `default` \((\d\.\d) of attention, (\d+) % in the convolutions' "
                  r"backward\) and (\d+\.\d) for `paper` \((\d+\.\d) of attention: its exact N = 4096 mapping, "
                  r"(\d+\.\d) forward and (\d+\.\d) backward\)\. At the H200's measured rates \((\d+) images/s of "
                  r"`paper`, (\d+) of `default`, side by side, ≈ 1\.8 ms of GPU time per sample\) that is ≈ (\d+) "
                  r"TFLOP/s", text)
    assert m, "docs/training.md: the per-sample FLOP count is gone"
    d_total, d_att, _, d_conv = _train_step_gflop("centred-bright-train2.yaml")
    p_total, p_att, p_att_fwd, _ = _train_step_gflop("paper.yaml")
    assert _rounds_to(m.group(1), d_total) and _rounds_to(m.group(2), d_att)
    assert int(m.group(3)) == round(100 * d_conv / d_total)
    assert _rounds_to(m.group(4), p_total) and _rounds_to(m.group(5), p_att)
    assert _rounds_to(m.group(6), p_att_fwd) and _rounds_to(m.group(7), p_att - p_att_fwd)
    assert ("| images/s (side by side, one GPU) | " + m.group(8) + " (calibration") in text
    assert "| " + m.group(9) + " (calibration" in text
    rate = (int(m.group(8)) * p_total + int(m.group(9)) * d_total) / 1e3
    assert int(m.group(10)) == round(rate), rate
    # the GPU runs' configs train the same network on the same loss and budget (so count the same)
    from mutualfuse.train.config import TrainConfig
    for gpu, cpu in (("gpu/default-gpu-cont.yaml", "centred-bright-train2.yaml"), ("gpu/paper-gpu.yaml", "paper.yaml")):
        a, b = (TrainConfig.load(str(ROOT / "configs" / c)) for c in (gpu, cpu))
        assert (a.model, a.loss, a.loss_params, a.train_token_budget, a.data.crop) == (
            b.model, b.loss, b.loss_params, b.train_token_budget, b.data.crop), gpu


def test_the_ablation_attention_rows_say_they_were_re_run():
    """Re-run 2026-12-07 (scripts/attention_stats.py --weights ablation-var-mapping-s2, and the first version's file
    from git show 16847e9^:...): every quoted column unchanged. The N / log N / uniform columns are pinned here."""
    text = _text("ablations.md")
    assert "it prints the three rows below unchanged, re-run 2026-12-07 for both files;" in text
    rows = re.findall(r"^\| (tno-01|lytro-01|ct-mr-c01) \| \d\.\d+ / (\d+\.\d+) \| \d\.\d+ \((\d+\.\d+)\) \|",
                      (DOCS / "ablations.md").read_text(encoding="utf-8"), re.M)
    assert len(rows) == 3
    depth = json.loads(_meta("ablation-var-mapping-s2")["model_config"])["depth"]
    assert depth == 3  # padding multiple 2^(depth-1) = 4 with the direct output
    for pair, log_n, uniform in rows:
        gh, gw = _grid(pair, 4)
        assert _rounds_to(log_n, math.log(gh * gw)) and _rounds_to(uniform, _uniform_distance(gh, gw)), pair


def test_the_native_bf16_speed_up_is_the_logs():
    """'Native bf16 made a 256² step 1.6–1.9× faster' (it said 1.6–2×): the pooled float32 recipe against its
    bf16 twin in the two committed bench_train logs of CPUs with native bf16."""
    m = re.search(r"Native bf16 made a 256² step (\d\.\d)–(\d\.\d)× faster \(AMD EPYC (\S+) → (\S+) "
                  r"images/s, Intel with AMX (\S+) → (\S+)\);", _text("training.md"))
    assert m
    ratios = []
    for log, (f32, bf16) in (("bench_train_20261202_bf16.txt", m.group(3, 4)),
                             ("bench_train_20261205_amx.txt", m.group(5, 6))):
        text = (ROOT / "runs-log" / log).read_text(encoding="utf-8")
        got = {r: float(v) for r, v in re.findall(r"^(default-long-crop256-pool(?:-bf16)?) +4 +(\S+)", text, re.M)}
        assert (got["default-long-crop256-pool"], got["default-long-crop256-pool-bf16"]) == (float(f32), float(bf16))
        ratios.append(float(bf16) / float(f32))
    assert (float(m.group(1)), float(m.group(2))) == (round(min(ratios), 1), round(max(ratios), 1)), ratios


def test_the_pooled_mapping_speed_up_is_the_logs():
    """It said '1.7× faster at 256²' citing a section that measured 1.5× (1.08 against 0.73 images/s)."""
    m = re.search(r"is (\d\.\d)–(\d\.\d)× faster at 256² \(\"Recipe measurements of 2026-12-02, afternoon\": (\S+) "
                  r"against (\S+) images/s at batch 4 on an Intel Xeon; (\S+) against (\S+) on an AMD EPYC",
                  _text("training.md"))
    assert m
    ratios = []
    for log, (pooled, exact) in (("bench_train_20261202_pooled.txt", m.group(3, 4)),
                                 ("bench_train_20261202_bf16.txt", m.group(5, 6))):
        text = (ROOT / "runs-log" / log).read_text(encoding="utf-8")
        got = {r: float(v) for r, v in re.findall(r"^ *(default-long(?:-crop256-pool)?) +4 +(\S+)", text, re.M)}
        assert (got["default-long-crop256-pool"], got["default-long"]) == (float(pooled), float(exact)), log
        ratios.append(float(pooled) / float(exact))
    assert (float(m.group(1)), float(m.group(2))) == (round(min(ratios), 1), round(max(ratios), 1)), ratios


def test_the_paper_attention_line_names_the_3000_step_file():
    """Written on 2026-12-01, when `paper` was the 3000-step file; today `paper` is the 9000-step one. Re-run
    2026-12-07 with --weights paper-3000: entropy 8.704, top-1 % mass 0.0104, w_X std 0.0000, mean-maps 0.002."""
    text = _text("architecture.md")
    m = re.search(r"For `(\S+)` \(`paper` when this was written, 2026-12-01; `python scripts/attention_stats\.py "
                  r"--weights (\S+)`, re-run 2026-12-07\) on tno-01: entropy 8\.704 of (\d\.\d+)", text)
    assert m and m.group(1) == m.group(2) == "paper-3000"
    assert int(_meta("paper-3000")["steps"]) == 3000 and int(_meta("paper")["steps"]) != 3000
    gh, gw = _grid("tno-01", 4)
    assert _rounds_to(m.group(3), math.log(gh * gw))
