"""Record the authors' Matlab outputs of the classical baselines on one small real pair, under Octave.

Usage::

    python scripts/record_baseline_reference.py --vifb /path/to/VIFB [--octave octave-cli] \
        [--data /work/shared/data] [--methods msvd,gtf] [--out tests/methods/data/baseline_reference.npz]
    # cbf and mgff loop over pixels in interpreted code: a 64x64 crop, in a second file
    python scripts/record_baseline_reference.py --vifb /path/to/VIFB --methods cbf,mgff --crop 64 \
        --out tests/methods/data/baseline_reference_cbf_mgff.npz
    # lp, rp, dwt, dtcwt: Yu Liu's MST_SR toolbox functions (no VIFB entry point of their own)
    python scripts/record_baseline_reference.py --mst /path/to/MST_SR --methods lp,rp,dwt,dtcwt \
        --out tests/methods/data/baseline_reference_mst.npz

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

``--mst`` is a folder with Yu Liu's MST_SR toolbox files (Liu, Liu & Wang, Information Fusion 24,
2015): ``lp_fuse.m``, ``rp_fuse.m``, ``dwt_fuse.m``, ``dtcwt_fuse.m``, Rockinger's ``selc.m``,
``selb.m``, ``es2.m``, ``adb.m``, ``dec2.m``, ``undec2.m``, and ``dtcwt_toolbox/`` (Kingsbury's
``dtwavexfm2.m``, ``dtwaveifm2.m``, ``colfilter.m``, ``coldfilt.m``, ``colifilt.m``, ``reflect.m``,
``legall.mat``, ``qshift_06.mat``). The functions are called as the toolbox's ``MST_main.m`` calls
them (``level = 4``), on ``A = double(IR)``, ``B = double(VIS)`` (the order of VIFB's
``run_*_SR.m`` wrappers of the same functions), from inside that folder with
``dtcwt_toolbox`` on the path: ``lp_fuse(A, B, 4, 3, 3)``, ``rp_fuse(A, B, 4, 3, 3)``,
``dwt_fuse(A, B, 4)``, ``dtcwt_fuse(A, B, 4)``; ``uint8(F)`` is recorded (``MST_main.m`` shows
``uint8(F)``, VIFB returns it).

Octave without the ``image`` package lacks ``mat2gray``, ``im2uint8``, ``imresize`` and
``ordfilt2``, and Octave has no Wavelet Toolbox (``dwt2``/``idwt2``): the driver appends small
shims (our code, written to the temporary folder) at the *end* of the path, so a loaded package
takes precedence. ``imresize`` is only the identity (the crop is even-sized, so the MSVD wrapper's
``imresize`` to even size is a no-op). ``ordfilt2(A, order, domain)`` is the order-th smallest
value of the ``domain`` neighbourhood with Matlab's default zero padding and centre
``floor((size(domain)+1)/2)``. ``dwt2``/``idwt2`` exist only for ``'db1'`` with ``'mode','per'``
on even-sized arrays (all that ``dwt_fuse.m`` needs on the even crop): one Haar step on 2x2 blocks
with Matlab's ``Lo_D = [c c]``, ``Hi_D = [-c c]``, ``c = sqrt(2)/2``, in ``dwt2.m``'s order of
operations (rows filtered first, each output one 2-term sum of products), and the inverse in
``idwt2.m``'s order (four ``c*(c*band)`` terms summed ``a + h + v + d``); anything else raises an
error. The order matters: integer images give exact ties of ``selc``'s 3x3 activity between the
Haar bands of the two inputs, and the last-bit rounding decides them (exact ``/2`` arithmetic
instead moves 5.6 % of the fused pixels by up to 11 grey levels on the recorded crop).

Output: one ``.npz`` with ``ir``, ``vis`` (the uint8 crops), ``<method>`` (uint8 fused image) per
method, and ``meta`` (JSON: pair, crop, Octave version, VIFB / MST folder and git commit if any).
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
# method name -> call of Liu's MST_SR toolbox function, as MST_main.m makes it (level = 4)
MST_CALLS = {"lp": "lp_fuse(A, B, 4, 3, 3)", "rp": "rp_fuse(A, B, 4, 3, 3)",
             "dwt": "dwt_fuse(A, B, 4)", "dtcwt": "dtcwt_fuse(A, B, 4)"}
MST_FILES = ["lp_fuse.m", "rp_fuse.m", "dwt_fuse.m", "dtcwt_fuse.m", "selc.m", "selb.m", "es2.m", "adb.m",
             "dec2.m", "undec2.m", "dtcwt_toolbox/dtwavexfm2.m", "dtcwt_toolbox/dtwaveifm2.m",
             "dtcwt_toolbox/colfilter.m", "dtcwt_toolbox/coldfilt.m", "dtcwt_toolbox/colifilt.m",
             "dtcwt_toolbox/reflect.m", "dtcwt_toolbox/legall.mat", "dtcwt_toolbox/qshift_06.mat"]
KNOWN = [*VIFB_DIRS, *MST_CALLS]

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
    "ordfilt2.m": """function B = ordfilt2(A, order, domain, varargin)
