"""``mutualfuse fuse A B -o OUT``: fuse one pair with the network or any registered method.

Inputs: PNG/TIFF/JPEG/BMP (8/16-bit, float TIFF), DICOM (with the ``dicom`` extra), gray or
colour, any size. The output's bit depth follows the inputs unless ``--bit-depth`` says
otherwise; it is written atomically (temp file + rename) and only after every check passed.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _bit_depth(v: str) -> int:
    table = {"8": 8, "16": 16, "32": 32, "float": 32}
    if v not in table:
        raise argparse.ArgumentTypeError("bit depth must be 8, 16 or float")
    return table[v]


#: the chroma rule when no ``--chroma`` is given (:class:`mutualfuse.Fuser`'s default)
DEFAULT_CHROMA = "saturation"


def add_common(p: argparse.ArgumentParser) -> None:
    """Options shared by fuse, fuse-dir and fuse-video."""
    from ..color import CHROMA_RULES
    from ..image_io import MAX_PIXELS, NORMALIZE_MODES
    from ..tasks import TASK_CHOICES
    from ..validation import DEFAULT_WINDOW_PIXELS
    from .common import add_device, int_at_least, non_empty

    p.add_argument("--method", default="mutualfuse",
                   help="registered method (see `mutualfuse methods`); default: %(default)s, the network")
    p.add_argument("--weights", type=non_empty, help="weights of the network: a shipped name (default: 'default') or a .safetensors file")
    add_device(p)
    p.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"],
                   help="network precision (default %(default)s; float16 needs CUDA; half precision is approximate)")
    p.add_argument("--token-budget", type=int_at_least(0), default=None,
                   help="max tokens of the exact mutual mapping; above it the mapping runs on a pooled grid "
                        "(0 = always exact; default: the model's, 16384)")
    p.add_argument("--blend-temperature", type=float, default=None, metavar="T",
                   help="temperature of the network's per-band selection (> 0 and <= 1e6; smaller = harder; "
                        "default: the weights' own, 0.5 for 'default', whose trained model is 1.0)")
    p.add_argument("--detail-gain", type=float, default=None, metavar="G",
                   help="multiply a pyramid model's fused detail bands by G in [0.5, 2] (> 1 sharpens; default: "
                        "the weights' own, 1.0)")
    p.add_argument("--detail-activity", type=float, default=None, metavar="G",
                   help="add a soft choose-max rule to a pyramid model's detail-band weights, G x (local |band| "
                        "difference), G in [0, 10000] (default: the weights' own, 0 = off; docs/training.md)")
    p.add_argument("--task", default=None, choices=list(TASK_CHOICES),
                   help="use the settings the shipped weights record for this task, each chosen on that task's "
                        "own validation pairs ('default': ir-vis = --blend-temperature 0.1 --detail-activity "
                        "10000, multi-focus = --blend-temperature 0.1 --detail-activity 3000, medical = --detail-activity 300; "
                        "`mutualfuse methods --card NAME` lists them); auto = the task detected per pair "
                        "(printed; docs/inputs.md); stored = the weights' stored settings; explicit options "
                        "win; default: auto for weights that record per-task settings, else stored")
    # default None, applied in make_fuser: a --chroma the user typed (saturation too) is told from
    # the default, so that one that changed nothing is said (chroma_unused)
    p.add_argument("--chroma", default=None, choices=list(CHROMA_RULES),
                   help="Cb/Cr rule when both inputs are colour: per-pixel weighting by saturation |C-128| "
                        f"(default {DEFAULT_CHROMA}), keep a's, keep b's, or the mean; gray: no chroma, the output "
                        "is the fused luminance (gray) even for colour inputs")
    p.add_argument("--normalize", default=None, choices=list(NORMALIZE_MODES),
                   help="intensity scaling of 16-bit/float/DICOM inputs: auto (8-bit full range, others "
                        "per-image percentiles or the DICOM window), full (type range), percentile; default: "
                        "the policy the weights were trained with where they record it (mutualfuse train), "
                        "else auto")
    p.add_argument("--percentiles", type=float, nargs=2, default=None, metavar=("LO", "HI"),
                   help="percentiles mapped to 0 and 1 by percentile normalisation (default: 0.1 99.9, or the "
                        "weights' training percentiles where they record them)")
    p.add_argument("--max-pixels", type=int_at_least(1), default=MAX_PIXELS,
                   help="refuse larger images (decompression-bomb guard, default %(default)s)")
    p.add_argument("--window-pixels", type=int_at_least(4096), default=DEFAULT_WINDOW_PIXELS,
                   help="pixels per exact streaming window of the network (bounds memory; the same result to "
                        "float32 rounding; default %(default)s)")
    p.add_argument("--tile", type=int_at_least(16), default=None,
                   help="fuse independent TILE×TILE tiles blended over their overlaps (approximation: each "
                        "tile's mapping sees only that tile; with the network up to 119 grey levels off in places "
                        "on TNO, docs/inputs.md; default off)")
    # default None, applied in make_fuser: an overlap the user typed is told from the default, so that
    # one reduced to TILE/2 is said (tile_overlap_note) and the default of a small --tile is not
    from ..tiling import DEFAULT_TILE_OVERLAP

    p.add_argument("--tile-overlap", type=int_at_least(0), default=None,
                   help="blend width of --tile in pixels, smaller than TILE and at most TILE/2 (a larger one is "
                        "reduced to TILE/2, with a note; 0 can leave hard tile borders; default "
                        f"{DEFAULT_TILE_OVERLAP}, or TILE/2 where that is smaller)")
    p.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="a parameter of a classical --method (repeatable), e.g. --param levels=3 "
                   "--param highpass=consistency; values are read as int, float, true/false or text")


def parse_params(items: list[str]) -> dict:
    """``["levels=3", "multifocus=false"]`` → ``{"levels": 3, "multifocus": False}``."""
    from ..errors import ParameterError

    out: dict = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param {item!r}: expected KEY=VALUE")
        v: object = raw
        low = raw.strip().lower()
        if low in ("true", "false"):
            v = low == "true"
        else:
            for conv in (int, float):
                try:
                    v = conv(raw)
                    break
                except ValueError:
                    pass
        if key.strip() in out:  # the last one silently won
            raise ParameterError(f"--param {key.strip()} given twice")
        out[key.strip()] = v
    return out


def add_parser(sub) -> None:
    p = sub.add_parser("fuse", help="fuse one registered pair of images",
                       description="Fuse two registered images (gray or colour, 8/16-bit/float, DICOM, any size) into OUT.")
    from .common import non_empty  # "" (an unset shell variable) is no path: "." was read or written

    p.add_argument("a", type=non_empty, help="first source image (e.g. infrared, near focus, CT/PET)")
    p.add_argument("b", type=non_empty, help="second source image (e.g. visible, far focus, MR)")
    p.add_argument("-o", "--out", required=True, type=non_empty,
                   help="output image: .png, .tif/.tiff, .jpg/.jpeg, .bmp, or .dcm/.dicom (DICOM, needs the dicom extra)")
    add_common(p)
    p.add_argument("--bit-depth", type=_bit_depth, default=None,
                   help="output bit depth 8, 16 or float (default: follow the inputs)")
    from .common import add_import, add_quiet

    add_import(p)
    add_quiet(p)
    p.set_defaults(func=run)


def make_fuser(args: argparse.Namespace, progress: bool = False):
    from ..api import Fuser
    from ..errors import ParameterError

    from ..methods import METHODS, is_network_method

    if args.method not in METHODS:
        from ..weights import SHIPPED

        if args.method in SHIPPED:  # the API's `method="default"`: on the command line, weights
            raise ParameterError(f"--method {args.method}: {args.method!r} is a shipped network model; "
                                 f"use --weights {args.method} (the network is --method mutualfuse, the default)")
        try:
            METHODS.entry(args.method)
        except KeyError as e:
            own = "" if getattr(args, "imports", None) else "; a method of your own: --import its module first"
            raise ParameterError(f"--method {e.args[0]}{own}") from None
    is_network = is_network_method(args.method)
    if args.weights and not is_network:
        raise ParameterError(f"--weights applies to the network; --method {args.method} takes no weights "
                             "(drop --method or --weights)")
    if args.weights:
        from ..weights import SHIPPED

        w = args.weights
        shipped = {n.lower() for n in SHIPPED}
        if str(w).lower() not in shipped and not Path(w).exists() \
                and str(w).lower() in {n.lower() for n in METHODS.names()}:  # it ran that method, said nothing
            raise ParameterError(f"--weights {w}: {w!r} is a fusion method, not weights; use --method {w}")
        if args.weights not in SHIPPED and Path(args.weights).is_dir():  # it said "unknown method or weights"
            from ..errors import InputError
            from ..weights import folder_weights_hint

            raise InputError(f"{args.weights}: --weights is a folder; expected a .safetensors file or a shipped "
                             f"name (see `mutualfuse methods`){folder_weights_hint(Path(args.weights))}")
    model = args.weights if args.weights else args.method
    g = lambda k, d: getattr(args, k, d)  # noqa: E731 - callers may build a partial Namespace
    from ..validation import DEFAULT_WINDOW_PIXELS

    if g("window_pixels", DEFAULT_WINDOW_PIXELS) < 4096:
        raise ParameterError(f"--window-pixels must be at least 4096, got {g('window_pixels', 0)}")
    budget = g("token_budget", None)
    if budget is not None and budget < 0:
        raise ParameterError(f"--token-budget must be >= 0 (0 = exact), got {budget}")
    temp = g("blend_temperature", None)
    from ..validation import MAX_BLEND_TEMPERATURE

    if temp is not None and not 0 < temp <= MAX_BLEND_TEMPERATURE:  # NaN fails too
        raise ParameterError(f"--blend-temperature must be a finite number > 0 and <= {MAX_BLEND_TEMPERATURE:.0f}, "
                             f"got {temp}")
    if temp is not None and not is_network:
        raise ParameterError(f"--blend-temperature applies to the network; --method {args.method} has no selection "
                             "temperature")
    gain = g("detail_gain", None)
    if gain is not None and not 0.5 <= gain <= 2.0:
        raise ParameterError(f"--detail-gain must be a number in [0.5, 2], got {gain}")
    if gain is not None and not is_network:
        raise ParameterError(f"--detail-gain applies to the network; --method {args.method} has no detail bands")
    act = g("detail_activity", None)
    if act is not None and not 0.0 <= act <= 10000.0:
        raise ParameterError(f"--detail-activity must be a number in [0, 10000], got {act}")
    if act is not None and not is_network:
        raise ParameterError(f"--detail-activity applies to the network; --method {args.method} has no detail bands")
    if g("param", []) and is_network:  # Fuser(model, token_budget=..., **params) would clash
        raise ParameterError(f"--param {' '.join(g('param', []))}: the network takes no method parameters "
                             f"(--param is for classical methods); its settings are options: --weights, --device, "
                             f"--token-budget, --blend-temperature, ...")
    if g("percentiles", None) is not None and g("normalize", None) == "full":  # full uses none: they did nothing
        lo, hi = g("percentiles", None)
        raise ParameterError(f"--percentiles {lo:g} {hi:g} needs --normalize auto or percentile; --normalize full "
                             "maps each input's type range and uses no percentiles (drop one of them)")
    from ..tiling import DEFAULT_TILE_OVERLAP, check_overlap, effective_overlap

    overlap = g("tile_overlap", None)  # None: not given (add_common's default)
    if g("tile", None) is None and overlap not in (None, DEFAULT_TILE_OVERLAP):  # it did nothing, without a word
        raise ParameterError(f"--tile-overlap {overlap} applies to --tile tiles; without --tile the "
                             "image is not cut into tiles (give --tile T too)")
    if g("tile", None) is not None:
        if overlap is not None:  # not smaller than the tile: refused; above half: said (tile_overlap_note)
            check_overlap(g("tile", None), overlap)
        # the Fuser gets the overlap its tiles use (the default 64 of --tile 64 is 32), which it has no
        # reason to warn of: the note above says a reduced one, once for the whole command
        overlap = effective_overlap(g("tile", None), DEFAULT_TILE_OVERLAP if overlap is None else overlap)
    task = g("task", None)
    if task is not None and not is_network:
        raise ParameterError(f"--task applies to the network; --method {args.method} has no per-task settings")
    if not is_network:  # the network's settings, refused as the ones above (the defaults pass: fuse-dir, web page)
        if budget is not None:
            raise ParameterError(f"--token-budget applies to the network; --method {args.method} has no mutual mapping")
        if g("window_pixels", DEFAULT_WINDOW_PIXELS) != DEFAULT_WINDOW_PIXELS:
            raise ParameterError(f"--window-pixels applies to the network; --method {args.method} has no streaming "
                                 "windows")
        if g("dtype", "float32") != "float32":
            raise ParameterError(f"--dtype applies to the network; --method {args.method} has no network precision")
    chroma = g("chroma", None)  # None: not given (add_common's default), the default rule
    if str(args.device).startswith("cuda"):  # refused in the command line's words (--device cuda), not the API's
        from ..validation import pick_device

        pick_device(args.device)
    fuser = Fuser(model, device=args.device, dtype=args.dtype, token_budget=-1 if budget is None else budget,
                  blend_temperature=temp, detail_gain=gain, detail_activity=act, task=task,
                  chroma=DEFAULT_CHROMA if chroma is None else chroma, normalize=g("normalize", None),
                  percentiles=None if g("percentiles", None) is None else tuple(g("percentiles", None)),
                  max_window_pixels=g("window_pixels", DEFAULT_WINDOW_PIXELS),
                  tile=g("tile", None), tile_overlap=DEFAULT_TILE_OVERLAP if overlap is None else overlap,
                  progress=progress,
                  **parse_params(g("param", [])))
    fuser._chroma_given = chroma is not None  # chroma_unused says a --chroma that changed nothing
    POLICY_FROM_WEIGHTS.clear()
    if g("normalize", None) is None and fuser.normalize != "auto" and getattr(fuser, "_policy_note", None):
        POLICY_FROM_WEIGHTS.append((fuser.normalize, str(model)))
    return fuser


def tile_overlap_note(args: argparse.Namespace) -> str | None:
    """The note that the ``--tile-overlap`` given was reduced to half of ``--tile``
    (:func:`mutualfuse.tiling.check_overlap`), or None; printed once by every command that takes
    the option (fuse, fuse-dir, fuse-video, fuse-stack, fuse-volume): ``--tile 256 --tile-overlap
    200`` blended over at most 128 px without a word. One not smaller than the tile is refused by
    :func:`make_fuser`."""
    tile, overlap = getattr(args, "tile", None), getattr(args, "tile_overlap", None)
    if tile is None or overlap is None:
        return None
    from ..tiling import check_overlap

    return check_overlap(tile, overlap)


#: ``(normalize, weights)`` while this command's fuser reads with the policy its weights' training
#: recorded (``train_data``) and no ``--normalize`` was given: a refusal that names that
#: ``--normalize`` (e.g. full on a CT series in HU) then says where it came from (:func:`policy_origin`)
POLICY_FROM_WEIGHTS: list[tuple[str, str]] = []


def refuses_policy(error: BaseException | str, norm: str) -> bool:
    """Whether ``error`` refused an input under the normalisation mode ``norm``: by the ``normalize``
    attribute of a :class:`~mutualfuse.errors.PolicyRefusalError` (``full`` for a float image outside
    [0, 1], a NIfTI volume or DICOM series that ``full`` cannot read). Never by the message's words:
    a message alone (no exception) refuses nothing."""
    mode = getattr(error, "normalize", None)
    return isinstance(error, BaseException) and isinstance(mode, str) and mode == norm


def policy_origin(error: BaseException | str) -> str:
    """The one-line error ``error`` (an exception, or its message), with where its refused
    ``--normalize MODE`` came from when the user did not give it: the weights' recorded training
    policy (:data:`POLICY_FROM_WEIGHTS`). Decided by :func:`refuses_policy`. Given the message alone
    inside the ``except`` block of that exception (``mutualfuse.cli.main`` passes ``str(e)``), the
    exception being handled is the one looked at."""
    message = str(error)
    if isinstance(error, str):
        handled = sys.exc_info()[1]
        if handled is not None and str(handled) == message:
            error = handled
    # a refusal worded for the Python API (normalize='percentile') has the command line's words too
    message = getattr(error, "cli_message", None) or message
    if POLICY_FROM_WEIGHTS:
        norm, weights = POLICY_FROM_WEIGHTS[0]
        if refuses_policy(error, norm):
            return (f"{message} [--normalize {norm} was not given: it is the policy weights {weights} were trained "
                    "with (their train_data); give --normalize to read otherwise]")
    return message


def read_registered(fuser, paths: list[str], max_pixels: int | None = None, what: str = "pair",
                    server: bool = False, percentile_samples: list | None = None):
    """Read images that must be registered to one another → (arrays, infos): float arrays in
    [0, 1] by the fuser's normalisation; one-line errors for a size that differs from the first
    image's and for a side under ``MIN_SIDE`` (``what`` names the set in the message).
    ``percentile_samples``: :func:`~mutualfuse.image_io.read_image`'s, one entry per path."""
    from ..errors import InputError
    from ..image_io import MAX_PIXELS, read_image
    from ..methods import MIN_SIDE

    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    check_fits(fuser, paths, max_pixels, what, server)
    kw = dict(max_pixels=max_pixels, normalize=fuser.normalize, percentiles=fuser.percentiles)
    arrays, infos = [], []
    for p in paths:
        x, info = read_image(p, **kw, percentile_samples=percentile_samples)
        arrays.append(x)
        infos.append(info)
    first = arrays[0]
    for x, p in zip(arrays[1:], paths[1:]):
        if x.shape[:2] != first.shape[:2]:
            from ..image_io import turned_note

            raise InputError(f"{p}: size mismatch: {paths[0]} is {first.shape[1]}x{first.shape[0]}"
                             f"{turned_note(paths[0])}, {p} is {x.shape[1]}x{x.shape[0]}{turned_note(p)} "
                             f"(the {what} must be registered)")
    for x, p in zip(arrays, paths):
        if min(x.shape[:2]) < MIN_SIDE:
            # a classical method whose decomposition needs more says so ("smaller than 8x8" alone sent
            # a 7x7 image for lp to 8x8, refused again as too small for levels=4)
            need = ""
            if fuser.runner is None:
                from ..methods.classical import size_need_note

                need = size_need_note(fuser.method, fuser.method_params)
            raise InputError(f"{p}: image is {x.shape[1]}x{x.shape[0]}, smaller than {MIN_SIDE}x{MIN_SIDE}{need}")
    return arrays, infos


