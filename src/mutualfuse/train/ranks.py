"""How the processes of a ``torchrun`` run of ``mutualfuse train`` end on a refusal or an
interrupt: one line per problem on each node's terminal, not one per process.

Every process of ``torchrun --nproc_per_node N`` writes to the same terminal, so a refusal that
every process meets (a missing data folder, a bad config value, Ctrl+C) was printed N times, and a
process left waiting by another one's refusal added a line of its own ("another process of this
run stopped"). Now each process that stops posts its line to the run's rendezvous store (the
key-value store that ``torchrun`` and the process group share), waits a moment for the others'
(:data:`WAIT_S`), and the lines are printed once per node (the first process to claim a line
prints it):

- the same line from every process: printed as is, once;
- a line that only some processes have (a file that one process cannot read): once, with the
  ranks that have it (``rank 1 of 2: ...``);
- a process that stopped because another one did (it lost its peer, or ``torchrun`` sent it
  SIGTERM when the other one exited) prints nothing when that other process posted its line: the
  reason is said once (on that process's node; on another node the line is printed there too);
  a process killed (SIGKILL, the out-of-memory killer) posts nothing, and one left says that
  another process stopped, or, where torchrun's SIGTERM came first, that the run was interrupted
  at which step (torchrun's report names the process killed).

Only where the process group was joined before the run was checked (CPU, gloo: see
``mutualfuse.cli.train``); where the store cannot be reached (it lived in a process that has
exited), each process prints its own line, as before."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import sys
import time
from contextlib import contextmanager
from typing import Any

#: seconds a stopping process waits for the other processes' lines (a refusal that every process
#: meets comes within this of each other: they joined the group together)
WAIT_S = 5.0
#: seconds a process waits, after printing, for the other stopping processes to have printed
#: theirs (``torchrun`` stops the others with SIGTERM as soon as one process has exited)
DONE_WAIT_S = 5.0

#: what each kind of report is, by priority: a process's own refusal says why the run stopped;
#: an interrupt (Ctrl+C, SIGTERM) next; a lost peer only when nothing else was said
ERROR, INTERRUPT, PEER = "error", "interrupt", "peer"
_PRIORITY = (ERROR, INTERRUPT, PEER)


def _node() -> str:
    """This process's node: torchrun's node rank (``GROUP_RANK``), else the host name."""
    return os.environ.get("GROUP_RANK") or socket.gethostname()


def _ranks(ranks: list[int]) -> str:
    return f"rank {ranks[0]}" if len(ranks) == 1 else "ranks " + ", ".join(map(str, ranks))


class RankReport:
    """The store of the run's process group (:meth:`open`) and what this process posts there."""

    def __init__(self, store: Any, rank: int, world: int) -> None:
        self.store, self.rank, self.world = store, rank, world
        self.prefix = f"mutualfuse/train/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}/"

    @classmethod
    def open(cls) -> RankReport | None:
        """The report of this process when it belongs to a process group of several processes
        (joined already), else ``None``."""
        dist = sys.modules.get("torch.distributed")
        if dist is None or not dist.is_available() or not dist.is_initialized():
            return None
        world = dist.get_world_size()
        if world <= 1:
            return None
        try:
            from torch.distributed.distributed_c10d import _get_default_store

            store = _get_default_store()
        except Exception:  # noqa: BLE001 - another torch: each process says its own line
            return None
        return cls(store, dist.get_rank(), world)

    def _key(self, what: str) -> str:
        return self.prefix + what

    def _posted(self) -> dict[int, dict[str, Any]]:
        out = {}
        for r in range(self.world):
            k = self._key(f"line/{r}")
            if self.store.check([k]):
                out[r] = json.loads(self.store.get(k).decode())
        return out

    def lines(self, kind: str, head: str, text: str) -> list[str]:
        """Post this process's report (``kind``, printed as ``head + text``), wait for the others'
        and → the lines this process prints (none when another process of its node prints them)."""
        self.store.set(self._key(f"line/{self.rank}"),
                       json.dumps({"kind": kind, "head": head, "text": text}))
        deadline = time.monotonic() + WAIT_S
        while True:
            posted = self._posted()
            if len(posted) == self.world or time.monotonic() >= deadline:
                break
            if any(_PRIORITY.index(p["kind"]) < _PRIORITY.index(kind) for p in posted.values()):
                break  # another process's refusal (or interrupt) says why: nothing more to wait for
            time.sleep(0.05)
        top = next(k for k in _PRIORITY if any(p["kind"] == k for p in posted.values()))
        shown = [(r, p) for r, p in sorted(posted.items()) if p["kind"] == top]
        # the problems: (what identifies one, the line that says it); an interrupt is one problem
        # whatever step each process reached, a refusal one per text
        groups: dict[str, list[int]] = {}
        for r, p in shown:
            groups.setdefault("interrupt" if top == INTERRUPT else p["head"] + p["text"], []).append(r)
        mine = []
        for what, ranks in groups.items():
            p = posted[ranks[0]]  # (an interrupt: the lowest rank's line)
            if top != ERROR or len(ranks) == self.world:  # a peer's line names its rank already; an
                line = p["head"] + p["text"]                # interrupt is the run's (a late process, under load)
            else:
                line = f"{p['head']}{_ranks(ranks)} of {self.world}: {p['text']}"
            # once per node: the first process to claim the problem prints it (one that read the
            # others' lines later, under load, would name other ranks: it claims the same problem)
            claim = self._key(f"said/{_node()}/{hashlib.sha256(what.encode()).hexdigest()[:16]}")
            if self.store.add(claim, 1) == 1:
                mine.append(line)
        return mine

    def done(self) -> None:
        """Say that this process has printed its lines, then wait (:data:`DONE_WAIT_S` at most)
        for every other process that posted a report to have printed its own: none exits first
        (``torchrun`` would stop the others, with SIGTERM, while their lines are unprinted)."""
        self.store.set(self._key(f"done/{self.rank}"), "1")
        # rank 0 of processes started without torchrun's agent holds the store: it waits for every
        # process, so that one left waiting finds the line there (and says nothing) when it learns
        hosting = self.rank == 0 and os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True"
        deadline = time.monotonic() + DONE_WAIT_S
        while time.monotonic() < deadline:
            posted = [r for r in range(self.world) if hosting or self.store.check([self._key(f"line/{r}")])]
            if all(self.store.check([self._key(f"done/{r}")]) for r in posted):
                return
            time.sleep(0.05)


