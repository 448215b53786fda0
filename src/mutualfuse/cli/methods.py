"""``mutualfuse methods``: list the registered fusion methods and shipped weights (with model cards)."""
from __future__ import annotations

import argparse

from ..errors import ParameterError


def add_parser(sub) -> None:
    p = sub.add_parser("methods", help="list fusion methods and shipped weights (and their model cards)",
                       description="List the registered fusion methods (name, family, reference) and the shipped "
                                   "weights (name, file, sha256 prefix, description), one per line, plain text. "
                                   "--card NAME prints a method's parameters or a weights file's model card. "
                                   "--import MODULE lists (and --card shows) the methods a module of your own "
                                   "registers. --json prints the same listing as JSON.")
    p.add_argument("--card", metavar="NAME", action="append", default=[],
                   help="print the card of a fusion method (its reference and parameters with their defaults "
                        "and allowed values) or the model card of shipped weights or a weights file of your "
                        "own (repeatable; 'all' = every shipped weights file)")
    p.add_argument("--json", action="store_true",
                   help="print the listing as one JSON object instead: {\"methods\": [{name, family, cite, "
                        "network, params}], \"weights\": [{name, file, sha256, group, description, trained_on, "
                        "config, tasks}]}, the names exactly as --method, --weights and --card take them")
    from .common import add_import

    add_import(p, help="import a Python module first: a module name (found on the Python path or in the working "
                       "folder), a .py file or a package folder; the fusion methods it registers "
                       "(mutualfuse.methods.register_method) are listed, and --card NAME shows theirs; repeatable")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .common import apply_imports

    apply_imports(args)  # methods of one's own (--import): listed, and their cards, like the built-in ones
    from ..methods import METHODS
    from ..weights import SHIPPED
    from ..weights.card import model_card

    if getattr(args, "json", False):
        if args.card:
            raise ParameterError("--json lists the methods and weights; --card prints cards: give one of them")
        import json

        print(json.dumps(listing(), indent=1))  # ASCII escapes: any stdout encoding
        return 0
    if args.card:
        import os

        from ..weights.card import file_card

        from ..methods import method_card

        names: list[str] = []
        for n in args.card:  # 'all' stands for every shipped weights file, where it is given
            for m in (list(SHIPPED) if n == "all" else [n]):
                if m not in names:
                    names.append(m)
        # a path that exists and names no method (a folder, a device included) is taken as a weights
        # file: its card then says what is wrong with it
        is_method = {n: n.lower() in METHODS and n not in SHIPPED and not os.path.isfile(n) for n in names}
        unknown = [n for n in names if not is_method[n] and n not in SHIPPED and not os.path.exists(n)]
        paths = [n for n in unknown if n.lower().endswith(".safetensors") or os.sep in n or "/" in n]
        if paths:  # meant as a file (its name says so): that it is missing, not every name there is
            from ..errors import InputError

            raise InputError(f"{paths[0]}: no such weights file")
        if unknown:
            from ..registry import did_you_mean

            hint = did_you_mean(unknown[0], [*METHODS.names(), *SHIPPED])
            shown = ", ".join(n if n and n.strip() == n else repr(n) for n in unknown)  # '' named as such
            raise ParameterError(f"--card: no fusion method, shipped weights or weights file named "
                                 f"{shown}{hint} (methods: {', '.join(METHODS.names())}; shipped "
                                 f"weights: {', '.join(SHIPPED)})"
                                 + ("" if getattr(args, "imports", None) else "; a method of your own: --import its module first"))
        print("\n".join(method_card(n) if is_method[n] else model_card(n) if n in SHIPPED else file_card(n)
                        for n in names), end="")
        return 0
    nw = max(12, *(len(e.name) for e in METHODS))  # columns as wide as the longest name
    ww = max(28, *(len(w.name) for w in SHIPPED.values()))
    fw = max(len(w.file) for w in SHIPPED.values())
    for e in METHODS:
        cite = e.meta.get("cite", "")
        mod = getattr(e.obj, "__module__", None) or ""
        if not cite and mod and mod.split(".")[0] != "mutualfuse":  # one's own (--import): where it is from
            cite = f"(your method: {mod}.{getattr(e.obj, '__qualname__', e.name)})"
        print(f"{e.name:{nw}s} {e.meta.get('family', ''):12s} {cite}")
    print()
    for group, title in (("", "weights"), ("ablation", "ablation weights (paper Tables 4-7, docs/ablations.md)")):
        ws = [w for w in SHIPPED.values() if w.group == group]
        if not ws:
            continue
        if group:
            print(f"\n{title}:")
        for w in ws:
            # plain ASCII (a pipe or log with another encoding), the sha256 column aligned
            print(f"weights {w.name:{ww}s} {w.file:{fw}s}  sha256 {w.sha256[:16]}...  {w.description}")
    print("\ncards: mutualfuse methods --card NAME (a method's parameters, or a weights file's model card; "
          "--card all = every weights file)")
    own = _own_metrics() if getattr(args, "imports", None) else []
    if own:  # an --import module registered metrics (register_metric): they are listed by evaluate --list
        print(f"your metrics: {', '.join(own)} (mutualfuse evaluate --import MODULE --list; docs/metrics.md, "
              "'Your own metric')")
    return 0


def listing() -> dict:
    """``methods --json``: the registered methods and the shipped weights, straight from their
    registries (:data:`mutualfuse.methods.METHODS`, :data:`mutualfuse.weights.WEIGHTS`), in
    registration order. ``network``: the method runs the network with weights (``--weights``)."""
    from ..methods import METHODS, is_network_method
    from ..weights import SHIPPED

    methods = []
    for e in METHODS:
        mod = getattr(e.obj, "__module__", None) or ""
        methods.append({"name": e.name, "family": str(e.meta.get("family", "")), "cite": str(e.meta.get("cite", "")),
                        "network": is_network_method(e.name), "params": _param_names(e),
                        **({"module": mod} if mod and mod.split(".")[0] != "mutualfuse" else {})})
    weights = [{"name": w.name, "file": w.file, "sha256": w.sha256, "group": w.group or "main",
                "description": w.description, "trained_on": w.trained_on, "config": w.config,
                "tasks": [t for t, _ in w.tasks]} for w in SHIPPED.values()]
    return {"methods": methods, "weights": weights}


def _param_names(e) -> list[str]:
    """The keyword parameters of the method of registry entry ``e`` (``--param`` takes them), as
    its card lists them: the declared ones (every built-in method), else the function's own (a
    method of one's own registered without ``params=``: ``[]`` was listed for ``def f(a, b, w=0.5)``)."""
    declared = list(e.meta.get("params") or {})
    if declared:
        return declared
    from ..methods.params import keyword_names

    try:
        return keyword_names(e.obj)
    except (TypeError, ValueError):  # no signature to read (a builtin)
        return []


def _own_metrics() -> list[str]:
    """The metrics of one's own (``register_metric``) registered so far; the metrics are not
    loaded for this (a module that registers metrics has loaded them)."""
    import sys

    metrics = sys.modules.get("mutualfuse.metrics")
    return metrics.METRICS.names(source=metrics.OWN_SOURCE) if metrics is not None else []
