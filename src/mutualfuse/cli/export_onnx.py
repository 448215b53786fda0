"""``mutualfuse export-onnx OUT.onnx``: export the network with dynamic batch/height/width."""
from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    p = sub.add_parser("export-onnx", help="export the fusion network to ONNX (dynamic height/width)",
                       description="Export the network to ONNX: inputs a, b (B, 1, H, W) float32 in [0, 1], "
                                   "output fused (B, 1, H, W). The mapping is exact unless --pool is given; "
                                   "see docs/inputs.md. Needs the onnx extra.")
    from ..validation import MAX_OPSET, MIN_OPSET
    from ..tasks import TASKS
    from .common import add_quiet, int_in, non_empty

    p.add_argument("out_file", nargs="?", metavar="OUT", type=non_empty, help="output .onnx file (or -o OUT)")
    p.add_argument("-o", "--out", type=non_empty, help="output .onnx file")
    p.add_argument("--weights", type=non_empty, default="default", help="weights: a shipped name or a .safetensors file (default %(default)s)")
    p.add_argument("--pool", type=int_in(1, 4096), default=1,  # beyond any grid (a 4096-fold pooled grid is one cell)
                   help="compute the mutual mapping on a POOL x pooled grid, 1..4096, at every size (fuse picks "
                        "one per size: a note says at which sizes they differ); default %(default)s = exact; "
                        "1 only for weights without a mapping")
    p.add_argument("--task", default=None, choices=list(TASKS) + ["stored"], type=_task_arg,
                   help="bake in the settings the shipped weights record for this task (as fuse --task); "
                        "default: stored, the weights' stored settings (a graph has one setting: no per-pair "
                        "task detection, so fuse's default --task auto is refused)")
    p.add_argument("--opset", type=int_in(MIN_OPSET, MAX_OPSET), default=17,
                   help=f"ONNX opset, {MIN_OPSET}..{MAX_OPSET} (default %(default)s)")
    add_quiet(p)
    p.add_argument("--no-check", action="store_true",
                   help="skip comparing onnxruntime with PyTorch on the bundled tno-01 sample")
    p.set_defaults(func=run)


def _task_arg(v: str) -> str:
    """An argparse type: ``--task auto`` is refused with the reason (it was "invalid choice")."""
    if v == "auto":
        from ..onnx_export import AUTO_TASK_REFUSAL

        raise argparse.ArgumentTypeError("auto " + AUTO_TASK_REFUSAL.removeprefix("task 'auto' "))
    return v


_task_arg.__name__ = "task"


def run(args: argparse.Namespace) -> int:
    import sys

    from ..errors import ParameterError
    from ..io.signals import interrupts_held
    from ..onnx_export import export_onnx

    if args.out and args.out_file and args.out != args.out_file:
        raise ParameterError(f"give the output once: OUT {args.out_file} or -o {args.out}")
    target = args.out or args.out_file
    if not target:
        raise ParameterError("export-onnx needs an output file: -o OUT.onnx")
    args.out = target
    from ..image_io import _one_line_path, check_writable

    # as typed, before the weights are read: export_onnx takes it as a Path, which drops the slash
    # of `model.onnx/`; a folder or '-' is said with the file name to give instead
    from .common import refuse_in_the_way

    refuse_in_the_way(target)  # `-o afile/m.onnx`: said as every command says it
    check_writable(target, formats={".onnx"}, hint=True)
    _refuse_a_method_name(args.weights)
    if args.task == "stored":  # the default: the weights' stored settings (as fuse --task stored)
        args.task = None
    checked: dict[str, str] = {}
    check = None
    if not args.no_check:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            checked["msg"] = "  (not checked: onnxruntime is not installed)"
        else:
            def check(tmp):
                checked["msg"] = compare_with_pytorch(tmp, args.out, args.weights, args.pool, args.task)
    # the check runs on the exported temporary file: the output appears only once it passed. From
    # the end of the check until the rename is done, Ctrl+C/SIGTERM wait (interrupts_held); one
    # that came meanwhile is raised after the rename, when the output is complete, and is reported
    # so. Before that point an interrupt leaves no output (atomic_write removes the temporary).
    out = None
    try:
        with interrupts_held(now=False) as hold:
            def check_then_hold(tmp):
                if check is not None:
                    check(tmp)
                hold()

            out = export_onnx(args.out, args.weights, pool=args.pool, opset=args.opset, task=args.task,
                              check=check_then_hold)
        if not args.quiet:
            note = pool_note(args.weights, args.task, args.pool)
            # a name's line break or escape shown escaped, as the one-line errors show it
            if note:
                print(_one_line_path(note), file=sys.stderr)
            policy = inputs_policy_note(args.weights)
            if policy:
                print(_one_line_path(policy), file=sys.stderr)
            print(_one_line_path(f"{out}{checked.get('msg', '')}{settings_summary(args.weights, args.task)}"))
    except KeyboardInterrupt:
        if out is None:
            raise  # not written: "interrupted", exit 130 (143: SIGTERM), an earlier file at OUT left as it was
        from ..io.signals import stop_status

        print(f"mutualfuse: interrupted after {_one_line_path(out)} was written (the file is complete"
              f"{'' if check is None else ' and passed the onnxruntime check'})", file=sys.stderr)
        return stop_status()
    return 0


