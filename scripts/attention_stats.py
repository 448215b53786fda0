"""How peaked is the trained mutual-mapping attention?  (docs/architecture.md)

    python scripts/attention_stats.py [--weights default] [--pair tno-01]

Prints, for the deepest scale of a bundled sample pair: N, log N, the mean / min entropy of
the attention rows (uniform attention has entropy log N), the largest weight vs 1/N, and
the spatial spread of the Eq. 1 weight maps w_X.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "mutualfuse" / "data" / "samples"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="default")
    ap.add_argument("--pair", default="tno-01")
    args = ap.parse_args()
    from mutualfuse.weights import load_model

    net, _ = load_model(args.weights, token_budget=0)
    m = net.cfg.multiple
    ims = []
    for r in ("a", "b"):
        x = np.asarray(Image.open(SAMPLES / args.pair / f"{r}.png").convert("L"), dtype=np.float32) / 255
        h, w = (x.shape[0] // m) * m, (x.shape[1] // m) * m
        ims.append(torch.from_numpy(x[:h, :w])[None, None])
    with torch.no_grad():
        fx, fy = net.enc_x(ims[0])[-1], net.enc_y(ims[1])[-1]
        fus = net.fusion
        c = fx.shape[1]
        X, Y = fx.flatten(2)[0].T, fy.flatten(2)[0].T
        if net.cfg.attn_similarity == "cosine":
            t = float(fus.logit_scale.clamp(max=math.log(100.0)).exp())
            logits = t * torch.nn.functional.normalize(Y, dim=1) @ torch.nn.functional.normalize(X, dim=1).T
        else:
            s = net.cfg.attn_scale or 1 / math.sqrt(c)
            logits = s * Y @ X.T
        A = torch.softmax(logits, -1)
        H = -(A * torch.log(A.clamp_min(1e-30))).sum(-1)
        n = A.shape[-1]
        mx, my = fus.mutual_maps(fx, fy)
        wx = torch.sigmoid(mx - my)
    print(f"pair {args.pair}, similarity {net.cfg.attn_similarity}, N = {n}, log N = {math.log(n):.5f}")
    print(f"attention row entropy: mean {H.mean():.5f}, min {H.min():.5f} nats")
    print(f"largest attention weight {A.max():.3e} (uniform 1/N = {1 / n:.3e})")
    print(f"w_X: mean {wx.mean():.3f}, per-channel spatial std (mean over channels) {wx.std(dim=(2, 3)).mean():.4f}")


if __name__ == "__main__":
    main()
