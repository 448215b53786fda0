"""Typed configuration of the fusion networks.

Every field the paper leaves open is a field here; ``docs/architecture.md`` gives the chosen
default and the reason for each. A model is fully determined by its :class:`ModelConfig`, which
is stored next to every checkpoint and every shipped weights file.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from ..errors import ParameterError

FUSION_RULES = ("mapping", "add", "concat")
UPSAMPLE_MODES = ("bilinear", "nearest", "bicubic")
MAP_ACTIVATIONS = ("softmax", "sigmoid", "none")
DOWNSAMPLE_MODES = ("maxpool", "avgpool", "conv")
PADDING_MODES = ("reflect", "zeros")
ATTN_SIMILARITIES = ("dot", "cosine")
OUTPUT_HEADS = ("direct", "blend", "blend_residual", "pyramid")
BLEND_HEADS = ("blend", "blend_residual", "pyramid")


@dataclass
class ModelConfig:
    """Configuration of a fusion network.

    Attributes:
        arch: registered architecture name (``"fmm"`` = the paper's network, ``"vifnet"``).
        depth: number of encoder levels (3 in the paper: 3×3 conv + 2 res-blocks; 4 and 5 are
            Table 7's deeper variants). The feature mutual mapping runs at scale 1/2**(depth-1).
        widths: channels per level (length ``>= depth``; only the first ``depth`` are used).
        fusion: ``"mapping"`` (Eq. 1, default), ``"add"`` or ``"concat"`` (Table 6).
        map_activation: how the attention outputs become per-element weights: ``"softmax"``
            across the two sources (weights sum to 1), ``"sigmoid"``, or ``"none"`` (Eq. 1 read
            literally: the raw attention output multiplies the features).
        attn_scale: the scale of the correlation before the softmax; ``None`` = 1/sqrt(C), C the
            channels of a query: ``attn_dim`` with projections, else the features' channels plus
            the 4·P of the position code (``attn_pos_freqs`` = P). ``"dot"`` similarity only.
        attn_similarity: ``"dot"`` (the paper: raw dot products times ``attn_scale``) or
            ``"cosine"`` (channel-normalised features times a learned temperature, initialised
            at ``cosine_init_temperature``; values stay the raw features). See
            docs/architecture.md: with ``"dot"`` the trained attention collapsed to uniform.
        map_upsample: interpolation of deeper maps to shallower scales (dense connection).
        decoder_upsample: interpolation inside the deep-layer-aggregation decoder.
        downsample: how the encoder halves resolution between levels.
        attn_dim: channels of learned 1×1 query/key projections of the features before the
            correlation (the learned projections of the attention-augmented convolution of
            Bello et al., the paper's [53]); 0 = correlate the raw features (Eq. 1 literally,
            the paper's reading). The values stay the raw features of the other source.
        attn_pos_freqs: number of frequencies of a 2-D sinusoidal position code appended to
            queries and keys, each frequency with a learned weight, so that the correlation
            gains a learned function of the *displacement* between positions (the relative
            position logits of [53], in a form that keeps O(N·C) memory); 0 = none.
        attn_local_sigma: ``σ₀ > 0`` adds to every correlation a Gaussian bias of the
            displacement, ``−|p_i − p_j|² / (2σ²)`` (positions in deepest-grid cells of the
            unpooled grid), with one learned σ per direction starting at ``σ₀``: a relative
            position logit of [53] that, unlike the sinusoidal code (periodic: its periods
            4…2^(P+1) cells all realign at a displacement of 2^(P+1) cells), can make the
            attention local on any image size. It is expanded into three extra query/key
            channels (``2β·y_i, 2β·x_i, −β`` against ``y_j, x_j, y_j² + x_j²``, β = 1/(2σ²)),
            so the fused O(N·C) kernel still applies. Beyond the paper; 0 = none.
        map_residual: add to each deepest raw map a learned per-channel multiple of the
            feature it is built from at the same position, Map_X = softmax(q kᵀ) f_x + γ_X ⊙ f_x
            (likewise for Y): the residual path of the transformer blocks and the convolutional
            path of the attention-augmented convolution ([53]) that the paper's mapping builds
            on. Beyond the paper. γ starts at ``map_residual_init`` (0: the model starts as
            without it). Without it a flat attention makes every map a global mean
            (docs/architecture.md); with it the maps, and so Eq. 1's weights, can vary with the
            local features: with the softmax activation, w_X = σ(ΔMap + γ ⊙ (f_x − f_y)) for
            γ_X = γ_Y, a soft element-wise maximum of the two sources' features (IFCNN's rule)
            as γ grows.
        map_align: learned 1×1 projections ``P_X, P_Y`` (C_k → C_k per level k, identity at
            the start, no bias) of each level's two maps before the activation of Eq. 1:
            ``w_X = act(P_X Map_X, P_Y Map_Y)``. The encoders share no weights, so channel c of
            Map_X and channel c of Map_Y describe different features (docs/architecture.md,
            "Why local maps do not help"); the projections let the comparison learn which
            mixtures of X's channels to weigh against which of Y's. The dense connections
            still carry the raw maps. Beyond the paper; ``False`` = Eq. 1 per channel.
        shared_encoder: one encoder for both sources (a Siamese pair, as DenseFuse and IFCNN):
            channel c of X's features and of Y's is then the same feature, so Eq. 1's
            per-channel softmax weighs like against like ("which source holds more of feature
            c here", a soft version of IFCNN's element-wise maximum). The paper's encoders share
            no weights (§3.1); beyond the paper, ``False`` = the paper. The weights then hold
            ``enc_x`` only; ``init_weights`` from a two-encoder file copies its ``enc_x``.
            ``"fmm"`` only.
        map_center: every level's map difference ``Map_X − Map_Y`` (the logit of Eq. 1's softmax)
            is taken relative to its global value: the deepest maps are centred on their spatial
            mean over the whole image (before the token-budget crop of streaming), and each
            shallower level subtracts the per-channel difference that its dense convolutions
            produce from zero deepest maps (the bias chain, in closed form). Replacing the maps
            by their global means then gives w_X = ½ at every position (up to the borders of the
            3×3 convolutions), so with ``shared_encoder`` the fused features are symmetric in
            the two sources and the decoder can tell them apart only through the maps' local
            variation: the mapping has to carry the selection. Beyond the paper; needs the
            ``"softmax"`` activation, ``shared_encoder`` and no ``map_align``.
        map_global_bound: with ``map_center``, ``B > 0`` gives back a bounded, learned part of
            the global difference that centring removes: the deepest maps' per-channel spatial
            means μ_X, μ_Y add ``g = B·tanh(s ⊙ (μ_X − μ_Y)/B)`` to the deepest logit
            ``Map_X − Map_Y`` (split ±g/2 between the maps; s = ``map_global_gain``, one per
            channel, starting at 0, i.e. at the centred model), so that the model can prefer one
            source over the whole image by its content (a global preference, e.g. the brighter
            modality of a medical pair) while its global-mean-maps variant stays a model whose
            deepest weights are bounded by σ(±B). The dense convolutions carry g to the
            shallower levels as they carry the maps. Beyond the paper; 0 (the default) = off.
        map_residual_init: the initial value of every γ (the deepest features are small,
            std ≈ 0.05–0.2 in the shipped models, so γ of order 10 is needed to move the weights).
        padding: border handling of every 3×3 convolution of the ``"fmm"`` network, ``"reflect"``
            (the first shipped models) or ``"zeros"`` (cheaper: no padding copies; the later
            models). With ``"reflect"`` every level must be at least 2 pixels wide, so inputs
            need sides of at least :attr:`~mutualfuse.model.network.FusionNet.min_side` pixels.
        output: ``"direct"`` (the paper: the decoder's last convolution is the fused image) or
            ``"blend"`` (beyond the paper: it gives two per-pixel logits whose softmax weights
            blend the two sources, F = w·X + (1 − w)·Y; no intensity drift, source sharpness
            kept). ``"blend_residual"``: the blend plus a third output channel added as a
            learned residual, F = w·X + (1 − w)·Y + r, so that the network can also add
            detail or contrast that neither source has at a pixel. ``"pyramid"``: the sources
            are split into Laplacian pyramids of ``pyramid_levels`` bands and every band is
            blended with its own learned weights (:mod:`mutualfuse.model.pyramid`), so that the
            network can choose per frequency as ``lp``/``dwt`` do. See docs/architecture.md.
        pyramid_levels: number of bands (detail bands + base) of the ``"pyramid"`` output.
        pyramid_gain: with the ``"pyramid"`` output, ``b > 0`` adds a learned gain per detail
            band and pixel, ``g = exp(b·tanh(z/b))`` in [e^−b, e^b], that multiplies the
            blended band (contrast beyond a selection). The base band stays a convex blend; the
            detail bands are only nearly zero-mean (borders, bilinear ↑2), so a gain can move
            the mean a little (benchmarks/bench_quality.py measures it). Its head starts at
            zero, i.e. g = 1. 0 = no gain (the default).
        base_head: with the ``"pyramid"`` output, ``k > 0`` adds a learned term to the base
            band's logit that looks at the two sources' base bands directly (no mutual maps):
            d = h(G_X, G_Y) − h(G_Y, G_X), h a per-pixel MLP (1×1 convolutions 2 → k → 1, ReLU)
            of the two base-band intensities, so the term is antisymmetric in the sources
            (swapping them flips the preference) and pointwise at the base band's resolution
            (1/2^(n−1); streaming needs no wider halo). Its last layer starts at zero, i.e. at
            the model without it. Beyond the paper: with ``map_center`` the base band was where
            the centred model lost the medical metrics to ``default`` (docs/training.md,
            "Which bands"); 0 (the default) = off.
        base_brightness: with the ``"pyramid"`` output, ``β > 0`` adds a *given* rule to the base
            band's weight: w_X = σ(Δz/T + β·(G_X − G_Y)), Δz the learned logit difference (after
            ``blend_bound``), T the temperature, G_X, G_Y the sources' base bands (intensities in
            [0, 1]), so that where one source is brighter at the coarsest scale its low
            frequencies are preferred (the classical "choose max" rule of the base band, soft;
            β = 10 turns a difference of 0.1 into one logit). Pointwise at the base band's
            resolution (streaming needs no wider halo), antisymmetric in the sources, no weights.
            An inference-time knob like the temperature; beyond the paper: the centred models
            lost the medical contrast metrics to ``default`` in the base band
            (docs/training.md, "Which bands"). 0 (the default) = off.
        detail_activity: with the ``"pyramid"`` output, ``γ > 0`` adds a *given* rule to every detail
            band's weight: w_X,j = σ(Δz_j/T + γ·(A_X,j − A_Y,j)), A = the 3×3 mean of |L_j| (the
            band's local activity, intensities in [0, 1]; :func:`~mutualfuse.model.pyramid.band_activity`),
            so that where one source has clearly more detail in a band its detail is preferred (the
            classical choose-max rule of ``lp``/``dwt``/IFCNN, soft; γ = 100 turns an activity
            difference of 0.01, 2.5 grey levels, into one logit). Antisymmetric in the sources, no
            weights; the streaming halo covers its one-pixel window. An inference-time knob;
            beyond the paper. 0 (the default) = off.
        blend_bound: with a blend output, the logits pass through ``b·tanh(z/b)`` so that
            the weights stay in [σ(−2b), σ(2b)] and never saturate to exactly 0/1 in float32,
            where their gradient would vanish (a pilot run with a strong gradient loss froze
            that way); 0 = unbounded.
        blend_temperature: with a blend or pyramid output, the (bounded) logits are divided by
            ``T`` before the softmax: ``T < 1`` makes the learned selection harder (closer to a
            hard choice of one source per pixel and band), ``T > 1`` softer. An inference-time
            knob: 1.0 (the default) is the model as trained.
        base_temperature: with the ``"pyramid"`` output, ``T_b > 0`` is the temperature of the base
            band's weights instead of ``blend_temperature`` (which then applies to the detail
            bands only), so that the low frequencies can be blended more softly (or more hardly)
            than the detail is selected. An inference-time knob; 0 (the default) = the same
            ``blend_temperature`` for every band.
        detail_gain: with the ``"pyramid"`` output, every blended detail band is multiplied by
            this constant before the pyramid is collapsed (the base band is not): ``> 1``
            sharpens (more contrast in fine structure than the selected source has), ``< 1``
            softens. An inference-time knob in [0.5, 2]; 1.0 (the default) is the model as
            trained. The detail bands are only nearly zero-mean (borders, bilinear ↑2), so a
            gain can move the mean slightly.
        token_budget: above this many tokens at the deepest scale the mapping is computed on
            an average-pooled grid and its maps upsampled (an approximation, reported by the
            fuse API). ``None`` or 0 = always exact.
        map_min_pool: under a token budget, the mapping is pooled at least this much (1 = only
            above the budget). Beyond the paper, an inference-time speed setting: the shipped
            ``default`` stores 2, which makes a 256² image's N = 4096-token attention a 1024-token
            one (docs/inputs.md, "Token budget"); ``token_budget`` 0 / None stays exact.
        in_channels: 1 (luminance), the only value: colour inputs are fused on their luminance
            outside the network.

    A field that acts only together with another (``attn_scale`` with ``"dot"``,
    ``cosine_init_temperature`` with ``"cosine"``, ``map_residual_init`` with ``map_residual``,
    ``pyramid_gain`` with the ``"pyramid"`` output, ``blend_bound`` with a blend
    output, ``base_*``/``detail_*`` with ``"pyramid"``) is refused with a value other than its
    default where it would be ignored.

    Every field is checked when the config is made (also by :func:`dataclasses.replace` and
    :meth:`from_dict`): a wrong type or a value out of range is a one-line
    :class:`~mutualfuse.errors.ParameterError` (a ``ValueError``) naming ``model.<field>``.
    ``arch="vifnet"`` uses none of the fmm fields (``depth``, ``widths``, the mapping options,
    ``padding``: VIF-Net's convolutions always reflect) and has only the ``"direct"`` output.

    >>> from mutualfuse.model import ModelConfig
    >>> ModelConfig(depth=4).multiple  # input sides are padded to a multiple of 2**(depth-1)
    8
    >>> ModelConfig(token_budget=-1)
    Traceback (most recent call last):
    mutualfuse.errors.ParameterError: model.token_budget must be an integer >= 0 (0 or None = always exact), got -1
    """

    arch: str = "fmm"
    depth: int = 3
    widths: tuple[int, ...] = (16, 32, 64, 128, 256)
    fusion: str = "mapping"
    map_activation: str = "softmax"
    attn_scale: float | None = None
    attn_similarity: str = "dot"
    cosine_init_temperature: float = 10.0
    map_upsample: str = "bilinear"
    decoder_upsample: str = "bilinear"
    downsample: str = "maxpool"
    token_budget: int | None = 16384
    map_min_pool: int = 1
    in_channels: int = 1
    attn_dim: int = 0
    attn_pos_freqs: int = 0
    attn_local_sigma: float = 0.0
    map_residual: bool = False
    map_residual_init: float = 0.0
    map_align: bool = False
    shared_encoder: bool = False
    map_center: bool = False
    map_global_bound: float = 0.0
    padding: str = "reflect"
    output: str = "direct"
    blend_bound: float = 0.0
    blend_temperature: float = 1.0
    detail_gain: float = 1.0
    pyramid_levels: int = 4
    pyramid_gain: float = 0.0
    base_head: int = 0
    base_brightness: float = 0.0
    detail_activity: float = 0.0
    base_temperature: float = 0.0

    def __post_init__(self) -> None:
        """Refuse a field of the wrong type or out of its range: a one-line :class:`ParameterError`
        (a ``ValueError``) that names the field as ``model.<field>`` (its key in a training
        config's ``model:`` section and in a weights file's ``model_config``) and what it must be.
        Integer fields take any integral number but not a boolean or ``3.0``; number fields any
        real number but not a boolean; numpy scalars become Python ones."""
        self._check_types()

        def need(ok: bool, name: str, what: str) -> None:
            if not ok:
                raise ParameterError(f"model.{name} must be {what}, got {getattr(self, name)!r}")

        from . import MODELS  # the registry (this module is imported before it exists)

        if self.arch not in MODELS.names():
            raise ParameterError(f"model.arch: unknown architecture {self.arch!r} "
                                 f"(available: {', '.join(MODELS.names())})")
        need(self.in_channels == 1, "in_channels", "1 (the networks fuse the luminance channel; "
             "colour is handled outside the network)")
        if self.arch == "fmm":
            need(2 <= self.depth <= 6, "depth", "in 2..6")
            need(len(self.widths) >= self.depth, "widths",
                 f"a list of at least depth = {self.depth} channel counts (only the first depth are used)")
        elif self.output != "direct":
            raise ParameterError(f"model.output {self.output!r} applies to the 'fmm' architecture only; "
                                 f"{self.arch!r} has the 'direct' output")
        need(len(self.widths) >= 1 and all(w >= 1 for w in self.widths), "widths",
             "positive channel counts (integers >= 1)")
        if self.shared_encoder and self.arch != "fmm":
            raise ParameterError(f"model.shared_encoder applies to the 'fmm' architecture only, not {self.arch!r}")
        if self.map_center and not (self.arch == "fmm" and self.fusion == "mapping" and self.shared_encoder
                                    and self.map_activation == "softmax" and not self.map_align):
            raise ParameterError("model.map_center needs the 'fmm' mapping fusion with the 'softmax' activation, "
                                 "shared_encoder and no map_align")
        gb = float(self.map_global_bound)
        need(0.0 <= gb < float("inf"), "map_global_bound", "a finite number >= 0")
        if gb and not self.map_center:
            raise ParameterError("model.map_global_bound needs map_center")
        need(self.token_budget is None or self.token_budget >= 0, "token_budget",
             "an integer >= 0 (0 or None = always exact)")
        need(1 <= self.map_min_pool <= 16, "map_min_pool", "an integer in 1..16")
        need(1 <= self.pyramid_levels <= 8, "pyramid_levels", "an integer in 1..8")
        need(0 <= self.base_head <= 256, "base_head", "an integer in 0..256")
        if self.base_head and self.output != "pyramid":
            raise ParameterError(f"model.base_head applies to the 'pyramid' output only, not {self.output!r}")
        bb = float(self.base_brightness)
        need(0.0 <= bb <= 1000.0, "base_brightness", "a number in [0, 1000]")
        if bb and self.output != "pyramid":
            raise ParameterError(f"model.base_brightness applies to the 'pyramid' output only, not {self.output!r}")
        bt = float(self.base_temperature)
        need(bt == 0.0 or 0.0 < bt < float("inf"), "base_temperature", "0 (off) or a finite number > 0")
        if bt and self.output != "pyramid":
            raise ParameterError(f"model.base_temperature applies to the 'pyramid' output only, not {self.output!r}")
        da = float(self.detail_activity)
        need(0.0 <= da <= 10000.0, "detail_activity", "a number in [0, 10000]")
        if da and self.output != "pyramid":
            raise ParameterError(f"model.detail_activity applies to the 'pyramid' output only, not {self.output!r}")
        need(0.0 <= float(self.pyramid_gain) <= 2.0, "pyramid_gain", "a number in [0, 2]")
        t = float(self.blend_temperature)
        need(0.0 < t < float("inf"), "blend_temperature", "a finite number > 0")
        g = float(self.detail_gain)
        need(0.5 <= g <= 2.0, "detail_gain", "a number in [0.5, 2]")
        if g != 1.0 and self.output != "pyramid":
            raise ParameterError(f"model.detail_gain applies to the 'pyramid' output only, not {self.output!r}")
        need(0.0 <= float(self.blend_bound) < float("inf"), "blend_bound", "a finite number >= 0 (0 = unbounded)")
        need(self.attn_dim >= 0, "attn_dim", "an integer >= 0 (0 = the raw features)")
        need(self.attn_pos_freqs >= 0, "attn_pos_freqs", "an integer >= 0 (0 = no position code)")
        need(self.attn_scale is None or 0.0 < float(self.attn_scale) < float("inf"), "attn_scale",
             "None (1/sqrt(C)) or a finite number > 0")
        need(0.0 < float(self.cosine_init_temperature) < float("inf"), "cosine_init_temperature",
             "a finite number > 0")
        need(math.isfinite(float(self.map_residual_init)), "map_residual_init", "a finite number")
        sig = float(self.attn_local_sigma)
        need(0.0 <= sig < float("inf"), "attn_local_sigma", "a finite number >= 0")
        if sig and self.attn_similarity != "dot":
            raise ParameterError("model.attn_local_sigma needs attn_similarity 'dot'")
        # a field that only acts together with another one is refused where it would be silently
        # ignored (a setting that does nothing is a config mistake, as for the data section)
        if self.attn_scale is not None and self.attn_similarity == "cosine":
            raise ParameterError("model.attn_scale applies to attn_similarity 'dot' only ('cosine' scales its "
                                 "logits by its learned temperature, cosine_init_temperature), got "
                                 f"{self.attn_scale!r}")
        if float(self.cosine_init_temperature) != 10.0 and self.attn_similarity != "cosine":
            raise ParameterError("model.cosine_init_temperature applies to attn_similarity 'cosine' only, got "
                                 f"{self.cosine_init_temperature!r} with {self.attn_similarity!r}")
        if float(self.map_residual_init) != 0.0 and not self.map_residual:
            raise ParameterError("model.map_residual_init needs map_residual: true (it is the initial gain of "
                                 f"the residual path), got {self.map_residual_init!r}")
        if float(self.pyramid_gain) and self.output != "pyramid":
            raise ParameterError(f"model.pyramid_gain applies to the 'pyramid' output only, not {self.output!r}")
        if float(self.blend_bound) and self.output not in BLEND_HEADS:
            raise ParameterError(f"model.blend_bound applies to the blend outputs {BLEND_HEADS} only, "
                                 f"not {self.output!r}")
        for name, allowed in (
            ("fusion", FUSION_RULES),
            ("map_activation", MAP_ACTIVATIONS),
            ("map_upsample", UPSAMPLE_MODES),
            ("decoder_upsample", UPSAMPLE_MODES),
            ("downsample", DOWNSAMPLE_MODES),
            ("attn_similarity", ATTN_SIMILARITIES),
            ("padding", PADDING_MODES),
            ("output", OUTPUT_HEADS),
        ):
            need(getattr(self, name) in allowed, name, f"one of {allowed}")

    def _check_types(self) -> None:
        """Each field has the type its annotation says (:meth:`__post_init__`)."""
        for f in fields(self):
            v = getattr(self, f.name)
            kind = str(f.type)
            optional = kind.endswith(" | None")
            base = kind.removesuffix(" | None")
            if optional and v is None:
                continue
            if base == "tuple[int, ...]":
                if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__") \
                        or not all(_is_integral(w) for w in v):
                    raise ParameterError(f"model.{f.name} must be a list of integers, got {v!r}")
                v = tuple(int(w) for w in v)
            elif base == "int":
                if not _is_integral(v):
                    raise ParameterError(f"model.{f.name} must be an integer{' or None' if optional else ''}, "
                                         f"got {v!r}")
                v = int(v)
            elif base == "float":
                if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
                    raise ParameterError(f"model.{f.name} must be a number{' or None' if optional else ''}, "
                                         f"got {v!r}")
                if type(v) not in (int, float):  # numpy scalars: the JSON of to_dict takes Python ones
                    v = float(v)
            elif base == "bool":
                if not isinstance(v, (bool, np.bool_)):
                    raise ParameterError(f"model.{f.name} must be true or false, got {v!r}")
                v = bool(v)
            elif base == "str":
                if not isinstance(v, str):
                    raise ParameterError(f"model.{f.name} must be a string, got {v!r}")
            setattr(self, f.name, v)

    @property
    def multiple(self) -> int:
        """Input sides are padded to a multiple of this."""
        if self.arch != "fmm":
            return 1
        levels = self.pyramid_levels if self.output == "pyramid" else 1
        return 2 ** (max(self.depth, levels) - 1)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ParameterError(f"unknown model config keys: {sorted(unknown, key=str)}")
        return cls(**d)


def _is_integral(v: Any) -> bool:
    """An integer (Python or numpy), not a boolean."""
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
