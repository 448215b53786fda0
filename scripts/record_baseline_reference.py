"""Record the authors' Matlab outputs of the classical baselines on one small real pair, under Octave.

Usage::

    python scripts/record_baseline_reference.py --vifb /path/to/VIFB [--octave octave-cli] \
        [--data /work/shared/data] [--methods msvd,gtf] [--out tests/methods/data/baseline_reference.npz]
    # cbf and mgff loop over pixels in interpreted code: a 64x64 crop, in a second file
    python scripts/record_baseline_reference.py --vifb /path/to/VIFB --methods cbf,mgff --crop 64 \
        --out tests/methods/data/baseline_reference_cbf_mgff.npz

``--vifb`` is a checkout of https://github.com/xingchenzhang/VIFB (or any folder with the same
``methods/<NAME>/run_<NAME>.m`` layout); nothing of it is copied into this repository. The pair
is the central 128x128 crop of TNO pair 05 (``ir-vis/tno/{ir,vis}/05.png`` under ``--data`` or
``$MUTUALFUSE_DATA``). Each method's VIFB entry point is called exactly as VIFB's ``main.m``
calls it, ``img = run_<NAME>(imgVI, imgIR, 0)`` (``imgVI.img`` / ``imgIR.img`` = PNG paths), from
inside the method folder (the entry points ``addpath(genpath(cd))``); the returned uint8 image is
recorded. Exception: ``mgff`` calls the authors' gray-image function ``fuse_MGF(IR, VIS, 9, 10^3)``
of the same folder (with He's ``guidedfilter.m`` / ``boxfilter.m`` on the path) and records
``uint8(F)``, because VIFB's ``run_MGFF.m`` sends every image through ``fuse_MGF_RGB`` /
``guidedfilter_color``, which indexes 3 channels of the visible image and fails on gray TNO.

Octave without the ``image`` package lacks ``mat2gray``, ``im2uint8`` and ``imresize``: the driver
appends small shims (our code, written to the temporary folder) at the *end* of the path, so a
loaded ``image`` package takes precedence. ``imresize`` is only the identity (the crop is even-sized,
so the MSVD wrapper's ``imresize`` to even size is a no-op).

Output: one ``.npz`` with ``ir``, ``vis`` (the uint8 crops), ``<method>`` (uint8 fused image) per
method, and ``meta`` (JSON: pair, crop, Octave version, VIFB path and git commit if any).
Exit status 2 with a one-line message on bad arguments.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "tests" / "methods" / "data" / "baseline_reference.npz"
PAIR = "05"  # a pair whose LAPACK singular-vector signs differ between IR and VIS (MSVD: see docs)
CROP = 128
# method name -> VIFB folder (entry point run_<folder>.m)
VIFB_DIRS = {"msvd": "MSVD", "gtf": "GTF", "cbf": "CBF", "mgff": "MGFF"}

SHIMS = {
    "mat2gray.m": """function I = mat2gray(A)
% shim: Image Processing Toolbox mat2gray(A), default limits [min(A(:)) max(A(:))]
A = double(A); lo = min(A(:)); hi = max(A(:));
if hi == lo
  I = A;
else
  I = (A - lo) ./ (hi - lo);
end
I(I < 0) = 0; I(I > 1) = 1;
end
""",
    "im2uint8.m": """function u = im2uint8(x)
% shim: Image Processing Toolbox im2uint8; uint8 input unchanged, double input x*255 rounded and saturated
if isa(x, 'uint8')
  u = x;
else
  u = uint8(double(x) * 255);
end
end
""",
    "imresize.m": """function y = imresize(x, sz)
% shim: only the identity resize (the recorded crop is even-sized)
if isequal(size(x), sz)
  y = x;
else
  error('imresize shim: only the identity resize is available');
