"""The pure parts of the Slack outbox: retry spacing, lanes (what is ordered with what), envelopes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.classify.model import Classification
from scheduler.natures import Nature
from scheduler.notes import DiffNote, ProposalNote, RunEvent, RunNote, TextNote
from scheduler.outbox import DeliveryKind, Envelope, OutboxTiming, lane_of

AT = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
SHA = "c" * 40


@pytest.mark.parametrize(
    "attempt, expected",
    [(1, 1), (2, 2), (3, 4), (4, 8), (9, 256), (10, 300), (60, 300)],
)
def test_without_retry_after_the_wait_doubles_from_one_second_up_to_five_minutes(
    attempt: int, expected: float
) -> None:
    assert OutboxTiming().retry_delay(attempt) == timedelta(seconds=expected)


@pytest.mark.parametrize("retry_after", [0.0, 1.0, 30.0, 900.0])
def test_slacks_retry_after_is_the_wait_whatever_the_attempt(retry_after: float) -> None:
    for attempt in (1, 5, 20):
        assert OutboxTiming().retry_delay(attempt, retry_after) == timedelta(seconds=retry_after)


def test_a_negative_retry_after_waits_nothing_rather_than_going_back_in_time() -> None:
    assert OutboxTiming().retry_delay(3, -5.0) == timedelta(0)


def test_the_back_off_follows_its_base_and_cap() -> None:
    timing = OutboxTiming(backoff=timedelta(seconds=0.25), backoff_cap=timedelta(seconds=2))
    assert [timing.retry_delay(a).total_seconds() for a in range(1, 7)] == [0.25, 0.5, 1, 2, 2, 2]


def test_every_note_of_a_package_thread_shares_one_lane_and_other_threads_do_not() -> None:
    migration = Classification(
        path="db/post_migrate/20260100000000_m.rb",
        version="20260100000000",
        name="m",
        primary_nature=Nature.NO_OP,
        natures=[Nature.NO_OP],
    )
    thread = {
        lane_of(DiffNote("gprd", SHA, SHA[:8], AT, [migration])),
        lane_of(ProposalNote("gprd", SHA, "gprd-1", ["1"], "1", "no_op", "auto", [], 1, "", None)),
        lane_of(RunNote("gprd", SHA, "gprd-1", RunEvent.STARTED, ["1"], "1")),
        lane_of(TextNote("gprd", SHA, "x")),
    }
    assert thread == {f"thread:gprd:{SHA}"}
    assert lane_of(TextNote("gstg", SHA, "x")) == f"thread:gstg:{SHA}"
    assert lane_of(TextNote("gprd", None, "x")) == "channel:gprd"


def test_a_response_url_has_its_own_lane_that_does_not_spell_the_url() -> None:
    url = "https://hooks.slack.com/actions/T1/123/SeCrEt"
    lane = lane_of(None, url)
    assert lane.startswith("respond:") and "SeCrEt" not in lane and lane != lane_of(None, url + "x")


def test_an_envelope_round_trips_through_json_with_its_note_and_progress() -> None:
    note = RunNote("gprd", SHA, "gprd-1", RunEvent.STARTING_SOON, ["1"], "1", starts_at=AT)
    envelope = Envelope(
        "7",
        lane_of(note),
        DeliveryKind.POST,
        AT,
        AT + timedelta(hours=24),
        note=note,
        attempts=2,
        step=1,
        root_ts="1.2",
        last_error="http_503",
    )
    assert Envelope.from_dict(envelope.to_dict()) == envelope
    summary = envelope.summary()
    assert summary["note"] == "RunNote" and summary["run_id"] == "gprd-1"
    assert summary["run_event"] == "starting_soon" and summary["attempts"] == 2


def test_an_answer_envelope_summarises_without_its_response_url() -> None:
    url = "https://hooks.slack.com/actions/T1/123/SeCrEt"
    envelope = Envelope("8", lane_of(None, url), DeliveryKind.RESPOND, AT, AT, response_url=url, text="hi")
    assert Envelope.from_dict(envelope.to_dict()) == envelope
    assert "SeCrEt" not in str(envelope.summary()) and envelope.environment == ""