def header_is_colour(path: str) -> bool:
    """Whether an image file will be read as RGB, from its header only (no decoding):
    :func:`mutualfuse.image_io.header_reads_as_colour` (DICOM SamplesPerPixel 3, TIFF samples per
    pixel 3 or 4 or a colour ColorMap, PNG by its colour type, a colour palette, a Pillow colour
    mode). False when unsure (an unreadable header), so that the memory bound of
    :func:`check_fits` that it feeds stays a lower bound. A colour palette was counted gray and a
    16-bit gray + alpha PNG (opened by Pillow as RGBA) RGB."""
    from ..image_io import header_reads_as_colour

    return header_reads_as_colour(path)


def check_fits(fuser, paths: list[str], max_pixels: int | None, what: str = "pair", server: bool = False,
               count: int | None = None, colour: int | None = None) -> None:
    """Refuse, from the images' headers and before any is decoded, a set that cannot be fused in
    the memory available now: :meth:`Fuser.min_memory <mutualfuse.api.Fuser.min_memory>` (a
    lower bound) against :func:`mutualfuse.runner.available_memory`. One-line
    :class:`~mutualfuse.errors.InputError` naming the first image; the run is not started, and
    is not killed by the out-of-memory killer halfway. Sizes that cannot be read from a header,
    differ, or exceed ``max_pixels`` are left to the reading, which says what is wrong.
    ``server``: the web page's wording (its user has no ``--tile`` and cannot free the server's
    memory). ``count``: how many images of that size (default one per path; a multi-page TIFF
    stack is one path holding ``count`` planes). ``colour``: how many of the images held at the
    peak are RGB (:meth:`~mutualfuse.api.Fuser.min_memory`'s ``colour``); default: for a pair,
    read from the two headers (:func:`header_is_colour`), else 0."""
    from ..image_io import header_size, quiet_decoders
    from ..runner import available_memory, check_memory

    with quiet_decoders():
        sizes = [header_size(p) for p in paths]
    if None in sizes or len(set(sizes)) != 1:
        return
    w, h = sizes[0]
    if max_pixels and w * h > max_pixels:
        return
    n = len(paths) if count is None else count
    # RGB inputs of a pair (counted gray before: 8 bytes a pixel, against 24 + 32 held while fusing)
    if colour is None:
        with quiet_decoders():
            colour = sum(header_is_colour(p) for p in paths) if count is None and len(paths) == 2 else 0
    need = fuser.min_memory(h, w, n, colour=colour)
    avail = available_memory()
    if avail is None or need <= avail:
        return
    if fuser.runner is not None:
        how = "with the network"
        from ..tiling import fitted_tile

        # each size fitted to the image (the same number of tiles, overlaps of --tile-overlap):
        # a bare 4096 on a 13500x13400 image overlaps its tiles by 961 px (tiling.fitted_tile)
        tiles = [fitted_tile(h, w, t, fuser.tile_overlap) for t in (4096, 2048, 1024, 512) if t < max(h, w)]
        tile = next((t for t in tiles if fuser.min_memory(h, w, n, tile=t, colour=colour) <= avail), None)
        advice = (f"; fuse it in independent tiles (--tile {tile}; approximate: docs/inputs.md), or free memory"
                  if tile and (not fuser.tile or tile < fuser.tile) else "; free memory or use a machine with more")
    else:
        how = f"with method {fuser.method}"
        advice = "; free memory or use a machine with more"
    if server:
        advice = ("; too large for this server (on a machine of your own, `mutualfuse fuse --tile 2048` fuses it "
                  "in independent tiles)")
    check_memory(need, f"{paths[0]}: fusing this {w}x{h} {what} {how}", advice)


