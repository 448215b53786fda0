"""Folders of registered pairs for training, with deterministic random crops."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..errors import InputError
from ..errors import ParameterError
from ..image_io import read_gray_float

#: the role-folder layouts a set folder is recognised by (names matched without regard to case),
#: first role first: the network's first input (X) is the infrared, CT, PET or SPECT image, or
#: source ``a``. Any other layout: ``data.roles`` names the two folders, or a CSV pairs list is
#: the set (:func:`find_pairs`).
ROLE_LAYOUTS = (("ir", "vis"), ("ir", "vi"), ("ir", "visible"), ("infrared", "visible"), ("infrared", "vis"),
                ("inf", "vis"), ("lwir", "visible"), ("thermal", "visible"), ("a", "b"), ("ct", "mri"), ("ct", "mr"),
                ("pet", "mri"), ("spect", "mri"))
#: kept for scripts written against earlier releases
ROLE_PAIRS = (("ir", "vis"), ("a", "b"), ("A", "B"))
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dicom"}


def resolve_data_root(option: str | None, config_root: str | None = None) -> Path:
    """Data root from the command-line option, else ``$MUTUALFUSE_DATA``, else the config."""
    root = option or os.environ.get("MUTUALFUSE_DATA") or config_root
    if not root:
        raise InputError("no data root: pass --data-root DIR, set MUTUALFUSE_DATA or set data.root in the config")
    p = Path(root).expanduser()
    if not p.is_dir():
        raise InputError(f"{p}: data root is not a directory")
    return p


def data_root_origin(option: str | None, config_root: str | None = None) -> str:
    """Where :func:`resolve_data_root` took the root from, as a clause for messages."""
    if option:
        return "data root from --data-root"
    env = os.environ.get("MUTUALFUSE_DATA")
    if env:
        over = f", over the config's data.root {config_root}" if config_root and config_root != env else ""
        return f"data root from $MUTUALFUSE_DATA{over}; --data-root chooses another"
    return "data root from the config's data.root; --data-root or $MUTUALFUSE_DATA choose another"


def role_folders(folder: Path, roles: tuple[str, str] | list[str] | None = None) -> tuple[Path, Path]:
    """The two role folders of a set folder: ``roles`` (exact names) if given, else the one
    layout of :data:`ROLE_LAYOUTS` present (folder names compared without regard to case).
    None, or more than one, is an :class:`InputError` that names the subfolders found."""
    if roles:
        da, db = folder / roles[0], folder / roles[1]
        missing = [d for d in (da, db) if not d.is_dir()]
        if missing:
            raise InputError(f"{folder}: no role folder{'s' if len(missing) > 1 else ''} {', '.join(repr(d.name) for d in missing)} "
                             f"(data.roles {list(roles)}); subfolders: {_subfolders(folder)}")
        return da, db
    subs: dict[str, list[Path]] = {}
    for p in folder.iterdir():
        if p.is_dir() and not p.name.startswith("."):
            subs.setdefault(p.name.lower(), []).append(p)
    found = [(subs[x], subs[y]) for x, y in ROLE_LAYOUTS if x in subs and y in subs]
    if not found:
        known = ", ".join(f"{x}/{y}" for x, y in ROLE_LAYOUTS)
        raise InputError(f"{folder}: no role folders found (subfolders: {_subfolders(folder)}); expected one of "
                         f"{known} (any case), or name them with data.roles: [FIRST, SECOND] (--roles FIRST,SECOND)")
    if len(found) > 1 or len(found[0][0]) > 1 or len(found[0][1]) > 1:
        names = ", ".join(f"{xs[0].name}/{ys[0].name}" if len(xs) == len(ys) == 1
                          else "/".join(p.name for p in xs + ys) for xs, ys in found)
        raise InputError(f"{folder}: more than one pair of role folders ({names}); name the two to train on "
                         f"with data.roles: [FIRST, SECOND] (--roles FIRST,SECOND)")
    return found[0][0][0], found[0][1][0]


def _subfolders(folder: Path) -> str:
    names = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not names:
        return "none"
    return ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")


def find_pairs(folder: Path, check_sizes: bool = True, roles: tuple[str, str] | list[str] | None = None
               ) -> list[tuple[Path, Path]]:
    """Pairs (first role, second role) of a training set.

    A set is a folder with two role folders (:func:`role_folders`; ``roles`` names them) whose
    files pair by name, or by name up to the image suffix when that is unambiguous
    (``ir/0001.png`` + ``vis/0001.jpg``; :func:`mutualfuse.io.pairing.match_files`, the rule of
    ``fuse-dir``), or a CSV pairs list (a ``.csv`` file: rows ``a,b``, paths relative to the
    list's folder; :func:`mutualfuse.io.pairing.read_pairs_csv`). Every image must have a
    partner: files left over, or two files of one name, are an :class:`InputError` naming them.

    With ``check_sizes`` every pair's two images must have the same size, read from the image
    headers (cheap, nothing decoded): a pair that differs is an :class:`InputError` naming both
    files and sizes, before any training (its crops would not be aligned)."""
    if folder.is_file() and folder.suffix.lower() == ".csv":
        pairs = _csv_pairs(folder)
    else:
        if not folder.is_dir():
            raise InputError(f"{folder}: training set folder (or .csv pairs list) not found")
        pairs = _folder_pairs(folder, roles)
    if check_sizes:
        for a, b in pairs:
            sa, sb = image_size(a), image_size(b)
            if sa is not None and sb is not None and sa != sb:
                raise InputError(f"{a} ({sa[0]}x{sa[1]}) and {b} ({sb[0]}x{sb[1]}) differ in size: "
                                 f"a training pair must be registered images of the same size")
            if sa is not None:
                check_min_size(a, sa)
    return pairs


def _folder_pairs(folder: Path, roles) -> list[tuple[Path, Path]]:
    from ..io.pairing import image_files, match_files, refuse_broken_links

    da, db = role_folders(folder, roles)
    m = match_files(image_files(da), image_files(db))
    problems = []
    refuse_broken_links(da, db)  # not left out silently, nor its partner called "unpaired"
    for d, other, left in ((da, db, m.only_a), (db, da, m.only_b)):
        if left:
            names = ", ".join(p.name for p in left[:3]) + (f" and {len(left) - 3} more" if len(left) > 3 else "")
            problems.append(f"only in {d.name}/: {names}")
    if m.ambiguous:
        key, files = sorted(m.ambiguous.items())[0]
        more = f" (and {len(m.ambiguous) - 1} more such names)" if len(m.ambiguous) > 1 else ""
        problems.append(f"{', '.join(f'{p.parent.name}/{p.name}' for p in files)} share the name {key!r}{more}")
    if problems:
        hint = "" if m.ambiguous else _near_names(da, db, m.only_a, m.only_b)
        raise InputError(f"{folder}: {da.name}/ and {db.name}/ do not pair by name ({'; '.join(problems)}){hint}; "
                         f"every image needs one file of the same name (suffix aside) in the other role folder, "
                         f"or list the pairs in a CSV file and give it as the set")
    if not m.pairs:
        subs = sorted(p.name for p in da.iterdir() if p.is_dir() and not p.name.startswith("."))
        nested = (f"; its subfolders ({', '.join(subs[:4])}{', ...' if len(subs) > 4 else ''}) are not searched: "
                  f"make each a set of its own ({folder.name}/{subs[0]}/{da.name}/ + {folder.name}/{subs[0]}/"
                  f"{db.name}/, listed in data.sets) or list the pairs in a CSV file") if subs else ""
        raise InputError(f"{folder}: no images in {da.name}/ (looked for {', '.join(sorted(IMAGE_EXTS))} files "
                         f"and DICOM files){nested}")
    return m.pairs


def _tags(stems: list[str], start: bool) -> list[str]:
    """Candidate tags of a folder's names: the longest start (``start``) or end every stem shares
    (leaving a character of each), the same from its separator on ("0_ir" of ``010_ir``,
    ``020_ir`` -> "_ir") or without the digits of the numbers ("IR_0" -> "IR_"), and no tag
    (``[""]`` alone for fewer than two stems: one name has no tag to tell from its number)."""
    if len(stems) < 2:
        return [""]
    ss = stems if start else [t[::-1] for t in stems]
    n = min(len(t) for t in ss) - 1
    k = 0
    while k < n and all(t[k] == ss[0][k] for t in ss):
        k += 1
    tag = ss[0][:k]
    cut = max(tag.rfind(c) for c in "_-. ")
    out = [tag[: cut + 1] if cut > 0 else tag, tag.rstrip("0123456789"), tag, ""]
    return list(dict.fromkeys(t if start else t[::-1] for t in out))


def _near_names(da: Path, db: Path, only_a: list[Path], only_b: list[Path]) -> str:
    """Why files left over on both sides did not pair, where it shows (none otherwise): names
    that differ only in case (``FLIR_01.PNG`` + ``flir_01.png``: names pair case-sensitively) or
    by a tag every name of a side carries (``001_ir.png`` + ``001_vis.png``, ``IR_001`` +
    ``VIS_001``, ``IR_001`` + ``001``). A hint only: such files are not paired (a CSV pairs list
    pairs them)."""
    if not only_a or not only_b:
        return ""
    sa, sb = [p.stem for p in only_a], [p.stem for p in only_b]
    fold_b = {t.casefold(): p for t, p in zip(sb, only_b)}
    same = [(p, fold_b[t.casefold()]) for t, p in zip(sa, only_a) if t.casefold() in fold_b]
    if same:
        a, b = same[0]
        return (f"; {len(same)} of them differ from their partner's name only in case (e.g. {da.name}/{a.name} and "
                f"{db.name}/{b.name}): names pair case-sensitively, rename one side")
    def bare(t: str, tag: str, start: bool) -> str:  # the name without the tag
        return (t[len(tag):] if start else t[: len(t) - len(tag)]).casefold()

    for start in (True, False):
        for ta in _tags(sa, start):
            for tb in _tags(sb, start):
                if ta.casefold() == tb.casefold():
                    continue
                core_b = {bare(t, tb, start): p for t, p in zip(sb, only_b)}
                tagged = [(p, core_b[bare(t, ta, start)]) for t, p in zip(sa, only_a) if bare(t, ta, start) in core_b]
                if tagged:
                    a, b = tagged[0]
                    where = "starting" if start else "ending"
                    said = " and ".join(f"{t!r} {where} every name in {d.name}/" for t, d in ((ta, da), (tb, db)) if t)
                    return (f"; {len(tagged)} of them differ from their partner's name only by a tag of the folder "
                            f"({said}, e.g. {da.name}/{a.name} and {db.name}/{b.name}): rename them to one name")
    return ""


def _csv_pairs(lst: Path) -> list[tuple[Path, Path]]:
    from ..io.pairing import read_pairs_csv

    rows, bad = read_pairs_csv(lst)
    if bad:
        i, why = bad[0]
        raise InputError(f"{lst}:{i}: {why}")
    if not rows:
        raise InputError(f"{lst}: pairs list has no pairs")
    seen: dict[Path, int] = {}
    for r in rows:
        for p in (r.a, r.b):
            if not p.is_file():
                raise InputError(f"{lst}:{r.line}: {p} not found")
        key = r.a.resolve()
        if key in seen:  # one pair twice: it could be trained on and held out
            raise InputError(f"{lst}:{r.line}: {r.a} is already the first image of line {seen[key]}")
        seen[key] = r.line
    return [(r.a, r.b) for r in rows]


def pair_label(set_path: Path, a: Path) -> str:
    """How a pair is named in checkpoints and ``split.json``: its first image's file name for a
    folder set (as before CSV sets existed, so older checkpoints resume), the path relative to
    the list's folder for a CSV set (names may repeat across the folders a list points into)."""
    if set_path.suffix.lower() == ".csv" and set_path.is_file():
        return os.path.relpath(a, set_path.parent)
    return a.name


def check_min_size(path: Path, size: tuple[int, int]) -> None:
    """Refuse a training image (``size`` = (width, height)) smaller than the network's smallest
    input, the ``MIN_SIDE`` of ``mutualfuse fuse``: validation runs the network on the held-out
    images at full size (a smaller one failed there, after training had begun)."""
    from ..validation import MIN_SIDE

    if min(size) < MIN_SIDE:
        raise InputError(f"{path}: image is {size[0]}x{size[1]}, smaller than {MIN_SIDE}x{MIN_SIDE}: "
                         f"a training image must be at least {MIN_SIDE} pixels on each side")


def image_names(folder: Path) -> set[str]:
    """Names of the training images in a role folder (:func:`mutualfuse.io.pairing.is_image_file`:
    an image suffix in any case or a DICOM file by its content; hidden files such as macOS's
    ``._x.png`` excluded)."""
    from ..io.pairing import image_files

    return {p.name for p in image_files(folder)}


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) as read, from the header (:func:`mutualfuse.image_io.header_size`)."""
    from ..image_io import header_size

    return header_size(path)


def duplicate_pairs(pairs: list[tuple[Path, Path]]) -> list[tuple[tuple[Path, Path], tuple[Path, Path]]]:
    """The pairs whose two files are byte for byte copies of an earlier pair's two files (a
    folder copied twice into a data set, a pair listed under two names): ``(copy, first)`` for
    each, in ``pairs`` order. Such a copy could be trained on and held out for validation at
    once. Only files whose size another file shares are read (a sha256 of their bytes), so a
    large set without copies costs one ``stat`` per file."""
    from ..io.digest import sha256_file

    def size(p: Path) -> int:
        try:
            return p.stat().st_size
        except OSError:
            return -1  # find_pairs has listed it; reading it later says what is wrong

    sizes = [(size(a), size(b)) for a, b in pairs]
    count: dict[tuple[int, int], int] = {}
    for k in sizes:
        count[k] = count.get(k, 0) + 1
    digests: dict[Path, str] = {}

    def digest(p: Path) -> str:
        if p not in digests:
            try:
                digests[p] = sha256_file(p)
            except OSError:
                digests[p] = f"unreadable:{p}"
        return digests[p]

    first: dict[tuple[str, str], tuple[Path, Path]] = {}
    out = []
    for (a, b), k in zip(pairs, sizes):
        if count[k] < 2 or -1 in k:
            continue
        key = (digest(a), digest(b))
        if key in first:
            out.append(((a, b), first[key]))
        else:
            first[key] = (a, b)
    return out


def split_pairs(pairs: list[tuple[Path, Path]], val_pairs: int, seed: int):
    """Deterministic hold-out of ``val_pairs`` pairs (by seed) for the validation loss."""
    order = np.random.default_rng(seed).permutation(len(pairs))
    val = sorted(order[:val_pairs].tolist())
    train = sorted(order[val_pairs:].tolist())
    return [pairs[i] for i in train], [pairs[i] for i in val]


class PairCrops(Dataset):
    """In-memory gray pairs; item ``i`` is a random ``crop``×``crop`` patch of both images.

    The crop position (and optional flip) is a pure function of ``(seed, epoch, i)``, so
    that a resumed run and a run split over processes see exactly the same samples. Images
    smaller than the crop are reflect-padded. The images are read in gray (colour as BT.601 luma)
    with the intensity policy ``normalize`` / ``percentiles`` of ``mutualfuse fuse``.
    """

    def __init__(self, pairs, crop: int, seed: int, hflip: bool = False, center: bool = False,
                 multifocus: float = 0.0, multifocus_sigma: tuple[float, float] = (1.0, 4.0),
                 with_truth: bool = False, swap: float = 0.0, blackout: float = 0.0,
                 multifocus_psf: str = "gaussian", multifocus_breathing: tuple[float, float] = (0.0, 0.0),
                 normalize: str = "auto", percentiles: tuple[float, float] = (0.1, 99.9)):
        # read as ``mutualfuse fuse --normalize NORMALIZE --percentiles LO HI`` reads them
        read = {"normalize": normalize, "percentiles": tuple(float(v) for v in percentiles)}
        self.images = [(read_gray_float(a, **read), read_gray_float(b, **read)) for a, b in pairs]
        for (a, b), (x, y) in zip(pairs, self.images):  # as decoded (find_pairs checked the headers)
            if x.shape != y.shape:
                raise InputError(f"{a} ({x.shape[1]}x{x.shape[0]}) and {b} ({y.shape[1]}x{y.shape[0]}) differ "
                                 f"in size: a training pair must be registered images of the same size")
            check_min_size(a, (x.shape[1], x.shape[0]))
        self.names = [a.name for a, _ in pairs]
        largest = max((max(x.shape) for x, _ in self.images), default=0)
        # random crops would be mostly padding (and memory grows as crop²); the centre crops of the
        # held-out pairs (``center``) are not refused: they are a few, scored as padded, and which
        # pairs are held out is the seed's choice (a set of small images and one large one was
        # refused whichever way the seed split it, until 2026-12-07)
        if self.images and crop > largest and not center:
            raise ParameterError(f"data.crop {crop} is larger than every training image (largest side "
                                 f"{largest} px in {pairs[0][0].parent}; the pairs held out for validation "
                                 f"not counted); use a crop of at most {largest}")
        self.crop = crop
        self.seed = seed
        self.hflip = hflip
        self.multifocus = float(multifocus)
        self.multifocus_sigma = tuple(float(v) for v in multifocus_sigma)
        self.multifocus_psf = multifocus_psf
        self.multifocus_breathing = tuple(float(v) for v in multifocus_breathing)
        self.center = center
        self.with_truth = bool(with_truth)
        self.swap = float(swap)
        self.blackout = float(blackout)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key) -> tuple[torch.Tensor, ...]:
        """Item ``i`` of the current epoch (:meth:`set_epoch`), or of a given one when ``key`` is
        ``(epoch, i)``: the same sample either way, so that one data loader can span many epochs
        (the trainer's, whose worker processes then start once per run, not once per epoch).

        ``(a, b)``, made in this order: crop (and flip); a synthetic multi-focus pair
        (``multifocus``; one of its sources magnified with ``multifocus_breathing``); else, with probability ``blackout``, one source (either, equally likely)
        set to exactly black in a random smooth region (:func:`smooth_mask` > 0.5: where that
        modality has no signal, as CT has none in soft tissue); the roles exchanged with
        probability ``swap``. With ``with_truth``, ``(a, b, truth, is_truth)``: a synthetic multi-focus
        sample's truth is the sharp crop it was made from (``is_truth`` 1.0); any other sample
        has no truth (zeros, ``is_truth`` 0.0). The samples themselves do not depend on it."""
        if isinstance(key, tuple):
            epoch, i = int(key[0]), int(key[1])
        else:
            epoch, i = self.epoch, int(key)
        a, b = self.images[i]
        c = self.crop
        h, w = a.shape
        if h < c or w < c:
            ph, pw = max(0, c - h), max(0, c - w)
            a = np.pad(a, ((0, ph), (0, pw)), mode="reflect")
            b = np.pad(b, ((0, ph), (0, pw)), mode="reflect")
            h, w = a.shape
        if self.center:
            y, x, flip = (h - c) // 2, (w - c) // 2, False
        else:
            rng = np.random.default_rng([self.seed, epoch, i])
            y = int(rng.integers(0, h - c + 1))
            x = int(rng.integers(0, w - c + 1))
            flip = bool(self.hflip and rng.random() < 0.5)
        pa = a[y : y + c, x : x + c]
        pb = b[y : y + c, x : x + c]
        if flip:
            pa, pb = pa[:, ::-1], pb[:, ::-1]
        truth = None
        if self.multifocus and not self.center:
            mrng = np.random.default_rng([self.seed, epoch, i, 1])
            if mrng.random() < self.multifocus:
                psf = self.multifocus_psf
                if psf == "mixed":  # drawn from its own stream: the gaussian pairs stay those of "gaussian"
                    psf = "disc" if np.random.default_rng([self.seed, epoch, i, 4]).random() < 0.5 else "gaussian"
                truth, pa, pb = synthetic_multifocus(pb, mrng, self.multifocus_sigma, psf=psf)
                lo, hi = self.multifocus_breathing
                if hi > 0:  # its own stream: the pairs without breathing stay the same
                    brng = np.random.default_rng([self.seed, epoch, i, 5])
                    u = brng.uniform(lo, hi)
                    if brng.random() < 0.5:
                        pa = magnify(pa, 1.0 + u)
                    else:
                        pb = magnify(pb, 1.0 + u)
        if self.blackout and truth is None and not self.center:
            brng = np.random.default_rng([self.seed, epoch, i, 3])
            if brng.random() < self.blackout:
                keep = (smooth_mask(pa.shape, brng) <= 0.5).astype(np.float32)  # hard: no signal means 0
                if brng.random() < 0.5:
                    pa = pa * keep
                else:
                    pb = pb * keep
        if self.swap and not self.center:
            if np.random.default_rng([self.seed, epoch, i, 2]).random() < self.swap:
                pa, pb = pb, pa
        out = (torch.from_numpy(np.ascontiguousarray(pa))[None], torch.from_numpy(np.ascontiguousarray(pb))[None])
        if not self.with_truth:
            return out
        if truth is None:
            return out + (torch.zeros_like(out[0]), torch.tensor(0.0))
        return out + (torch.from_numpy(np.ascontiguousarray(truth))[None], torch.tensor(1.0))


def smooth_mask(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A random soft focus mask in [0, 1]: thresholded low-frequency noise, edges softened.

    A g×g grid of uniform noise (g in 2..5) is upsampled by cubic spline to ``shape`` and
    thresholded at a random level (20–80 % of the area in focus), then blurred with σ in
    [0.5, 2] px so that the focus boundary is a transition, as in real photographs.
    """
    from scipy import ndimage

    h, w = shape
    g = int(rng.integers(2, 6))
    noise = rng.random((g, g))
    up = ndimage.zoom(noise, (h / g, w / g), order=3, mode="nearest")[:h, :w]
    up = np.pad(up, ((0, h - up.shape[0]), (0, w - up.shape[1])), mode="edge")
    t = np.quantile(up, rng.uniform(0.2, 0.8))
    m = (up > t).astype(np.float32)
    return np.clip(ndimage.gaussian_filter(m, rng.uniform(0.5, 2.0), mode="nearest"), 0.0, 1.0)


def magnify(img: np.ndarray, scale: float) -> np.ndarray:
    """``img`` magnified by ``scale`` about its centre (focus breathing): bilinear, pixels beyond
    the border take the nearest edge value; same shape and float type as ``img``."""
    from scipy import ndimage

    import warnings

    c = (np.array(img.shape, dtype=np.float64) - 1) / 2
    with warnings.catch_warnings():
        # scipy 1.10-1.14 warn that a 1-D matrix means a diagonal one since scipy 0.18: what is meant here
        warnings.filterwarnings("ignore", "The behavior of affine_transform with a 1-D", UserWarning)
        out = ndimage.affine_transform(img, np.full(2, 1.0 / scale), offset=c - c / scale, order=1, mode="nearest")
    return out.astype(img.dtype, copy=False)


def disc_blur(img: np.ndarray, radius: float) -> np.ndarray:
    """``img`` convolved with a pillbox (a real lens's defocus) of ``radius`` pixels: the pixels
    whose centres lie within it, normalised to sum 1, reflected borders; in ``img``'s float type."""
    from scipy import ndimage

    k = np.arange(-int(radius), int(radius) + 1)
    disc = (k[:, None] ** 2 + k[None, :] ** 2 <= radius * radius).astype(img.dtype)
    return ndimage.convolve(img, disc / disc.sum(), mode="reflect").astype(img.dtype, copy=False)


def synthetic_multifocus(sharp: np.ndarray, rng: np.random.Generator,
                         sigma: tuple[float, float] = (1.0, 4.0),
                         psf: str = "gaussian") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(truth, a, b): a multi-focus pair made from one sharp float image.

    ``a = m·I + (1 − m)·G_σ(I)``, ``b = (1 − m)·I + m·G_σ(I)`` with ``m`` from
    :func:`smooth_mask` and ``G_σ`` a Gaussian blur (σ uniform in ``sigma``, reflected
    borders), or with ``psf="disc"`` a pillbox (the defocus of a real lens) of radius 2σ, the
    pixels whose centres lie within it, normalised; the truth is ``I`` itself. Deterministic
    for a given ``rng`` state (the same draws for either ``psf``).
    """
    from scipy import ndimage

    img = np.ascontiguousarray(sharp, dtype=np.float32)
    m = smooth_mask(img.shape, rng)
    s = rng.uniform(*sigma)
    if psf == "disc":
        blur = disc_blur(img, 2.0 * s)
    elif psf == "gaussian":
        blur = ndimage.gaussian_filter(img, s, mode="reflect").astype(np.float32)
    else:
        raise ParameterError(f"synthetic_multifocus: psf must be 'gaussian' or 'disc', got {psf!r}")
    a = m * img + (1 - m) * blur
    b = (1 - m) * img + m * blur
    return img, a.astype(np.float32), b.astype(np.float32)


def near_duplicates(pairs: list[tuple[Path, Path]], reference: list[tuple[Path, Path]],
                    threshold: float = 0.8, size: int = 64) -> list[tuple[tuple[Path, Path], float, tuple[Path, Path]]]:
    """The pairs of ``pairs`` that show (nearly) the same scene as a pair of ``reference``.

    Each image, in gray, is resized to ``size``×``size`` (bilinear, so crops and rescaled copies of a
    frame still match) and standardised to zero mean, unit variance; two images' similarity is the
    mean of their product (Pearson correlation of the thumbnails, in [-1, 1]). A pair is a
    near-duplicate when, in either role, its image reaches ``threshold`` with the same role's image
    of any reference pair. Used to hold a validation set apart from a test set whose frames it may
    share (``ir-vis/tno40`` holds re-crops and neighbouring frames of ``ir-vis/tno``'s), beyond the
    byte-identical copies that ``CROSSREF.tsv`` lists.

    Returns ``(pair, similarity, reference pair)`` for every near-duplicate, in ``pairs`` order.

    Example::

        >>> from mutualfuse.train.data import find_pairs, near_duplicates  # doctest: +SKIP
        >>> near_duplicates(find_pairs(root / "ir-vis/tno40"), find_pairs(root / "ir-vis/tno"))  # doctest: +SKIP
    """
    from PIL import Image

    if not 0.0 < threshold <= 1.0:
        raise ParameterError(f"near_duplicates: threshold {threshold} is not in (0, 1]")

    def thumb(path: Path) -> np.ndarray:
        g = read_gray_float(path)
        t = np.asarray(Image.fromarray(g.astype(np.float32), mode="F").resize((size, size), Image.BILINEAR), np.float64)
        return (t - t.mean()) / (t.std() + 1e-12)

    refs = [(thumb(a), thumb(b), (a, b)) for a, b in reference]
    out = []
    for a, b in pairs:
        ta, tb = thumb(a), thumb(b)
        best, which = -2.0, None
        for ra, rb, ref in refs:
            s = max(float((ta * ra).mean()), float((tb * rb).mean()))
            if s > best:
                best, which = s, ref
        if which is not None and best >= threshold:
            out.append(((a, b), best, which))
    return out
