"""``mutualfuse fuse-dir DIR_A DIR_B -o OUT_DIR``: fuse every pair of two folders (or a CSV list).

Pairs are the files with the same name in DIR_A and DIR_B, else the same name up to the image
suffix when that is unambiguous (``ir/0001.png`` + ``vis/0001.jpg``); DICOM files are found by
their content whatever their name (or, with ``--pairs LIST.csv``, the rows ``a,b[,out]`` of a
CSV file; relative paths are taken from the CSV's folder, a header row ``a,b`` is allowed). Outputs go to ``OUT_DIR/<name of a>`` (``--ext`` changes the suffix).

Resumable: a pair whose output already exists is skipped (``--overwrite`` redoes it); outputs
are written atomically, so an interrupted run never leaves a half-written file that would be
skipped later. Each output records the options it was made with (an extended attribute, where
the file system has them): a rerun that would skip outputs made with other options (another
``--method``, ``--weights``, ``--normalize``, ...) is refused in one line; ``--overwrite`` redoes them. A bad pair does not stop the run: every failure is listed at the end and the
exit code is 2 when any pair failed.

Several processes, GPUs or machines: run it under ``torchrun`` (``torchrun --nproc-per-node 2
-m mutualfuse fuse-dir ...``). Rank 0 lists which pairs are left to do (outputs that do not
exist yet, or all with ``--overwrite``) and sends that list to every rank (gloo), so that all
ranks shard the same list: rank r of n takes the pairs r, r+n, r+2n, ... of it (sorted by name,
or the CSV's row order), a disjoint shard, and the union of the shards is the single-process
run. A resumed run's remaining pairs are so split evenly, whichever ranks did the finished ones
(each rank used to shard the whole list and skip its own finished pairs). Each rank runs on
``cuda:LOCAL_RANK`` when CUDA is used; at the end the ranks exchange their counts and failures
and rank 0 prints the summary. Resuming works with any number of processes.

Several processes on one machine without torchrun: ``-j N`` (``--jobs N``) fuses N pairs at a
time in N worker processes (spawned; each builds its own fuser once, with torch threads = the
command's threads // N, at least 1, and imports the ``--import`` modules). Pairs are handed out
in order; outputs, progress, summary, failure lines and exit status are those of ``-j 1``. A
worker that dies (killed, e.g. for lack of memory) stops the run with one line naming the pairs
it may have been fusing; what was written stays and a rerun resumes. ``-j`` with more than one
torchrun process is refused (use one or the other).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
import time
from pathlib import Path


def add_parser(sub) -> None:
    from .fuse import _bit_depth, add_common

    p = sub.add_parser("fuse-dir", help="fuse all pairs of two folders (or a CSV list of pairs)",
                       description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    from .common import non_empty  # -o "" (an unset shell variable) fused into the working folder, exit 0

    p.add_argument("dir_a", nargs="?", type=non_empty, help="folder of first sources")
    p.add_argument("dir_b", nargs="?", type=non_empty, help="folder of second sources (same file names)")
    p.add_argument("-o", "--out", required=True, type=non_empty, help="output folder (created if missing)")
    p.add_argument("--pairs", type=non_empty, help="CSV file of pairs: a,b[,out] per row, instead of DIR_A DIR_B")
    p.add_argument("--ext", help="output suffix (e.g. .png, .tif, .dcm for DICOM); default: the suffix of a "
                                 "(.png for DICOM inputs)")
    p.add_argument("--overwrite", action="store_true", help="redo pairs whose output exists")
    p.add_argument("--bit-depth", type=_bit_depth, default=None,
                   help="output bit depth 8, 16 or float (default: follow the inputs)")
    add_common(p)
    from .common import add_import, add_quiet

    add_import(p, help="import a Python module first: a module name (found on the Python path or in the working "
                       "folder), a .py file or a package folder; the fusion methods it registers "
                       "(mutualfuse.methods.register_method) can be named by --method; every torchrun rank "
                       "and every -j worker imports it; repeatable (docs/benchmark.md, 'Your own method')")
    from .common import int_at_least

    p.add_argument("-j", "--jobs", type=int_at_least(1), default=1, metavar="N",
                   help="fuse N pairs at a time in N worker processes, each with its own fuser and the "
                        "command's torch threads // N (at least 1); same outputs, summary and exit status "
                        "as -j 1; not with torchrun (default %(default)s)")
    add_quiet(p)
    p.set_defaults(func=run)


def _out_name(a: Path, out_dir: Path, ext: str | None) -> Path:
    from ..image_io import IMAGE_SUFFIXES

    suffix = ext if ext else a.suffix
    if not ext and (suffix.lower() not in IMAGE_SUFFIXES or suffix.lower() in (".dcm", ".dicom")):
        suffix = ".png"  # DICOM in, PNG out unless --ext .dcm asks for DICOM
    if not suffix.startswith("."):
        suffix = "." + suffix
    # a name whose suffix is no image suffix (DICOM found by its magic: "IM.0001", "1.2.840.113") is
    # kept whole, so that "IM.0001" and "IM.0002" do not both become "IM.png"
    stem = a.stem if a.suffix.lower() in IMAGE_SUFFIXES else a.name
    return out_dir / (stem + suffix)


def _same_file(p: str, q: str) -> bool:
    try:
        return os.path.exists(p) and os.path.exists(q) and os.path.samefile(p, q)
    except OSError:
        return False


def _done(o: str) -> bool:
    """Whether the output of a pair is there, so that the pair is skipped: a regular file (or a
    link to one) that is not empty. mutualfuse never leaves an empty or partial output (writes are
    atomic); a folder or an empty file at that path is not a result: the pair is fused (a folder
    then fails, naming it)."""
    try:
        st = os.stat(o)
    except OSError:
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size > 0


def list_pairs(args) -> tuple[list[tuple[str, str, str]], list[tuple[str, str]]]:
    """→ (pairs (a, b, out), failures (what, why)) without touching any image."""
    from ..errors import InputError

    out_dir = Path(args.out)
    pairs: list[tuple[str, str, str]] = []
    failures: list[tuple[str, str]] = []
    if args.pairs:
        if args.dir_a or args.dir_b:
            raise InputError(f"{args.pairs}: give either --pairs or DIR_A DIR_B, not both")
        from ..io.pairing import read_pairs_csv

        lst = Path(args.pairs)
        rows, bad = read_pairs_csv(lst)
        failures += [(f"{lst}:{i}", why) for i, why in bad]
        for r in rows:
            if r.out:
                if outside_out(r.out):
                    failures.append((f"{lst}:{r.line}", f"output {r.out!r} must be a relative path inside the "
                                                        f"output folder {out_dir} (no absolute path, no '..')"))
                    continue
                o = out_dir / r.out
            else:
                o = _out_name(r.a, out_dir, args.ext)
            pairs.append((str(r.a), str(r.b), str(o)))
        if not pairs and not failures:
            raise InputError(f"{lst}: pairs list has no pairs")
    else:
        if not args.dir_a or not args.dir_b:
            raise InputError("fuse-dir needs DIR_A and DIR_B, or --pairs LIST.csv")
        da, db = Path(args.dir_a), Path(args.dir_b)
        for d in (da, db):
            if not d.is_dir():
                raise InputError(f"{d}: not a folder")
            if out_dir.is_dir() and os.path.samefile(out_dir, d):
                raise InputError(f"{out_dir}: output folder is the input folder {d}; choose another -o")
        if os.path.samefile(da, db):  # every image would be "fused" with itself
            raise InputError(f"{db}: DIR_B is the same folder as DIR_A {da}; give the folders of the two sources")
        from ..io.pairing import broken_links, describe_broken_link, image_files, match_files, pair_key

        files_a, files_b = image_files(da), image_files(db)
        if not files_a and not files_b:
            from ..io.pairing import other_images, other_images_phrase

            others = {d: other_images(d) for d in (da, db)}
            seen = "; ".join(f"{d} holds {other_images_phrase(c)} file(s)" for d, c in others.items() if c)
            if seen:  # WebP, GIF, PGM, ... images were "no images found"
                raise InputError(f"{da}: no images that fuse-dir pairs ({_PAIRED}); {seen}, which it does not pair: "
                                 "convert them to PNG or TIFF, or list them in --pairs LIST.csv")
            raise InputError(f"{da}: no images found (and none in {db})")
        m = match_files(files_a, files_b)

        broken = {d: broken_links(d) for d in (da, db)}

        def no_partner(f: Path, others: list[Path], d: Path) -> str:
            # a file of the same key in the other folder is already taken by a file of its own name
            taken = [o.name for o in others if pair_key(o) == pair_key(f)]
            if taken:
                return (f"no partner in {d}: no file named {f.name}, and {', '.join(taken)} there already "
                        "pair(s) with the file of the same name")
            dead = [x for x in broken[d] if pair_key(x) == pair_key(f)]
            if dead:  # its partner is there, as a link to nothing
                return f"no readable partner: {dead[0]} is {describe_broken_link(dead[0])}"
            return f"no file named {f.name} (or {pair_key(f)}.*) in {d}"

        for a in m.only_a:
            failures.append((str(a), no_partner(a, files_b, db)))
        for b in m.only_b:
            failures.append((str(b), no_partner(b, files_a, da)))
        for x in broken[da] + broken[db]:  # never silently left out, partner or not
            failures.append((str(x), f"is {describe_broken_link(x)}"))
        for key, files in sorted(m.ambiguous.items()):
            failures.append((str(files[0]), f"{', '.join(str(f) for f in files)} share the name {key!r}: "
                                            f"cannot tell which files pair (rename one, or use --pairs)"))
        for a, b in m.pairs:
            pairs.append((str(a), str(b), str(_out_name(a, out_dir, args.ext))))
    from ..io.pairing import folded_name, folds_case, windows_name_problem

    seen: dict[str, tuple[str, str]] = {}  # output (folded where the file system folds case) -> (a, output)
    folding: dict[str, bool] = {}  # output folder -> whether its file system folds case
    unique = []
    for a, b, o in pairs:
        if any(_same_file(o, x) for x in (a, b)):
            failures.append((a, f"output {o} is the same file as an input of this pair"))
            continue
        if on_windows():  # refused here, one line each, instead of a rename that fails or lands on a device
            why = next(filter(None, (windows_name_problem(n) for n in _out_parts(o, out_dir))), None)
            if why:
                failures.append((a, f"output {o}: {why}"))
                continue
        parent = str(Path(o).parent)
        if parent not in folding:
            folding[parent] = folds_case(Path(parent))
        key = folded_name(o) if folding[parent] else o
        if key in seen:
            first, other = seen[key]
            also = "" if other == o else (f" as {other} (this file system does not tell names apart by case: "
                                          "give the pairs distinct outputs, e.g. with --pairs)")
            failures.append((a, f"output {o} would also be written by the pair of {first}{also}"))
            continue
        seen[key] = (a, o)
        unique.append((a, b, o))
    return unique, failures


#: the suffixes folders pair, as said where images of other suffixes were found
_PAIRED = ".png .tif .tiff .jpg .jpeg .bmp .dcm .dicom, and DICOM files by their content"


def on_windows() -> bool:
    """Whether output names must be ones Windows can hold (tests simulate Windows through it)."""
    return sys.platform == "win32"


def outside_out(rel: str, flavour=Path) -> bool:
    """Whether a pairs list's output ``rel`` leaves the output folder: absolute, with '..', or
    anchored (on Windows ``C:x.png`` (drive-relative) and ``\\x.png`` (root of the drive) are not
    absolute, and ``out / rel`` was that path, outside the output folder). ``flavour``: the path
    class (tests pass :class:`pathlib.PureWindowsPath`)."""
    o = flavour(rel)
    return o.is_absolute() or bool(o.anchor) or ".." in o.parts


def _out_parts(o: str, out_dir: Path) -> tuple[str, ...]:
    """The names of ``o`` below the output folder (its file name, and a list's subfolders)."""
    try:
        return Path(o).relative_to(out_dir).parts
    except ValueError:
        return (Path(o).name,)


def dist_env() -> tuple[int, int, int]:
    """``(rank, world_size, local_rank)`` from torchrun's environment; ``(0, 1, 0)`` otherwise
    (:func:`mutualfuse.dist_env.dist_env`, shared with ``train``)."""
    from ..dist_env import dist_env as read

    return read()


def shard(pairs: list, rank: int, world: int) -> list:
    """The pairs of one rank: indices ``rank, rank + world, ...`` of the sorted list (disjoint, covering)."""
    return pairs[rank::world]


def _group():
    """``torch.distributed``, its gloo group started (once per process)."""
    import datetime

    import torch.distributed as dist

    if not dist.is_initialized():
        # gloo: the exchanges are a few Python objects, also on GPU nodes. Ranks wait at the end
        # for the slowest shard, so the timeout is long (a crashed rank makes torchrun stop them all).
        dist.init_process_group("gloo", timeout=datetime.timedelta(hours=24))
    return dist


def _broadcast_from_rank0(obj):
    """``obj`` of rank 0, on every rank."""
    box = [obj]
    _group().broadcast_object_list(box, src=0)
    return box[0]


class _RefusedOnRank0(Exception):
    """A rank other than 0 leaves (exit 2, no message): rank 0 says why in one line."""


def left_to_do(pairs: list, overwrite: bool, rank: int, world: int, broadcast=None,
               check=None) -> tuple[list, int]:
    """``(this rank's shard of the pairs left to do, the skipped count this rank reports)``.

    Which pairs are left (output missing, or every pair with ``overwrite``) is decided by rank 0
    alone and sent to the others (``broadcast``: rank 0's object on every rank; default gloo), so
    that every rank shards the same list even when another rank has already written outputs by
    the time it looks. Rank 0 reports the skipped pairs, the others 0 (the counts are summed).

    ``check(skipped)``: called by rank 0 (or the one process) with the pairs skipped; a message
    it returns refuses the run: an :class:`~mutualfuse.errors.InputError` on rank 0, a silent
    exit 2 on the other ranks (:class:`RecordCheck`)."""
    from ..errors import InputError

    if world == 1:
        todo = [p for p in pairs if overwrite or not _done(p[2])]
        problem = check([p for p in pairs if not overwrite and _done(p[2])]) if check else None
        if problem:
            raise InputError(problem)
        return todo, len(pairs) - len(todo)
    sent = None
    if rank == 0:
        left = [i for i, p in enumerate(pairs) if overwrite or not _done(p[2])]
        kept = set(left)
        sent = (left, check([p for i, p in enumerate(pairs) if i not in kept]) if check else None)
    left, problem = (broadcast or _broadcast_from_rank0)(sent)
    if problem:
        if rank == 0:
            raise InputError(problem)
        raise _RefusedOnRank0()
    return shard([pairs[i] for i in left], rank, world), (len(pairs) - len(left)) if rank == 0 else 0


#: the extended attribute of an output that holds the options it was made with (compact JSON of
#: :func:`output_options`): set by ``fuse-dir`` on every output it writes, read for every output a
#: rerun would skip. Where there are none (not Linux: Python has no ``os.setxattr`` on macOS and
#: Windows; a file system without user attributes; a file copied without them) nothing is recorded
XATTR = "user.mutualfuse.fuse-dir"

#: options that do not change an output's content (or only name it, ``--ext``): not recorded, so
#: a resumed run may change them. ``--device`` is among them: CPU and GPU results differ by float
#: rounding only (docs/inputs.md, "Reproducibility")
_NOT_RECORDED = frozenset({"func", "command", "dir_a", "dir_b", "pairs", "out", "ext", "overwrite", "jobs",
                           "quiet", "device", "imports", "max_pixels", "window_pixels"})


def output_options(args) -> dict:
    """The options of a run that shape its outputs' content, as recorded (JSON-ready, sorted):
    every option of the command but those of :data:`_NOT_RECORDED` (an option added later is
    recorded: a change of it refuses a resume rather than passing stale outputs as done);
    ``--weights`` FILE by its content's SHA-256 (weights retrained into the same file are other
    weights), ``--param`` sorted."""
    import hashlib
    import json

    opts: dict = {}
    for k, v in sorted(vars(args).items()):
        if k in _NOT_RECORDED or k.startswith("_"):
            continue
        if k == "param":
            v = sorted(v or [])
        elif k == "weights" and v and Path(v).is_file():
            h = hashlib.sha256()
            try:
                with open(v, "rb") as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        h.update(chunk)
                v = f"{Path(v).name} (sha256 {h.hexdigest()[:16]})"
            except OSError:  # said by the fuser's loading, in one line
                v = str(v)
        try:
            json.dumps(v)
        except (TypeError, ValueError):
            v = repr(v)
        opts[k] = v
    return opts


#: the fuser's intensity and colour options as it applies them: ``--normalize`` unset takes the
#: policy the weights' training recorded, so "unset" and that policy given are the same outputs
_EFFECTIVE = ("normalize", "percentiles", "chroma")


def record_text(args, fuser=None) -> str:
    """:func:`output_options` as the attribute holds it, with the values ``fuser`` applies for
    :data:`_EFFECTIVE`; computed once per run (kept on ``args``, which the ``-j`` workers receive)."""
    import json

    text = getattr(args, "_output_record", None)
    if text is None:
        opts = output_options(args)
        for k in _EFFECTIVE if fuser is not None else ():
            v = getattr(fuser, k, None)
            if v is not None:
                opts[k] = list(v) if isinstance(v, tuple) else v
        code = _own_method_code(args, fuser)
        if code:
            opts["method_code"] = code
        text = json.dumps(opts, sort_keys=True, separators=(",", ":"), default=repr)
        args._output_record = text
    return text


def _own_method_code(args, fuser) -> str | None:
    """For a method of one's own (``--import``): the digest of its code as the benchmark's cache
    keys it (:func:`mutualfuse.benchmark.sources._code_sha`, 16 hex digits), recorded with the
    outputs so that a rerun after the method was edited refuses its stale outputs (they were
    skipped as done); None for the network and the package's own methods."""
    method = getattr(args, "method", None)
    if not method or fuser is None or getattr(fuser, "net", None) is not None:
        return None
    from ..methods import METHODS, _is_own

    try:
        entry = METHODS.entry(method)
    except KeyError:
        return None
    if not _is_own(entry.obj):
        return None
    from ..benchmark.sources import _code_sha

    return (_code_sha(entry.obj, entry.meta) or "")[:16] or None


def set_record(o: str, text: str) -> None:
    """Record on output ``o`` the options it was made with (:data:`XATTR`), where the platform and
    the file system can (else nothing: a rerun then says it skipped unrecorded outputs)."""
    setx = getattr(os, "setxattr", None)
    if setx is not None:
        with contextlib.suppress(OSError):
            setx(o, XATTR, text.encode("utf-8"))


def read_record(o: str):
    """The options recorded on output ``o`` (a dict), None where none are, ``"unreadable"``."""
    import json

    getx = getattr(os, "getxattr", None)
    if getx is None:
        return None
    try:
        raw = getx(o, XATTR)
    except OSError:
        return None
    try:
        rec = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "unreadable"
    return rec if isinstance(rec, dict) else "unreadable"


def _differences(old: dict, new: dict) -> str:
    """``--method average, now lp; --normalize unset, now full``: how two option sets differ."""
    parts = []
    for k in sorted(set(old) | set(new)):
        if old.get(k) != new.get(k):
            if k == "method_code":  # not an option: the code of a method of one's own, edited since
                parts.append(f"the method's code (sha256 {_shown(old.get(k))}, now {_shown(new.get(k))})")
            else:
                parts.append(f"--{k.replace('_', '-')} {_shown(old.get(k))}, now {_shown(new.get(k))}")
    return "; ".join(parts[:4]) + (f"; and {len(parts) - 4} more" if len(parts) > 4 else "")


def _shown(v) -> str:
    if v is None or v == [] or v is False:
        return "unset"
    if isinstance(v, list):
        return " ".join(str(x) for x in v)
    return str(v)


class RecordCheck:
    """``check`` of :func:`left_to_do` (rank 0, or the one process): the outputs a run would skip
    as done are read for the options they were made with. One made with other options (a
    resumed run with another ``--method``, ``--weights``, ``--normalize``, ...) refuses the run
    in one line, before anything is fused; outputs without a record (an older mutualfuse,
    ``mutualfuse fuse``, copied without extended attributes, put there; a platform or file
    system without them) are skipped as before, and :attr:`note` says how many."""

    def __init__(self, args, fuser=None) -> None:
        import json

        self.options = json.loads(record_text(args, fuser))
        self.note: str | None = None

    def __call__(self, skipped: list[tuple[str, str, str]]) -> str | None:
        stale, unrecorded = [], 0
        for _, _, o in skipped:
            rec = read_record(o)
            if rec is None:
                unrecorded += 1
            elif rec != self.options:
                stale.append((o, rec))
        if unrecorded:
            self.note = (f"{unrecorded} existing output(s) skipped as done without a record of the options they "
                         "were made with (written by an older mutualfuse or by `mutualfuse fuse`, copied without "
                         "extended attributes, or on a file system without them); --overwrite redoes them")
        if not stale:
            return None
        o, rec = stale[0]
        why = ("its record of the options it was made with cannot be read" if rec == "unreadable"
               else f"made with other options ({_differences(rec, self.options)})")
        more = f" (and {len(stale) - 1} more output(s) of other options)" if len(stale) > 1 else ""
        return (f"{o}: {why}{more}; this run would skip it as done: --overwrite redoes the outputs, "
                "or choose another -o")


def _gather(world: int, mine: dict) -> list[dict]:
    """Every rank's result dict, in rank order (one gloo all_gather; a no-op for one process)."""
    if world == 1:
        return [mine]
    out: list = [None] * world
    _group().all_gather_object(out, mine)
    return out


def _barrier_and_close(world: int) -> None:
    if world == 1:
        return
    import torch.distributed as dist

    dist.barrier()
    dist.destroy_process_group()


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ..errors import InputError
    from .fuse import make_fuser

    from .common import apply_imports

    apply_imports(args)  # a method of one's own (--import): registered before --method is looked up
    out_dir = Path(args.out)
    if args.out == "-":  # made a folder named '-' (s27)
        raise InputError("-: output to standard output ('-') is not supported; fuse-dir writes a folder of fused "
                         "images: give its name, e.g. -o fused/")
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{one_line(out_dir)}: output path exists and is not a folder")
    from .common import refuse_in_the_way

    refuse_in_the_way(args.out)  # `-o afile/sub`: was "cannot create output folder (Not a directory)"
    from ..image_io import OUTPUT_FORMATS

    if not out_dir.exists() and not args.out.endswith(("/", os.sep)) and out_dir.suffix.lower() in OUTPUT_FORMATS:
        # made a folder named fused.png (s27): an existing folder of that name is still taken, and a name
        # ending in '/' says a folder is meant
        raise InputError(f"{out_dir}: fuse-dir writes a folder of fused images and -o names that folder, not an image "
                         f"file (for one pair use `mutualfuse fuse`; to make a folder of this name, end it with '/')")
    if out_dir.is_symlink() and not out_dir.exists():  # was "cannot create output folder (File exists)"
        raise InputError(f"{out_dir}: output path is a broken or looping symbolic link")
    if args.ext:  # what holds for every pair is checked once, before anything is created
        from ..errors import ParameterError
        from ..image_io import OUTPUT_FORMATS, output_depth

        suffix = (args.ext if args.ext.startswith(".") else "." + args.ext).lower()
        if suffix not in OUTPUT_FORMATS:
            raise ParameterError(f"--ext {args.ext}: unsupported output format; use {', '.join(sorted(OUTPUT_FORMATS))}")
        if OUTPUT_FORMATS[suffix] == "DICOM":
            from ..dicom import WRITE_HINT, _pydicom

            if _pydicom() is None:  # not once per pair, after the output folder was made
                raise ParameterError(f"--ext {args.ext}: {WRITE_HINT}")
        if args.bit_depth is not None:
            try:
                output_depth(f"out{suffix}", [], colour=False, requested=args.bit_depth)
            except InputError as e:
                raise ParameterError(f"--ext {args.ext} --bit-depth: {str(e).split(': ', 1)[-1]}") from None
    rank, world, local = dist_env()
    jobs = getattr(args, "jobs", 1)
    if jobs > 1 and world > 1:  # one line for the run: rank 0 says it, the other ranks leave quietly
        if rank != 0:
            return 2
        from ..errors import ParameterError

        raise ParameterError(f"-j/--jobs {jobs}: not with torchrun ({world} processes, WORLD_SIZE={world}); "
                             "torchrun already runs one process per rank: use -j N or torchrun, not both")
    pairs, failures = list_pairs(args)
    if world > 1:
        failures = failures if rank == 0 else []  # listing problems: reported once
        if args.device in ("auto", "cuda"):
            import torch

            if torch.cuda.is_available():
                args.device = f"cuda:{local % torch.cuda.device_count()}"
    # bad weights / method parameters: before anything is created, and also when every output
    # exists (a resumed run with a mistyped --method or --weights must not pass as done)
    fuser = make_fuser(args)
    if fuser.net is None:  # a method of one's own whose result is no image: one line, not one per pair
        probe_own_method(fuser)
    check = RecordCheck(args, fuser)  # a rerun with other options must not pass the outputs of the first as done
    try:
        todo, skipped = left_to_do(pairs, args.overwrite, rank, world, check=check)
    except _RefusedOnRank0:
        return 2
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"{one_line(out_dir)}: cannot create output folder ({e.strerror or e})") from None
    from ..io.atomic import remove_stale_parts

    remove_stale_parts(out_dir)  # temporaries of runs killed mid-write (kill -9)
    refuse_unwritable_folders(todo)
    t0 = time.perf_counter()
    tally = Tally()
    # the intensity policy the weights' training recorded (Fuser's note): the fused pairs' notes
    # carry it; a run whose every pair failed said nothing of it (its failures may be its refusals)
    policy_note, listed = getattr(fuser, "_policy_note", None), len(failures)
    bar = tqdm(todo, desc="fuse-dir" if world == 1 else f"fuse-dir [rank 0 of {world}]", unit="pair",
               file=sys.stderr, disable=args.quiet or not todo or rank != 0)
    if jobs > 1 and len(todo) > 1:
        from .fuse_dir_jobs import fuse_in_workers

        del fuser  # each worker builds its own; this one only checked the options
        failures += fuse_in_workers(args, todo, min(jobs, len(todo)), tally, bar)
    else:
        from ..tiling import tile_bar

        cleaned = {out_dir.resolve()}
        # --tile: each pair's tiles under the pairs' bar, at a terminal (as `fuse`): a pair of a slow
        # method (cbf --tile 256 of 2000x1500: minutes) left the bar at the same count without a word
        with tile_bar(not bar.disable and sys.stderr.isatty()):
            for a, b, o in bar:
                bar.set_postfix_str(one_line(Path(a).name), refresh=False)  # a newline in a name split the bar
                info, failure = fuse_pair(fuser, args, a, b, o, cleaned)
                if failure:
                    failures.append(failure)
                else:
                    tally.add(a, b, info)
    bar.close()
    if policy_note and len(failures) > listed:  # a pair read (or refused) with it failed: said as for a fused one
        tally.notes.add(policy_note)
    if world > 1:  # every rank's counts, notes and failures → rank 0 reports the whole run
        results = _gather(world, {"done": tally.done, "skipped": skipped, "failures": failures,
                                  "notes": sorted(tally.notes), "counted": tally.counted,
                                  "detected": tally.detected})
        done = sum(r["done"] for r in results)
        skipped = sum(r["skipped"] for r in results)
        failures = [f for r in results for f in r["failures"]]
        notes = {n for r in results for n in r["notes"]}
        counted = {}
        for r in results:
            for k, c in r["counted"].items():
                counted[k] = counted.get(k, 0) + c
        detected = {}
        for r in results:
            for t, names in r["detected"].items():
                detected.setdefault(t, []).extend(names)
        if rank != 0:
            _barrier_and_close(world)
            return 2 if failures else 0
    else:
        done, notes, counted, detected = tally.done, tally.notes, tally.counted, tally.detected
    if check.note:
        notes.add(check.note)
    if detected:
        notes.add(task_summary(detected))
    for k, c in counted.items():
        notes.add(k.format(n=c))
    if args.pairs and args.ext:  # a row's own output name wins over --ext: said, not silently
        want = (args.ext if args.ext.startswith(".") else "." + args.ext).lower()
        own = sum(1 for _, _, o in pairs if Path(o).suffix.lower() != want)
        if own:
            notes.add(f"--ext {args.ext}: {own} row(s) of {args.pairs} name their own output, whose suffix is kept "
                      f"(--ext applies to the rows without an output name)")
    if not args.pairs:
        from ..io.pairing import other_images, other_images_phrase

        for d in (args.dir_a, args.dir_b):
            subs = sum(1 for p in Path(d).iterdir() if p.is_dir())
            if subs:
                notes.add(f"{d}: {subs} subfolder(s) not searched (fuse-dir takes the files directly in "
                          "DIR_A and DIR_B; list nested pairs with --pairs LIST.csv)")
            others = other_images(Path(d))
            if others:  # images `fuse` reads, left out without a word (a WebP pair beside PNG ones)
                notes.add(f"{d}: {other_images_phrase(others)} file(s) left out: fuse-dir pairs {_PAIRED} "
                          "(convert them to PNG or TIFF, or list them in --pairs LIST.csv)")
    from .fuse import tile_overlap_note

    reduced = tile_overlap_note(args)  # --tile-overlap above half of --tile: said once, not per pair
    if reduced:
        notes.add(reduced)
    code = _report(args, out_dir, done, skipped, failures, notes, t0)
    if world > 1:
        sys.stdout.flush()
        sys.stderr.flush()
        _barrier_and_close(world)
    return code


