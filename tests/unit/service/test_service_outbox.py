"""The Slack outbox on fakes: owed messages wait in their lane, are retried after Slack's Retry-After,
delivered in order, dead-lettered when Slack refuses them for good or their deadline passes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from scheduler.errors import DeliveryError
from scheduler.notes import TextNote
from scheduler.outbox import OutboxNotifier, OutboxTiming
from scheduler.service.delivery import deliver
from tests.fakes import FakeTransport
from tests.support.service import Fakes, fakes
from tests.support.worker import DEPLOYED, SATURDAY

FIRST, SECOND = TextNote("gstg", DEPLOYED, "first"), TextNote("gstg", DEPLOYED, "second")


def outbox_fakes(transport: FakeTransport, timing: OutboxTiming | None = None) -> Fakes:
    f, timing = fakes(SATURDAY), timing or OutboxTiming()
    f.ctx = replace(f.ctx, slack=transport, outbox_timing=timing)
    f.ctx.notifier = OutboxNotifier(f.store.outbox(), f.queue, timing, f.clock)
    return f


def test_a_note_is_owed_first_and_delivered_by_the_sender() -> None:
    transport = FakeTransport()
    f = outbox_fakes(transport)

    f.ctx.notifier.post(FIRST)

    assert f.store.owed.owed_envelopes()[0].note == FIRST and transport.posts == []
    assert f.store.owed.wakes == [None]
    assert deliver(f.ctx) is None
    assert [note for note, _, _ in transport.posts] == [FIRST] and f.store.owed.owed_envelopes() == []


def test_a_refusal_for_now_postpones_the_lane_by_retry_after_and_keeps_its_order() -> None:
    transport = FakeTransport(failures=[DeliveryError("ratelimited", retry_after=5)])
    f = outbox_fakes(transport)
    f.ctx.notifier.post(FIRST)
    f.ctx.notifier.post(SECOND)

    again = deliver(f.ctx)

    assert again == SATURDAY + timedelta(seconds=5) and transport.posts == []
    f.clock.advance(timedelta(seconds=5))
    assert deliver(f.ctx) is None
    assert [note for note, _, _ in transport.posts] == [FIRST, SECOND]
    (late,) = [e for e in f.store.audits if e.action == "slack_delivered_late"]
    assert late.details["attempts"] == 1 and "after 1 failed attempts" in late.reason


def test_a_message_slack_refuses_for_good_is_dead_lettered_and_counted() -> None:
    transport = FakeTransport(failures=[DeliveryError("invalid_blocks", permanent=True)])
    f = outbox_fakes(transport)
    f.ctx.notifier.post(FIRST)
    f.ctx.notifier.post(SECOND)

    deliver(f.ctx)

    ((dead, reason),) = f.store.owed.dead
    assert dead.note == FIRST and reason == "invalid_blocks"
    assert [note for note, _, _ in transport.posts] == [SECOND]
    assert f.store.counters.dead_letters == 1 and "slack_dead_letter" in f.store.actions()


def test_a_message_still_owed_at_its_deadline_is_given_up_on() -> None:
    transport = FakeTransport(failures=[DeliveryError("service down")])
    f = outbox_fakes(transport, OutboxTiming(deadline=timedelta(minutes=1)))
    f.ctx.notifier.post(FIRST)

    assert deliver(f.ctx) == SATURDAY + timedelta(seconds=1)
    f.clock.advance(timedelta(minutes=2))
    deliver(f.ctx)

    ((dead, reason),) = f.store.owed.dead
    assert (
        dead.note == FIRST and reason.startswith("not delivered by its deadline") and "service down" in reason
    )
    assert transport.posts == []


def test_a_message_that_cannot_be_rendered_is_dead_lettered_and_its_thread_goes_on() -> None:
    transport = FakeTransport(failures=[KeyError("nature")])
    f = outbox_fakes(transport)
    f.ctx.notifier.post(FIRST)
    f.ctx.notifier.post(SECOND)

    assert deliver(f.ctx) is None

    ((dead, reason),) = f.store.owed.dead
    assert dead.note == FIRST and reason == "cannot be delivered: KeyError: 'nature'"
    assert [note for note, _, _ in transport.posts] == [SECOND]
