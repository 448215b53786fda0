"""The page's "same as" command line: shell-quoted, parsed by the real parser, with the server's
--max-pixels when it set one."""
from __future__ import annotations

import shlex

from mutualfuse.web import core


def _parse(cmd: str):
    import argparse

    from mutualfuse.cli import fuse as F

    p = argparse.ArgumentParser(prog="mutualfuse")
    F.add_parser(p.add_subparsers())
    words = shlex.split(cmd)
    assert words[:2] == ["mutualfuse", "fuse"]
    return p.parse_args(words[1:])


def test_same_as_command_is_quoted_and_parses_back():
    s = core.Settings(method="cbf", params="sigma_s=1.8\nsigma_r=25", chroma="saturation", normalize="auto",
                      device="cpu", max_pixels=5000000)
    cmd = s.command()
    args = _parse(cmd)
    assert args.method == "cbf" and args.max_pixels == 5000000 and args.param == ["sigma_s=1.8", "sigma_r=25"]
    assert "--device" not in cmd


def test_without_a_server_limit_the_default_limit_is_not_named():
    s = core.Settings(method=core.NETWORK, weights="my weights.safetensors", chroma="gray", normalize="full",
                      device="cpu")
    cmd = s.command()
    assert "--max-pixels" not in cmd and "'my weights.safetensors'" in cmd  # a name with a space, quoted
    assert _parse(cmd).weights == "my weights.safetensors"