def refuse_unwritable_folders(todo: list) -> None:
    """One line for an output folder that exists and cannot take a new file (read-only, full
    of inodes, a read-only mount; probed by creating a file: ``os.access`` says yes to root on
    a read-only mount), before any pair is fused: every pair of the run failed on its own, one
    failure line each, after each pair's reading. Folders a list's rows name that do not exist
    yet are created (and checked) per pair."""
    import tempfile

    from ..errors import InputError
    from ..io.atomic import part_prefix

    seen: set[Path] = set()
    for _, _, o in todo:
        parent = Path(o).parent
        if parent in seen:
            continue
        seen.add(parent)
        if not parent.is_dir():
            continue
        try:
            fd, tmp = tempfile.mkstemp(prefix=part_prefix(Path(o)), suffix=".probe", dir=str(parent))
        except OSError as e:
            raise InputError(f"{parent}: output folder cannot be written ({e.strerror or e}); "
                             f"nothing was fused") from None
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def fuse_pair(fuser, args, a: str, b: str, o: str, cleaned: set) -> tuple[dict | None, tuple[str, str] | None]:
    """Fuse one pair of the run → ``(fuse_files' info, None)`` or ``(None, (a, why))``: a bad
    pair is a failure line, never the end of the run. ``cleaned``: the output folders whose
    temporaries of killed runs were removed (filled in place). The same function runs in this
    process (``-j 1``, torchrun ranks) and in the ``-j N`` workers (:mod:`.fuse_dir_jobs`)."""
    from ..errors import FuseError, InputError
    from ..io.atomic import remove_stale_parts
    from .fuse import fuse_files, policy_origin

    try:
        if args.pairs:  # a list's output may name a subfolder of -o: created as needed
            try:
                Path(o).parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:  # a file in the way is said as every command says it (was "(Not a directory)")
                from ..wording import in_the_way

                raise InputError(in_the_way(o) or f"{one_line(Path(o).parent)}: cannot create output folder "
                                                  f"({e.strerror or e})") from None
            if Path(o).parent.resolve() not in cleaned:  # a subfolder's temporaries of killed runs too
                cleaned.add(Path(o).parent.resolve())
                remove_stale_parts(Path(o).parent)
        info = fuse_files(fuser, a, b, o, max_pixels=args.max_pixels, bit_depth=args.bit_depth)
        set_record(o, record_text(args))  # the options it was made with: a rerun with others refuses
        return info, None
    except FuseError as e:  # a refusal of the weights' policy says so, as fuse's error (here or in a -j worker)
        return None, (a, policy_origin(e))
    except MemoryError:
        # --window-pixels is the network's: with a classical method it is refused, so not advised there
        net = getattr(fuser, "net", None) is not None
        return None, (a, "out of memory (try " + ("--window-pixels lower or --tile" if net else "--tile")
                      + (f", or a smaller -j than {args.jobs}" if getattr(args, "jobs", 1) > 1 else "") + ")")
    except Exception as e:  # noqa: BLE001 - one bad pair must not stop the batch
        return None, (a, f"internal error: {type(e).__name__}: {' '.join(str(e).split())[:200]}")