@contextmanager
def _quiet_stderr():
    """File descriptor 2 to /dev/null: the store's client, when the process holding the store
    has exited (rank 0 of processes started without torchrun's agent), writes a C++ stack of
    "sendBytes failed ... Broken pipe" there before it raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def report(rep: RankReport | None, kind: str, head: str, text: str) -> None:
    """Print ``head + text`` for this process of a run, once per node for the whole run
    (:class:`RankReport`); with no report or no store to reach, the line as is (``PEER`` lines
    name their rank already; a refusal or interrupt of one process among several gets its rank)."""
    import threading

    lines: list[str] = []
    held = []
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):  # the wait is short: do not leave a line unsaid
            held.append((sig, signal.signal(sig, signal.SIG_IGN)))
    try:
        if rep is None:
            lines = [head + text]
        else:
            try:
                with _quiet_stderr():
                    lines = rep.lines(kind, head, text)
            except Exception:  # noqa: BLE001 - the store is gone (its process exited): say it here
                lines = [head + text if kind == PEER else f"{head}rank {rep.rank} of {rep.world}: {text}"]
                rep = None
        for line in lines:
            print(line, file=sys.stderr, flush=True)
        if rep is not None:
            try:
                with _quiet_stderr():
                    rep.done()
            except Exception:  # noqa: BLE001 - the store is gone: nothing more to wait for
                pass
    finally:
        for sig, prev in held:
            signal.signal(sig, prev)