def read_pair(fuser, a_path: str, b_path: str, max_pixels: int | None = None, server: bool = False):
    """Read and validate a pair → (a, b, info_a, info_b); float arrays in [0, 1]."""
    (a, b), (ia, ib) = read_registered(fuser, [a_path, b_path], max_pixels, server=server)
    return a, b, ia, ib


def fuse_setting(fuser) -> str:
    """Everything but the inputs that decides what ``fuser`` makes, as text: the ``setting`` that
    seeds a DICOM output's series UID (:func:`mutualfuse.dicom.write_dicom`), so that other
    weights (by their tensors' digest), task settings, temperature, token budget, method
    parameters, normalisation or chroma rule give another series. Not the task detected per
    pair: the slices of one series fused in task mode auto stay one series."""
    import json

    from .. import __version__

    d: dict = {"normalize": fuser.normalize, "percentiles": list(fuser.percentiles), "chroma": fuser.chroma,
               "tile": [fuser.tile, fuser.tile_overlap]}
    if fuser.net is not None:
        from ..weights import TASK_SETTING_KEYS

        meta = fuser.weights_meta if isinstance(fuser.weights_meta, dict) else {}
        d.update(weights=meta.get("tensors_sha256") or str(fuser.weights_spec), task=fuser.task_mode,
                 tasks=fuser._task_cfg, token_budget=fuser.net.cfg.token_budget,
                 map_min_pool=fuser.net.cfg.map_min_pool, dtype=str(fuser.dtype))
        if fuser.task_mode != "auto":  # in auto, the cfg holds the last pair's task's settings
            d["settings"] = {k: float(getattr(fuser.net.cfg, k)) for k in TASK_SETTING_KEYS}
    else:
        d.update(method=fuser.method, params=fuser.method_params)
    return f"mutualfuse {__version__} " + json.dumps(d, sort_keys=True, default=str)