class Tally:
    """What the fused pairs of a run add up to: their count, the notes kept for the summary
    (approximations, counted per-pair notes) and the task detected per pair."""

    def __init__(self) -> None:
        self.done = 0
        self.notes: set[str] = set()
        self.counted: dict[str, int] = {}  # per-pair notes that must not be lost (depth reduced, input scaled)
        self.detected: dict[str, list[str]] = {}

    def add(self, a: str, b: str, info: dict) -> None:
        self.done += 1
        # approximations, and the intensity policy read from the weights' training (Fuser's note on
        # every call where it is not the default: fuse-dir said nothing of it, -j N and torchrun alike)
        self.notes.update(n for n in info["notes"]
                          if n.startswith("approximate") or n.startswith("tiled") or n.startswith("inputs read with"))
        for n in info["notes"]:
            key = _counted_note(n, (a, b))
            if key:
                self.counted[key] = self.counted.get(key, 0) + 1
        if info.get("detected"):  # task mode auto: which task each pair was fused as
            self.detected.setdefault(info["task"], []).append(Path(a).name)


def probe_own_method(fuser) -> None:
    """Call a method of one's own (``--import``; not the project's) once on the benchmark's small
    test pair (:func:`mutualfuse.benchmark.plugins.probe_pair`) before any work, and refuse a
    result that breaks the method contract (:func:`mutualfuse.methods.result_problem`: None,
    another shape, NaN/inf, the 0-255 scale) with one :class:`~mutualfuse.methods.MethodResultError`
    line (exit status 2, nothing created): every pair would fail alike, each listed. An exception
    there is left to the pairs, which name the pair."""
    import inspect
    import warnings

    import numpy as np

    from ..methods import METHODS, MethodResultError

    fn = METHODS.entry(fuser.method).obj
    if getattr(inspect.unwrap(fn), "__module__", "").startswith("mutualfuse.methods."):
        return  # the project's own (is_builtin below says so too): without importing the benchmark package,
        # whose metrics and SciPy's signal and stats modules took about 1 s of every fuse-dir start
    from ..benchmark.plugins import contract_problem, is_builtin, probe_pair

    if is_builtin(fn):
        return
    a, b = probe_pair()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = fn(a.copy(), b.copy(), **fuser.method_params)
    except Exception:  # noqa: BLE001 - left to the real pairs, which name the pair
        return
    what = contract_problem(out, a.shape)
    if what:
        where = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"
        raise MethodResultError(f"method {fuser.method!r} ({where}) breaks the method contract on a "
                                f"{a.shape[1]}x{a.shape[0]} test pair (gray float64 arrays in [0, 1]), before any "
                                f"pair was fused: {what}; docs/benchmark.md, 'Your own method'")


