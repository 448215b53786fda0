"""``mutualfuse methods``: list the registered fusion methods and shipped weights (with model cards)."""
from __future__ import annotations

import argparse

from ..errors import ParameterError


def add_parser(sub) -> None:
    p = sub.add_parser("methods", help="list fusion methods and shipped weights (and their model cards)")
    p.add_argument("--card", metavar="WEIGHTS", action="append", default=[],
                   help="print the model card of these shipped weights or weights files of your own "
                        "(repeatable; 'all' = every shipped one)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..methods import METHODS
    from ..weights import SHIPPED
    from ..weights.card import model_card

    if args.card:
        import os

        from ..weights.card import file_card

        names = list(SHIPPED) if "all" in args.card else args.card
        unknown = [n for n in names if n not in SHIPPED and not os.path.isfile(n)]
        if unknown:
            raise ParameterError(f"--card: no shipped weights or weights file named {', '.join(unknown)} "
                                 f"(shipped: {', '.join(SHIPPED)})")
        print("\n".join(model_card(n) if n in SHIPPED else file_card(n) for n in names), end="")
        return 0
    for e in METHODS:
        print(f"{e.name:12s} {e.meta.get('family', ''):12s} {e.meta.get('cite', '')}")
    print()
    for group, title in (("", "weights"), ("ablation", "ablation weights (paper Tables 4-7, docs/ablations.md)")):
        ws = [w for w in SHIPPED.values() if w.group == group]
        if not ws:
            continue
        if group:
            print(f"\n{title}:")
        for w in ws:
            print(f"weights {w.name:28s} {w.file}  sha256 {w.sha256[:16]}…  {w.description}")
    print("\nmodel cards: mutualfuse methods --card NAME (or --card all)")
    return 0
