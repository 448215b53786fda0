"""s24: the stack folder's natural order took a superscript or other non-decimal digit
(``str.isdigit`` true, ``int`` refuses it) for a number and crashed (``natural_key(Path('z²'))``
raised ValueError, so ``fuse-stack FOLDER`` with such a file name ended in an internal error)."""
from __future__ import annotations

from pathlib import Path

from mutualfuse.cli.fuse_stack import natural_key


def test_superscript_digits_are_text_and_numbers_sort_by_value():
    names = ["z10.png", "z2.png", "z²3.png", "z1².png", "z٣.png", "z02.png"]
    got = [p.name for p in sorted((Path(n) for n in names), key=natural_key)]
    # ٣ (Arabic-Indic three) is a decimal digit: the number 3; ² is text (after every number)
    assert got == ["z1².png", "z02.png", "z2.png", "z٣.png", "z10.png", "z²3.png"], got
    assert natural_key(Path("²")) == (((1, 0, "²"),), "²")
