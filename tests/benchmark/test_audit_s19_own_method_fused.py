"""Session 19 audit, a researcher's precomputed outputs as ``--fused NAME=DIR`` rows: one folder
per set (``DIR/<task>/<set>/``), 16-bit and colour files scored as the 8-bit gray image, and
one clear line for a folder that is misnamed, flat over two sets numbered alike, missing a
pair, holding two files for a pair, or of another size (docs/benchmark.md, "Your own method")."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from mutualfuse.api import Fuser
from mutualfuse.benchmark import BenchmarkConfig, run_benchmark

SIZES = {"01": (80, 96), "02": (64, 72), "03": (88, 80)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("s19fused")
    rng = np.random.default_rng(19)
    data = tmp / "data"
    sets = {"ir-vis/tno": SIZES, "ir-vis/tno40": {**SIZES, "04": (72, 72)}}
    avg = Fuser("average", device="cpu")
    fused: dict[str, dict[str, np.ndarray]] = {}
    for s, sizes in sets.items():
        fused[s] = {}
        for n, (h, w) in sizes.items():
            pair = []
            for role in ("ir", "vis"):
                (data / s / role).mkdir(parents=True, exist_ok=True)
                y, x = np.mgrid[0:h, 0:w]
                img = np.clip(120 + 60 * np.sin(x / (3 + int(n))) + rng.normal(0, 25, (h, w)), 0, 255).astype(np.uint8)
                Image.fromarray(img).save(data / s / role / f"{n}.png")
                pair.append(img)
            fused[s][n] = avg.fuse(*pair)
    (tmp / "nofig.yaml").write_text("figures: []\n")
    u = tmp / "user"

    def save(row, sub, n, img, suffix=".png"):
        d = u / row / sub
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(d / f"{n}{suffix}")

    for s in sets:
        for n, img in fused[s].items():
            save("avg", s, n, img)  # one folder per set
            save("u16", s, n, (img.astype(np.uint16) * 257))
            save("rgb", s, n, np.stack([img] * 3, -1))
    for n, img in fused["ir-vis/tno"].items():
        save("flat", "", n, img)  # names of both sets
        save("misnamed", "", f"fused_{n}", img)
        save("gaps", "ir-vis/tno", str(int(n)) if n == "02" else n, img)  # 2.png for pair 02
        save("dups", "ir-vis/tno", n, img)
        save("small", "ir-vis/tno", n, img[:40, :40])
    save("dups", "ir-vis/tno", "01", fused["ir-vis/tno"]["01"], ".bmp")
    rows = ["avg", "u16", "rgb", "flat", "misnamed", "gaps", "dups", "small"]
    cfg = BenchmarkConfig(data_root=data, out=tmp / "out", cache=tmp / "cache", tables=("table1",),
                          sets=("ir-vis/tno40",), methods=["average"], weights=[],
                          fused=[f"{r}={u / r}" for r in rows], fast_metrics=True,
                          figures_config=tmp / "nofig.yaml", progress=False)
    yield run_benchmark(cfg), u
    shutil.rmtree(tmp, ignore_errors=True)


def _row(t, rid):
    return next(r for r in t.rows if r.id == rid)


def test_a_folder_per_set_and_16_bit_and_colour_files_score_as_the_method(run):
    out, _ = run
    for tid in ("table1", "ir-vis-tno40"):
        t = out.tables[tid]
        want = _row(t, "method:average").values
        assert all(v is not None for v in want.values())
        for rid in ("fused:avg", "fused:u16", "fused:rgb"):
            assert _row(t, rid).values == want, (tid, rid)


def test_a_flat_folder_of_two_sets_numbered_alike_is_refused_in_both(run):
    """tno and tno40 both number their pairs 01, …: a flat folder of TNO images was scored
    against tno40's sources too."""
    out, u = run
    lines = [p for p in out.problems if p.startswith("fused:flat ")]
    assert len(lines) == 2 and all("holds pair names of ir-vis/tno and ir-vis/tno40" in p for p in lines), lines
    assert all(f"{u / 'flat' / '<task>/<set>'}/" in p for p in lines)
    for tid in ("table1", "ir-vis-tno40"):
        assert set(_row(out.tables[tid], "fused:flat").values.values()) == {None}


def test_a_misnamed_folder_is_one_line_per_table_naming_what_it_holds(run):
    out, _ = run
    lines = [p for p in out.problems if p.startswith("fused:misnamed ")]
    assert len(lines) == 2, out.problems  # one per table, not one per pair
    assert "holds no image named like the pairs of ir-vis/tno (01, 02, 03" in lines[0]
    assert "it holds fused_01.png, fused_02.png, fused_03.png" in lines[0]


def test_a_missing_pair_a_doubled_pair_and_a_wrong_size_are_problems_of_that_pair(run):
    out, u = run
    p = "\n".join(out.problems)
    assert (f"fused:gaps on ir-vis/tno/02: {u / 'gaps' / 'ir-vis/tno'}: no fused image for pair 02 "
            "(02.png, .tif, .jpg or .bmp) (found 2.png: the file name must be the pair's name, 02.png)") in p
    assert f"fused:dups on ir-vis/tno/01: {u / 'dups' / 'ir-vis/tno'}: 2 files for pair 01 (01.bmp, 01.png); keep one" in p
    assert "fused:small on ir-vis/tno/01: " in p and "size 40x40 differs from its sources (96x80, 96x80)" in p
    t = out.tables["table1"]
    assert _row(t, "fused:gaps").n_ok == 2 and _row(t, "fused:dups").n_ok == 2 and _row(t, "fused:small").n_ok == 0
    # the per-set folders hold no tno40 images: one line for that table, not one per pair
    assert sum(1 for x in out.problems if x.startswith("fused:gaps in ir-vis-tno40")) == 1