% shim: Image Processing Toolbox ordfilt2(A, order, domain): the order-th smallest value of the
% neighbourhood given by the nonzero entries of domain, zero padding (Matlab's default),
% centre floor((size(domain)+1)/2)
if nargin > 3
  error('ordfilt2 shim: only ordfilt2(A, order, domain) with zero padding');
end
[m, n] = size(domain); cm = floor((m + 1) / 2); cn = floor((n + 1) / 2);
[r, c] = size(A);
P = zeros(r + m - 1, c + n - 1);
P(cm:cm + r - 1, cn:cn + c - 1) = double(A);
[ii, jj] = find(domain);
S = zeros(r, c, numel(ii));
for k = 1:numel(ii)
  S(:, :, k) = P(ii(k):ii(k) + r - 1, jj(k):jj(k) + c - 1);
end
S = sort(S, 3);
B = S(:, :, order);
end
""",
    "dwt2.m": """function [a, h, v, d] = dwt2(x, wname, varargin)
% shim: Wavelet Toolbox dwt2(X, 'db1', 'mode', 'per') for even-sized X only: one Haar step with
% Matlab's filters Lo_D = [c c], Hi_D = [-c c], c = sqrt(2)/2, and dwt2.m's order of operations
% (each row filtered first, then each column; every output is one 2-term sum of products), so
% that the floating-point rounding, and with it the ties that selc(., ., 3) meets, are Matlab's
if ~(strcmp(wname, 'db1') || strcmp(wname, 'haar')) || numel(varargin) ~= 2 || ~strcmp(varargin{1}, 'mode') || ~strcmp(varargin{2}, 'per')
  error('dwt2 shim: only dwt2(X, ''db1'', ''mode'', ''per'')');
end
if any(mod(size(x), 2))
  error('dwt2 shim: only even-sized X');
end
x = double(x); c = sqrt(2) / 2;
lo = c * x(:, 1:2:end) + c * x(:, 2:2:end);
hi = c * x(:, 1:2:end) - c * x(:, 2:2:end);
a = c * lo(1:2:end, :) + c * lo(2:2:end, :);
h = c * lo(1:2:end, :) - c * lo(2:2:end, :);
v = c * hi(1:2:end, :) + c * hi(2:2:end, :);
d = c * hi(1:2:end, :) - c * hi(2:2:end, :);
end
""",
    "idwt2.m": """function x = idwt2(a, h, v, d, wname, varargin)
% shim: Wavelet Toolbox idwt2(A, H, V, D, 'db1', 'mode', 'per'), the inverse of the dwt2 shim with
% idwt2.m's order of operations (four upsconv2 terms, each c*(c*band), summed a + h + v + d)
if ~(strcmp(wname, 'db1') || strcmp(wname, 'haar')) || numel(varargin) ~= 2 || ~strcmp(varargin{1}, 'mode') || ~strcmp(varargin{2}, 'per')
  error('idwt2 shim: only idwt2(A, H, V, D, ''db1'', ''mode'', ''per'')');
end
c = sqrt(2) / 2;
ta = c * (c * a); th = c * (c * h); tv = c * (c * v); td = c * (c * d);
x = zeros(2 * size(a));
x(1:2:end, 1:2:end) = ta + th + tv + td;
x(1:2:end, 2:2:end) = ta + th - tv - td;
x(2:2:end, 1:2:end) = ta - th + tv - td;
x(2:2:end, 2:2:end) = ta - th - tv + td;
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


def driver(methods: list[str], vifb: Path | None, work: Path, mst: Path | None = None) -> str:
    lines = [
        "more off;",
        f"addpath('{work / 'shims'}', '-end');",
        f"vi.img = '{work / 'vis.png'}'; ir.img = '{work / 'ir.png'}';",
        "here = pwd;",
    ]
    for m in methods:
        if m in MST_CALLS:  # Liu's toolbox function, called as MST_main.m calls it
            lines += [
                f"cd('{mst}'); addpath(genpath('{mst}'));",
                "A = double(imread(ir.img)); B = double(imread(vi.img));",
                f"f = uint8({MST_CALLS[m]});",
                f"rmpath(genpath('{mst}')); cd(here);",
                f"dlmwrite('{work / (m + '.txt')}', double(f), 'delimiter', ' ', 'precision', '%d');",
            ]
            continue
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
    ap.add_argument("--vifb", type=Path, default=None, help="checkout of xingchenzhang/VIFB (msvd, gtf, cbf, mgff)")
    ap.add_argument("--mst", type=Path, default=None, help="folder with Yu Liu's MST_SR toolbox files (lp, rp, dwt, dtcwt)")
    ap.add_argument("--octave", default="octave-cli", help="Octave command (default: octave-cli)")
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("MUTUALFUSE_DATA", "")) if os.environ.get("MUTUALFUSE_DATA") else None)
    ap.add_argument("--methods", default="msvd,gtf", help=f"comma list from {','.join(KNOWN)}")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--crop", type=int, default=CROP, help=f"side of the central crop, even (default {CROP})")
    args = ap.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in KNOWN:
            die(f"--methods: unknown method {m!r} (known: {', '.join(KNOWN)})")
        if m in MST_CALLS:
            if args.mst is None:
                die(f"--methods {m}: needs --mst (a folder with Liu's MST_SR toolbox files)")
            for f in MST_FILES:
                if not (args.mst / f).is_file():
                    die(f"{args.mst / f}: not found (is --mst an MST_SR toolbox folder?)")
            continue
        if args.vifb is None:
            die(f"--methods {m}: needs --vifb (a VIFB checkout)")
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
        (work / "drive.m").write_text(driver(methods, args.vifb.resolve() if args.vifb else None, work,
                                                args.mst.resolve() if args.mst else None))
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
    meta = {"pair": f"ir-vis/tno/{PAIR}", "crop": [y0, x0, args.crop, args.crop], "octave": version,
            "methods": methods}
    for key, root in (("vifb", args.vifb), ("mst", args.mst)):
        if root is not None:
            commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
            meta[key] = str(root)
            meta[f"{key}_commit"] = commit.stdout.strip() if commit.returncode == 0 else None
    if any(m in VIFB_DIRS for m in methods):
        meta["call"] = "run_<NAME>(imgVI, imgIR, 0) from methods/<NAME>"
    if any(m in MST_CALLS for m in methods):
        meta["mst_calls"] = {m: f"uint8({MST_CALLS[m]}), A = double(IR), B = double(VIS)"
                             for m in methods if m in MST_CALLS}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, meta=np.array(json.dumps(meta)), **out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes): {', '.join(methods)}; Octave {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