def settings_summary(weights: str, task: str | None) -> str:
    """What the summary line says of the graph's settings against ``fuse``'s default: for
    weights that record per-task settings (``default``), ``fuse`` without ``--task`` detects
    the task per pair (``--task auto``) and the graph has one setting, so a plain ``fuse`` of a
    TNO, CT/MR or Lytro pair differed from a ``--pool 2`` export by up to 129, 93 and 40 grey
    levels and nothing but ``--help`` said so. Empty for weights without task settings (their
    ``fuse`` default is the stored setting)."""
    from ..weights import recorded_tasks

    tasks = recorded_tasks(weights)
    if not tasks:
        return ""
    if task:
        return f"  settings: {task} (as fuse --task {task})"
    return (f"  settings: stored (as fuse --task stored; fuse's default --task auto detects the task per pair, "
            f"{', '.join(tasks)}, and uses its settings: export one graph per task with --task)")


def inputs_policy_note(weights: str) -> str | None:
    """The ``note:`` saying how the graph's inputs must be read, for weights whose training
    recorded its intensity policy other than fuse's default (``train_data``; the graph's
    ``mutualfuse.inputs`` metadata says the same); None for the others."""
    from ..io.samples import DEFAULT_PERCENTILES, training_policy
    from ..weights import read_weights

    norm, pct = training_policy(read_weights(weights)[2])
    norm, pct = norm or "auto", pct or DEFAULT_PERCENTILES
    if norm == "auto" and pct == DEFAULT_PERCENTILES:
        return None
    how = f"--normalize {norm}" + ("" if norm == "full" else f" --percentiles {pct[0]:g} {pct[1]:g}")
    return (f"note: {weights} were trained on images read with {how} (their train_data): read the graph's inputs "
            "the same way, as `fuse` does for them (the graph's metadata mutualfuse.inputs says so)")


def pool_note(weights: str, task: str | None, pool: int) -> str | None:
    """The ``note:`` saying at which sizes a graph exported with ``pool`` computes another
    mutual mapping than ``fuse`` (``--task task``, else ``--task stored``) with ``weights``, and
    so another output (:func:`mutualfuse.onnx_export.fuse_pool_range`): a pool below the
    weights' ``map_min_pool``; an exact graph of weights whose token budget pools above it
    (``blackout``, ``pyramid``, ``paper``, ...: above 512x512, a 640x512 thermal frame
    included); a pool above ``map_min_pool``, which ``fuse`` uses only in a band of sizes.
    ``None`` for a pool ``map_min_pool`` >= 2 (``default --pool 2``: as ``fuse`` up to
    1024x1024; docs/inputs.md, ONNX) and for networks without a mapping."""
    import math

    from ..onnx_export import fuse_pool_range, stored_min_pool

    got = fuse_pool_range(weights, task, pool)
    if got is None:
        return None
    lo, hi, s = got
    floor = stored_min_pool(weights, task)

    def size(tokens: int) -> str:
        side = math.isqrt(tokens) * s
        return f"{tokens * s * s} pixels, {side}x{side}"

    if hi == 0 and pool < floor:  # the graph is not what `fuse` computes at any size
        return (f"note: {weights} runs the mutual mapping on a {floor}x pooled grid in `fuse` "
                f"(map_min_pool {floor}) at every size up to its token budget; this graph uses "
                f"pool {pool}, so its output differs from fuse's; --pool {floor} matches fuse")
    if hi == 0:
        return (f"note: {weights} has no token budget: `fuse` computes its mutual mapping exactly at "
                f"every size; this graph pools it by {pool}, so its output differs from fuse's; "
                "--pool 1 matches fuse")
    if hi is None or (lo == 0 and pool > 1):
        return None
    if lo == 0:  # an exact graph; fuse pools above its token budget
        return (f"note: `fuse` computes {weights}'s mutual mapping exactly only up to its token budget, "
                f"{hi} mapping tokens (an image of {size(hi)}; a token is {s}x{s} pixels), and pools "
                "it above, where this exact graph's output differs from fuse's and onnxruntime builds "
                "an NxN matrix of 4*N^2 bytes: for larger images export with the pool fuse uses "
                "(Fuser.report.mapping_pool; docs/inputs.md, ONNX)")
    below = "exactly" if floor == 1 else f"on a {floor}x pooled grid"
    return (f"note: `fuse` runs {weights}'s mutual mapping on a {pool}x pooled grid only on images of more "
            f"than {lo} and at most {hi} mapping tokens (more than {size(lo)}, and at most {size(hi)}; a token "
            f"is {s}x{s} pixels); smaller ones {below}, larger ones more pooled, where this graph's output "
            "differs from fuse's (Fuser.report.mapping_pool says fuse's pool; docs/inputs.md, ONNX)")


