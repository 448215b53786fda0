"""Bounded-memory inference: exact halo streaming, and optional blended independent tiles.

**Exact streaming** (:func:`streamed_forward`, used automatically for large images). Everything
in the network except the mutual mapping is local: convolutions, 2× max-pooling and 2×
bilinear resizing only look a bounded distance around each pixel. The mapping is global but
runs at 1/4 scale (``2**(depth-1)``) on few channels. So a large image is fused in two passes
over overlapping windows, each window a core tile plus a halo wider than the receptive field:

1. every window runs the two encoders; the features of its core at every level below full
   resolution are kept (1/4 + 1/16 of the pixels at depth 3: 32 + 64 channels per source);
2. the mutual mapping runs once on the whole deepest feature grid (exact, or pooled under the
   token budget), giving the global maps ``Map_X, Map_Y``;
3. every window runs the rest of the network (full-resolution stem, fusion, decoder) with its
   crops of the kept features and of the global maps in place of the per-window encoders and
   mapping, and its core is written into the output.

Window origins and sizes are multiples of ``2**(depth-1)`` so pooling and resizing grids line
up with the full-image ones, and windows touching the image border end exactly at it, so the
reflect padding there is the full image's. The result equals the one-shot forward to float
rounding (tested at 1e-5); peak memory is that of one window plus the kept features and
maps, about 200 bytes per pixel at depth 3 (float32).

**Blended tiles** (:func:`tiled_fuse`, ``--tile``): for images beyond any budget, or to bound
the mapping's reach, the image is cut into overlapping tiles that are fused *independently*
(each with its own mutual mapping) and blended with separable raised-cosine weights that sum
to one everywhere, so no seam is visible. This changes the result (the mapping of a tile only
sees that tile) and is reported as an approximation.
"""
from __future__ import annotations

import contextlib
import contextvars
import math
import sys
from typing import Callable, Iterator

import numpy as np

from .errors import FuseError
from .validation import DEFAULT_WINDOW_PIXELS  # noqa: E402  (re-exported: defined where no torch is needed)


def halo_for(net) -> int:
    """Halo (pixels each side) covering the receptive field of the local part of ``net``.

    Measured for the default depth-3 FMM network (``tests/test_tiling.py`` checks equality with
    the one-shot forward): the one-shot result is reproduced exactly from a 6·stride halo (24 px at depth 3,
    48 px at depth 4); 8 px per unit of
    the deepest stride leaves a margin and scales with deeper variants. A ``"pyramid"`` output
    adds 2**(levels−1) px (40 px for the shipped default; checked against the one-shot forward
    with the shipped weights on a real pair, and by ``tests/core/test_pyramid.py``).
    """
    cfg = net.cfg
    if cfg.arch != "fmm":
        return 16  # VIF-Net: 8 stacked 3×3 convolutions at full resolution
    s = 2 ** (cfg.depth - 1)  # the deepest stride
    halo = 8 * s
    if cfg.output == "pyramid":
        # the coarsest band and its average-pooled weights reach 2**(levels-1) further; the
        # sum stays a multiple of the pad multiple, so window origins keep the pooling grids
        halo += 2 ** (cfg.pyramid_levels - 1)
    return int(math.ceil(halo / cfg.multiple) * cfg.multiple)


def _axis_splits(n: int, parts: int, m: int) -> list[tuple[int, int]]:
    """Split [0, n) (n a multiple of m) into ``parts`` contiguous pieces of multiples of m."""
    units = n // m
    parts = max(1, min(parts, units))
    base, extra = divmod(units, parts)
    out, start = [], 0
    for i in range(parts):
        size = (base + (1 if i < extra else 0)) * m
        out.append((start, start + size))
        start += size
    return out


