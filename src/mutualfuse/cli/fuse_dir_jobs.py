"""``mutualfuse fuse-dir -j N``: the pairs of a run fused in N worker processes.

The pattern of ``mutualfuse evaluate -j`` (:func:`mutualfuse.evaluation._compute`): a
``ProcessPoolExecutor`` whose workers leave Ctrl+C to this process (``_worker_init``), tasks
submitted while Ctrl+C / SIGTERM are held (:func:`mutualfuse.io.signals.interrupts_held`), and
on Ctrl+C, SIGTERM or an error the workers stopped at once (:func:`mutualfuse.io.signals.stop_workers`).
Here the workers are *spawned* (not forked from a process whose PyTorch thread pool and CUDA
state a fork would copy half-made), and each builds its own fuser once, as the command built it
(the same options, the ``--import`` modules imported first).

* Threads: a worker runs ``max(1, T // N)`` torch threads, ``T`` being this process's
  ``torch.get_num_threads()`` (``OMP_NUM_THREADS`` or the CPU count; without importing PyTorch
  for a classical method, :func:`command_threads`), and is started with
  ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` at that number, so that
  N workers use the cores one process would have used instead of N times as many threads.
* Order: pairs are handed out in the order of ``-j 1`` (sorted by name, or the CSV's rows), one
  per free worker, so at most N pairs are in flight; failures are listed in that order.
* A worker that dies (killed by the system for lack of memory, a crash in native code) stops the
  run with one line naming the pairs in flight, exit status 2; the outputs written so far stay
  (a rerun resumes), the temporaries of the pairs in flight are removed.
* The command killed (``kill -9``, the out-of-memory killer): each worker sees that its parent
  is gone within half a second and exits (:func:`_watch_parent`); they waited for their next
  pair forever, each holding its fuser.
* Ctrl+C / SIGTERM: the workers are stopped, their temporaries removed, ``interrupted`` (130; 143 for SIGTERM).
  A worker killed mid-write leaves no output (writes are atomic: a temporary renamed when whole).
* One pair left to do (the rest done, or a folder of one pair): fused in the command's own
  process, as ``-j 1`` (no worker to start).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

#: what a worker holds: its fuser, the command's options, the folders it cleaned; or the error
#: that kept it from building them (reported by the first pair it is given)
_STATE: dict = {}

_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def command_threads() -> int:
    """This process's thread count: ``torch.get_num_threads()`` where PyTorch is loaded (the
    network: the command built its fuser); else (a built-in classical method, which does not
    load it: ``import torch`` for this number alone took 2.3-2.5 s on the shared 2-core machine,
    most of a ``-j 2`` run, docs/inputs.md "Batches") ``OMP_NUM_THREADS`` when it is a positive
    integer, as PyTorch would take it, else the CPUs this process may run on."""
    torch = sys.modules.get("torch")
    if torch is not None:
        return torch.get_num_threads()
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", "").strip())
    except ValueError:
        n = 0
    if n >= 1:
        return n
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on every platform
        return os.cpu_count() or 1


def worker_threads(jobs: int) -> int:
    """Threads of each of ``jobs`` workers: this process's (:func:`command_threads`) // ``jobs``, at least 1."""
    return max(1, command_threads() // jobs)


def _method_modules(args: argparse.Namespace) -> tuple[str, ...]:
    """Modules a worker imports besides ``--import``: that of ``--method`` when it is a method of
    one's own registered by the caller (a script calling :func:`mutualfuse.cli.main` after
    importing its module) that the worker would not know otherwise."""
    import importlib.util
    import inspect

    from ..methods import METHODS

    try:
        fn = METHODS.get(args.method)
    except Exception:  # noqa: BLE001 - not a method (the network's weights): nothing to import
        return ()
    if getattr(inspect.unwrap(fn), "__module__", "").startswith("mutualfuse.methods."):
        return ()  # the project's own (is_builtin says so too), without importing the benchmark package (~1 s)
    from ..benchmark.plugins import _is_path, is_builtin

    mod = getattr(fn, "__module__", None) or ""
    if is_builtin(fn) or mod in ("", "__main__", "__mp_main__"):
        return ()
    covered = {Path(m).stem if _is_path(m) else m for m in (getattr(args, "imports", None) or [])}
    if any(mod == c or mod.startswith(c + ".") for c in covered):
        return ()
    spec = getattr(sys.modules.get(mod), "__spec__", None)
    if spec is None or spec.origin is None or importlib.util.find_spec(mod) is None:
        return ()
    return (mod,)


def _watch_parent(parent: int, every: float = 0.5) -> None:
    """End this worker when the command that started it is gone (``kill -9``, killed by the system
    for lack of memory): a pool's worker waits for its next pair forever, and every orphan kept
    its fuser (the network: hundreds of MB) until it was killed by hand. A daemon thread looks
    at the parent's id; the pair a worker was writing, if any, leaves a temporary that the next
    run removes (no output: writes are atomic)."""
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="mutualfuse-parent-watch", daemon=True).start()


