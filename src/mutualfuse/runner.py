"""Inference runner of the fusion network: device, dtype, exact streaming and progress.

:class:`NetworkRunner` turns gray float batches into fused gray batches with a loaded
network; it knows nothing about colour, kinds of input, tiling or classical methods (that
is :class:`mutualfuse.Fuser`). Large images go through the exact halo streaming of
:mod:`mutualfuse.tiling`: memory grows linearly with the image (the encoder features of the
whole image are kept, about 100 bytes a pixel; one window's activations are bounded by
``max_window_pixels``) and the result does not depend on the window size. A run that cannot fit
in the available memory is refused before it starts (:func:`check_memory`).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .convert import native_byte_order

if TYPE_CHECKING:  # imported where the network runs: the memory check of a classical method needs no PyTorch
    import torch


#: under half precision (autocast), the encoders' first levels that still run in float32: with
#: all in bfloat16, 0.4-3.9 % of the pixels of a TNO pair moved by more than 10 grey levels
#: against float32; with the stem and level 1 in float32, 0.00-0.02 % (docs/inputs.md)
FLOAT32_LEVELS = 2


def set_float32_levels(net: torch.nn.Module, levels: int) -> None:
    """Run the first ``levels`` levels of every encoder of ``net`` in float32 under autocast."""
    from .model.encoder import Encoder

    for m in net.modules():
        if isinstance(m, Encoder):
            m.float32_levels = int(levels)


def _writable(x: np.ndarray) -> np.ndarray:
    """``x`` contiguous, in native byte order (PyTorch refuses big-endian arrays), and a copy
    when the caller's array is read-only: PyTorch warns ("The given NumPy array is not
    writable") when a tensor is made from one."""
    x = np.ascontiguousarray(x, dtype=native_byte_order(x.dtype))
    return x if x.flags.writeable else x.copy()


def _read_int(path: str) -> int | None:
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _stat_value(path: str, key: str) -> int | None:
    """The value of ``key`` in a cgroup ``memory.stat`` file (lines ``key value``), None if absent."""
    try:
        with open(path) as fh:
            for ln in fh:
                k, _, v = ln.partition(" ")
                if k == key and v.strip().isdigit():
                    return int(v.strip())
    except OSError:
        return None
    return None


def _cgroup_room(proc: str = "/proc/self/cgroup", root: str = "/sys/fs/cgroup") -> int | None:
    """Bytes left under this process's cgroup memory limit (v2 ``memory.max``, v1
    ``memory.limit_in_bytes``), None where there is no limit or it cannot be read.

    The usage the limit is compared with leaves out the inactive page cache (v2 ``inactive_file``,
    v1 ``total_inactive_file`` of ``memory.stat``), which the kernel reclaims before it fails an
    allocation, as ``docker stats`` and Kubernetes' working set count it: the usage
    (``memory.current``, ``memory.usage_in_bytes``) counts the page cache of every file the
    cgroup has read or written, so in a container with a limit a ``fuse-dir`` over many images
    left less and less "available" as its inputs and outputs filled the cache, and could refuse
    pairs that fit."""
    try:
        with open(proc) as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for ln in lines:
        hier, ctrl, path = (ln.split(":", 2) + ["", ""])[:3]
        path = path.lstrip("/")
        if hier == "0" and ctrl == "":
            base = os.path.join(root, path)
            limit, used = _read_int(os.path.join(base, "memory.max")), _read_int(os.path.join(base, "memory.current"))
            cache = _stat_value(os.path.join(base, "memory.stat"), "inactive_file")
        elif "memory" in ctrl.split(","):
            base = os.path.join(root, "memory", path)
            limit = _read_int(os.path.join(base, "memory.limit_in_bytes"))
            used = _read_int(os.path.join(base, "memory.usage_in_bytes"))
            cache = _stat_value(os.path.join(base, "memory.stat"), "total_inactive_file")
        else:
            continue
        if limit is not None and used is not None and limit < 2 ** 60:  # v1 says "no limit" with ~2**63
            return max(0, limit - max(0, used - (cache or 0)))
    return None


