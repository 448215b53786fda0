#!/usr/bin/env python3
"""Make the repository small enough to travel to a lent GPU machine with its training data, and back.

The device tool of this workplace sends the repository's tracked and untracked-not-ignored files
plus the ignored paths a call carries, 64 MiB in all. The tracked files alone are about 55 MB and
``train/roadscene`` is 50 MB, so for the call of ``scripts/gpu_paper_scale.py`` the paths that the
run does not read are taken out of git's index (``git rm -r --cached``: the files stay on disk)
and listed in ``.git/info/exclude``, and the training set is copied into the ignored folder
``.gpudata`` (the call names it in ``carry``). ``restore`` puts the index and the exclude file
back as they were; run it right after the call, before any commit.

    python scripts/gpu_payload.py prepare --data-root /data      # then the device call, carry .gpudata
    python scripts/gpu_payload.py restore

``prepare`` refuses to run with staged changes (they would be lost by ``restore``'s reset) and
prints the size that will travel; ``status`` prints it without changing anything.

A symbolic link anywhere inside a training set (a file or a folder under ``train/roadscene``) is
refused: ``prepare`` prints one line naming the first link and where it points, exits 2 and
changes nothing (neither the index nor ``.gpudata``). A copy that follows links (``copytree``'s
default, used before) sends a linked file from outside the set to the lent machine; nor are links skipped,
since a set with files missing would train on other data than the one named. Replace each link
with the file itself. The set's own folder and the folders above it (``--data-root``, ``train``)
may be links: they are where the data is kept, not part of it. The copy itself keeps any link as
a link (``copytree(symlinks=True)``), so that one made after the check is never followed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: what the GPU run reads: the code, its configs and scripts, and `default`'s weights (the
#: warm start of default-gpu-cont); every other tracked path is left behind
KEEP_WEIGHTS = ("fmm-pyramid-centred-bright-train2-roadscene-mf-cpu.safetensors",)
DROP_DIRS = ("docs", "runs-log", "tests", "benchmarks")
DATA_SETS = ("train/roadscene",)
MARK = "# gpu_payload.py: taken out of the index for a device call (restore puts them back)"
LIMIT = 64 * 1024 * 1024


def git(*args: str, capture: bool = True) -> str:
    r = subprocess.run(["git", *args], cwd=ROOT, capture_output=capture, text=True)
    if r.returncode != 0:
        raise SystemExit(f"gpu_payload.py: git {' '.join(args)} failed: {(r.stderr or '').strip()}")
    return r.stdout if capture else ""


def travelling_bytes(carry: tuple[str, ...] = (".gpudata",)) -> int:
    """Bytes of the tracked and untracked-not-ignored files plus the carried folders."""
    files = git("ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    total = sum((ROOT / f).stat().st_size for f in files if f and (ROOT / f).is_file())
    for c in carry:
        total += sum(p.stat().st_size for p in (ROOT / c).rglob("*") if p.is_file())
    return total


def exclude_file() -> Path:
    p = Path(git("rev-parse", "--git-path", "info/exclude").strip())
    return p if p.is_absolute() else ROOT / p


def _shown(path: Path | str) -> str:
    """A path for a one-line message: as it is, or quoted with escapes where it holds a control character."""
    s = str(path)
    return s if s.isprintable() else repr(s)


def first_link(folder: Path) -> Path | None:
    """The first symbolic link (file or folder, in sorted walk order) below ``folder``, or None;
    links to folders are not followed."""
    for here, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted([*dirs, *files]):
            if os.path.islink(os.path.join(here, name)):
                return Path(here) / name
    return None


def refuse_links(data_root: Path) -> None:
    """Exit 2 with one line if a training set under ``data_root`` holds a symbolic link."""
    for s in DATA_SETS:
        src = data_root / s
        if not src.is_dir():
            continue  # prepare says the set was not found
        link = first_link(src)
        if link is not None:
            print(f"gpu_payload.py: {_shown(link)} is a symbolic link (to {_shown(os.readlink(link))}); prepare "
                  f"refuses links inside the training set, which travels to the lent machine: replace it with the "
                  f"file itself", file=sys.stderr)
            raise SystemExit(2)


def prepare(data_root: Path) -> int:
    if git("diff", "--cached", "--name-only").strip():
        raise SystemExit("gpu_payload.py: the index has staged changes; commit or unstage them first")
    exc = exclude_file()
    text = exc.read_text() if exc.exists() else ""
    if MARK in text:
        raise SystemExit("gpu_payload.py: already prepared (run restore first)")
    for s in DATA_SETS:
        if not (data_root / s).is_dir():
            raise SystemExit(f"gpu_payload.py: {data_root / s}: training set not found")
    refuse_links(data_root)  # before anything changes
    for s in DATA_SETS:
        dst = ROOT / ".gpudata" / s
        if not dst.exists():
            shutil.copytree(data_root / s, dst, symlinks=True)
    weights = [f for f in git("ls-files", "src/mutualfuse/weights").split()
               if f.endswith(".safetensors") and Path(f).name not in KEEP_WEIGHTS]
    drop = [d for d in DROP_DIRS if (ROOT / d).exists()] + weights
    git("rm", "-r", "-q", "--cached", "--", *drop)
    lines = [MARK, *(f"/{p}" for p in drop), MARK]  # .gpudata itself is in .gitignore
    exc.parent.mkdir(parents=True, exist_ok=True)
    exc.write_text(text + ("" if not text or text.endswith("\n") else "\n") + "\n".join(lines) + "\n")
    size = travelling_bytes()
    print(f"prepared: {len(drop)} paths out of the index, .gpudata holds {', '.join(DATA_SETS)}; "
          f"{size / 1e6:.1f} MB will travel (limit {LIMIT / 1e6:.1f} MB). Carry [\".gpudata\"]; then run restore.")
    return 0 if size < LIMIT else 1


def restore() -> int:
    exc = exclude_file()
    text = exc.read_text() if exc.exists() else ""
    if MARK in text:
        head, _, rest = text.partition(MARK)
        _, _, tail = rest.partition(MARK)
        kept = head + tail.lstrip("\n")
        exc.write_text((kept.rstrip("\n") + "\n") if kept.strip() else "")
    git("reset", "-q")
    left = git("status", "--porcelain", "--", *DROP_DIRS, "src/mutualfuse/weights").strip()
    print("restored: the index is HEAD's again" + ("" if not left else f"; still differing:\n{left}"))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--data-root", required=True, type=Path)
    sub.add_parser("restore")
    sub.add_parser("status")
    args = ap.parse_args(argv)
    if args.cmd == "prepare":
        return prepare(args.data_root)
    if args.cmd == "restore":
        return restore()
    print(f"{travelling_bytes() / 1e6:.1f} MB would travel now (limit {LIMIT / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