def _init(options: dict, threads: int, modules: tuple[str, ...], parent: int | None = None) -> None:
    """Worker start-up: signals as ``evaluate``'s workers, a watch on the command (``parent``: its
    process id; :func:`_watch_parent`), then the fuser, built once."""
    from ..evaluation import _worker_init

    from ..io.signals import unblock_signals

    _worker_init()  # Ctrl+C is the main process's; SIGTERM ends the worker at once
    unblock_signals()  # blocked by the parent while it spawned us (_spawning)
    if parent is not None:
        _watch_parent(parent)
    try:
        import importlib

        from .common import apply_imports
        from .fuse import make_fuser

        args = argparse.Namespace(**options)
        apply_imports(args)
        for m in modules:
            importlib.import_module(m)
        fuser = make_fuser(args)
        # PyTorch's threads where it is loaded (the network; a method of one's own that imports it):
        # a classical method does not import it (about 1 s of every worker's start). Where it is
        # imported later, it takes the same count from OMP_NUM_THREADS, which _spawning set to it
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(threads)
        _STATE.update(fuser=fuser, args=args, cleaned={Path(args.out).resolve()})
    except BaseException as e:  # noqa: BLE001 - said by the first pair, as one line
        from ..errors import FuseError

        _STATE["error"] = str(e) if isinstance(e, FuseError) else f"{type(e).__name__}: {' '.join(str(e).split())[:200]}"


def _fuse(i: int, a: str, b: str, o: str):
    """One pair in a worker → ``(i, info, failure)``, or ``("setup", message)``."""
    if "error" in _STATE:
        return "setup", _STATE["error"]
    from .fuse_dir import fuse_pair

    info, failure = fuse_pair(_STATE["fuser"], _STATE["args"], a, b, o, _STATE["cleaned"])
    return i, info, failure


@contextlib.contextmanager
def _spawning(threads: int):
    """While workers may be spawned (a submit): Ctrl+C / SIGTERM held in this process (a
    KeyboardInterrupt in the middle of a spawn left a worker out of the pool's list, never
    stopped), blocked in this thread so that a new worker starts with them blocked (it unblocks
    them once it ignores Ctrl+C: no traceback of a worker interrupted while importing), and the
    thread variables of the workers' environment set."""
    from ..io.signals import interrupts_held, signals_blocked

    with interrupts_held(), signals_blocked():
        old_env = {k: os.environ.get(k) for k in _THREAD_VARS}
        os.environ.update({k: str(threads) for k in _THREAD_VARS})
        try:
            yield
        finally:
            for k, v in old_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def _remove_temporaries(todo: list[tuple[str, str, str]]) -> None:
    """The temporaries the stopped workers left in the output folders (their processes are gone)."""
    from ..io.atomic import remove_stale_parts

    for d in sorted({str(Path(o).parent) for _, _, o in todo}):
        remove_stale_parts(d)


def fuse_in_workers(args: argparse.Namespace, todo: list[tuple[str, str, str]], jobs: int, tally, bar) -> list:
    """Fuse ``todo`` (``(a, b, out)`` in the run's order) in ``jobs`` spawned workers; the fused
    pairs are added to ``tally`` (:class:`~.fuse_dir.Tally`), ``bar`` advanced per pair. Returns
    the failures ``(a, why)`` in the order of ``todo``. Raises a one-line
    :class:`~mutualfuse.errors.FuseError` when a worker cannot start or dies."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    from ..errors import FuseError
    from ..io.signals import stop_workers
    from .fuse_dir import one_line

    threads = worker_threads(jobs)
    options = {k: v for k, v in vars(args).items() if k != "func"}
    ex = ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"), initializer=_init,
                             initargs=(options, threads, _method_modules(args), os.getpid()))
    pending: dict = {}  # future -> index in todo
    failures: list[tuple[int, tuple[str, str]]] = []
    queue = iter(enumerate(todo))

    def submit_next() -> None:
        for i, (a, b, o) in queue:
            with _spawning(threads):
                fu = ex.submit(_fuse, i, a, b, o)
            pending[fu] = i
            return

    def died() -> FuseError:
        in_flight = [todo[i][0] for i in sorted(pending.values())]
        which = in_flight[0] if len(in_flight) == 1 else "one of " + ", ".join(in_flight)
        return FuseError(f"a -j {jobs} worker process died while fusing {which} (killed, e.g. by the system for "
                         f"lack of memory: try a smaller -j); {tally.done} pair(s) fused before it are written, "
                         "a rerun resumes with the rest")

    try:
        for _ in range(jobs):
            try:
                submit_next()
            except BrokenProcessPool:
                raise died() from None
        while pending:
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for fu in sorted(finished, key=pending.get):
                try:
                    result = fu.result()
                except BrokenProcessPool:
                    raise died() from None
                if result[0] == "setup":
                    raise FuseError(f"a -j {jobs} worker could not start: {result[1]}")
                i, info, failure = result
                del pending[fu]
                a, b, _ = todo[i]
                if failure:
                    failures.append((i, failure))
                else:
                    tally.add(a, b, info)
                bar.set_postfix_str(one_line(Path(a).name), refresh=False)
                bar.update(1)
                try:
                    submit_next()
                except BrokenProcessPool:
                    raise died() from None
    except BaseException:
        stop_workers(ex)  # Ctrl+C, SIGTERM, a dead worker: the others stopped now, not after their pairs
        _remove_temporaries(todo)
        bar.close()
        raise
    ex.shutdown(wait=True)
    return [f for _, f in sorted(failures)]