def percentiles_unused(fuser, infos) -> str | None:
    """The note that ``--percentiles`` (given) changed nothing of a pair, or None: under
    ``--normalize auto`` no input of ``infos`` was scaled by percentiles (8-bit inputs, float ones
    in [0, 1], windowed DICOM). Under a recorded ``full`` the fuser's own note says it; ``full``
    given with ``--percentiles`` is refused (:func:`make_fuser`)."""
    if not getattr(fuser, "_policy_given", (False, False))[1] or fuser.normalize != "auto":
        return None
    if any(info.normalization == "percentile" for info in infos):
        return None
    lo, hi = fuser.percentiles
    return (f"--percentiles {lo:g} {hi:g} had no effect: no input was scaled by percentiles (--normalize auto reads "
            "8-bit inputs as v/255, float inputs in [0, 1] as they are and DICOM through its window; "
            "--normalize percentile scales every input)")


def chroma_unused(chroma: str, given: bool, colour: list[bool], stack: bool = False) -> str | None:
    """The note that ``--chroma CHROMA`` changed nothing, or None where it was not ``given`` (the
    default rule; a fuser from :func:`make_fuser` records it as ``_chroma_given``) or may have
    changed something. ``colour``: whether each input (``stack``: each image of a stack) was read
    as colour. Every input gray: no rule has anything to do (the output is gray). One colour input:
    every fusion has at most one colour input, whose Cb/Cr are kept whatever the rule (saturation,
    a, b and mean choose between two colour inputs); only ``gray`` changes the output."""
    if not given:
        return None
    n = sum(bool(c) for c in colour)
    if n == 0:
        what = "every image of the stack is" if stack else "both inputs are"
        return f"--chroma {chroma} had no effect: {what} gray (the output is gray)"
    if n == 1 and chroma != "gray":
        i = [bool(c) for c in colour].index(True)
        one = (f"image {i + 1} of the stack" if stack else ("a (the first input)", "b (the second input)")[i])
        return (f"--chroma {chroma} had no effect: only {one} is colour, and its Cb/Cr are kept under every "
                "rule but gray (saturation, a, b and mean choose between two colour inputs)")
    return None


