"""The window algebra against a brute-force oracle: every minute of a bounded horizon, on random policies.

The oracle walks each schedule's fires one by one with croniter in the window's zone (the documented
rule: a wall-clock fire is read with the pre-transition offset), paints `[fire, fire + duration)` minute by
minute, and composes allow/deny per minute. The algebra must agree on `is_open`, `closes_at`,
`next_open` and the composed verdict at every sampled minute, edges included.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from scheduler.policy import windows as algebra
from scheduler.policy.windows import Kind, Window, evaluate_windows, next_fit

UTC = ZoneInfo("UTC")
HORIZON_MINUTES = 4 * 24 * 60
MAX_FIRES = 12_000

MINUTES = ["0", "30", "*/15", "0,45", "5-10", "*", "*/7"]
HOURS = ["*", "0", "1", "2", "0-5", "*/6", "22", "9-17"]
DOMS = ["*", "*", "1", "15", "1-7", "L", "29", "*/3"]
MONTHS = ["*", "*", "*", "3", "10,11", "12", "1-6"]
DOWS = ["*", "*", "1-5", "6", "0,6", "5#2", "sun", "3"]
DURATIONS = [1, 5, 59, 60, 61, 300, 1440, 1500, 2880, 4320, 20160]
ZONES = ["UTC", "Europe/Amsterdam", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
STARTS = [
    datetime(2026, 3, 27, tzinfo=UTC),  # Europe springs forward
    datetime(2026, 10, 23, tzinfo=UTC),  # Europe falls back
    datetime(2026, 3, 6, tzinfo=UTC),  # the US springs forward
    datetime(2026, 10, 30, tzinfo=UTC),  # the US falls back
    datetime(2026, 4, 3, tzinfo=UTC),  # Lord Howe falls back by 30 minutes
    datetime(2026, 12, 29, 13, 7, tzinfo=UTC),  # the year ends
    datetime(2028, 2, 26, tzinfo=UTC),  # a leap day
]


@st.composite
def windows(draw: st.DrawFn, kind: Kind) -> Window:
    fields = [draw(st.sampled_from(pool)) for pool in (MINUTES, HOURS, DOMS, MONTHS, DOWS)]
    return Window(
        name=f"{kind}-{draw(st.integers(0, 999))}",
        kind=kind,
        zone=ZoneInfo(draw(st.sampled_from(ZONES))),
        schedule=" ".join(fields),
        duration=timedelta(minutes=draw(st.sampled_from(DURATIONS))),
    )


def painted(window: Window, start: datetime) -> list[bool]:
    """Minute i is True when `window` is open at start + i minutes (fire by fire, no merging logic)."""
    assert window.schedule is not None and window.duration is not None
    minutes = [False] * HORIZON_MINUTES
    end = start + timedelta(minutes=HORIZON_MINUTES)
    base = (start - window.duration).astimezone(window.zone).replace(tzinfo=None) - timedelta(days=1)
    fires = croniter(window.schedule, base)
    for _ in range(MAX_FIRES):
        try:
            naive = fires.get_next(datetime)
        except Exception:  # croniter: no further fire
            return minutes
        fire = naive.replace(tzinfo=window.zone, fold=0).astimezone(UTC)
        if fire >= end:
            return minutes
        first = max(0, int((fire - start).total_seconds() // 60))
        last = min(HORIZON_MINUTES, int((fire + window.duration - start).total_seconds() // 60))
        for i in range(first, last):
            minutes[i] = True
    reject()  # too many fires for a brute-force walk
    return minutes


def samples(open_: list[bool], seed: int) -> list[int]:
    """Every edge minute and its neighbours, plus a spread of the others."""
    edges = {i for i in range(1, len(open_)) if open_[i] != open_[i - 1]}
    chosen = {j for i in edges for j in (i - 1, i, i + 1) if 0 <= j < len(open_)}
    chosen |= set(range(seed % 97, len(open_), 97))
    return sorted(chosen)


def closing(open_: list[bool], i: int) -> int | None:
    return next((j for j in range(i + 1, len(open_)) if not open_[j]), None)


def opening(open_: list[bool], i: int) -> int | None:
    return next((j for j in range(i + 1, len(open_)) if open_[j] and not open_[j - 1]), None)


def minute(start: datetime, i: int) -> datetime:
    return start + timedelta(minutes=i)


def check_closing(found: datetime | None, expected: int | None, start: datetime) -> None:
    if expected is None:  # beyond the oracle's horizon: later, or open until further notice
        assert found is None or found >= minute(start, HORIZON_MINUTES)
    else:
        assert found == minute(start, expected)


def agrees_with_the_oracle(window: Window, start: datetime, seed: int) -> None:
    open_ = painted(window, start)
    for i in samples(open_, seed):
        at = minute(start, i)
        assert window.is_open(at) is open_[i], at
        if open_[i]:
            check_closing(window.closes_at(at), closing(open_, i), start)
        else:
            assert window.closes_at(at) is None
        check_closing(window.next_open(at), opening(open_, i), start)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(window=windows(Kind.ALLOW), start=st.sampled_from(STARTS), seed=st.integers(0, 10_000))
def test_one_window_matches_the_minute_by_minute_oracle(window: Window, start: datetime, seed: int) -> None:
    agrees_with_the_oracle(window, start, seed)


@pytest.mark.parametrize(
    ("schedule", "zone", "minutes", "start"),
    [
        ("30 2 * * *", "Europe/Amsterdam", 120, STARTS[0]),
        ("30 2 * * *", "Europe/Amsterdam", 120, STARTS[1]),
        ("*/15 1-3 * * *", "Europe/Amsterdam", 5, STARTS[1]),
        ("0 * * * *", "America/New_York", 60, STARTS[3]),
        ("0 2 * * *", "America/New_York", 1440, STARTS[2]),
        ("*/15 * * * *", "Australia/Lord_Howe", 15, STARTS[4]),
        ("45 1 * * *", "Australia/Lord_Howe", 30, STARTS[4]),
        ("0 0 * * *", "UTC", 2880, STARTS[5]),
        ("0 0 29 2 *", "UTC", 1440, STARTS[6]),
    ],
)
def test_dst_year_end_and_leap_day_edges_match_the_oracle(
    schedule: str, zone: str, minutes: int, start: datetime
) -> None:
    window = Window("edge", Kind.ALLOW, ZoneInfo(zone), schedule, timedelta(minutes=minutes))
    agrees_with_the_oracle(window, start, seed=1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    allow=st.lists(windows(Kind.ALLOW), min_size=1, max_size=3),
    deny=st.lists(windows(Kind.DENY), max_size=2),
    start=st.sampled_from(STARTS),
    seed=st.integers(0, 10_000),
)
def test_composed_windows_match_the_minute_by_minute_oracle(
    allow: list[Window], deny: list[Window], start: datetime, seed: int
) -> None:
    allow = [replace(w, name=f"allow-{n}") for n, w in enumerate(allow)]
    allows = [painted(w, start) for w in allow]
    denies = [painted(w, start) for w in deny]
    open_ = [any(a[i] for a in allows) and not any(d[i] for d in denies) for i in range(HORIZON_MINUTES)]
    for i in samples(open_, seed):
        at = minute(start, i)
        verdict = evaluate_windows(allow, deny, at)
        assert verdict.open is open_[i], at
        if open_[i]:
            check_closing(verdict.closes_at, closing(open_, i), start)
            assert verdict.window is not None and allows[int(verdict.window.split("-")[1])][i]
        else:
            first = next((j for j in range(i + 1, HORIZON_MINUTES) if open_[j]), None)
            check_closing(verdict.next_open_at, first, start)


def first_fit_from(open_: list[bool], i: int, length: int) -> int | None:
    """The first minute from `i` that starts `length` open minutes in a row (within the horizon)."""
    run = 0
    for j in range(i, len(open_)):
        run = run + 1 if open_[j] else 0
        if run == length:
            return j - length + 1
    return None


CHUNK_EDGE = (
    algebra._CHUNK_EPOCH + ((STARTS[1] - algebra._CHUNK_EPOCH) // algebra._CHUNK + 1) * algebra._CHUNK
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    allow=st.lists(windows(Kind.ALLOW), min_size=1, max_size=3),
    deny=st.lists(windows(Kind.DENY), max_size=2),
    start=st.sampled_from([*STARTS, CHUNK_EDGE - timedelta(days=2)]),
    length=st.sampled_from([1, 5, 30, 61, 240, 1500]),
    seed=st.integers(0, 10_000),
)
def test_the_next_opening_a_run_fits_matches_the_minute_by_minute_oracle(
    allow: list[Window], deny: list[Window], start: datetime, length: int, seed: int
) -> None:
    allows = [painted(w, start) for w in allow]
    denies = [painted(w, start) for w in deny]
    open_ = [any(a[i] for a in allows) and not any(d[i] for d in denies) for i in range(HORIZON_MINUTES)]
    limit = start + timedelta(days=400)
    for i in samples(open_, seed)[:40]:
        found = next_fit(tuple(allow), tuple(deny), minute(start, i), timedelta(minutes=length), limit)
        expected = first_fit_from(open_, i, length)
        if expected is None:  # none within the oracle's horizon: later, or never
            assert found is None or found > minute(start, HORIZON_MINUTES - length), (i, found)
        else:
            assert found == minute(start, expected), (i, found, expected)


def test_a_stretch_across_the_edge_of_two_memoised_chunks_fits_as_one() -> None:
    nightly = Window("nightly", Kind.ALLOW, UTC, "0 20 * * *", timedelta(hours=8))  # 20:00-04:00
    edge = CHUNK_EDGE
    assert edge.hour == 0  # the chunks start at midnight: the night's stretch crosses the edge
    found = next_fit((nightly,), (), edge - timedelta(hours=4), timedelta(hours=8), edge + timedelta(days=9))
    assert found == edge - timedelta(hours=4)
    assert next_fit((nightly,), (), edge - timedelta(hours=3), timedelta(hours=8), edge + HOURS_400) == (
        edge + timedelta(hours=20)
    )


def test_a_run_longer_than_every_opening_finds_none_and_a_far_opening_is_found() -> None:
    quarters = Window("quarters", Kind.ALLOW, UTC, "*/15 * * * *", timedelta(minutes=10))
    monthly = Window("first-saturday", Kind.ALLOW, UTC, "0 0 * * 6#1", timedelta(hours=6))
    since = datetime(2026, 2, 9, tzinfo=UTC)  # Monday; the next first Saturday is 2026-03-07
    assert next_fit((quarters,), (), since, timedelta(minutes=12), since + HOURS_400) is None
    found = next_fit((quarters, monthly), (), since, timedelta(minutes=12), since + HOURS_400)
    assert found == datetime(2026, 3, 7, tzinfo=UTC)


HOURS_400 = timedelta(days=400)
