"""Run a call repeatedly in several threads at once (thread-safety tests)."""
from __future__ import annotations

import threading
from typing import Callable


def errors_in_threads(call: Callable[[], object], repeat: int, threads: int = 3) -> list[BaseException]:
    """``call()`` ``repeat`` times in each of ``threads`` threads started together; the
    exceptions raised (one per thread at most), empty when every call returned."""
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(repeat):
                call()
        except Exception as e:  # noqa: BLE001 - reported to the test
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors
