"""Keeping Ctrl+C / SIGTERM out of a short critical section (renaming files into place).

Blocking the signals with ``pthread_sigmask`` is not enough in a process with other threads
(PyTorch's OpenMP pool, a test runner's I/O threads): the kernel then hands a process-directed
signal to a thread that does not block it, and CPython runs the Python handler in the main thread
at its next bytecode anyway. So the section swaps the *Python* handlers for one that only records
the signal, and re-raises the recorded signal in this thread once the section is over (the
original handler then acts: ``KeyboardInterrupt`` for SIGINT, mutualfuse's SIGTERM-as-Ctrl+C or
the default termination for SIGTERM).

It also keeps which stop signal ended a command (:func:`note_stop`, :func:`stop_status`): an
interrupted command exits ``128 + signum`` as a process killed by that signal reports it to a
shell, 130 for Ctrl+C (SIGINT) and 143 for SIGTERM (``kill``, ``timeout``, systemd, Kubernetes,
job schedulers), after its usual clean-up and "interrupted" line.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator

_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: the first stop signal (SIGINT / SIGTERM) that a handler of this process noted, if any
_STOPPED_BY: list[int] = []


def note_stop(signum: int) -> None:
    """Handlers that turn a stop signal into an interrupt note it here first: the first one is
    the command's exit status (:func:`stop_status`)."""
    if not _STOPPED_BY:
        _STOPPED_BY.append(int(signum))


def forget_stop() -> None:
    """A command starts (several may run in one process: tests, scripts): no stop noted."""
    _STOPPED_BY.clear()


def stop_status() -> int:
    """The exit status of an interrupted command: ``128 + signum`` of the first stop signal
    noted (143 for SIGTERM), else 130 (Ctrl+C: Python's own SIGINT handler notes nothing)."""
    return 128 + (_STOPPED_BY[0] if _STOPPED_BY else int(signal.SIGINT))


def stop_as_interrupt(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    """A signal handler: the signal (SIGTERM) ends the command as Ctrl+C does (``.part`` files
    removed, "interrupted"), with its own exit status (:func:`note_stop`)."""
    note_stop(signum)
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_held(now: bool = True) -> Iterator[Callable[[], None]]:
    """Hold SIGINT/SIGTERM from entry (``now``) or from the moment the yielded ``hold()`` is
    called, until the ``with`` ends; a signal that came meanwhile is delivered then. Outside the
    main thread (where Python cannot install handlers) nothing is held."""
    old: dict = {}
    got: list[int] = []

    def record(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
        got.append(signum)

    def hold() -> None:
        if old or threading.current_thread() is not threading.main_thread():
            return
        for s in _SIGNALS:
            prev = signal.signal(s, record)
            old[s] = signal.SIG_DFL if prev is None else prev

    if now:
        hold()
    try:
        yield hold
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if got:
            signal.raise_signal(got[0])


def _sigmask(how: str, signals) -> set:
    """``signal.pthread_sigmask(signal.<how>, signals)`` where the platform has it (not on
    Windows: nothing blocked) → the previous mask."""
    if not hasattr(signal, "pthread_sigmask"):
        return set()
    return signal.pthread_sigmask(getattr(signal, how), signals)


@contextlib.contextmanager
def signals_blocked() -> Iterator[None]:
    """SIGINT/SIGTERM blocked in this thread for the ``with`` (``pthread_sigmask``): a worker
    process started meanwhile inherits the mask (``fork``, and ``spawn``'s fork + exec), so a
    Ctrl+C that comes while it imports waits until it calls :func:`unblock_signals`, once it
    ignores Ctrl+C, instead of printing a ``KeyboardInterrupt`` traceback. Nothing is blocked
    where the platform cannot (Windows: Ctrl+C reaches every process of the console)."""
    old = _sigmask("SIG_BLOCK", _SIGNALS)
    try:
        yield
    finally:
        _sigmask("SIG_SETMASK", old)


def unblock_signals() -> None:
    """In a worker started under :func:`signals_blocked`: SIGINT/SIGTERM unblocked."""
    _sigmask("SIG_UNBLOCK", _SIGNALS)


def stop_workers(ex) -> None:
    """Stop a ``ProcessPoolExecutor`` now (Ctrl+C, SIGTERM, an error): queued work is cancelled
    and the work in flight abandoned instead of waited for (a slow job takes seconds or minutes;
    ``with`` or ``shutdown(wait=True)`` would wait for every queued one). Each worker is sent
    SIGTERM, then SIGKILL if it has not left within 2 s (a SIGTERM that came before its
    initializer installed its handler may be deferred)."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    ex.shutdown(wait=False, cancel_futures=True)
    for pr in procs:
        with contextlib.suppress(Exception):
            pr.terminate()
    for pr in procs:
        with contextlib.suppress(Exception):
            pr.join(2)
            if pr.is_alive():
                pr.kill()
                pr.join(5)