def available_memory() -> int | None:
    """Bytes this process can still allocate: the kernel's ``MemAvailable`` plus free swap
    (``/proc/meminfo``), or less under a cgroup memory limit; None where this cannot be read
    (not Linux), and then nothing is refused for lack of memory."""
    info: dict[str, int] = {}
    try:
        with open("/proc/meminfo") as fh:
            for ln in fh:
                key, _, rest = ln.partition(":")
                parts = rest.split()
                if parts and parts[0].isdigit():
                    info[key] = int(parts[0]) * 1024
    except OSError:
        return None
    if "MemAvailable" not in info:
        return None
    room = info["MemAvailable"] + info.get("SwapFree", 0)
    cg = _cgroup_room()
    return room if cg is None else min(room, cg)


def check_memory(need: int, what: str, advice: str = "") -> None:
    """A one-line :class:`~mutualfuse.errors.InputError` when ``need`` bytes (a lower bound of
    what a fusion will hold) exceed :func:`available_memory`: the run is refused before it
    starts, instead of being killed by the kernel's out-of-memory killer minutes later."""
    avail = available_memory()
    if avail is not None and need > avail:
        from .errors import InputError

        raise InputError(f"{what} needs at least {need / 1e9:.1f} GB of memory, and {avail / 1e9:.1f} GB is "
                         f"available{advice}")


def out_of_memory(e: BaseException) -> bool:
    """Whether ``e`` is torch failing to allocate: on CPU a plain RuntimeError (``DefaultCPUAllocator:
    can't allocate memory``, e.g. under ``ulimit -v`` or a strict overcommit policy), on CUDA
    ``torch.OutOfMemoryError`` (a RuntimeError too). :meth:`NetworkRunner.run` raises it again as a
    :class:`MemoryError`, which the commands and the web page say in one line."""
    import torch

    oom = getattr(torch, "OutOfMemoryError", None)
    return (oom is not None and isinstance(e, oom)) or "can't allocate memory" in str(e)


@dataclass
class RunInfo:
    """What one :meth:`NetworkRunner.run` did."""

    windows: int = 1  # exact streaming windows per image (1 = one-shot forward)
    mapping_pool: int = 1  # >1: the mutual mapping ran on a pooled grid (token budget)


