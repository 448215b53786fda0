"""Feature mutual mapping (paper §3.2, Eq. 1, Fig. 2).

At the deepest scale the two sources' features ``f_x, f_y`` (B, C, H, W) are flattened to
N = H·W tokens of C channels. The correlation of every position of one source with every
position of the other is a matrix product over channels; a softmax over the *other source's
positions* (the key axis) turns each row into a distribution, and that distribution
aggregates the other source's features:

    Map_X = softmax(f_y f_xᵀ · s) f_x        (for each position of y: where x looks alike)
    Map_Y = softmax(f_x f_yᵀ · s) f_y
    fuse  = w_X ⊙ f_x + w_Y ⊙ f_y,   (w_X, w_Y) = act(Map_X, Map_Y)

with s = 1/√C (the usual attention temperature; C counts a query's channels: ``attn_dim`` with
projections, else the features' C plus the 4·P channels of a position code; ``attn_scale``
overrides it; the ``cosine`` similarity uses its learned temperature instead) and ``act`` the
configured map activation (``softmax`` across the two sources by default, ``none`` = Eq. 1
read literally). The softmax axis and scale are discussed in ``docs/architecture.md``.

The attention is computed by :func:`torch.nn.functional.scaled_dot_product_attention` on
contiguous ``(B, 1, N, C)`` tensors, which dispatches to a fused (flash) kernel that never
materialises the N×N matrix: memory is O(N·C). :func:`naive_cross_map` is the explicit
matmul-softmax-matmul, kept as the reference the tests compare against.

Learned projections and relative position (``attn_dim``, ``attn_pos_freqs``; off in the
paper's reading): the paper builds on the self-attention of its [53] (Bello et al.,
attention-augmented convolution), whose logits are ``(W_q f)ᵀ (W_k f') + relative-position
terms``. With ``attn_dim = d`` the queries and keys are learned 1×1 projections (C → d) of
the two sources' features, one pair per direction; with ``attn_pos_freqs = P`` a 2-D
sinusoidal code of the position (periods 4, 8, …, 2^(P+1) deepest-grid pixels, sine and
cosine of y and x) is appended to keys and, scaled by one learned weight per frequency, to
queries, so that their product adds ``Σ_k α_k (cos ω_k Δy + cos ω_k Δx)``, a learned function
of the displacement only. This keeps the fused O(N·C) attention kernel (no N×N bias). That
code is periodic (all its periods realign at 2^(P+1) cells), so it cannot make attention
local on large grids; ``attn_local_sigma`` adds a Gaussian bias of the displacement,
``−|p_i − p_j|²/(2σ²)``, expanded into three more query/key channels
(:func:`locality_channels`). Raw,
non-negative ReLU features correlate almost equally with every position, which is why the
trained maps of the literal reading are uniform (docs/architecture.md).

Shallower scales (§3.2, last paragraph): the deeper raw maps are upsampled to the scale and
densely connected (Huang et al.): the map at scale k is a 3×3 convolution of the
concatenation of *all* deeper maps resized to scale k, followed by the same activation and
the same Eq. 1.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..registry import Registry
from .blocks import conv3x3, conv_concat, resize
from .config import ModelConfig


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) → contiguous (B, 1, N, C)."""
    b, c, h, w = x.shape
    return x.reshape(b, c, h * w).transpose(1, 2).unsqueeze(1).contiguous()


def cross_map(query: torch.Tensor, source: torch.Tensor, scale: float | None = None,
              values: torch.Tensor | None = None) -> torch.Tensor:
    """softmax(query · sourceᵀ · scale) · values, for (B, C, H, W) feature maps; memory O(N·C).

    ``values`` defaults to ``source`` and may have another channel count Cv. Returns a
    (B, Cv, H, W) map aligned with ``query``'s positions.
    """
    b, c, h, w = query.shape
    q = _tokens(query)
    k = _tokens(source)
    v = k if values is None else _tokens(values)
    if scale is None:
        scale = 1.0 / math.sqrt(c)
    cv = v.shape[-1]
    # the fused CPU kernel needs one head size for q, k and v (otherwise SDPA falls back to
    # the O(N²)-memory math path, 3× slower): zero channels change neither q·k nor the output
    if c < cv:
        q = F.pad(q, (0, cv - c))
        k = F.pad(k, (0, cv - c))
    elif c > cv:
        v = F.pad(v, (0, c - cv))
    out = F.scaled_dot_product_attention(q, k, v, scale=scale)  # (B, 1, N, max(C, Cv))
    if out.shape[-1] != cv:
        out = out[..., :cv].contiguous()
    # a channels-last (B, Cv, H, W) view with regular strides, so that later ops (bilinear
    # resizing, Eq. 1) keep the channels-last layout instead of converting
    return out.reshape(b, h, w, cv).permute(0, 3, 1, 2)