def fuse_files(fuser, a_path: str, b_path: str, out_path: str, max_pixels: int | None = None,
               bit_depth: int | None = None) -> dict:
    """Read, validate, fuse and atomically write one pair; returns what was done.

    Nothing is written unless every step succeeded.
    """
    from ..color import output_is_colour
    from ..image_io import check_output_size, check_writable, output_depth, write_image

    check_writable(out_path, inputs=(a_path, b_path))
    a, b, ia, ib = read_pair(fuser, a_path, b_path, max_pixels)
    colour_in = [a.ndim == 3, b.ndim == 3]
    colour = output_is_colour(*colour_in, fuser.chroma)
    depth, note = output_depth(out_path, [ia.bit_depth, ib.bit_depth], colour, bit_depth)  # before fusing
    check_output_size(out_path, a.shape[1], a.shape[0], 3 if colour else 1)  # a JPEG over 65500 px: not after fusing
    fused = fuser.fuse_arrays(a[None], b[None])[0]
    del a, b  # not needed for the write: 16 bytes a pixel less at its peak
    colour = fused.ndim == 3
    notes = list(fuser.report.notes)
    if note:
        notes.append(note)
    from ..dicom import pair_mismatch_note

    mismatch = pair_mismatch_note(a_path, b_path)  # two DICOM sources on other grids, or of two patients
    if mismatch:
        notes.append(mismatch)
    from ..image_io import embedded_profile_note

    notes += [n for n in (embedded_profile_note(q) for q in (a_path, b_path)) if n]  # no colour management
    for info in (ia, ib):
        if info.reduced:  # fewer bits than the file holds: said, never silently
            notes.append(f"{info.path}: {info.reduced}")
        if info.normalization in ("percentile", "window"):
            if info.bit_depth != 32:
                hint = info.full_hint()
            elif fuser.normalize == "auto":  # scaled because its samples are outside [0, 1]; full refuses them
                hint = "its samples are outside [0, 1]; --normalize full takes float data in [0, 1] only"
            else:
                hint = "--normalize auto keeps float samples already in [0, 1] as they are"
            notes.append(f"{info.path}: {info.input_words()} {info.scaled_how()} ({hint})")
        elif info.normalization == "clipped":
            from ..io.samples import FLOAT_TOLERANCE

            notes.append(f"{info.path}: float samples up to {FLOAT_TOLERANCE:g} outside [0, 1] clipped to [0, 1]")
    unused = percentiles_unused(fuser, (ia, ib))
    if unused:
        notes.append(unused)
    unused = chroma_unused(fuser.chroma, getattr(fuser, "_chroma_given", False), colour_in)
    if unused:
        notes.append(unused)
    from .. import __version__

    if fuser.weights_spec is not None:
        what = f"the network, weights {Path(fuser.weights_spec).name}"
        task = f", task {fuser.report.task}" if fuser.report.task else ""  # per pair in auto: not in `setting`
    else:
        what = f"method {fuser.method}" + "".join(f", {k}={v}" for k, v in sorted(fuser.method_params.items()))
        task = ""
    how = f"mutualfuse {__version__}: {Path(a_path).name} + {Path(b_path).name} fused by {what}{task}"
    write_image(out_path, fused, bit_depth=depth, sources=(a_path, b_path), description=how,
                setting=fuse_setting(fuser))
    return {"out": str(out_path), "bit_depth": depth, "colour": colour, "notes": notes, "task": fuser.report.task,
            "detected": bool(fuser.report.detected),
            "mapping_pool": fuser.report.mapping_pool, "windows": fuser.report.windows}


