"""``mutualfuse methods``: list the registered fusion methods (and weights)."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("methods", help="list fusion methods and shipped weights")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..methods import METHODS
    from ..weights import SHIPPED

    for e in METHODS:
        print(f"{e.name:12s} {e.meta.get('family', ''):12s} {e.meta.get('cite', '')}")
    print()
    for w in SHIPPED.values():
        print(f"weights {w.name:10s} {w.file}  sha256 {w.sha256[:16]}…  {w.description}")
    return 0