class NetworkRunner:
    """A loaded network on a device, run in ``dtype`` with windows of ``max_window_pixels``."""

    def __init__(self, net, device: torch.device, dtype: torch.dtype, max_window_pixels: int,
                 progress: bool = False):
        # Half precision runs under autocast: the weights, the inputs and the precision-sensitive
        # operations (normalisations, softmax, the mapping's locality bias, the output head's
        # sums) stay float32, the convolutions and matrix products run in ``dtype``. Casting the
        # whole network instead was as fast on CPU (AMX) but 3-5x further from float32 (max
        # 62-100 grey levels vs 9-21 on TNO pairs; docs/inputs.md, "bfloat16 on CPU").
        import torch

        self.autocast = dtype if dtype in (torch.float16, torch.bfloat16) else None
        self.net = net.to(device, torch.float32 if self.autocast is not None else dtype)
        if self.autocast is not None:
            set_float32_levels(self.net, FLOAT32_LEVELS)
        if device.type == "cpu":
            # channels-last: oneDNN's native convolution layout on CPU, and bilinear resizing of
            # wide feature maps is about twice as fast in it (benchmarks/bench_layout.py;
            # docs/architecture.md, "Speed"). Same results up to float summation order.
            self.net = self.net.to(memory_format=torch.channels_last)
        self.device = device
        self.dtype = dtype
        self.max_window_pixels = int(max_window_pixels)
        self.progress = progress

    @property
    def token_budget(self):
        return self.net.cfg.token_budget

    def min_bytes(self, h: int, w: int) -> int:
        """A lower bound of the memory :meth:`run` holds for one (h, w) image (beyond its inputs):
        the float32 input tensors, the output (float32 and the float64 result) and, when the
        image streams through several windows, the encoder features of both sources kept at
        every level below full resolution (``widths[k]`` channels at 1/2**k scale; the bulk:
        96 bytes a pixel for the shipped ``default``), and 1000 bytes a pixel of one window for
        its activations (a one-shot forward of ``default`` needs about 2500). Measured on CPU
        (2048², 3072² and 4096², one thread, 2026-12-06; docs/inputs.md): peak RSS about
        1.1 GB + 165 bytes a pixel (1.78 / 2.67 / 3.85 GB; an earlier run gave 1.3 GB + 149),
        against 0.4 GB + 116 counted here at the default ``max_window_pixels``."""
        from .tiling import _has_global_mapping, n_windows

        cfg = self.net.cfg
        m = cfg.multiple
        hp, wp = h + (-h) % m, w + (-w) % m
        host = 8 * h * w  # the float64 result
        dev = (2 * 4 + 4) * hp * wp  # input tensors and the output, float32
        dev += 1000 * min(hp * wp, self.max_window_pixels)  # one window's activations, at the least
        if getattr(cfg, "arch", "fmm") == "fmm" and _has_global_mapping(self.net) \
                and n_windows(self.net, h, w, self.max_window_pixels) > 1:
            item = 2 if self.autocast is not None else 4
            dev += 2 * item * sum(int(cfg.widths[k]) * (hp >> k) * (wp >> k) for k in range(1, cfg.depth))
        return host + dev if self.device.type == "cpu" else host

    def check_memory(self, h: int, w: int, batch: int = 1) -> None:
        """Refuse (one-line :class:`~mutualfuse.errors.InputError`) a run whose :meth:`min_bytes`
        exceeds the memory available now (:func:`available_memory`)."""
        check_memory(batch * self.min_bytes(h, w), f"fusing a {w}x{h} image with the network",
                     "; fuse it in independent tiles (Fuser(tile=2048) / --tile 2048; approximate: "
                     "docs/inputs.md) or free memory")

    def run(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, RunInfo]:
        """(B, H, W) float in [0, 1] → fused (B, H, W) float64 in [0, 1], and what was done; torch failing
        to allocate is raised as a :class:`MemoryError` (:func:`out_of_memory`)."""
        from .tiling import n_passes, n_windows

        B, h, w = a.shape
        per_chunk = max(1, self.max_window_pixels // max(1, h * w))
        self.check_memory(h, w, min(B, per_chunk))  # before minutes of work, not an OOM kill after them
        windows = n_passes(self.net, h, w, self.max_window_pixels)
        bar = None
        if self.progress and windows > 2:
            from tqdm import tqdm

            bar = tqdm(total=windows * B, desc="windows", unit="win", file=sys.stderr, leave=False)
        try:
            outs = self._run_chunks(a, b, per_chunk, windows, bar)
        except RuntimeError as e:
            if not out_of_memory(e):
                raise
            msg = " ".join(str(e).split())[:200]
            raise MemoryError(f"out of memory fusing a {w}x{h} image with the network ({msg})") from e
        finally:
            if bar is not None:
                bar.close()
        info = RunInfo(windows=n_windows(self.net, h, w, self.max_window_pixels),
                       mapping_pool=int(self.net.last_pool))
        return np.concatenate(outs, 0), info

    def _run_chunks(self, a, b, per_chunk, windows, bar) -> list:
        """The forward passes of :meth:`run`, ``per_chunk`` images at a time."""
        import torch

        from .tiling import streamed_forward

        B = a.shape[0]
        outs, done = [], 0
        with torch.inference_mode():
            for i in range(0, B, per_chunk):
                in_dtype = torch.float32 if self.autocast is not None else self.dtype
                ta = torch.as_tensor(_writable(a[i:i + per_chunk]), dtype=in_dtype, device=self.device)[:, None]
                tb = torch.as_tensor(_writable(b[i:i + per_chunk]), dtype=in_dtype, device=self.device)[:, None]
                prog = None
                if bar is not None:
                    def prog(n, base=done):  # noqa: E306
                        # update(), not n= + refresh(): trackers such as the web page's hook update()
                        bar.update(base + n - bar.n)
                with torch.autocast(self.device.type, dtype=self.autocast or torch.bfloat16,
                                    enabled=self.autocast is not None):
                    out = streamed_forward(self.net, ta, tb, self.max_window_pixels, progress=prog)
                done += windows * ta.shape[0]
                outs.append(out.float().clamp_(0, 1)[:, 0].cpu().numpy().astype(np.float64))
                del ta, tb, out
        return outs
