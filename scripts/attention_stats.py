"""How peaked and how local is a trained mutual-mapping attention, and does the output need it?

    python scripts/attention_stats.py [--weights default] [--pairs tno-01,lytro-01,ct-mr-c01] [--task auto]

For the deepest scale of each bundled sample pair (exact mapping, no token budget) it prints:
N and log N; the mean entropy of the attention rows of A_X and A_Y (uniform attention has
entropy log N); the attention mass on the top 1 % of keys (uniform: 0.01); the mean distance
in deepest-grid cells between a query and its attention's centre of mass (uniform attention:
about the mean distance to the image centre); the spatial variation of the Eq. 1 weights w_X
(per-channel spatial std, mean over channels); and what the output loses when the deepest maps
are replaced by their global means: the mean absolute difference of the fused image (grey
levels, 0–255) and the PSNR between the two outputs. The maps are those Eq. 1 uses
(``deepest_maps``: with ``map_residual``, attention + γ ⊙ own feature); for such a model the
last column replaces only the attention part by its global mean (the residual kept).

A second table asks whether Eq. 1 compares like with like: its weights are a softmax over
(Map_X, Map_Y) *per channel*, and the two encoders share no weights, so channel c of f_x and
channel c of f_y need not describe the same thing (:func:`channel_correspondence`).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image

SAMPLES = Path(__file__).resolve().parents[1] / "src" / "mutualfuse" / "data" / "samples"


def channel_correspondence(fx: torch.Tensor, fy: torch.Tensor) -> dict[str, float]:
    """Do the two encoders' deepest channels correspond? ``fx``, ``fy``: (1, C, H, W).

    Pearson correlation over positions between channel c of ``fx`` and every channel of ``fy``
    (a channel constant over the image — a dead ReLU — is left out). Returns the live channel
    counts, the mean correlation of same-index pairs (``same``), the mean over live X channels of
    the largest |correlation| with any live Y channel (``best``), and the mean rank of the
    same-index channel among the live Y channels by |correlation| (1 = it is the best match).
    """
    x = fx[0].flatten(1).double()
    y = fy[0].flatten(1).double()
    x = x - x.mean(1, keepdim=True)
    y = y - y.mean(1, keepdim=True)
    nx, ny = x.norm(dim=1), y.norm(dim=1)
    lx, ly = nx > 1e-9 * max(float(nx.max()), 1e-300), ny > 1e-9 * max(float(ny.max()), 1e-300)
    corr = (x @ y.T) / (nx[:, None] * ny[None, :]).clamp_min(1e-300)
    both = lx & ly
    ac = corr.abs()[:, ly]
    diag = corr.diagonal().abs()
    rank = (ac > diag[:, None]).sum(1) + 1
    return {"live_x": int(lx.sum()), "live_y": int(ly.sum()), "same": float(corr.diagonal()[both].mean()),
            "best": float(ac[lx].max(1).values.mean()), "rank": float(rank[both].double().mean())}


def stats(net, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    fus = net.fusion
    with torch.no_grad():
        fx, fy = net.encode(a, b)
        h, w = fx[-1].shape[-2:]
        ax, ay = fus.attention(fx[-1], fy[-1])
        n = ax.shape[-1]
        ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                                indexing="ij")
        pos = torch.stack([ys.flatten(), xs.flatten()], 1)  # (N, 2)
        out: dict[str, float] = {"N": n, "logN": math.log(n)}
        ents, tops, dists = [], [], []
        k = max(1, n // 100)
        for A in (ax[0].double(), ay[0].double()):
            ents.append(float((-(A * torch.log(A.clamp_min(1e-300))).sum(-1)).mean()))
            tops.append(float(A.topk(k, dim=-1).values.sum(-1).mean()))
            com = A @ pos
            dists.append(float((com - pos).norm(dim=1).mean()))
        uni = float((pos.mean(0) - pos).norm(dim=1).mean())
        out.update(entropy=float(np.mean(ents)), top1pct=float(np.mean(tops)), dist=float(np.mean(dists)),
                   dist_uniform=uni)
        # the maps Eq. 1 uses (with ``map_residual``: attention + γ ⊙ own feature)
        out.update({f"chan_{k}": v for k, v in channel_correspondence(fx[-1], fy[-1]).items()})
        deep = len(fx) - 1
        align = fus._align(deep)
        if align is not None:  # ``map_align``: Eq. 1 compares P_X Map_X with P_Y Map_Y
            out.update({f"chanP_{k}": v for k, v in channel_correspondence(align[0](fx[-1]), align[1](fy[-1])).items()})
        maps = fus.deepest_maps(fx[-1], fy[-1])
        gx, gy = maps if align is None else (align[0](maps[0]), align[1](maps[1]))
        wx = torch.sigmoid(gx - gy)
        out["wx_spatial_std"] = float(wx.std(dim=(2, 3)).mean())
        f = net.decode(net.fuse(fx, fy, maps=maps), a, b).clamp(0, 1)

        def change(alt):  # mean |Δ| in grey levels and PSNR between f and the fused image with ``alt`` maps
            g = net.decode(net.fuse(fx, fy, maps=alt), a, b).clamp(0, 1)
            d = (f - g).double() * 255
            return float(d.abs().mean()), float(10 * torch.log10(255.0**2 / (d**2).mean().clamp_min(1e-12)))

        out["mean_maps_mad"], out["mean_maps_psnr"] = change(
            tuple(m.mean(dim=(2, 3), keepdim=True).expand_as(m) for m in maps))
        out["attn_mean_mad"] = float("nan")
        if net.cfg.map_residual:  # only the attention part replaced by its global mean
            att = fus.mutual_maps(fx[-1], fy[-1])
            out["attn_mean_mad"], _ = change(tuple(m - t + t.mean(dim=(2, 3), keepdim=True)
                                                   for m, t in zip(maps, att)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="default")
    ap.add_argument("--pairs", default="tno-01,lytro-01,ct-mr-c01")
    ap.add_argument("--pos-weight", type=float, default=None,
                    help="what-if: set every learned position-code weight to this value (untrained)")
    ap.add_argument("--local-sigma", type=float, default=None,
                    help="what-if: add a Gaussian locality bias of this sigma (cells) to weights without one (untrained)")
    ap.add_argument("--task", default="stored",
                    help="the inference settings of the output comparisons: stored (default, as every log "
                         "before 2026-12-04's eighth session), auto (each pair's detected task, as fuse's "
                         "default for 'default'), or a task (--task of fuse)")
    args = ap.parse_args()
    from dataclasses import replace

    from mutualfuse import Fuser
    from mutualfuse.errors import FuseError
    from mutualfuse.methods import METHODS
    from mutualfuse.model import build_model
    from mutualfuse.tasks import detect_task

    samples = sorted(d.name for d in SAMPLES.iterdir() if (d / "a.png").is_file() and (d / "b.png").is_file())
    bad = [p for p in args.pairs.split(",") if p not in samples]
    if bad:
        ap.error(f"--pairs: no bundled sample pair {', '.join(map(repr, bad))} (samples: {', '.join(samples)})")
    if args.weights.lower() in METHODS.names() and args.weights.lower() != "mutualfuse":
        ap.error(f"--weights {args.weights!r} is a classical method; attention needs network weights")
    try:
        fuser = Fuser(args.weights, device="cpu", token_budget=0, task=args.task)  # the settings fuse --task uses
    except FuseError as e:
        ap.error(str(e))
    net = fuser.net.to(memory_format=torch.contiguous_format)  # as load_model gives it
    if args.local_sigma is not None:
        if net.cfg.attn_local_sigma:
            raise SystemExit("--local-sigma: these weights already have a locality bias")
        state = net.state_dict()
        net = build_model(replace(net.cfg, attn_local_sigma=args.local_sigma))
        missing = net.load_state_dict(state, strict=False).missing_keys
        assert missing == ["fusion.local_log_sigma"], missing
        print(f"what-if: untrained Gaussian locality bias, sigma {args.local_sigma}")
    if args.pos_weight is not None:
        with torch.no_grad():
            net.fusion.pos_weight.fill_(args.pos_weight)
        print(f"what-if: every position-code weight set to {args.pos_weight}")
    net.eval()
    m = net.cfg.multiple
    print(f"weights {args.weights} (task {fuser.task_mode}): similarity {net.cfg.attn_similarity}, attn_dim {net.cfg.attn_dim}, "
          f"position frequencies {net.cfg.attn_pos_freqs}, output {net.cfg.output}")
    if net.cfg.attn_local_sigma:
        sig = [round(float(v), 4) for v in net.fusion.local_sigma().detach()]
        print(f"Gaussian locality bias: sigma (Map_X, Map_Y) = {sig} deepest-grid cells "
              f"(started at {net.cfg.attn_local_sigma})")
    print(f"{'pair':<11} {'N':>6} {'log N':>6} {'row entropy':>11} {'top-1% mass':>11} {'dist (cells)':>12} "
          f"{'(uniform)':>9} {'w_X std':>8} {'mean-maps |Δ|':>13} {'PSNR dB':>8} {'attn-mean |Δ|':>13}")
    rows = []
    for pair in args.pairs.split(","):
        ims = []
        for r in ("a", "b"):
            x = np.asarray(Image.open(SAMPLES / pair / f"{r}.png").convert("L"), dtype=np.float32) / 255
            h, w = (x.shape[0] // m) * m, (x.shape[1] // m) * m
            ims.append(torch.from_numpy(x[:h, :w])[None, None])
        if fuser.task_mode == "auto":
            t = detect_task(ims[0][0, 0].numpy(), ims[1][0, 0].numpy()).task
            fuser.use_task(t)
            print(f"# {pair}: task {t}, " + ", ".join(f"{k} {getattr(net.cfg, k):g}" for k in
                                                    ("blend_temperature", "base_temperature", "detail_activity")))
        s = stats(net, *ims)
        print(f"{pair:<11} {s['N']:>6} {s['logN']:>6.3f} {s['entropy']:>11.3f} {s['top1pct']:>11.4f} "
              f"{s['dist']:>12.2f} {s['dist_uniform']:>9.2f} {s['wx_spatial_std']:>8.4f} "
              f"{s['mean_maps_mad']:>13.3f} {s['mean_maps_psnr']:>8.2f} {s['attn_mean_mad']:>13.3f}")
        rows.append((pair, s))
    print(f"\n# deepest channels of the two encoders: same-index correlation over positions (Eq. 1 compares "
          f"channel c of X with channel c of Y), best |correlation| of an X channel with any Y channel, "
          f"rank of the same-index channel among the live Y channels (1 = best match)")
    print(f"{'pair':<11} {'C':>4} {'live X':>6} {'live Y':>6} {'same-index corr':>15} {'best |corr|':>11} {'rank':>6}")
    for pair, s in rows:
        print(f"{pair:<11} {net.cfg.widths[net.cfg.depth - 1]:>4} {s['chan_live_x']:>6} {s['chan_live_y']:>6} "
              f"{s['chan_same']:>+15.3f} {s['chan_best']:>11.3f} {s['chan_rank']:>6.1f}")
    if net.cfg.map_align:
        print("# the same for the projected features P_X f_X, P_Y f_Y (map_align: Eq. 1 compares P_X Map_X with "
              "P_Y Map_Y, and P Map = attention · P f)")
        for pair, s in rows:
            print(f"{pair + ' (P)':<11} {net.cfg.widths[net.cfg.depth - 1]:>4} {s['chanP_live_x']:>6} "
                  f"{s['chanP_live_y']:>6} {s['chanP_same']:>+15.3f} {s['chanP_best']:>11.3f} {s['chanP_rank']:>6.1f}")


if __name__ == "__main__":
    main()
