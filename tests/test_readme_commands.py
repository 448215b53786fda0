"""Every ``mutualfuse …`` command line in the README parses with the real command-line parser:
an option renamed or removed in the code, or mistyped in the README, fails here."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).parents[1] / "README.md"


def _commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S)
    lines = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("  #")[0].strip()  # a trailing comment
            m = re.search(r"(?:^|-m )mutualfuse (.*)$", line)
            if m:
                lines.append(m.group(1))
    return lines


def test_the_readme_has_commands():
    assert len(_commands()) >= 20


@pytest.mark.parametrize("line", _commands())
def test_readme_command_parses(line):
    from mutualfuse.cli import build_parser

    args = build_parser().parse_args(shlex.split(line))
    assert callable(args.func)


def test_readme_python_block_runs():
    """The README's Python example runs as written, with ``ir`` and ``vis`` a bundled pair."""
    from importlib.resources import files

    import numpy as np

    from mutualfuse.image_io import read_image

    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    ir, vis = (read_image(files("mutualfuse") / f"data/samples/tno-01/{n}.png")[0] for n in "ab")
    ns = {"ir": ir, "vis": vis}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), ns)  # noqa: S102 - the repository's own README
    assert isinstance(ns["fused"], np.ndarray) and ns["fused"].shape == ir.shape
