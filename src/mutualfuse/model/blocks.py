"""Small building blocks shared by the encoder and decoder."""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


def conv3x3(cin: int, cout: int, stride: int = 1, padding: str = "reflect") -> nn.Conv2d:
    """3×3 convolution with 'same' output size; ``padding`` is ``"reflect"`` or ``"zeros"``."""
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, padding_mode=padding)


class ConvReLU(nn.Sequential):
    def __init__(self, cin: int, cout: int, padding: str = "reflect"):
        super().__init__(conv3x3(cin, cout, padding=padding), nn.ReLU(inplace=True))


class ResBlock(nn.Module):
    """Basic residual block of He et al. (2016): conv3×3-ReLU-conv3×3 + identity, ReLU.

    A 1×1 projection on the shortcut when the channel count changes. No batch norm: fusion is
    trained with small batches and run on single images of any size, where batch statistics
    would couple the two.
    """

    def __init__(self, cin: int, cout: int, padding: str = "reflect"):
        super().__init__()
        self.conv1 = conv3x3(cin, cout, padding=padding)
        self.conv2 = conv3x3(cout, cout, padding=padding)
        self.proj = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.conv1(x))
        y = self.conv2(y)
        return F.relu(y + self.proj(x))


def conv_concat(conv: nn.Conv2d, parts: Sequence[torch.Tensor]) -> torch.Tensor:
    """``conv(torch.cat(parts, 1))`` without materialising the concatenation.

    A convolution is linear in its input channels, so it splits into one convolution per part
    (the matching slice of the weight) whose outputs are summed, with the bias added once;
    padding ("zeros" or a padding mode such as "reflect") acts per channel, so it splits too.
    The result equals the concatenated form up to float summation order. Why: the decoder and
    the dense map convolutions concatenate upsampled full-resolution tensors of up to 112
    channels, and on CPU that copy (plus a layout conversion) cost about as much as the
    convolution itself, while the per-part convolutions in channels-last layout are faster
    than the one big one (``benchmarks/bench_layout.py``, docs/architecture.md "Speed").
    The module's parameters are used unchanged, so weights files and ``state_dict`` keys are
    the same as for ``conv(torch.cat(parts, 1))``.
    """
    if len(parts) == 1:
        return conv(parts[0])
    if sum(p.shape[1] for p in parts) != conv.in_channels or conv.groups != 1:
        raise ValueError(f"parts with {[p.shape[1] for p in parts]} channels do not fit {conv}")
    out = None
    start = 0
    for i, x in enumerate(parts):
        c = x.shape[1]
        w = conv.weight[:, start:start + c]
        start += c
        bias = conv.bias if i == 0 else None
        if conv.padding_mode != "zeros":
            ph, pw = conv.padding
            y = F.conv2d(F.pad(x, (pw, pw, ph, ph), mode=conv.padding_mode), w, bias, conv.stride, 0, conv.dilation)
        else:
            y = F.conv2d(x, w, bias, conv.stride, conv.padding, conv.dilation)
        if out is None:
            out = y
        elif out.requires_grad:  # autograd: no in-place update of a tensor it saved
            out = out + y
        else:
            out += y
    return out


def resize(x: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if mode == "nearest":
        return F.interpolate(x, size=size, mode="nearest")
    return F.interpolate(x, size=size, mode=mode, align_corners=False)


def pad_to_multiple(x: torch.Tensor, m: int) -> torch.Tensor:
    """Replicate-pad (…, H, W) on the bottom and right to the next multiple of ``m``.

    The one padding rule of every network entry point (forward, streaming, ONNX export);
    the caller crops the output back to H×W.
    """
    h, w = x.shape[-2:]
    ph, pw = (-h) % m, (-w) % m
    if ph or pw:
        x = F.pad(x, (0, pw, 0, ph), mode="replicate")
    return x