def run(args: argparse.Namespace) -> int:
    from ..image_io import check_writable

    from ..image_io import output_depth
    from .common import apply_imports

    apply_imports(args)  # a method of one's own (--import): registered before --method is looked up
    from .common import refuse_in_the_way

    refuse_in_the_way(args.out)  # `-o afile/x.png`: said as every command says it
    check_writable(args.out, inputs=(args.a, args.b))  # before loading anything
    if args.bit_depth is not None:  # a depth no output of this format can hold: refuse before any work
        output_depth(args.out, [], False, args.bit_depth)
    # the windows' progress bar at a terminal only: `fuse 2>log` wrote ~9 KB of bar frames into the log
    bar = not args.quiet and sys.stderr.isatty()
    fuser = make_fuser(args, progress=bar)
    t = time.perf_counter()
    from ..tiling import tile_bar
    from .common import naming_the_file

    # --tile: a bar of the tiles too, for every method (a classical method's tiled run showed nothing:
    # 108-142 s for cbf --tile 256 of a 2000x1500 pair), at a terminal only as the windows' bar
    with naming_the_file(args.a, (args.a, args.b, args.out)), tile_bar(bar):
        info = fuse_files(fuser, args.a, args.b, args.out, max_pixels=args.max_pixels, bit_depth=args.bit_depth)
    if not args.quiet:  # -q: nothing on success (notes included); errors are still printed
        from ..image_io import _one_line_path  # a name's line break or escape shown escaped, as errors show it

        reduced = tile_overlap_note(args)
        for n in ([reduced] if reduced else []) + info["notes"]:
            print(f"note: {_one_line_path(n)}", file=sys.stderr)
        print(f"{_one_line_path(args.out)}  ({time.perf_counter() - t:.2f} s, {info['bit_depth'] if info['bit_depth'] != 32 else 'float'}"
              f"{'-bit' if info['bit_depth'] != 32 else ''} {'colour' if info['colour'] else 'gray'})")
    return 0
