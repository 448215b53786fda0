"""Small helpers for the words of messages and summaries."""

from __future__ import annotations


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: ``counted(1, "image")`` is ``"1 image"``,
    ``counted(0, "name")`` is ``"0 names"`` (regular plurals only)."""
    return f"{n} {noun}" + ("" if n == 1 else "s")
