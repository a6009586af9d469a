"""A wall-clock budget for a piece of CPU-bound work (the worker's `decide`).

`time_budget(seconds)` raises `BudgetExceeded` inside the block when it runs longer than `seconds`
(SIGALRM, main thread only; elsewhere the block runs unbounded and the overrun is still measured by the
caller). An alarm armed by someone else (RQ's job timeout) is re-armed with its remaining time after the
block, so the two budgets nest.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class BudgetExceeded(Exception):
    """The block ran longer than its budget."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"exceeded its time budget of {seconds:g} s")
        self.seconds = seconds


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise `BudgetExceeded` in the block once `seconds` have passed (0 or less: no budget)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: FrameType | None) -> None:
        raise BudgetExceeded(seconds)

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expired)
    outer = 0.0
    try:
        outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 0.001))
