"""Window edges, DST, year ends, absolute periods, composition and descriptions."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.policy.windows import (
    ALWAYS_WINDOW,
    Kind,
    Window,
    evaluate_windows,
)

UTC = ZoneInfo("UTC")
AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAY = Window("weekday-offpeak", Kind.ALLOW, UTC, "0 1 * * 1-5", timedelta(hours=5))
WEEKEND = Window("weekend", Kind.ALLOW, UTC, "0 0 * * 6", timedelta(hours=48))
FREEZE = Window("end-of-year-freeze", Kind.DENY, UTC, "0 0 20 12 *", timedelta(days=14))
NIGHT_AMS = Window("night", Kind.ALLOW, AMS, "30 2 * * *", timedelta(hours=2))
HOLIDAY = Window(
    "holiday", Kind.DENY, UTC, start=datetime(2026, 5, 8, tzinfo=UTC), end=datetime(2026, 5, 9, tzinfo=UTC)
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("window", "instant", "expected"),
    [
        (WEEKEND, "2026-01-10T00:00:00+00:00", True),
        (WEEKEND, "2026-01-09T23:59:00+00:00", False),
        (WEEKEND, "2026-01-11T23:59:00+00:00", True),
        (WEEKEND, "2026-01-12T00:00:00+00:00", False),
        (WEEKDAY, "2026-01-09T01:00:00+00:00", True),
        (WEEKDAY, "2026-01-09T00:59:59+00:00", False),
        (WEEKDAY, "2026-01-09T05:59:00+00:00", True),
        (WEEKDAY, "2026-01-09T06:00:00+00:00", False),
        (WEEKDAY, "2026-01-10T01:00:00+00:00", False),
        (FREEZE, "2025-12-31T23:59:00+00:00", True),
        (FREEZE, "2026-01-01T00:00:00+00:00", True),
        (FREEZE, "2026-01-02T23:59:00+00:00", True),
        (FREEZE, "2026-01-03T00:00:00+00:00", False),
        (FREEZE, "2025-12-19T23:59:00+00:00", False),
        (HOLIDAY, "2026-05-08T00:00:00+00:00", True),
        (HOLIDAY, "2026-05-09T00:00:00+00:00", False),
        (ALWAYS_WINDOW, "2026-05-09T00:00:00+00:00", True),
        (WEEKEND, "2026-01-10T01:00:00+01:00", True),
    ],
    ids=[
        "weekend-opening-minute",
        "weekend-minute-before",
        "weekend-last-minute",
        "weekend-closing-minute",
        "weekday-opening",
        "weekday-second-before",
        "weekday-last-minute",
        "weekday-closing",
        "weekday-not-saturday",
        "freeze-new-years-eve",
        "freeze-new-year",
        "freeze-last-minute",
        "freeze-closing",
        "freeze-before",
        "absolute-start",
        "absolute-end-excluded",
        "always",
        "other-offset-same-instant",
    ],
)
def test_window_is_open_at_its_edges(window: Window, instant: str, expected: bool) -> None:
    assert window.is_open(at(instant)) is expected


@pytest.mark.parametrize(
    ("instant", "expected_open", "expected_local_open"),
    [
        # spring forward 2026-03-29: 02:30 CET does not exist and happens at 03:30 CEST (01:30 UTC)
        ("2026-03-29T01:29:00+00:00", False, "2026-03-29T03:30:00+02:00"),
        ("2026-03-29T01:30:00+00:00", True, None),
        ("2026-03-29T03:29:00+00:00", True, None),
        ("2026-03-29T03:30:00+00:00", False, None),
        # the day after: 02:30 CEST = 00:30 UTC
        ("2026-03-30T00:30:00+00:00", True, None),
        # fall back 2026-10-25: 02:30 happens twice; the window opens at the first (00:30 UTC)
        ("2026-10-25T00:29:00+00:00", False, "2026-10-25T02:30:00+02:00"),
        ("2026-10-25T00:30:00+00:00", True, None),
        ("2026-10-25T02:29:00+00:00", True, None),
        ("2026-10-25T02:30:00+00:00", False, None),
        ("2026-10-26T01:30:00+00:00", True, None),
    ],
)
def test_cron_window_follows_amsterdam_dst(
    instant: str, expected_open: bool, expected_local_open: str | None
) -> None:
    assert NIGHT_AMS.is_open(at(instant)) is expected_open
    if expected_local_open:
        assert NIGHT_AMS.next_open(at(instant)) == at(expected_local_open)


def test_next_open_and_closes_at_of_the_weekend() -> None:
    friday = at("2026-01-09T15:00:00+00:00")
    assert WEEKEND.next_open(friday) == at("2026-01-10T00:00:00+00:00")
    assert WEEKEND.closes_at(friday) is None
    assert WEEKEND.closes_at(at("2026-01-10T13:00:00+00:00")) == at("2026-01-12T00:00:00+00:00")


def test_next_open_crosses_the_year_end() -> None:
    assert FREEZE.next_open(at("2026-01-05T00:00:00+00:00")) == at("2026-12-20T00:00:00+00:00")
    assert FREEZE.closes_at(at("2026-12-31T12:00:00+00:00")) == at("2027-01-03T00:00:00+00:00")


def test_overlapping_openings_merge_into_one_closing() -> None:
    weekdays_long = Window("long", Kind.ALLOW, UTC, "0 0 * * 1-5", timedelta(hours=30))
    assert weekdays_long.closes_at(at("2026-01-05T12:00:00+00:00")) == at("2026-01-10T06:00:00+00:00")
    assert weekdays_long.next_open(at("2026-01-05T12:00:00+00:00")) == at("2026-01-12T00:00:00+00:00")


@pytest.mark.parametrize(
    "window",
    [
        Window("daily-24h", Kind.ALLOW, UTC, "0 0 * * *", timedelta(hours=24)),
        Window("daily-48h", Kind.ALLOW, AMS, "0 0 * * *", timedelta(hours=48)),
        Window("every-minute", Kind.ALLOW, UTC, "* * * * *", timedelta(minutes=1)),
        Window("hourly-1h", Kind.ALLOW, UTC, "0 * * * *", timedelta(hours=1)),
        Window("weekly-7d", Kind.ALLOW, UTC, "0 0 * * 1", timedelta(days=7)),
    ],
    ids=lambda w: w.name,
)
def test_touching_openings_are_open_until_further_notice(window: Window) -> None:
    now = at("2026-03-28T12:00:00+00:00")  # across the European and after the US DST change
    assert window.is_open(now)
    assert window.closes_at(now) is None
    assert window.next_open(now) is None
    verdict = evaluate_windows([window], [], now)
    assert verdict.open and verdict.closes_at is None
    assert verdict.reasons == [f"window {window.name} is open until further notice"]


def test_hourly_openings_leave_the_repeated_autumn_hour_closed() -> None:
    hourly = Window("hourly-1h", Kind.ALLOW, ZoneInfo("America/New_York"), "0 * * * *", timedelta(hours=1))
    # 01:00 EDT fires once (05:00 UTC); the next fire is 02:00 EST (07:00 UTC)
    assert hourly.closes_at(at("2026-03-28T12:00:00+00:00")) == at("2026-11-01T06:00:00+00:00")
    assert not hourly.is_open(at("2026-11-01T06:30:00+00:00"))
    assert hourly.next_open(at("2026-11-01T06:30:00+00:00")) == at("2026-11-01T07:00:00+00:00")


def test_an_endless_allow_window_closes_where_a_deny_window_opens() -> None:
    daily = Window("daily-48h", Kind.ALLOW, UTC, "0 0 * * *", timedelta(hours=48))
    verdict = evaluate_windows([daily], [FREEZE], at("2026-12-01T08:00:00+00:00"))
    assert verdict.open and verdict.closes_at == at("2026-12-20T00:00:00+00:00")
    after = evaluate_windows([daily], [FREEZE], at("2026-12-25T08:00:00+00:00"))
    assert not after.open and after.next_open_at == at("2027-01-03T00:00:00+00:00")


@pytest.mark.parametrize(
    ("window", "text"),
    [
        (WEEKDAY, "weekdays 01:00–06:00 UTC"),
        (WEEKEND, "Sat 00:00 – Mon 00:00 UTC"),
        (FREEZE, "yearly from 20 Dec 00:00 for 14d UTC"),
        (NIGHT_AMS, "daily 02:30–04:30 Europe/Amsterdam"),
        (HOLIDAY, "2026-05-08 00:00 – 2026-05-09 00:00 UTC"),
        (ALWAYS_WINDOW, "always"),
        (Window("odd", Kind.ALLOW, UTC, "*/15 * * * *", timedelta(minutes=5)), "'*/15 * * * *' for 5m UTC"),
    ],
)
def test_describe_renders_windows_for_humans(window: Window, text: str) -> None:
    assert window.describe() == text


def test_deny_inside_allow_wins_and_reports_when_it_reopens() -> None:
    lunch = Window("lunch-freeze", Kind.DENY, UTC, "0 0 10 1 *", timedelta(hours=6))
    verdict = evaluate_windows([WEEKEND], [lunch], at("2026-01-10T03:00:00+00:00"))
    assert not verdict.open
    assert verdict.next_open_at == at("2026-01-10T06:00:00+00:00")
    assert "deny window lunch-freeze" in verdict.reasons[0]


def test_open_verdict_closes_when_a_deny_window_starts() -> None:
    lunch = Window("lunch-freeze", Kind.DENY, UTC, "0 12 10 1 *", timedelta(hours=1))
    verdict = evaluate_windows([WEEKEND], [lunch], at("2026-01-10T03:00:00+00:00"))
    assert verdict.open and verdict.window == "weekend"
    assert verdict.closes_at == at("2026-01-10T12:00:00+00:00")


def test_freeze_over_new_year_defers_the_weekend_to_january() -> None:
    verdict = evaluate_windows([WEEKEND], [FREEZE], at("2025-12-19T12:00:00+00:00"))
    assert verdict.next_open_at == at("2026-01-03T00:00:00+00:00")


def test_no_allow_window_never_opens() -> None:
    verdict = evaluate_windows([], [], at("2026-01-10T03:00:00+00:00"))
    assert not verdict.open and verdict.next_open_at is None