end
end
""",
}


def die(msg: str) -> None:
    print(f"record_baseline_reference: {msg}", file=sys.stderr)
    sys.exit(2)


def load_crop(data: Path, crop: int = CROP) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    ims = []
    for kind in ("ir", "vis"):
        p = data / "ir-vis" / "tno" / kind / f"{PAIR}.png"
        if not p.is_file():
            die(f"{p}: not found (pass --data or set MUTUALFUSE_DATA)")
        ims.append(np.asarray(Image.open(p).convert("L")))
    h, w = ims[0].shape
    y0, x0 = (h - crop) // 2 // 2 * 2, (w - crop) // 2 // 2 * 2
    return ims[0][y0:y0 + crop, x0:x0 + crop], ims[1][y0:y0 + crop, x0:x0 + crop], (y0, x0)


def driver(methods: list[str], vifb: Path, work: Path) -> str:
    lines = [
        "more off;",
        f"addpath('{work / 'shims'}', '-end');",
        f"vi.img = '{work / 'vis.png'}'; ir.img = '{work / 'ir.png'}';",
        "here = pwd;",
    ]
    for m in methods:
        d = vifb / "methods" / VIFB_DIRS[m]
        call = f"f = run_{VIFB_DIRS[m]}(vi, ir, 0);"
        if m == "mgff":  # the authors' gray fusion (run_MGFF.m's colour path needs an RGB visible image)
            call = "f = uint8(fuse_MGF(double(imread(ir.img)), double(imread(vi.img)), 9, 10^3));"
        lines += [
            f"cd('{d}');",
            call,
            f"cd(here);",
            f"dlmwrite('{work / (m + '.txt')}', double(f), 'delimiter', ' ', 'precision', '%d');",
        ]
    lines.append("printf('OCTAVE_VERSION %s\\n', version);")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--vifb", required=True, type=Path, help="checkout of xingchenzhang/VIFB")
    ap.add_argument("--octave", default="octave-cli", help="Octave command (default: octave-cli)")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("MUTUALFUSE_DATA", "")) if os.environ.get("MUTUALFUSE_DATA") else None)
    ap.add_argument("--methods", default="msvd,gtf", help=f"comma list from {','.join(VIFB_DIRS)}")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--crop", type=int, default=CROP, help=f"side of the central crop, even (default {CROP})")
    args = ap.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in VIFB_DIRS:
            die(f"--methods: unknown method {m!r} (known: {', '.join(VIFB_DIRS)})")
        entry = args.vifb / "methods" / VIFB_DIRS[m] / ("fuse_MGF.m" if m == "mgff" else f"run_{VIFB_DIRS[m]}.m")
        if not entry.is_file():
            die(f"{entry}: not found (is --vifb a VIFB checkout?)")
    if args.crop < 16 or args.crop % 2:
        die(f"--crop: must be an even number >= 16, got {args.crop}")
    if args.data is None:
        die("no data root: pass --data or set MUTUALFUSE_DATA")
    if shutil.which(args.octave) is None and not Path(args.octave).is_file():
        die(f"--octave: {args.octave!r} not found")
    ir, vis, (y0, x0) = load_crop(args.data, args.crop)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "shims").mkdir()
        for name, text in SHIMS.items():
            (work / "shims" / name).write_text(text)
        Image.fromarray(ir).save(work / "ir.png")
        Image.fromarray(vis).save(work / "vis.png")
        (work / "drive.m").write_text(driver(methods, args.vifb.resolve(), work))
        proc = subprocess.run([args.octave, "--norc", "--no-gui", "-q", str(work / "drive.m")],
                              capture_output=True, text=True, cwd=work)
        if proc.returncode != 0:
            die(f"octave failed (status {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")
        version = next((ln.split()[1] for ln in proc.stdout.splitlines() if ln.startswith("OCTAVE_VERSION")), "?")
        out = {"ir": ir, "vis": vis}
        for m in methods:
            f = np.loadtxt(work / f"{m}.txt", ndmin=2)
            if f.shape != ir.shape:
                die(f"{m}: Octave output has shape {f.shape}, expected {ir.shape}")
            out[m] = f.astype(np.uint8)
    commit = subprocess.run(["git", "-C", str(args.vifb), "rev-parse", "HEAD"], capture_output=True, text=True)
    meta = {"pair": f"ir-vis/tno/{PAIR}", "crop": [y0, x0, args.crop, args.crop], "octave": version,
            "vifb": str(args.vifb), "vifb_commit": commit.stdout.strip() if commit.returncode == 0 else None,
            "methods": methods, "call": "run_<NAME>(imgVI, imgIR, 0) from methods/<NAME>"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, meta=np.array(json.dumps(meta)), **out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {', '.join(methods)}; Octave {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