def plan_windows(h: int, w: int, halo: int, m: int, max_pixels: int) -> list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """Cores and windows covering a (h, w) image (both multiples of ``m``).

    Returns ``[(core, window)]`` with ``core = (y0, y1, x0, x1)`` and ``window`` the core grown
    by ``halo`` and clipped to the image. The grid minimises the total window area subject to
    every window having at most ``max(max_pixels, (4·halo + m)²)`` pixels.
    """
    # windows narrower than 4 halos would be mostly halo: never go below that
    max_pixels = max(max_pixels, (4 * halo + m) ** 2)
    if h * w <= max_pixels:
        return [((0, h, 0, w), (0, h, 0, w))]
    best = None
    units_w = w // m
    for ny in range(1, h // m + 1):
        ys = _axis_splits(h, ny, m)
        hh = max(b - a for a, b in ys)
        win_h = min(h, hh + 2 * halo)
        if win_h * min(w, m + 2 * halo) > max_pixels and ny < h // m:
            continue
        # the fewest columns whose windows fit: nx columns have cores of at most ceil(units/nx)·m
        # (_axis_splits), so the window width falls as nx grows and the first fit is found by
        # bisection (trying every nx from 1 took 5000 tries a row count on a 40000-px-wide image)
        def fits(nx: int) -> bool:
            return win_h * min(w, -(-units_w // nx) * m + 2 * halo) <= max_pixels
        if fits(units_w):
            lo, hi = 1, units_w
            while lo < hi:
                mid = (lo + hi) // 2
                lo, hi = (lo, mid) if fits(mid) else (mid + 1, hi)
            nx = lo
        else:  # no column count fits this row count; the finest grid is taken when nothing fits
            nx = units_w if ny == h // m else None
        if nx is not None:
            xs = _axis_splits(w, nx, m)
            # the windows' total area is separable: (sum of their heights) × (sum of their widths)
            # (more columns than the fewest that fit only add halo area)
            area = (sum(min(h, b + halo) - max(0, a - halo) for a, b in ys)
                    * sum(min(w, d + halo) - max(0, c - halo) for c, d in xs))
            if best is None or area < best[0]:
                best = (area, ys, xs)
        if ny > 64 and best is not None:
            break
    _, ys, xs = best
    out = []
    for a, b in ys:
        for c, d in xs:
            out.append(((a, b, c, d), (max(0, a - halo), min(h, b + halo), max(0, c - halo), min(w, d + halo))))
    return out


def _is_channels_last(x: torch.Tensor) -> bool:
    """Whether a (B, C, H, W) tensor is laid out channels-last (and not also plainly contiguous)."""
    import torch

    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def _has_global_mapping(net) -> bool:
    fusion = getattr(net, "fusion", None)
    return fusion is not None and hasattr(fusion, "deepest_maps")


def streamed_forward(net, a: torch.Tensor, b: torch.Tensor, max_window_pixels: int = DEFAULT_WINDOW_PIXELS,
                     halo: int | None = None, progress: Callable[[int], None] | None = None) -> torch.Tensor:
    """``net(a, b)`` for (B, 1, H, W) inputs in bounded memory (exact; see the module doc).

    ``max_window_pixels`` bounds one window per batch item. ``progress(n)`` is called after
    each window pass with the number of windows done.
    """
    import torch  # here, not at the top: blended tiles of a classical method run without torch

    with torch.inference_mode():
        return _streamed_forward(net, a, b, max_window_pixels, halo, progress)


def _streamed_forward(net, a, b, max_window_pixels, halo, progress):
    import torch
    import torch.nn.functional as F

    if a.shape != b.shape:
        raise ValueError(f"inputs differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    B = a.shape[0]
    h, w = a.shape[-2:]
    m = net.cfg.multiple
    ph, pw = (-h) % m, (-w) % m
    hp, wp = h + ph, w + pw
    halo = halo_for(net) if halo is None else int(math.ceil(halo / m) * m)
    windows = plan_windows(hp, wp, halo, m, max(1, max_window_pixels))
    if len(windows) == 1:
        out = net(a, b)
        if progress:
            progress(1)
        return out
    if ph or pw:
        a = F.pad(a, (0, pw, 0, ph), mode="replicate")
        b = F.pad(b, (0, pw, 0, ph), mode="replicate")
    out = torch.empty((B, 1, hp, wp), dtype=a.dtype, device=a.device)
    if not _has_global_mapping(net):  # purely local network: one pass
        for i, ((y0, y1, x0, x1), (Y0, Y1, X0, X1)) in enumerate(windows):
            o = net._forward(a[..., Y0:Y1, X0:X1], b[..., Y0:Y1, X0:X1])
            out[..., y0:y1, x0:x1] = o[..., y0 - Y0:y1 - Y0, x0 - X0:x1 - X0]
            if progress:
                progress(i + 1)
        return out[..., :h, :w]
    # pass 1: encoder features of both sources; the cores of every level below full
    # resolution are kept (1/4 + 1/16 + … of the pixels), the deepest also feed the mapping
    encs = net.encoders
    cache: list[list[torch.Tensor]] = [[], []]
    for i, ((y0, y1, x0, x1), (Y0, Y1, X0, X1)) in enumerate(windows):
        for src, (enc, img) in enumerate(zip(encs, (a, b))):
            feats = enc(img[..., Y0:Y1, X0:X1])
            for k, f in enumerate(feats[1:], 1):
                s = 2 ** k
                if len(cache[src]) < k:
                    fmt = torch.channels_last if _is_channels_last(f) else torch.contiguous_format
                    cache[src].append(torch.empty((B, f.shape[1], hp // s, wp // s), dtype=f.dtype, device=f.device,
                                                  memory_format=fmt))
                cache[src][k - 1][..., y0 // s:y1 // s, x0 // s:x1 // s] = \
                    f[..., (y0 - Y0) // s:(y1 - Y0) // s, (x0 - X0) // s:(x1 - X0) // s]
            del feats
        if progress:
            progress(i + 1)
    # global mutual mapping
    s = 2 ** len(cache[0])  # the deepest stride (the multiple m can be larger: pyramid output)
    fusion = net.fusion
    map_x, map_y = fusion.deepest_maps(cache[0][-1], cache[1][-1])
    use_cache = all(hasattr(enc, "stem") for enc in encs)
    # pass 2: the rest of the network per window, with the global maps (and the cached
    # encoder features) cropped in; only the full-resolution stem is recomputed
    for i, ((y0, y1, x0, x1), (Y0, Y1, X0, X1)) in enumerate(windows):
        wa, wb = a[..., Y0:Y1, X0:X1], b[..., Y0:Y1, X0:X1]
        maps = (map_x[..., Y0 // s:Y1 // s, X0 // s:X1 // s], map_y[..., Y0 // s:Y1 // s, X0 // s:X1 // s])
        if use_cache:
            fx, fy = ([enc.stem(img)] + [f[..., Y0 // 2 ** k:Y1 // 2 ** k, X0 // 2 ** k:X1 // 2 ** k]
                                          for k, f in enumerate(levels, 1)]
                      for enc, img, levels in zip(encs, (wa, wb), cache))
        else:  # unknown encoder layout: recompute the window's features
            fx, fy = net.encode(wa, wb)
        o = net.decode(net.fuse(fx, fy, maps=maps), wa, wb)
        out[..., y0:y1, x0:x1] = o[..., y0 - Y0:y1 - Y0, x0 - X0:x1 - X0]
        del o
        if progress:
            progress(len(windows) + i + 1)
    return out[..., :h, :w]


def n_windows(net, h: int, w: int, max_window_pixels: int = DEFAULT_WINDOW_PIXELS) -> int:
    """How many windows :func:`streamed_forward` cuts an h×w image into (1 = one-shot)."""
    m = net.cfg.multiple
    hp, wp = h + (-h) % m, w + (-w) % m
    return len(plan_windows(hp, wp, halo_for(net), m, max(1, max_window_pixels)))


def n_passes(net, h: int, w: int, max_window_pixels: int = DEFAULT_WINDOW_PIXELS) -> int:
    """How many window runs :func:`streamed_forward` makes (for progress bars)."""
    n = n_windows(net, h, w, max_window_pixels)
    return n if n == 1 or not _has_global_mapping(net) else 2 * n


# -- blended independent tiles --------------------------------------------------------------

def _ramp(n: int, before: int, after: int) -> np.ndarray:
    """1-D weight of a tile of length n: raised-cosine ramps over its overlaps with the
    previous (``before`` px) and next (``after`` px) tile. Opposite ramps of one overlap sum to
    one, so where at most two tiles meet the weights are a partition of unity."""
    wgt = np.ones(n, dtype=np.float64)
    for k, at_start in ((before, True), (after, False)):
        k = min(k, n)
        if k > 0:
            r = 0.5 - 0.5 * np.cos(np.pi * (np.arange(k) + 0.5) / k)
            if at_start:
                wgt[:k] *= r
            else:
                wgt[n - k:] *= r[::-1]
    return wgt


def tile_starts(n: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of length ``tile`` covering [0, n) with at least ``overlap`` overlap."""
    if n <= tile:
        return [0]
    step = tile - overlap
    count = math.ceil((n - tile) / step) + 1
    # spread evenly so every overlap is >= the requested one
    return [round(i * (n - tile) / (count - 1)) for i in range(count)]


def iter_tiles(h: int, w: int, tile: int, overlap: int) -> Iterator[tuple[int, int, int, int, np.ndarray]]:
    """(y0, y1, x0, x1, weight) of overlapping tiles; weights sum to 1 where at most two tiles
    overlap along each axis. Spreading the tiles evenly can make the overlaps larger than
    ``overlap`` and let three tiles meet even with ``overlap <= tile / 2`` (150 px in tiles of
    64 over 24: starts 0, 29, 57, 86; the sum reaches 1.0006), so :func:`tiled_fuse` divides
    by the sum."""
    ys = tile_starts(h, tile, overlap)
    xs = tile_starts(w, tile, overlap)
    th, tw = min(tile, h), min(tile, w)
    for iy, y0 in enumerate(ys):
        for ix, x0 in enumerate(xs):
            # actual overlap with neighbours (uneven spreading can make it larger)
            oy = (ys[iy - 1] + th - y0) if iy > 0 else 0
            oy2 = (y0 + th - ys[iy + 1]) if iy + 1 < len(ys) else 0
            ox = (xs[ix - 1] + tw - x0) if ix > 0 else 0
            ox2 = (x0 + tw - xs[ix + 1]) if ix + 1 < len(xs) else 0
            wy = _ramp(th, oy, oy2)
            wx = _ramp(tw, ox, ox2)
            yield y0, y0 + th, x0, x0 + tw, np.outer(wy, wx)


#: whether :func:`tiled_fuse` calls made without ``progress`` show a bar of their tiles (set by
#: :func:`tile_bar`: ``mutualfuse fuse`` at a terminal); a context variable, so that other threads
#: (the web page's fusers) and other commands are not affected
_TILE_BAR: contextvars.ContextVar[bool] = contextvars.ContextVar("mutualfuse_tile_bar", default=False)


@contextlib.contextmanager
def tile_bar(show: bool = True) -> Iterator[None]:
    """Within the block, :func:`tiled_fuse` called without ``progress`` shows a ``tiles`` bar on
    stderr (tqdm, cleared when done, as the network's ``windows`` bar): a tiled run of a classical
    method (``fuse --method cbf --tile 256`` of a 2000x1500 pair: 108-142 s on one thread of a loaded 2-core machine) showed
    nothing, and neither did the network's whenever its tiles were one streaming window each."""
    token = _TILE_BAR.set(bool(show))
    try:
        yield
    finally:
        _TILE_BAR.reset(token)


#: the blend width of :func:`tiled_fuse` tiles when none is given (``--tile-overlap``, ``Fuser(tile_overlap=...)``)
DEFAULT_TILE_OVERLAP = 64


def effective_overlap(tile: int, overlap: int) -> int:
    """The overlap :func:`tiled_fuse` asks of ``tile`` tiles for a requested ``overlap``: at most
    half the tile, so that the blend ramps at a tile's two sides do not overlap (:func:`_ramp`)."""
    return max(0, min(overlap, tile // 2))


def check_overlap(tile: int, overlap: int, cli: bool = True) -> str | None:
    """For an ``overlap`` the user gave with ``tile``: a one-line :class:`~mutualfuse.errors.ParameterError`
    when it is not smaller than the tile (tiles that overlap whole would never advance), the text
    that says it is reduced to half the tile when it is more than that (``--tile 256 --tile-overlap
    200`` blended over at most 128 px, without a word), else None. ``cli``: the command line's
    names (``--tile-overlap``), else the API's (``tile_overlap=``)."""
    from .errors import ParameterError

    o_name, t_name = ("--tile-overlap ", "--tile ") if cli else ("tile_overlap=", "tile=")
    half = tile // 2
    if overlap >= tile:
        raise ParameterError(f"{o_name}{overlap} must be smaller than {t_name}{tile} (an overlap is at most half "
                             f"the tile, {half})")
    if overlap > half:
        return (f"{o_name}{overlap} reduced to {half}, half of {t_name}{tile}: an overlap is at most half the tile, "
                "so that the blend ramps at a tile's two sides do not overlap")
    return None


def tiled_fuse(fuse_batch: Callable[[np.ndarray, np.ndarray], np.ndarray], a: np.ndarray, b: np.ndarray,
               tile: int, overlap: int, progress: Callable[[int], None] | bool | None = None) -> np.ndarray:
    """Fuse (B, H, W) arrays tile by tile with ``fuse_batch`` and blend the overlaps seamlessly.

    ``progress``: called as ``progress(done)`` after each tile; ``True`` (or None within
    :func:`tile_bar`): a ``tiles`` bar on stderr, cleared when the tiles are done or fail.

    Weights are normalised by their sum, so any overlap layout blends to a partition of unity.
    The blend is a running weighted mean, ``m += w / (W + w) * (f - m)``: where the tiles agree
    on a pixel (a pointwise rule such as ``average`` or ``max``) the result is that value exactly,
    as untiled. The former ``sum(w * f) / sum(w)`` was off by up to 3.3e-16 there, which flipped
    the rounding of exact half-levels: ``average --tile 64`` moved 3.9 % of a TNO pair's 8-bit
    pixels by one level against the untiled output.
    """
    if tile < 8:
        raise ValueError("tile must be at least 8 pixels")
    overlap = effective_overlap(tile, overlap)
    h, w = a.shape[-2:]
    bar = None
    if progress is True or (progress is None and _TILE_BAR.get()):
        progress = None
        total = count_tiles(h, w, tile, overlap)
        if total > 1:
            from tqdm import tqdm

            # leave=False as the runner's windows bar, which a tile of several windows draws below this one
            bar = tqdm(total=total, desc="tiles", unit="tile", file=sys.stderr, leave=False)

            def progress(done: int) -> None:
                bar.update(done - bar.n)
    elif progress is False:
        progress = None
    try:
        return _blend_tiles(fuse_batch, a, b, tile, overlap, progress)
    finally:
        if bar is not None:
            bar.close()  # also on a failure or an interrupt: its one-line error starts a clean line


def _blend_tiles(fuse_batch, a, b, tile, overlap, progress):
    B, h, w = a.shape
    acc = np.zeros((B, h, w), dtype=np.float64)  # the running weighted mean
    wsum = np.zeros((h, w), dtype=np.float64)
    for i, (y0, y1, x0, x1, wgt) in enumerate(iter_tiles(h, w, tile, overlap)):
        try:
            f = fuse_batch(a[:, y0:y1, x0:x1], b[:, y0:y1, x0:x1])
        except FuseError as err:  # e.g. "levels=4 is too deep for a 16x16 image": say it is a tile
            raise _in_tile(err, tile, x1 - x0, y1 - y0, w, h) from err
        m = acc[:, y0:y1, x0:x1]
        ws = wsum[y0:y1, x0:x1]
        ws += wgt  # the ramps are > 0 everywhere, so the sum is too
        m += (wgt / ws) * (np.asarray(f, dtype=np.float64) - m)  # the first tile: w / w = 1, m = f exactly
        if progress:
            progress(i + 1)
    return acc


def _in_tile(err: "FuseError", tile: int, tw: int, th: int, w: int, h: int) -> "FuseError":
    """``err`` (same class and attributes) with a message that says the image it names is a tile."""
    import copy

    new = copy.copy(err)
    new.args = (f"tile {tile} (--tile / Fuser(tile=...)): a {tw}x{th} tile of the {w}x{h} image: {err}; "
                "use a larger tile or none",)
    return new


def count_tiles(h: int, w: int, tile: int, overlap: int) -> int:
    overlap = effective_overlap(tile, overlap)
    return len(tile_starts(h, tile, overlap)) * len(tile_starts(w, tile, overlap))


def describe_tiles(h: int, w: int, tile: int, overlap: int) -> str:
    """What :func:`tiled_fuse` does to an h×w image, for the ``tiled:`` note: "88 independent
    64px tiles blended over 32-36px". The tiles' size is clipped to the image (a 271 tile of a
    360×270 image is 271×270) and the overlaps are the actual ones, which the even spreading
    makes larger than the requested ``overlap`` (``min(overlap, tile // 2)``): 182 px, not 64,
    for two 271-px tiles across 360 px. Tiles that abut (``overlap`` 0 on a side that is a
    multiple of the tile) are not blended at all, and the text says their borders can show."""
    overlap = max(0, min(overlap, tile // 2))
    th, tw = min(tile, h), min(tile, w)
    laps = []
    for n, t in ((h, th), (w, tw)):
        starts = tile_starts(n, tile, overlap)
        laps += [s + t - nxt for s, nxt in zip(starts, starts[1:])]
    size = f"{tw}px" if tw == th else f"{tw}x{th}px"
    lo, hi = (min(laps), max(laps)) if laps else (0, 0)
    over = f"{lo}px" if lo == hi else f"{lo}-{hi}px"
    text = f"{count_tiles(h, w, tile, overlap)} independent {size} tiles blended over {over}"
    if laps and lo == 0:
        # only an overlap of 0 does this (tile_starts keeps every overlap >= the requested one), on a
        # side that is a multiple of the tile: the tiles abut and their borders are hard cuts between
        # two independent fusions (the network on TNO 02: a visible cross, 70 of 256 rows jumping
        # by 20+ grey levels more than untiled at the border; 0 rows with --tile-overlap 32)
        text += (" (abutting tiles are not blended: their borders can show as seams; an overlap > 0 "
                 "blends them)")
    return text


def fitted_tile(h: int, w: int, tile: int, overlap: int) -> int:
    """The smallest tile size that cuts an h×w image into no more tiles than ``tile`` does, with
    overlaps of at least ``min(overlap, tile // 2)``: ``tile`` itself when the image is not
    tiled. ``tile`` tiles are spread evenly, so a size that divides the image makes its overlaps
    huge: 4096 on a 13500×13400 image is 4×4 tiles overlapping by 961 px, where 3423 gives the same
    4×4 tiles overlapping by 64 (43 % fewer pixels a tile, so less memory and time). k tiles a
    side need a size of at least (n + (k − 1)·overlap)/k."""
    o = max(0, min(overlap, tile // 2))
    if h <= tile and w <= tile:
        return tile
    need = max(16, 2 * o)  # the smallest --tile, and no smaller overlap than tile's (O <= T/2)
    for n in (h, w):
        k = len(tile_starts(n, tile, o))
        need = max(need, n if k == 1 else -(-(n + (k - 1) * o) // k))
    return min(tile, need)
