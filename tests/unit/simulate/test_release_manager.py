"""When the simulated release manager answers: its hours are the policy's working-hours window (UTC).

2026-01-09 is a Friday; 2026-01-10 a Saturday; 2026-01-12 a Monday.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from scheduler.simulate.scenario import ReleaseManager, ReleaseManagerHours


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("hours", "asked", "answered"),
    [
        ({}, "2026-01-09T09:00:00+00:00", "2026-01-09T09:00:00+00:00"),  # opening included
        ({}, "2026-01-09T16:59:00+00:00", "2026-01-09T16:59:00+00:00"),
        ({}, "2026-01-09T17:00:00+00:00", "2026-01-12T09:00:00+00:00"),  # closing excluded, weekend
        ({}, "2026-01-12T08:59:00+00:00", "2026-01-12T09:00:00+00:00"),
        ({"weekdays_only": False}, "2026-01-09T17:00:00+00:00", "2026-01-10T09:00:00+00:00"),
        ({"start_hour": 0, "end_hour": 24}, "2026-01-10T12:00:00+00:00", "2026-01-12T00:00:00+00:00"),
        ({"start_hour": 0, "end_hour": 24}, "2026-01-09T23:59:00+00:00", "2026-01-09T23:59:00+00:00"),
        (
            {"start_hour": 0, "end_hour": 24, "weekdays_only": False},
            "2026-01-10T12:00:00+00:00",
            "2026-01-10T12:00:00+00:00",
        ),
        ({"start_hour": 22, "end_hour": 24}, "2026-01-09T23:30:00+01:00", "2026-01-09T22:30:00+00:00"),
    ],
)
def test_an_answer_comes_at_once_in_working_hours_else_at_the_next_opening(
    hours: dict[str, object], asked: str, answered: str
) -> None:
    assert ReleaseManagerHours.model_validate(hours).next_answer(at(asked)) == at(answered)


def test_the_answer_comes_after_the_approval_delay() -> None:
    manager = ReleaseManager.model_validate({"approval_delay_minutes": 45})
    assert manager.answer_at(at("2026-01-09T16:30:00+00:00")) == at("2026-01-12T09:00:00+00:00")
    assert manager.answer_at(at("2026-01-09T16:00:00+00:00")) == at("2026-01-09T16:45:00+00:00")
