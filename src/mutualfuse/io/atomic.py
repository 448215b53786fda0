"""Atomic writes that respect the umask: the one helper every writer of the package uses.

:func:`atomic_write` yields a temporary path in the target's folder; when the ``with`` body
finishes, the temporary file gets the permissions that ``open(path, "w")`` would have given
(``0o666 & ~umask`` for a new file, the existing file's mode when it replaces one), is
flushed to disk and renamed over the target. On any error the temporary file is removed and
the target is left as it was. A target that is a symbolic link is written through: the file it
points to is replaced, the link stays (:func:`write_target`).

Temporary names are ``.<name>.<pid>.<random>.part<suffix>``: a run killed with ``kill -9``
leaves one behind, and :func:`remove_stale_parts` (called by every writer before it starts)
removes those whose process is gone (a DICOM series is written into a temporary folder,
``.<name>.<pid>.<random>.partdir``: :func:`remove_stale_partdirs`). ``<random>`` starts with
``h<host tag>_`` (a digest of the host name): a process id says nothing about another machine's
processes, so the temporaries of other hosts (``fuse-dir`` under ``torchrun --nnodes 2`` on a
shared file system, a container with its own process ids) are left alone, never deleted while
their writer is still writing.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from ..errors import InputError

#: the ``errno`` of a write that failed for lack of room: a full file system, a quota, a file-size
#: limit (``ulimit -f``)
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})

_PART = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.part(?P<suffix>\.[^.]*)?$")


def _refusal(message: str) -> InputError:
    """The one-line :class:`~mutualfuse.errors.InputError` of ``message``: a control character in a
    name it holds (a line break of ``$'new\\nline.png'``, a tab, an escape) shown escaped as ``repr``
    does, so that the error stays one line and a name cannot drive the terminal."""
    if any(ord(c) < 32 or ord(c) == 127 for c in message):
        message = "".join(c.encode("unicode_escape").decode("ascii") if ord(c) < 32 or ord(c) == 127 else c
                          for c in message)
    return InputError(message)


def write_failure(e: BaseException) -> str:
    """Why a write failed, in a few words for a one-line error: an ``OSError``'s ``strerror``
    ("No space left on device"), else the first 160 characters of the message on one line (a
    ``SafetensorError`` wrapping the same failure)."""
    return (e.strerror if isinstance(e, OSError) else None) or " ".join(str(e).split())[:160]


def current_umask() -> int:
    """The process umask (read without changing it for longer than one call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def default_mode(path: str | os.PathLike) -> int:
    """The permission bits ``open(path, "w")`` would leave: the existing file's, else 0o666 & ~umask."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def _folder(p: Path) -> Path:
    return p.parent if str(p.parent) else Path(".")


def _refuse_foreign_link(link: Path, st: os.stat_result, folder: Path, shown: Path) -> None:
    """The kernel's ``fs.protected_symlinks`` rule (on by default in every major distribution):
    a symbolic link in a sticky world-writable folder (``/tmp``) is not followed unless it
    belongs to us or to the folder's owner."""
    try:
        d = os.stat(folder)
    except OSError:
        return
    if d.st_mode & stat.S_ISVTX and d.st_mode & stat.S_IWOTH and st.st_uid not in (os.geteuid(), d.st_uid):
        who = "it" if link == shown else str(link)
        raise _refusal(f"{shown}: {who} is a symbolic link of another user (uid {st.st_uid}) in the shared folder "
                         f"{folder}; not written through it (the kernel's fs.protected_symlinks rule)")


def _check_links(path: Path, shown: Path, depth: int = 0) -> None:
    """Every symbolic link that resolving ``path`` follows, checked by :func:`_refuse_foreign_link`."""
    if depth > 40:  # a loop: realpath and the write report it
        return
    cur = Path(Path(os.path.abspath(path)).anchor)
    for name in Path(os.path.abspath(path)).parts[1:]:
        nxt = cur / name
        try:
            st = os.lstat(nxt)
        except OSError:
            return
        if stat.S_ISLNK(st.st_mode):
            _refuse_foreign_link(nxt, st, cur, shown)
            try:
                _check_links(cur / os.readlink(nxt), shown, depth + 1)
            except OSError:
                return
            nxt = Path(os.path.realpath(nxt))
        cur = nxt


def write_target(path: str | os.PathLike) -> Path:
    """The file a write to ``path`` lands in: ``path`` itself, or, where ``path`` is a symbolic
    link (dangling or not), the file it points to, as ``open(path, "w")`` would write through
    it. Renaming the temporary over the link itself would replace the link by a plain file and
    leave the file it points to stale.

    As ``open()`` under the kernel's ``fs.protected_symlinks``, a link of another user in a
    sticky world-writable folder (``/tmp/fused.png`` planted by someone else, pointing into
    the victim's home) is refused with an :class:`~mutualfuse.errors.InputError`: resolved
    here, it was written through (the kernel only checks the links it follows itself). So is a
    target that is a FIFO, a device or a socket (:func:`refuse_special`)."""
    p = Path(path)
    if p.is_symlink():
        _check_links(p, p)
        target = Path(os.path.realpath(p))
    else:
        target = p
    refuse_special(target, p)
    return target


def special_kind(mode: int) -> str | None:
    """``"a FIFO (named pipe)"``, ``"a character device"`` … for the ``st_mode`` of a file that
    is neither a regular file, a folder nor a symbolic link; None for those."""
    for test, what in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return None


def refuse_special(target: Path, shown: Path) -> None:
    """An :class:`~mutualfuse.errors.InputError` when the output ``target`` exists and is a
    FIFO, a device or a socket: an output is written as a temporary renamed over the target,
    which would replace the FIFO or device node itself by a plain file (as root, ``-o out.png``
    linked to ``/dev/null`` replaced ``/dev/null``)."""
    try:
        st = os.stat(target)
    except OSError:
        return
    what = special_kind(st.st_mode)
    if what is not None:
        via = "" if target == shown else f" (it links to {target})"
        raise _refusal(f"{shown}: output path is {what}{via}, not a regular file; outputs are written "
                         "to a temporary file renamed into place, which would replace it: give a file name")


_HOST_TAG = re.compile(r"^h(?P<tag>[0-9a-f]{8})_")


def host_tag() -> str:
    """8 hex digits of the sha256 of this machine's name (and of its process-id namespace where
    Linux shows one), so that a temporary tells which machine's process ids its own is one of."""
    import hashlib
    import socket

    ns = ""
    with contextlib.suppress(OSError):
        ns = os.readlink("/proc/self/ns/pid")
    return hashlib.sha256(f"{socket.gethostname()}\0{ns}".encode()).hexdigest()[:8]


#: the bytes a temporary's name may spend on its target's name: 255 (NAME_MAX) less the rest of
#: ``.<name>.<pid>.h<tag>_<random>.part<suffix>`` at its longest (pid 7 digits, mkstemp's 8
#: random characters, 24 bytes of ``.part<suffix>``)
PART_NAME_BYTES = 255 - (1 + 1 + 7 + 2 + 8 + 1 + 8 + 24)


def part_name(name: str) -> str:
    """``name`` as a temporary's name holds it: cut to :data:`PART_NAME_BYTES` bytes. The
    temporary of a valid 250-byte file name was longer than the 255 bytes a file name may
    have, so the output could not be written ("cannot write in FOLDER (File name too long)")."""
    b = os.fsencode(name)
    return name if len(b) <= PART_NAME_BYTES else os.fsdecode(b[:PART_NAME_BYTES])


def part_prefix(path: str | os.PathLike) -> str:
    """The start of the temporary names of ``path``'s writes by this process."""
    return f".{part_name(Path(path).name)}.{os.getpid()}.h{host_tag()}_"


def pid_alive(pid: int) -> bool:
    """Whether a process of id ``pid`` runs on this machine (True when this cannot be told: its
    temporaries are then kept, never deleted under a live writer).

    Not ``os.kill(pid, 0)`` on Windows: there it is ``TerminateProcess`` with exit code 0, so
    the check ended the live process it asked about (a second ``fuse-dir`` writing into the same
    folder killed the first), and an id of no process raised ``OSError`` (WinError 87) instead of
    ``ProcessLookupError`` (:func:`_windows_pid_alive`)."""
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: someone else's live process; anything else: cannot tell
        return True
    return True


def _windows_pid_alive(pid: int) -> bool:
    """Windows: ``OpenProcess`` (query rights only) and ``GetExitCodeProcess``; an id that no
    process has fails with ``ERROR_INVALID_PARAMETER`` (87); access denied is a live process of
    another user. True where the API cannot be reached."""
    try:
        import ctypes
        from ctypes import wintypes

        k = ctypes.WinDLL("kernel32", use_last_error=True)
        last_error = ctypes.get_last_error
    except (ImportError, AttributeError, OSError):
        return True
    k.OpenProcess.restype = wintypes.HANDLE
    k.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
    h = k.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not h:
        return last_error() != 87
    try:
        code = wintypes.DWORD()
        if not k.GetExitCodeProcess(wintypes.HANDLE(h), ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        k.CloseHandle(wintypes.HANDLE(h))


def _dead_writers(folder: str | os.PathLike, pattern: "re.Pattern[str]") -> list[tuple[os.DirEntry, re.Match]]:
    """The entries of ``folder`` whose names ``pattern`` matches (its ``pid`` group the writer's
    pid) and whose writer is gone: its pid is not alive on this machine. An entry with another
    machine's host tag (a ``tag`` group, or ``h<tag>_`` right after the pid) is never one: its
    pid means nothing here. An unreadable folder has none."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    here, out = host_tag(), []
    for e in entries:
        m = pattern.match(e.name)
        if not m:
            continue
        tag = m.groupdict().get("tag")
        if tag is None:
            t = _HOST_TAG.match(e.name[m.end("pid") + 1:])
            tag = t.group("tag") if t else None
        if tag is not None and tag != here:  # another machine's process
            continue
        if not pid_alive(int(m.group("pid"))):
            out.append((e, m))
    return out


def remove_stale_parts(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove the temporary files of writes whose process no longer exists (``kill -9``).

    ``name``: only the temporaries of that target file name. Returns the removed paths.
    """
    removed: list[Path] = []
    for e, m in _dead_writers(folder, _PART):
        if name is not None and m.group("name") != part_name(name):
            continue
        try:
            os.unlink(e.path)
            removed.append(Path(e.path))
        except OSError:
            pass
    return removed


#: a series writer's temporary folder (:func:`mutualfuse.dicom_series.write_series`):
#: ``.<name>.<pid>.h<tag>_<random>.partdir``, made by ``mkdtemp`` with :func:`part_prefix`
_PARTDIR = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.h(?P<tag>[0-9a-f]{8})_[A-Za-z0-9_]+\.partdir$")


def remove_stale_partdirs(folder: str | os.PathLike, member: "re.Pattern[str]") -> list[Path]:
    """Remove the temporary folders (``.<name>.<pid>.h<tag>_<random>.partdir``) of folder writes
    whose process no longer exists (``kill -9`` halfway through a DICOM series), by the rule of
    :func:`remove_stale_parts`: the writer's pid is dead on this machine (never a live writer's,
    never one of another host tag, whose pid means nothing here). So that nothing not ours is
    deleted, a folder is removed only where it is a real folder (not a symbolic link) of this
    user whose entries are all regular files with names that ``member`` matches in full (a
    series writer's slice files); anything else in it, and the folder, is kept. Returns the
    removed folders."""
    removed: list[Path] = []
    for e, m in _dead_writers(folder, _PARTDIR):
        try:
            if not e.is_dir(follow_symlinks=False):
                continue
            if hasattr(os, "geteuid") and e.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
            with os.scandir(e.path) as it:
                inner = list(it)
            if not all(member.fullmatch(f.name) and f.is_file(follow_symlinks=False) for f in inner):
                continue
            for f in inner:
                os.unlink(f.path)
            os.rmdir(e.path)
            removed.append(Path(e.path))
        except OSError:
            pass
    return removed


def _fsync_file(path: Path) -> None:
    """Flush ``path`` to disk through a handle open for writing: Windows' ``os.fsync``
    (``_commit``, ``FlushFileBuffers``) refuses a read-only one with EBADF, so a flush through
    ``open(path, "rb")`` failed every output there ("cannot write output (Bad file
    descriptor)"). Called before the chmod, which may make the file read-only; a file a writer
    left read-only is flushed read-only (enough on POSIX)."""
    try:
        fh = open(path, "r+b")
    except PermissionError:
        fh = open(path, "rb")
    with fh:
        os.fsync(fh.fileno())


def _new_temporary(target: Path, parent: Path, suffix: str, shown: Path) -> Path:
    """An empty temporary beside ``target`` (:func:`part_prefix`, ``.part`` + ``suffix``); a folder
    that cannot hold it is one line naming the output ``shown``."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=part_prefix(target), suffix=".part" + suffix, dir=str(parent))
    except OSError as e:
        raise _refusal(f"{shown}: cannot write in {parent} ({e.strerror or e})") from None
    os.close(fd)
    return Path(tmp)


@contextlib.contextmanager
def _writer_errors(shown: Path) -> Iterator[None]:
    """The writer's own write failing (a full disk or quota, a file-size limit): one line naming
    the output, as a failed rename is, not "internal error: OSError" of a writer that does not
    catch it (fuse-volume, evaluate -o)."""
    try:
        yield
    except OSError as e:
        if e.errno in WRITE_ERRNOS:
            raise _refusal(f"{shown}: cannot write output ({e.strerror or e})") from None
        raise


def _seal(tmp: Path, mode: int, fsync: bool) -> None:
    """Flush a written temporary (``fsync``) and give it its output's permissions ``mode``."""
    if fsync:
        _fsync_file(tmp)
    os.chmod(tmp, mode)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, suffix: str | None = None, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary file path beside ``path``; on success give it ``open()``'s permissions
    and rename it over ``path``; on failure remove it. The file exists (empty) when yielded.

    ``suffix``: the temporary's suffix after ``.part`` (default: ``path``'s suffix, so that
    writers that pick a format from the suffix keep working).

    Raises :class:`~mutualfuse.errors.InputError` naming ``path`` when the folder cannot hold a
    new file (missing, read-only, not a folder, a pseudo file system such as ``/proc``).
    """
    shown = Path(path)
    p = write_target(shown)
    parent = _folder(p)
    sfx = shown.suffix if suffix is None else suffix
    mode = default_mode(p)
    tmp_p = _new_temporary(p, parent, sfx, shown)
    try:
        with _writer_errors(shown):
            yield tmp_p
        try:
            _seal(tmp_p, mode, fsync)
            os.replace(tmp_p, p)
        except OSError as e:
            raise _refusal(f"{shown}: cannot write output ({e.strerror or e})") from None
    finally:
        with contextlib.suppress(OSError):
            if tmp_p.exists():
                tmp_p.unlink()


def atomic_write_all(paths: list[Path], write: Callable[[Path, Path], None], fsync: bool = True) -> None:
    """:func:`atomic_write` for several outputs at once, all or none: ``write(tmp, shown)`` writes
    each output ``shown`` to its temporary ``tmp`` beside it (the names of :func:`part_prefix`, with
    ``open()``'s permissions); a failure there removes them all and no output is touched. Then each
    is renamed into place; where a rename fails, the outputs already renamed are undone: a new one
    removed, one that existed before put back from the hard link made to it beside it before its
    rename (on a file system without hard links that earlier file keeps the new content), and the
    temporaries are removed. Errors as :func:`atomic_write`'s (one line naming the output)."""
    import secrets

    staged: list[tuple[Path, Path, Path]] = []  # (as given, the file written, its temporary)
    kept: list[Path] = []  # hard links to the files that existed, until every rename is done
    try:
        for shown in paths:
            target = write_target(shown)  # a symbolic link is written through, as atomic_write does
            parent = _folder(target)
            mode = default_mode(target)
            tmp = _new_temporary(target, parent, shown.suffix, shown)
            staged.append((shown, target, tmp))
            with _writer_errors(shown):
                write(tmp, shown)
            try:
                _seal(tmp, mode, fsync)
            except OSError as e:
                raise _refusal(f"{shown}: cannot write output ({e.strerror or e})") from None
        done: list[tuple[Path, Path | None, bool]] = []  # (file renamed into place, its old file's link, existed)
        try:
            for shown, target, tmp in staged:
                existed = os.path.lexists(target)
                old = None
                if existed:
                    old = target.parent / f"{part_prefix(target)}{secrets.token_hex(4)}.part.old"
                    try:
                        os.link(target, old)
                        kept.append(old)
                    except OSError:  # no hard links here (or no room for one): it cannot be put back
                        old = None
                try:
                    os.replace(tmp, target)
                except OSError as e:
                    raise _refusal(f"{shown}: cannot write output ({e.strerror or e})") from None
                done.append((target, old, existed))
        except BaseException:
            for target, old, existed in reversed(done):
                with contextlib.suppress(OSError):
                    if old is not None:
                        os.replace(old, target)
                    elif not existed:
                        os.unlink(target)
            raise
    finally:
        for path in [tmp for _, _, tmp in staged] + kept:
            with contextlib.suppress(OSError):
                if os.path.lexists(path):
                    os.unlink(path)


def probe_writable(path: str | os.PathLike) -> None:
    """Create and remove a temporary file beside ``path``: the honest "can I write here" check
    (``os.access`` says yes to root on read-only mounts and on ``/proc``). A symbolic link is
    probed where it points (:func:`write_target`)."""
    shown = Path(path)
    p = write_target(shown)
    parent = _folder(p)
    try:
        fd, tmp = tempfile.mkstemp(prefix=part_prefix(p), suffix=".probe", dir=str(parent))
    except OSError as e:
        raise _refusal(f"{shown}: cannot write in {parent} ({e.strerror or e})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)
