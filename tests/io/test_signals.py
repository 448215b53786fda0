"""``io.signals.interrupts_held``: Ctrl+C / SIGTERM during a critical section come after it."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from mutualfuse.io.signals import interrupts_held


def test_a_signal_from_another_thread_waits_for_the_end_of_the_section():
    """With other threads alive (as PyTorch's pool in a real run), blocking the signal mask of the
    main thread did not hold anything: the kernel gave the signal to another thread."""
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()
    done = []
    try:
        with pytest.raises(KeyboardInterrupt):
            with interrupts_held():
                threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT)).start()
                time.sleep(0.2)  # many bytecodes: a Python handler would have run by now
                done.append("section finished")
    finally:
        stop.set()
    assert done == ["section finished"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_hold_later_and_nothing_to_deliver():
    before = signal.getsignal(signal.SIGTERM)
    with interrupts_held(now=False) as hold:
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # not held yet
        hold()
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) == before
