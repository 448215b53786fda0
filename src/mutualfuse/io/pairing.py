"""How two folders of source images become pairs: the one rule of ``fuse-dir`` and ``train``.

* :func:`is_image_file`: an image by its suffix (:data:`mutualfuse.image_io.IMAGE_SUFFIXES`, any
  case), or a DICOM file by its ``DICM`` magic whatever its name (scanners write ``IM0001``);
  hidden files (``.name``, e.g. macOS's ``._x.png``) are not images.
* :func:`pair_key`: the name without its image suffix (``0001.png`` → ``0001``); a name whose
  suffix is no image suffix (DICOM found by its magic: ``IM.0001``) is kept whole. Names are
  compared in Unicode NFC (:func:`name_form`): macOS writes ``café.png`` decomposed (NFD, ``e`` +
  a combining accent), Linux and Windows keep the form they were given, so a folder copied from
  a Mac pairs with one written elsewhere; the files are still read by their real names.
* :func:`match_files`: files of the same name pair first; the rest pair by :func:`pair_key`
  when that is unambiguous (``ir/0001.png`` + ``vis/0001.jpg``: datasets often store the
  infrared frames as PNG and the visible ones as JPEG). Two unpaired files of one key in the
  same folder (``0001.png`` and ``0001.jpg``) pair with nothing and are reported. Two files of
  one folder whose names differ only in their Unicode form are an :class:`InputError`.
* :func:`read_pairs_csv`: a list of pairs ``a,b[,out]`` per row, for layouts no folder rule
  fits (paths relative to the list's folder; a header row ``a,b``, blank rows and ``#`` comments
  allowed).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError


def is_image_file(p: Path) -> bool:
    """A regular (or linked-to) file that is an image by suffix or a DICOM file by magic."""
    from ..image_io import IMAGE_SUFFIXES, _is_dicom

    if p.name.startswith(".") or not p.is_file():
        return False
    if p.name.upper() == "DICOMDIR":  # a DICOM disc's directory (the standard fixes its name), not a slice
        return False
    return p.suffix.lower() in IMAGE_SUFFIXES or _is_dicom(p)


def name_form(name: str) -> str:
    """A file name as pairing compares it: Unicode NFC (composed: ``é`` one character). macOS
    stores names decomposed (NFD: ``e`` and a combining acute accent), so ``café.png`` copied from
    a Mac and ``café.png`` typed on Linux are different names to the file system but the same to
    their user."""
    import unicodedata

    return unicodedata.normalize("NFC", name)


def pair_key(p: Path) -> str:
    """The name two partner files share: the name without an image suffix, else the whole name
    (in NFC, :func:`name_form`)."""
    from ..image_io import IMAGE_SUFFIXES

    return name_form(p.stem if p.suffix.lower() in IMAGE_SUFFIXES else p.name)


def refuse_form_collisions(files: list[Path]) -> None:
    """A one-line :class:`InputError` when two of ``files`` (one folder's images) have names that
    differ only in their Unicode form (``café.png`` composed and decomposed): pairing compares
    names in NFC (:func:`name_form`), where they are one name, and the outputs named after them
    would be one file on macOS."""
    seen: dict[str, Path] = {}
    for p in files:
        first = seen.setdefault(name_form(p.name), p)
        if first is not p and first.name != p.name:
            raise InputError(f"{p.parent / first.name}: {first.name!r} and {p.name!r} in {p.parent} are the same name "
                             f"in two Unicode forms, composed and decomposed accents ({ascii(first.name)} and "
                             f"{ascii(p.name)}); pairing compares names in NFC and cannot tell them apart: rename one")


@dataclass
class Matching:
    """The result of :func:`match_files`: ``pairs`` sorted by the first file's name; the files
    left over in each folder; ``ambiguous`` maps a key to the unpaired files that share it."""

    pairs: list[tuple[Path, Path]] = field(default_factory=list)
    only_a: list[Path] = field(default_factory=list)
    only_b: list[Path] = field(default_factory=list)
    ambiguous: dict[str, list[Path]] = field(default_factory=dict)


def match_files(files_a: list[Path], files_b: list[Path]) -> Matching:
    """Pair two lists of image files: same name first, then same :func:`pair_key` (unique on
    both sides among the files not yet paired); names compared in NFC (:func:`name_form`), the
    pairs holding the files' real paths. Two files of one list whose names differ only in their
    Unicode form: :class:`InputError` (:func:`refuse_form_collisions`).

    >>> from pathlib import Path
    >>> m = match_files([Path("ir/1.png"), Path("ir/2.png")], [Path("vis/1.png"), Path("vis/2.JPG")])
    >>> [(a.name, b.name) for a, b in m.pairs]
    [('1.png', '1.png'), ('2.png', '2.JPG')]
    """
    refuse_form_collisions(files_a)
    refuse_form_collisions(files_b)
    by_name_b = {name_form(p.name): p for p in files_b}
    out = Matching()
    rest_a, used_b = [], set()
    for a in files_a:
        b = by_name_b.get(name_form(a.name))
        if b is not None:
            out.pairs.append((a, b))
            used_b.add(b.name)
        else:
            rest_a.append(a)
    rest_b = [p for p in files_b if p.name not in used_b]
    keys_a: dict[str, list[Path]] = {}
    keys_b: dict[str, list[Path]] = {}
    for p in rest_a:
        keys_a.setdefault(pair_key(p), []).append(p)
    for p in rest_b:
        keys_b.setdefault(pair_key(p), []).append(p)
    for key, xs in keys_a.items():
        ys = keys_b.get(key, [])
        if len(xs) == 1 and len(ys) == 1:
            out.pairs.append((xs[0], ys[0]))
        elif ys or len(xs) > 1:
            out.ambiguous[key] = sorted(xs + ys)
        else:
            out.only_a.append(xs[0])
    for key, ys in keys_b.items():
        if key in keys_a:
            continue
        if len(ys) > 1:
            out.ambiguous[key] = sorted(ys)
        else:
            out.only_b.append(ys[0])
    out.pairs.sort(key=lambda ab: (ab[0].name, ab[1].name))
    out.only_a.sort()
    out.only_b.sort()
    return out


def image_files(folder: Path) -> list[Path]:
    """The image files of a folder (:func:`is_image_file`), sorted by name."""
    return sorted((p for p in folder.iterdir() if is_image_file(p)), key=lambda p: p.name)


def other_images(folder: Path) -> dict[str, int]:
    """How many files of each :data:`~mutualfuse.image_io.OTHER_IMAGE_SUFFIXES` suffix (lower case) a folder holds
    directly (hidden files and folders not counted): images that ``fuse`` reads one pair at a
    time and that :func:`image_files` leaves out, so that a caller can say so (a folder of WebP
    images was "no images found", and WebP files beside PNG ones were left out without a word)."""
    from ..image_io import OTHER_IMAGE_SUFFIXES

    counts: dict[str, int] = {}
    try:
        entries = list(folder.iterdir())
    except OSError:
        return counts
    for p in entries:
        suf = p.suffix.lower()
        if suf in OTHER_IMAGE_SUFFIXES and not p.name.startswith(".") and p.is_file() and not is_image_file(p):
            counts[suf] = counts.get(suf, 0) + 1
    return dict(sorted(counts.items()))


def other_images_phrase(counts: dict[str, int]) -> str:
    """``"3 .webp, 1 .pgm"``: :func:`other_images`' counts as text."""
    return ", ".join(f"{n} {suf}" for suf, n in counts.items())


def broken_links(folder: Path) -> list[Path]:
    """The symbolic links of a folder, named as images (by suffix), whose target does not exist,
    sorted by name: :func:`image_files` cannot see them, so callers name them instead of
    reporting their partners as unpaired."""
    from ..image_io import IMAGE_SUFFIXES

    return sorted((p for p in folder.iterdir() if not p.name.startswith(".") and p.is_symlink()
                   and not p.exists() and p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: p.name)


def refuse_broken_links(*folders: Path) -> None:
    """A one-line :class:`InputError` naming the first :func:`broken_links` of ``folders``: an
    image named in a folder whose every image is needed (a stack's planes, a training set's
    pairs) that cannot be read."""
    dead = [x for d in folders for x in broken_links(d)]
    if dead:
        more = f" (and {len(dead) - 1} more)" if len(dead) > 1 else ""
        raise InputError(f"{dead[0]}: is {describe_broken_link(dead[0])}{more}; fix or remove the link")


def describe_broken_link(p: Path) -> str:
    """``"a broken symbolic link (to TARGET, which does not exist)"``: what ``p`` is."""
    import errno
    import os

    try:
        target = os.readlink(p)
    except OSError:
        return "a broken symbolic link"
    try:
        os.stat(p)
    except OSError as e:
        if e.errno == errno.ELOOP:  # was "(to b.png, which does not exist)" of a b.png linking back
            return f"a looping symbolic link (to {target}, which leads back to it)"
    return f"a broken symbolic link (to {target}, which does not exist)"


@dataclass
class CsvRow:
    """One pair of a pairs list: its line number, the two sources, the output as written (or None)."""

    line: int
    a: Path
    b: Path
    out: str | None = None


def read_pairs_csv(lst: Path) -> tuple[list[CsvRow], list[tuple[int, str]]]:
    """Rows ``a,b[,out]`` of a CSV pairs list → (rows, problems as (line, why)).

    Relative paths are taken from the list's folder; a first row ``a,b`` is a header; blank
    rows and rows starting with ``#`` are skipped. A file that cannot be read (missing, not
    UTF-8, not CSV) is an :class:`~mutualfuse.errors.InputError`; a row without two paths (or
    with a NUL byte in a path) is a problem of that row (``fuse-dir`` goes on with the others, ``train`` stops)."""
    if not lst.is_file():
        from ..image_io import not_a_regular_file

        if lst.is_dir():  # was "pairs list not found"
            raise InputError(f"{lst}: pairs list is a folder, not a CSV file of rows a,b[,out]")
        special = lst.exists() and not_a_regular_file(lst)
        if special:  # `--pairs <(...)` was "pairs list not found"; its rows' relative paths need a folder
            raise InputError(f"{lst}: pairs list {special.split(', not')[0]}, not a file (its relative paths are "
                             "taken from its folder; save it to a file first)")
        raise InputError(f"{lst}: pairs list not found")
    try:
        rows = list(csv.reader(lst.read_text(encoding="utf-8-sig").splitlines()))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise InputError(f"{lst}: cannot read pairs list ({e})") from None
    base = lst.parent
    out: list[CsvRow] = []
    bad: list[tuple[int, str]] = []
    for i, row in enumerate(rows, 1):
        row = [c.strip() for c in row]
        if not row or not any(row) or row[0].startswith("#"):
            continue
        if i == 1 and [c.lower() for c in row[:2]] == ["a", "b"]:
            continue
        if len(row) < 2 or not row[0] or not row[1]:
            sep = next((c for c in (";", "\t", "|") if len(row) == 1 and c in row[0]), None)
            if sep is not None and not (base / row[0]).exists():
                # a list saved with semicolons (a spreadsheet in a comma-decimal locale) or tabs:
                # each row was "needs at least two columns a,b", its separator unsaid
                shown = "a tab" if sep == "\t" else repr(sep)
                bad.append((i, f"row needs at least two columns a,b separated by commas; it holds {shown} "
                               "instead (save the list as comma-separated CSV)"))
                continue
            bad.append((i, "row needs at least two columns a,b"))
            continue
        if any("\0" in c for c in row[:3]):  # no path holds one: os.stat raised ValueError, an internal error
            bad.append((i, "row holds a NUL byte, which no file name can"))
            continue
        comma = _comma_name(base, row)
        if comma:  # "ir/a,1.png" unquoted: the rest of the row shifted, reported as "ir/a not found"
            bad.append((i, f"columns {comma} joined by a comma name an existing file: quote a name that holds a "
                           f"comma (\"a,1.png\"), as CSV does"))
            continue
        if len(row) > 3 and any(row[3:]):  # the fourth and later columns were ignored without a word
            bad.append((i, f"row has {len(row)} columns; a pairs list has a,b[,out] (quote a name that holds a "
                           f"comma)"))
            continue
        a = Path(row[0]) if Path(row[0]).is_absolute() else base / row[0]
        b = Path(row[1]) if Path(row[1]).is_absolute() else base / row[1]
        out.append(CsvRow(i, a, b, row[2] if len(row) >= 3 and row[2] else None))
    return out, bad


def _comma_name(base: Path, row: list[str]) -> str | None:
    """Which neighbouring columns of ``row`` (as "1-2"), joined by a comma, name an existing file
    (relative to ``base``) where the first of them names none: a name holding a comma written
    without CSV's quotes. None where there is no such pair. (Only looked at for rows of three or
    more columns, at most one ``stat`` per column.)"""
    if len(row) < 3:
        return None
    for k in range(len(row) - 1):
        first = Path(row[k]) if Path(row[k]).is_absolute() else base / row[k]
        if not row[k] or first.exists():
            continue
        joined = row[k] + "," + row[k + 1]
        p = Path(joined) if Path(joined).is_absolute() else base / joined
        try:
            if p.is_file():
                return f"{k + 1}-{k + 2}"
        except (OSError, ValueError):
            return None
    return None


def folds_case(folder: Path) -> bool:
    """Whether the file system of ``folder`` (or of its nearest existing parent) takes names
    that differ only in case as one file (macOS's APFS and Windows' NTFS by default; most Linux
    file systems do not): probed by creating a hidden file and looking for it under its name in
    the other case. Where nothing can be created there, the platform's default is assumed
    (folding on macOS and Windows)."""
    import contextlib
    import os
    import sys
    import tempfile

    d = Path(folder)
    while not d.is_dir() and d != d.parent:
        d = d.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".mutualfuse-case-", suffix=".probe", dir=str(d))
    except OSError:
        return sys.platform in ("win32", "darwin")
    os.close(fd)
    try:
        name = Path(tmp).name
        return os.path.exists(os.path.join(str(d), name.swapcase()))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def folded_name(path: str) -> str:
    """``path`` as a case-folding file system compares names (approximately: Unicode NFD, each
    character lower-cased where that keeps it one character; APFS and NTFS have their own
    tables, which differ at the edges)."""
    import unicodedata

    s = unicodedata.normalize("NFD", path)
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in s)


#: names Windows keeps for devices, whatever their extension (``CON.png`` is the console)
_WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                              *(f"COM{i}" for i in "123456789¹²³"), *(f"LPT{i}" for i in "123456789¹²³")})


def windows_name_problem(name: str) -> str | None:
    """Why Windows cannot hold a file or folder named ``name`` (a device name such as ``CON`` or
    ``NUL.png``, one of ``< > : " / \\ | ? *`` or a control character, a trailing dot or space),
    else None."""
    bad = sorted({c for c in name if c in '<>:"/\\|?*' or ord(c) < 32})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return f"holds {shown}, which Windows does not allow in a file name"
    if name.endswith((".", " ")):
        return "ends with a dot or a space, which Windows drops from a file name"
    if name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        return f"{name.split('.', 1)[0]!r} is a device name on Windows, not a file name"
    return None