def _counted_note(note: str, inputs: tuple[str, str]) -> str | None:
    """A pair's note that the summary keeps, counted (a template with ``{n}``), or None: the
    output depth reduced by the format ("... wrote 8-bit": fuse's note, which fuse-dir dropped),
    ``--percentiles`` or ``--chroma`` that changed nothing of a pair (:func:`~.fuse.percentiles_unused`,
    :func:`~.fuse.chroma_unused`) and an
    input scaled by percentile/window or clipped (the path left out)."""
    if (" cannot hold " in note and "; wrote " in note) or (note.startswith(("--percentiles ", "--chroma "))
                                                             and " had no effect" in note):
        return note.replace("{", "{{").replace("}", "}}") + " ({n} pair(s))"
    for p in inputs:
        if note.startswith(f"{p}: "):
            rest = note[len(p) + 2:]
            return "{n} input(s): " + rest.replace("{", "{{").replace("}", "}}")
    return None


def task_summary(detected: dict[str, list[str]], show: int = 3) -> str:
    """One note on the tasks task mode auto detected: per task the number of pairs, and their
    names when at most ``show``."""
    parts = []
    for t in sorted(detected, key=lambda t: (-len(detected[t]), t)):
        names = sorted(detected[t])
        parts.append(f"{t} {len(names)}" + (f" ({', '.join(names)})" if len(names) <= show else ""))
    return "task detected per pair: " + ", ".join(parts) + "; --task chooses one for all"


def _report(args, out_dir: Path, done: int, skipped: int, failures: list, notes: set, t0: float) -> int:
    if not args.quiet:  # -q: nothing on success (notes included); failures are still printed
        for n in sorted(notes):
            print(f"note: {one_line(n)}", file=sys.stderr)
        print(f"fused {done}, skipped {skipped} already done, failed {len(failures)} "
              f"({time.perf_counter() - t0:.1f} s) -> {one_line(out_dir)}")
    if failures:
        print(f"mutualfuse: error: {len(failures)} pair(s) failed:", file=sys.stderr)
        for what, why in failures:  # a reader's message names the file already: not "A: A: ..." twice
            line = f"  {why}" if str(why).startswith(f"{what}: ") else f"  {what}: {why}"
            print(one_line(line), file=sys.stderr)
        return 2
    return 0


def one_line(text) -> str:
    """``text`` (or a path) on one line: a control character (a newline or a tab in a file name:
    ``new\\nline.png``; an escape sequence) shown escaped, as ``repr`` does, so that a failure or a
    summary is one line and names can neither split it nor drive the terminal. The escaping of
    the one-line errors (:func:`mutualfuse.image_io._one_line_path`), not a copy of it."""
    from ..image_io import _one_line_path

    return _one_line_path(text)