def _refuse_a_method_name(weights: str) -> None:
    """``--weights dwt`` (a method of ``fuse --method``, no such file) said "weights file not
    found": say that only the network exports, and what to give."""
    import os

    from ..errors import ParameterError
    from ..methods import METHODS, is_network_method
    from ..weights import SHIPPED

    if weights in SHIPPED or os.path.exists(weights) or weights not in METHODS:
        return
    if is_network_method(weights):
        raise ParameterError(f"--weights {weights}: {weights} is the network method; give its weights: a shipped "
                             "name (default, ...; mutualfuse methods lists them) or a .safetensors file")
    raise ParameterError(f"--weights {weights}: {weights} is a classical fusion method, which has no network to "
                         "export; only the network exports to ONNX (--weights default, another shipped name or "
                         "a .safetensors file)")


#: largest max |onnxruntime - PyTorch| accepted by the export's check on the tno-01 sample
CHECK_TOLERANCE = 1e-4


def compare_with_pytorch(path, out, weights, pool: int, task: str | None) -> str:
    """Run the exported model ``path`` with onnxruntime and the PyTorch network on the bundled
    tno-01 pair; raise a one-line FuseError naming ``out`` when they differ by more than
    :data:`CHECK_TOLERANCE` (or onnxruntime cannot run the file). Returns the note printed."""
    from importlib import resources

    import numpy as np
    import torch

    from ..errors import FuseError
    from ..image_io import read_gray_float
    from ..onnx_export import ExportWrapper, run_onnx
    from ..weights import load_model, task_settings

    root = resources.files("mutualfuse") / "data" / "samples" / "tno-01"
    a = read_gray_float(root / "a.png")
    b = read_gray_float(root / "b.png")
    net, _ = load_model(weights, **(task_settings(weights, task) if task else {}))
    ref_model = ExportWrapper(net.float().eval(), pool).eval()
    with torch.no_grad():
        ref = ref_model(torch.from_numpy(a)[None, None], torch.from_numpy(b)[None, None])[0, 0].numpy()
    try:
        got = run_onnx(path, a, b)
    except Exception as e:  # noqa: BLE001 - onnxruntime's own error types (Fail, InvalidGraph, ...), and run_onnx's
        # one-line InputError for a file onnxruntime cannot load, said here for OUT (not its temporary)
        first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
        if isinstance(e, FuseError) and str(e).startswith(f"{path}: "):  # it names the temporary file
            first = str(e)[len(f"{path}: "):][:160]
        raise FuseError(f"{out}: onnxruntime cannot run the exported model ({type(e).__name__}: {first}); "
                        "not written") from None
    diff = float(np.abs(got - ref).max()) if got.shape == ref.shape else float("inf")
    if not diff <= CHECK_TOLERANCE:  # NaN fails too
        raise FuseError(f"{out}: exported model differs from PyTorch by {diff:.2e} > {CHECK_TOLERANCE:g} "
                        "on the tno-01 sample; not written")
    return f"  (onnxruntime vs PyTorch on tno-01 {a.shape[1]}x{a.shape[0]}: max |diff| {diff:.2e})"
