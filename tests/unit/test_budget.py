"""The evaluation time budget: aborts a block that runs too long, nests inside an outer alarm."""

from __future__ import annotations

import signal
import time

import pytest

from scheduler.budget import BudgetExceeded, time_budget


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def test_a_block_over_its_budget_is_aborted() -> None:
    with pytest.raises(BudgetExceeded, match=r"time budget of 0\.05 s"), time_budget(0.05):
        spin(5)


def test_a_block_within_its_budget_runs_to_the_end_and_leaves_no_alarm() -> None:
    with time_budget(5):
        spin(0.01)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, signal.default_int_handler, None)


def test_an_outer_alarm_is_rearmed_with_its_remaining_time() -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append(signum))
    try:
        signal.setitimer(signal.ITIMER_REAL, 10)
        with time_budget(1):
            spin(0.01)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 8 < remaining <= 10
        assert not fired
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_no_budget_means_no_alarm() -> None:
    with time_budget(0):
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
