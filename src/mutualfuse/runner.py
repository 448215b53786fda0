"""Inference runner of the fusion network: device, dtype, exact streaming and progress.

:class:`NetworkRunner` turns gray float batches into fused gray batches with a loaded
network; it knows nothing about colour, kinds of input, tiling or classical methods (that
is :class:`mutualfuse.Fuser`). Large images go through the exact halo streaming of
:mod:`mutualfuse.tiling`, so memory stays bounded and the result does not depend on the
window size.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import torch

from .convert import native_byte_order


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

    def run(self, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, RunInfo]:
        """(B, H, W) float in [0, 1] → fused (B, H, W) float64 in [0, 1], and what was done."""
        from .tiling import n_passes, n_windows, streamed_forward

        B, h, w = a.shape
        per_chunk = max(1, self.max_window_pixels // max(1, h * w))
        outs = []
        windows = n_passes(self.net, h, w, self.max_window_pixels)
        bar = None
        if self.progress and windows > 2:
            from tqdm import tqdm

            bar = tqdm(total=windows * B, desc="windows", unit="win", file=sys.stderr, leave=False)
        done = 0
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
        if bar is not None:
            bar.close()
        info = RunInfo(windows=n_windows(self.net, h, w, self.max_window_pixels),
                       mapping_pool=int(self.net.last_pool))
        return np.concatenate(outs, 0), info
