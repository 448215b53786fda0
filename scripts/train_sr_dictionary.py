#!/usr/bin/env python
"""Train the dictionaries shipped for the sparse-representation baselines (run once).

* ASR (Liu & Wang 2015): a general dictionary ``D0`` and 6 orientation sub-dictionaries,
  each 64 x 256 (8x8 patches), learned with scikit-learn's ``MiniBatchDictionaryLearning``
  (online dictionary learning, Mairal et al. 2009) in place of the authors' K-SVD.
  Patches are classified by :func:`mutualfuse.methods.classical.sparse.orientation_class`,
  the same rule the fusion uses; ``D0`` is learned on patches of every class.
* CSR (Liu et al. 2016): a convolutional dictionary of 32 filters of 8x8, learned by
  alternating CBPDN (our port of SPORCO's ``cbpdn.m``) and a projected-gradient (FISTA)
  dictionary update in the DFT domain (the objective of SPORCO's ``cbpdndl``/``ccmod``),
  on Tikhonov-high-pass 128x128 crops.

Training images: RoadScene pairs (``/work/shared/data/train/roadscene``) that are in no
public test list (``CROSSREF.tsv``: only the DIDFuse *train* column is filled); the first
``--n-pairs`` such pairs by name, IR and the luminance (BT.601) of VIS, scaled to [0, 1].
Everything is seeded; the settings, file names and a checksum of each output are written
to ``src/mutualfuse/methods/classical/data/dictionaries.json``.

Usage: ``python scripts/train_sr_dictionary.py [--data /work/shared/data] [--n-pairs 10]``
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import fft as sfft

from mutualfuse.methods.classical.sparse import (
    ASR_DICT_FILE,
    CSR_DICT_FILE,
    DATA_DIR,
    PATCH,
    cbpdn,
    orientation_class,
    tikhonov_lowpass,
)


def gray(path: Path) -> np.ndarray:
    im = Image.open(path)
    x = np.asarray(im, dtype=np.float64)
    if x.ndim == 3:
        x = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
    return x / 255.0


def training_names(root: Path, n: int) -> list[str]:
    rows = list(csv.reader(open(root / "CROSSREF.tsv"), delimiter="\t"))
    header = rows[0]
    train_col = [i for i, h in enumerate(header) if "train" in h.lower()]
    names = []
    for r in rows[1:]:
        r = r + [""] * (len(header) - len(r))
        others = [r[i] for i in range(1, len(header)) if i not in train_col]
        if not any(o.strip() for o in others):
            names.append(r[0])
    return sorted(set(names))[:n]


def train_asr(images, rng, n_atoms=256, n_orient=6, per_class=8000, general=16000):
    import warnings

    from sklearn.decomposition import MiniBatchDictionaryLearning
    from sklearn.exceptions import ConvergenceWarning

    warnings.simplefilter("ignore", ConvergenceWarning)

    patches = []
    for im in images:
        w = np.lib.stride_tricks.sliding_window_view(im, (PATCH, PATCH))[::3, ::3]
        patches.append(w.reshape(-1, PATCH, PATCH))
    P = np.concatenate(patches)
    P = P[P.std(axis=(1, 2)) > 2.0 / 255.0]  # flat patches carry no structure after mean removal
    cls = orientation_class(P, n_orient)
    X = (P - P.mean(axis=(1, 2), keepdims=True)).reshape(len(P), -1)
    X = X / np.linalg.norm(X, axis=1, keepdims=True)

    def learn(Xs, seed):
        idx = rng.permutation(len(Xs))
        dl = MiniBatchDictionaryLearning(n_components=n_atoms, alpha=0.1, batch_size=512,
                                         max_iter=3, random_state=seed, fit_algorithm="cd")
        dl.fit(Xs[idx])
        D = dl.components_.T
        return D / np.linalg.norm(D, axis=0, keepdims=True)

    counts = {int(c): int((cls == c).sum()) for c in range(-1, n_orient)}
    g = rng.choice(len(X), size=min(general, len(X)), replace=False)
    D0 = learn(X[g], 0)
    Dn = []
    for c in range(n_orient):
        Xc = X[cls == c]
        if len(Xc) > per_class:
            Xc = Xc[rng.choice(len(Xc), per_class, replace=False)]
        Dn.append(learn(Xc, c + 1))
    return D0, np.stack(Dn), {"patches": int(len(P)), "class_counts": counts,
                              "general_samples": int(len(g)), "per_class_max": per_class}


def train_csr(images, rng, n_filters=32, crop=128, n_crops=8, lam=0.2, outer=40):
    S = []
    for im in images[:n_crops]:
        y = rng.integers(0, im.shape[0] - crop + 1)
        x = rng.integers(0, im.shape[1] - crop + 1)
        S.append(tikhonov_lowpass(im[y:y + crop, x:x + crop], 5.0, 16)[1])
    S = np.stack(S)
    D = rng.standard_normal((PATCH, PATCH, n_filters))
    D -= D.mean(axis=(0, 1), keepdims=True)
    D /= np.linalg.norm(D.reshape(-1, n_filters), axis=0)
    H = W = crop
    Sf = sfft.rfft2(S)

    def project(d):  # zero outside the 8x8 support, norm <= 1 (SPORCO's Pcn)
        d = d.copy()
        d[:, PATCH:, :] = 0
        d[:, :, PATCH:] = 0
        n = np.sqrt((d ** 2).sum(axis=(1, 2), keepdims=True))
        return d / np.maximum(n, 1.0)

    d_sp = np.zeros((n_filters, H, W))
    d_sp[:, :PATCH, :PATCH] = np.moveaxis(D, 2, 0)
    history = []
    for it in range(outer):
        D = np.moveaxis(d_sp[:, :PATCH, :PATCH], 0, 2)
        X = np.stack([cbpdn(D, s, lam, max_iter=30, rel_tol=1e-4, dtype=np.float64) for s in S])
        Xf = sfft.rfft2(X)                                   # (K, M, H, Wf)
        # per-frequency normal matrix sum_k conj(x_k) x_k^T and its largest eigenvalue
        A = np.einsum("kmyx,knyx->yxmn", np.conj(Xf), Xf)
        L = float(np.linalg.eigvalsh(A).max()) + 1e-12
        b = np.einsum("kmyx,kyx->myx", np.conj(Xf), Sf)
        z = d_sp.copy()
        t = 1.0
        d_prev = d_sp
        for _ in range(40):  # FISTA on 1/2 sum_k ||sum_m x_km * d_m - s_k||^2, d in C
            zf = sfft.rfft2(z)
            grad_f = np.einsum("yxmn,nyx->myx", A, zf) - b
            d_new = project(z - sfft.irfft2(grad_f, s=(H, W)) / L)
            t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
            z = d_new + ((t - 1) / t_new) * (d_new - d_prev)
            d_prev, t = d_new, t_new
        d_sp = d_prev
        rec = sfft.irfft2(np.einsum("myx,kmyx->kyx", sfft.rfft2(d_sp), Xf), s=(H, W))
        obj = 0.5 * float(((rec - S) ** 2).sum()) + lam * float(np.abs(X).sum())
        history.append(obj)
    D = np.moveaxis(d_sp[:, :PATCH, :PATCH], 0, 2)
    return D, {"lambda": lam, "crop": crop, "n_crops": int(len(S)), "outer_iterations": outer,
               "objective_first_last": [history[0], history[-1]]}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/work/shared/data")
    ap.add_argument("--n-pairs", type=int, default=10)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--only", choices=["asr", "csr"], default=None)
    args = ap.parse_args()
    root = Path(args.data) / "train" / "roadscene"
    names = training_names(root, args.n_pairs)
    images = []
    for n in names:
        images.append(gray(root / "ir" / f"{n}.png"))
        images.append(gray(root / "vis" / f"{n}.png"))
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    info_path = DATA_DIR / "dictionaries.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    common = {"images": [f"train/roadscene/{{ir,vis}}/{n}.png" for n in names], "seed": args.seed,
              "script": "scripts/train_sr_dictionary.py"}
    if args.only in (None, "asr"):
        t0 = time.time()
        D0, Dn, meta = train_asr(images, np.random.default_rng(args.seed))
        np.savez_compressed(ASR_DICT_FILE, D0=D0.astype(np.float32), Dn=Dn.astype(np.float32))
        info["asr"] = {**common, **meta, "file": ASR_DICT_FILE.name, "sha256": sha(ASR_DICT_FILE),
                       "learner": "sklearn MiniBatchDictionaryLearning(n_components=256, alpha=0.1, "
                       "batch_size=512, max_iter=3, fit_algorithm='cd') on unit-norm mean-removed "
                       "8x8 patches (stride 3, std > 2/255)", "seconds": round(time.time() - t0, 1)}
        print("ASR done", info["asr"]["seconds"], "s")
    if args.only in (None, "csr"):
        t0 = time.time()
        D, meta = train_csr(images, np.random.default_rng(args.seed + 1))
        np.save(CSR_DICT_FILE, D.astype(np.float32))
        info["csr"] = {**common, **meta, "file": CSR_DICT_FILE.name, "sha256": sha(CSR_DICT_FILE),
                       "learner": "alternating CBPDN (30 ADMM iterations) / FISTA dictionary update "
                       "(40 iterations), 32 filters 8x8", "seconds": round(time.time() - t0, 1)}
        print("CSR done", info["csr"]["seconds"], "s", meta["objective_first_last"])
    info_path.write_text(json.dumps(info, indent=1) + "\n")


if __name__ == "__main__":
    import sys as _sys

    from mutualfuse.errors import FuseError

    try:
        _sys.exit(main())
    except (FuseError, FileNotFoundError) as _e:  # bad input (data root, weights, names): one line
        print(f"{_sys.argv[0].rsplit('/', 1)[-1]}: error: {_e}", file=_sys.stderr)
        _sys.exit(2)