def _rows_cross_map(query: torch.Tensor, source: torch.Tensor, scale: float, values: torch.Tensor,
                    max_logits: int = 1 << 25) -> torch.Tensor:
    """:func:`cross_map` over bands of the query's rows, each with at most ``max_logits`` query-key
    pairs: the same values (each query's softmax is over all keys), for float64 maps, for which
    the fused kernels of a GPU do not exist and SDPA materialises the logits (2^25 of them:
    256 MiB in float64, where a 4K image's whole matrix of 14 400² would take 1.6 GiB)."""
    h, w = query.shape[-2:]
    rows = max(1, max_logits // max(1, w * source.shape[-2] * source.shape[-1]))
    if rows >= h:
        return cross_map(query, source, scale, values=values)
    return torch.cat([cross_map(query[:, :, r:r + rows], source, scale, values=values) for r in range(0, h, rows)], 2)


def pool_for(h: int, w: int, budget: int | None, min_pool: int = 1) -> int:
    """The token-budget pooling factor for an h×w deepest grid (1 = exact mapping).

    The smallest integer p ≥ ``min_pool`` with ceil-pooled tokens ≈ (h·w)/p² ≤ ``budget``; no
    budget (None or 0) is always exact, whatever ``min_pool``. A pure function shared by the
    network and the streaming runner.
    """
    if not budget:
        return 1
    n = h * w
    p = 1 if n <= budget else math.ceil(math.sqrt(n / budget))
    return max(p, int(min_pool))


def grid_positions(h: int, w: int, pool: int = 1, device=None,
                   dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column coordinates of an h×w grid in units of the unpooled grid.

    Cell i of a ``pool``× pooled grid sits at (i + ½)·pool − ½, so pooled and exact maps see
    the same displacements.
    """
    ys = (torch.arange(h, device=device, dtype=dtype) + 0.5) * pool - 0.5
    xs = (torch.arange(w, device=device, dtype=dtype) + 0.5) * pool - 0.5
    return ys, xs


def locality_channels(h: int, w: int, beta: torch.Tensor, scale: float, pool: int = 1,
                      device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Extra (query, key) channels, (1, 3, h, w) each, whose product is a Gaussian bias.

    ``(q_extra · k_extra) · scale = 2β(y_i y_j + x_i x_j) − β(y_j² + x_j²)
    = −β |p_i − p_j|² + β |p_i|²``; the last term is the same for every key of a query, so
    the softmax over keys sees exactly ``−β |p_i − p_j|²`` (β = 1/(2σ²), a 0-dim tensor;
    ``scale`` is the attention's logit scale, divided out here). Coordinates are centred on
    the grid so the cancelling terms stay small. Computed in float64 when ``beta`` is float64,
    else float32 (never half precision: the terms reach |p|² ≈ 10⁴–10⁵ at 1080p and must
    cancel to O(1); :meth:`MutualMappingFusion.mutual_maps` runs such a mapping in float32).
    """
    dt = torch.float64 if beta.dtype == torch.float64 else torch.float32
    ys, xs = grid_positions(h, w, pool, device, dt)
    ys = ys - ys.mean()
    xs = xs - xs.mean()
    yy = ys[:, None].expand(h, w)
    xx = xs[None, :].expand(h, w)
    k = torch.stack([yy, xx, yy * yy + xx * xx])[None]
    b = beta.to(dt) / scale
    q = torch.stack([2 * b * yy, 2 * b * xx, (-b).expand(h, w)])[None]
    return q, k


#: the largest β·R² (β = 1/(2σ²), R the largest distance of a cell from the grid's centre, in
#: unpooled deepest cells) at which the locality bias's float32 dot products are kept: beyond it
#: they run in float64 (:meth:`MutualMappingFusion.mutual_maps`). Its terms reach β·R² and must
#: cancel to O(1), so float32 leaves errors of ~β·R²·6e-8 in the logits: measured with the
#: shipped ``default`` (σ ≈ 1.1), the maps at 1080p (β·R² ≈ 3.1e4) within 5.7e-4 of float64,
#: but an 8×4000 noise pair's fused output 7.4e-3 and an 8×8000 one's 6.1e-2 from the float64
#: network's (β·R² ≈ 1.0e5 and 4.2e5; 1.4e-4 and 6e-5 with only the mapping in float64).
#: The mapping at 1080p costs 1.55 s in float32 and 5.35 s in float64 (one CPU thread), so
#: sizes up to about 1080p keep float32.
LOCALITY_FLOAT32_MAX = 5e4


def locality_extent(h: int, w: int, pool: int = 1) -> float:
    """R² of :data:`LOCALITY_FLOAT32_MAX`: the squared distance of a corner cell from the centre
    of an h×w (``pool``× pooled) grid, in unpooled deepest cells (:func:`grid_positions`)."""
    return ((h - 1) * pool / 2.0) ** 2 + ((w - 1) * pool / 2.0) ** 2


def position_code(h: int, w: int, freqs: int, pool: int = 1, device=None, dtype=None) -> torch.Tensor:
    """(1, 4·freqs, h, w) sinusoidal code of the grid positions (sin/cos of y, then of x).

    Positions are in units of the unpooled deepest grid: cell i of a ``pool``× pooled grid
    sits at (i + ½)·pool − ½, so pooled and exact maps see the same displacements. Frequency
    k has period 2^(k+2) grid cells. The product of two codes is
    Σ_k cos(ω_k Δy) + cos(ω_k Δx).
    """
    ys, xs = grid_positions(h, w, pool, device)
    om = 2 * math.pi / (2.0 ** torch.arange(2, freqs + 2, device=device, dtype=torch.float32))  # (P,)
    ay = ys[None, :] * om[:, None]  # (P, h)
    ax = xs[None, :] * om[:, None]  # (P, w)
    cy = torch.cat([ay.sin(), ay.cos()], 0)[:, :, None].expand(2 * freqs, h, w)
    cx = torch.cat([ax.sin(), ax.cos()], 0)[:, None, :].expand(2 * freqs, h, w)
    return torch.cat([cy, cx], 0)[None].to(dtype or torch.float32)


def naive_cross_map(query: torch.Tensor, source: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """The same as :func:`cross_map` with an explicit N×N matrix (reference; O(N²) memory)."""
    b, c, h, w = query.shape
    q = query.reshape(b, c, h * w).transpose(1, 2)  # (B, N, C)
    k = source.reshape(b, c, h * w).transpose(1, 2)
    if scale is None:
        scale = 1.0 / math.sqrt(c)
    attn = torch.softmax(q @ k.transpose(1, 2) * scale, dim=-1)
    return (attn @ k).transpose(1, 2).reshape(b, c, h, w)


def apply_maps(map_x: torch.Tensor, map_y: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor, act: str,
               align: tuple[nn.Module, nn.Module] | None = None,
               offset: torch.Tensor | None = None) -> torch.Tensor:
    """Eq. 1 with the configured activation of the raw maps.

    ``align`` = (P_X, P_Y): projections applied to the two maps before the activation
    (``ModelConfig.map_align``); ``None`` compares the maps channel by channel (the paper).
    ``offset`` (C,): subtracted from ``map_x − map_y`` per channel ("softmax" only;
    ``ModelConfig.map_center``).
    """
    if align is not None:
        map_x, map_y = align[0](map_x), align[1](map_y)
    if act == "softmax":
        d = map_x - map_y
        if offset is not None:
            d = d - offset.to(d.dtype).view(1, -1, 1, 1)
        wx = torch.sigmoid(d)  # = softmax over the pair, first component
        return wx * fx + (1.0 - wx) * fy
    if act == "sigmoid":
        return torch.sigmoid(map_x) * fx + torch.sigmoid(map_y) * fy
    return map_x * fx + map_y * fy


def _project(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """A 1×1 query/key projection in ``x``'s dtype.

    With the locality bias a half-precision network (``dtype="bfloat16"``, or float16 on CUDA)
    runs its mapping in float32 (:meth:`MutualMapping.mutual_maps`); its projections' weights
    are still half precision there, so they are cast to the input's dtype for that call.
    """
    if conv.weight.dtype == x.dtype:
        return conv(x)
    bias = None if conv.bias is None else conv.bias.to(x.dtype)
    return F.conv2d(x, conv.weight.to(x.dtype), bias, conv.stride, conv.padding, conv.dilation, conv.groups)


def _identity_1x1(c: int) -> nn.Conv2d:
    """A bias-free c → c 1×1 convolution initialised to the identity."""
    conv = nn.Conv2d(c, c, 1, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.eye(c).view(c, c, 1, 1))
    return conv


class MutualMappingFusion(nn.Module):
    """Deepest-scale mutual mapping plus densely connected maps for the shallower scales.

    ``forward(feats_x, feats_y)`` takes the per-level features of both encoders (shallow →
    deep) and returns the fused features per level. ``last_pool`` records the pooling factor
    used by the token budget in the last call (1 = exact).
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        w = cfg.widths[: cfg.depth]
        deep = len(w) - 1
        # dense map convolutions for each shallower level k: in = sum of deeper widths
        self.map_convs_x = nn.ModuleList()
        self.map_convs_y = nn.ModuleList()
        for k in range(deep):
            cin = sum(w[k + 1 :])
            self.map_convs_x.append(conv3x3(cin, w[k], padding=cfg.padding))
            self.map_convs_y.append(conv3x3(cin, w[k], padding=cfg.padding))
        self.last_pool = 1
        if cfg.map_align:
            # P_X, P_Y per level, identity at the start: the model begins as Eq. 1 per channel
            self.align_x = nn.ModuleList(_identity_1x1(c) for c in w)
            self.align_y = nn.ModuleList(_identity_1x1(c) for c in w)
        if cfg.attn_similarity == "cosine":
            self.logit_scale = nn.Parameter(torch.tensor(math.log(cfg.cosine_init_temperature)))
        c = w[deep]
        d = cfg.attn_dim
        if d:
            # one (query, key) projection pair per direction: Map_X = softmax(q_y(f_y) k_x(f_x)ᵀ) f_x
            self.q_y, self.k_x = nn.Conv2d(c, d, 1), nn.Conv2d(c, d, 1)
            self.q_x, self.k_y = nn.Conv2d(c, d, 1), nn.Conv2d(c, d, 1)
        if cfg.attn_pos_freqs:
            self.pos_weight = nn.Parameter(torch.ones(2, cfg.attn_pos_freqs))  # per direction, per frequency
        if cfg.attn_local_sigma:
            # log σ per direction (Map_X, Map_Y) of the Gaussian displacement bias
            self.local_log_sigma = nn.Parameter(torch.full((2,), math.log(float(cfg.attn_local_sigma))))
        if cfg.map_residual:
            # γ_X, γ_Y per channel; 0 (default): the maps start as the attention alone
            self.map_gain = nn.Parameter(torch.full((2, c), float(cfg.map_residual_init)))
        if cfg.map_global_bound:
            # s per channel of the bounded global term g = B·tanh(s ⊙ (μ_X − μ_Y)/B); 0: centred maps
            self.map_global_gain = nn.Parameter(torch.zeros(c))

    def _scale(self, c: int) -> float:
        """The logit scale for content queries of ``c`` channels: ``attn_scale``, else
        1/√attn_dim with projections, else 1/√c (what :func:`cross_map` uses by default)."""
        if self.cfg.attn_scale is not None:
            return self.cfg.attn_scale
        return 1.0 / math.sqrt(self.cfg.attn_dim or c)

    def local_sigma(self) -> torch.Tensor:
        """The learned σ (deepest-grid cells) of the Gaussian displacement bias, per direction."""
        return self.local_log_sigma.exp()

    def _qk(self, fx: torch.Tensor, fy: torch.Tensor, pool: int, wide: bool = False):
        """((q, k) for Map_X, (q, k) for Map_Y) and the logit scale of the dot products.
        ``wide``: the queries and keys in float64 (the content channels computed as the features'
        dtype, then widened), for the locality bias of a large grid (:meth:`_wide_locality`)."""
        pairs = self._qk_content(fx, fy, pool)
        scale = self._scale(pairs[0][0].shape[1])
        if not self.cfg.attn_local_sigma:
            return pairs, scale
        b, _, h, w = fx.shape
        wide = wide or fx.dtype == torch.float64
        beta = 0.5 / self.local_sigma().to(torch.float64 if wide else torch.float32) ** 2
        out = []
        for i, (q, k) in enumerate(pairs):
            if wide:
                q, k = q.double(), k.double()
            lq, lk = locality_channels(h, w, beta[i], scale, pool, fx.device)
            out.append((torch.cat([q, lq.to(q.dtype).expand(b, -1, -1, -1)], 1),
                        torch.cat([k, lk.to(k.dtype).expand(b, -1, -1, -1)], 1)))
        return out, scale

    def _wide_locality(self, fx: torch.Tensor, pool: int) -> bool:
        """Whether this grid's locality bias needs float64 dot products (β·R² above
        :data:`LOCALITY_FLOAT32_MAX`: long or very large images). Never while traced or compiled
        (an ONNX graph keeps float32: docs/inputs.md, ONNX), on MPS (no float64), or for
        float64 features (already wide)."""
        if (not self.cfg.attn_local_sigma or fx.dtype == torch.float64 or fx.device.type == "mps"
                or torch.jit.is_tracing() or torch.compiler.is_compiling()):
            return False
        h, w = fx.shape[-2:]
        beta = 0.5 / float(self.local_sigma().detach().min()) ** 2
        return beta * locality_extent(h, w, pool) > LOCALITY_FLOAT32_MAX

    def _qk_content(self, fx: torch.Tensor, fy: torch.Tensor, pool: int):
        """Queries and keys from the features (and the sinusoidal code), before the locality bias."""
        if self.cfg.attn_dim:
            qx_dir, kx_dir = _project(self.q_y, fy), _project(self.k_x, fx)
            qy_dir, ky_dir = _project(self.q_x, fx), _project(self.k_y, fy)
        else:
            qx_dir, kx_dir, qy_dir, ky_dir = fy, fx, fx, fy
        P = self.cfg.attn_pos_freqs
        if P:
            b, _, h, w = fx.shape
            pe = position_code(h, w, P, pool, fx.device, fx.dtype).expand(b, -1, -1, -1)
            out = []
            for i, (q, k) in enumerate(((qx_dir, kx_dir), (qy_dir, ky_dir))):
                wq = self.pos_weight[i].to(fx.dtype).repeat(4).view(1, 4 * P, 1, 1)
                out.append((torch.cat([q, pe * wq], 1), torch.cat([k, pe], 1)))
            return out
        return [(qx_dir, kx_dir), (qy_dir, ky_dir)]

    def mutual_maps(self, fx: torch.Tensor, fy: torch.Tensor, pool: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """(Map_X, Map_Y) on the given grid, exact (no token budget).

        ``pool`` only tells the position code that this grid is a ``pool``× pooled one.
        """
        if self.cfg.attn_similarity == "cosine":
            # cosine similarity with a learned temperature (the values stay the raw features)
            t = self.logit_scale.clamp(max=math.log(100.0)).exp()
            nx = F.normalize(fx, dim=1)
            ny = F.normalize(fy, dim=1)
            return cross_map(ny * t, nx, 1.0, values=fx), cross_map(nx * t, ny, 1.0, values=fy)
        if self.cfg.attn_local_sigma and (fx.dtype in (torch.float16, torch.bfloat16)
                                          or torch.is_autocast_enabled(fx.device.type)):
            # the locality bias needs float32 (locality_channels): run this mapping without
            # autocast, whose projections would otherwise round the bias channels to half precision
            with torch.autocast(fx.device.type, enabled=False):
                mx, my = self.mutual_maps(fx.float(), fy.float(), pool)
            return mx.to(fx.dtype), my.to(fy.dtype)
        if self._wide_locality(fx, pool):
            # a long or very large grid: the bias's terms reach β·R² and must cancel to O(1), which
            # float32 cannot do (LOCALITY_FLOAT32_MAX): the dot products, softmax and sums in float64
            ((qa, ka), (qb, kb)), scale = self._qk(fx, fy, pool, wide=True)
            return (_rows_cross_map(qa, ka, scale, fx.double()).to(fx.dtype),
                    _rows_cross_map(qb, kb, scale, fy.double()).to(fy.dtype))
        ((qa, ka), (qb, kb)), scale = self._qk(fx, fy, pool)
        return cross_map(qa, ka, scale, values=fx), cross_map(qb, kb, scale, values=fy)

    def attention(self, fx: torch.Tensor, fy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The explicit (B, N, N) attention matrices (A_X, A_Y) of :meth:`mutual_maps`.

        Row i of A_X is the distribution over X's positions that builds Map_X at position i
        (O(N²) memory: for analysis, ``scripts/attention_stats.py``, and tests).
        """
        if self.cfg.attn_similarity == "cosine":
            t = self.logit_scale.clamp(max=math.log(100.0)).exp()
            pairs = [(F.normalize(fy, dim=1) * t, F.normalize(fx, dim=1)), (F.normalize(fx, dim=1) * t, F.normalize(fy, dim=1))]
            scale = 1.0
        else:
            pairs, scale = self._qk(fx, fy, 1)
        out = []
        for q, k in pairs:
            qt, kt = q.flatten(2).transpose(1, 2), k.flatten(2).transpose(1, 2)
            out.append(torch.softmax(qt @ kt.transpose(1, 2) * scale, dim=-1))
        return out[0], out[1]

    def pooled_maps(self, fx: torch.Tensor, fy: torch.Tensor, pool: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The maps computed on a ``pool``× average-pooled grid, upsampled back (token budget).

        With ``map_residual`` the residual term γ ⊙ f is added at the full deepest resolution
        (after the upsampling), so the token budget approximates only the attention part; with
        ``map_center`` the maps are then centred on their spatial means (and, with
        ``map_global_bound``, the bounded global term ±g/2 is added back).
        """
        if pool <= 1:
            mx, my = self.mutual_maps(fx, fy)
        else:
            h, w = fx.shape[-2:]
            px = F.avg_pool2d(fx, pool, ceil_mode=True)
            py = F.avg_pool2d(fy, pool, ceil_mode=True)
            mx, my = self.mutual_maps(px, py, pool)
            mode = self.cfg.map_upsample
            mx, my = resize(mx, (h, w), mode), resize(my, (h, w), mode)
        if self.cfg.map_residual:
            g = self.map_gain.to(fx.dtype)
            mx = mx + g[0].view(1, -1, 1, 1) * fx
            my = my + g[1].view(1, -1, 1, 1) * fy
        if self.cfg.map_center:  # over the whole deepest grid (streaming crops come after this)
            mu_x, mu_y = mx.mean(dim=(2, 3), keepdim=True), my.mean(dim=(2, 3), keepdim=True)
            mx, my = mx - mu_x, my - mu_y
            if self.cfg.map_global_bound:
                d = mu_x - mu_y  # float32 under autocast (half precision would quantise tanh's input)
                half = (0.5 * self.global_term(d if d.dtype == torch.float64 else d.float())).to(mx.dtype)
                mx, my = mx + half, my - half
        return mx, my

    def global_term(self, diff: torch.Tensor) -> torch.Tensor:
        """``g = B·tanh(s ⊙ diff / B)`` of ``map_global_bound`` for the (B, C, 1, 1) differences
        ``μ_X − μ_Y`` of the deepest maps' spatial means: |g| < B."""
        bound = float(self.cfg.map_global_bound)
        s = self.map_global_gain.to(diff.dtype).view(1, -1, 1, 1)
        return bound * torch.tanh(s * diff / bound)

    def deepest_maps(self, fx: torch.Tensor, fy: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The deepest-scale maps under the configured token budget (records ``last_pool``)."""
        pool = pool_for(fx.shape[-2], fx.shape[-1], self.cfg.token_budget, self.cfg.map_min_pool)
        self.last_pool = pool
        return self.pooled_maps(fx, fy, pool)

    def center_offsets(self) -> list[torch.Tensor | None]:
        """Per level, the (C_k,) difference ``Map_X − Map_Y`` of the dense map convolutions
        when the deepest maps are zero (``map_center``), away from the borders.

        On constant inputs a 3×3 convolution gives ``W.sum(taps) @ x + b`` (its interior
        value), and the bilinear or nearest resizing of a constant is that constant, so the
        bias chain of the dense connections is exact in closed form. The deepest level's entry
        is ``None`` (its maps are centred on their own means in :meth:`pooled_maps`).
        """
        deep = len(self.map_convs_x)  # >= 1 (depth >= 2)
        zero = self.map_convs_x[0].weight.new_zeros(self.cfg.widths[deep])
        zx, zy = {deep: zero}, {deep: zero}
        out: list[torch.Tensor | None] = [None] * (deep + 1)
        for k in range(deep - 1, -1, -1):
            for conv, z in ((self.map_convs_x[k], zx), (self.map_convs_y[k], zy)):
                z[k] = conv.weight.sum(dim=(2, 3)) @ torch.cat([z[t] for t in range(k + 1, deep + 1)]) + conv.bias
            out[k] = zx[k] - zy[k]
        return out

    def _align(self, level: int) -> tuple[nn.Module, nn.Module] | None:
        """(P_X, P_Y) of ``level`` with ``map_align``, else None."""
        return (self.align_x[level], self.align_y[level]) if self.cfg.map_align else None

    def forward(self, feats_x: list[torch.Tensor], feats_y: list[torch.Tensor],
                maps: tuple[torch.Tensor, torch.Tensor] | None = None) -> list[torch.Tensor]:
        """Fused features per level; ``maps`` = precomputed deepest (Map_X, Map_Y) (streaming)."""
        act = self.cfg.map_activation
        mode = self.cfg.map_upsample
        deep = len(feats_x) - 1
        mx, my = self.deepest_maps(feats_x[deep], feats_y[deep]) if maps is None else maps
        maps_x = {deep: mx}
        maps_y = {deep: my}
        fused = [None] * len(feats_x)
        offsets = self.center_offsets() if self.cfg.map_center else [None] * len(feats_x)
        fused[deep] = apply_maps(mx, my, feats_x[deep], feats_y[deep], act, self._align(deep))
        for k in range(deep - 1, -1, -1):
            size = feats_x[k].shape[-2:]
            # the 3×3 convolution of the concatenated deeper maps (conv_concat: without the copy)
            maps_x[k] = conv_concat(self.map_convs_x[k], [resize(maps_x[t], size, mode) for t in range(k + 1, deep + 1)])
            maps_y[k] = conv_concat(self.map_convs_y[k], [resize(maps_y[t], size, mode) for t in range(k + 1, deep + 1)])
            fused[k] = apply_maps(maps_x[k], maps_y[k], feats_x[k], feats_y[k], act, self._align(k), offsets[k])
        return fused  # type: ignore[return-value]


class AddFusion(nn.Module):
    """Table 6 "Add": fuse_k = f_x,k + f_y,k."""

    last_pool = 1

    def __init__(self, cfg: ModelConfig):
        super().__init__()

    def forward(self, feats_x, feats_y, maps=None):
        return [a + b for a, b in zip(feats_x, feats_y)]


class ConcatFusion(nn.Module):
    """Table 6 "Concat": fuse_k = ReLU(conv1×1([f_x,k, f_y,k])), keeping the decoder unchanged."""

    last_pool = 1

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        w = cfg.widths[: cfg.depth]
        self.convs = nn.ModuleList(nn.Conv2d(2 * c, c, 1) for c in w)

    def forward(self, feats_x, feats_y, maps=None):
        return [F.relu(conv_concat(conv, [a, b])) for conv, a, b in zip(self.convs, feats_x, feats_y)]


#: the fusion rules of Table 6 by name (``ModelConfig.fusion``)
FUSION_RULES: Registry = Registry("fusion rule")
FUSION_RULES.add("mapping", MutualMappingFusion, cite="the paper, §3.2 (Eq. 1)")
FUSION_RULES.add("add", AddFusion, cite="Table 6 'Add'")
FUSION_RULES.add("concat", ConcatFusion, cite="Table 6 'Concat'")


def make_fusion(cfg: ModelConfig) -> nn.Module:
    return FUSION_RULES.get(cfg.fusion)(cfg)
