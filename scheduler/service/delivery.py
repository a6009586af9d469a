"""The sender of the Slack outbox, behind the `deliver_notes` job: owed messages delivered lane by lane.

A pass takes each lane whose head is due, holds it (one sender per lane, `Outbox.lease`) and delivers
its messages in order until the lane is empty, a delivery fails, or the pass's time budget is spent.
A failure that may pass (HTTP 429 or 5xx, no answer, a Slack error an operator can fix such as
`not_in_channel` or `invalid_auth`) postpones the lane: by Slack's Retry-After, else by exponential
back-off. A message still undelivered at its deadline, or one Slack refuses for good (`invalid_blocks`,
`msg_too_long`, …), is dead-lettered and audited (`slack_dead_letter`); a message delivered after
failed attempts is audited too (`slack_delivered_late`). The pass returns when the next lane is due.

Exactly once, but for one window: Slack accepted a post and its answer was lost (a timeout, a crash
before the progress was stored); the retry then posts it again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from scheduler.errors import DeliveryError, PdmError
from scheduler.notes import DiffNote, Message, ProposalNote, RunNote, RunRequestAnswer
from scheduler.outbox import DeliveryKind, Envelope
from scheduler.ports import LeasePort, Transport
from scheduler.records import SlackMessage
from scheduler.service.audit import audit
from scheduler.service.context import WorkerContext

log = logging.getLogger(__name__)
T = TypeVar("T")


def deliver(ctx: WorkerContext) -> datetime | None:
    """One pass over the due lanes; returns when the next lane is due (None: nothing is owed)."""
    if ctx.slack is None:
        raise PdmError("messages are owed but no Slack transport is configured")
    transport = _Guarded(ctx.slack)
    outbox, timing = ctx.outbox, ctx.outbox_timing
    started = ctx.clock()
    wake: list[datetime] = []
    for lane, due in outbox.lanes():
        now = ctx.clock()
        if due > now.timestamp():
            wake.append(datetime.fromtimestamp(due, UTC))
            continue
        if now - started >= timing.budget:
            return now  # more is due: the next pass follows at once
        with outbox.lease(lane, timing.lease) as lease:
            if lease is None:  # another sender has it; looked at again if that one dies
                wake.append(now + outbox.lease_left(lane))
                continue
            again = _drain(ctx, transport, lease, started)
        if again is not None:
            wake.append(again)
    return min(wake, default=None)


class _Guarded:
    """A transport whose unexpected failures (a message that cannot be rendered) are permanent
    `DeliveryError`s: such a message is dead-lettered and must not hold up its thread. Failures of the
    store around the transport are not caught: the pass ends and the message stays owed."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    @property
    def channel(self) -> str:
        return self._transport.channel

    def _call(self, method: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return method(*args, **kwargs)
        except DeliveryError:
            raise
        except Exception as exc:
            log.exception("outbox message cannot be delivered")
            raise DeliveryError(f"cannot be delivered: {type(exc).__name__}: {exc}", permanent=True) from exc

    def parts(self, note: Message) -> int:
        return self._call(self._transport.parts, note)

    def post(self, note: Message, thread_ts: str | None, part: int = 0) -> str:
        return self._call(self._transport.post, note, thread_ts, part)

    def update(self, note: Message, ts: str) -> None:
        self._call(self._transport.update, note, ts)

    def respond(self, response_url: str, answer: str | RunRequestAnswer, *, ephemeral: bool) -> None:
        self._call(self._transport.respond, response_url, answer, ephemeral=ephemeral)


def _drain(ctx: WorkerContext, transport: Transport, lease: LeasePort, started: datetime) -> datetime | None:
    """Deliver the messages of a held lane in order; when to come back (None: the lane is empty)."""
    outbox = ctx.outbox
    while True:
        envelope = outbox.head(lease.lane)
        if envelope is None:
            outbox.settle(lease.lane)
            return None
        now = ctx.clock()
        if now >= envelope.deadline:
            reason = f"not delivered by its deadline {envelope.deadline.isoformat()}"
            _dead_letter(ctx, envelope, f"{reason} ({envelope.last_error or 'never tried'})")
            continue
        try:
            _send(ctx, transport, envelope)
        except DeliveryError as exc:
            if exc.permanent:
                _dead_letter(ctx, outbox.head(lease.lane) or envelope, str(exc))
                continue
            return _postpone(ctx, outbox.head(lease.lane) or envelope, exc)
        _delivered(ctx, envelope)
        now = ctx.clock()
        if now - started >= ctx.outbox_timing.budget:
            return now
        if not lease.renew():
            return None  # the hold lapsed: whoever took the lane goes on


def _thread_ts(ctx: WorkerContext, note: Message) -> str | None:
    root = ctx.state.thread(note.environment, note.thread_sha) if note.thread_sha else None
    return root.ts if root else None


def _send(ctx: WorkerContext, transport: Transport, envelope: Envelope) -> None:
    """Deliver one envelope (raises `DeliveryError`); a diff stores its progress part by part."""
    note = envelope.note
    if envelope.kind is DeliveryKind.RESPOND or note is None:
        answer = note if isinstance(note, RunRequestAnswer) else envelope.text
        transport.respond(envelope.response_url, answer, ephemeral=envelope.ephemeral)
        return
    if isinstance(note, RunRequestAnswer):
        raise PdmError(f"a /pdm run answer is owed as {envelope.kind}, not as an answer")
    if envelope.kind is DeliveryKind.UPDATE and isinstance(note, RunNote):
        message = ctx.state.proposal_message(note.run_id)
        if message is not None:
            try:
                transport.update(note, message.ts)
                return
            except DeliveryError as exc:
                if not exc.gone:
                    raise
                log.warning(
                    "proposal message of %s is gone (%s): posting the decision instead", note.run_id, exc
                )
        transport.post(note, _thread_ts(ctx, note))
        return
    if isinstance(note, DiffNote):
        _post_diff(ctx, transport, envelope, note)
        return
    ts = transport.post(note, _thread_ts(ctx, note))
    if isinstance(note, ProposalNote):
        ctx.state.set_proposal_message(note.run_id, SlackMessage(transport.channel, ts))


def _post_diff(ctx: WorkerContext, transport: Transport, envelope: Envelope, note: DiffNote) -> None:
    """The root of the package thread (once per package), then the diff's replies, resumable."""
    root = envelope.root_ts
    if not root:
        if ctx.state.thread(note.environment, note.thread_sha) is not None:
            return  # the package's thread exists: its diff was delivered before
        root = transport.post(note, None)
        envelope = replace(envelope, root_ts=root, step=1)
        ctx.outbox.save(envelope)
    ctx.state.set_thread(note.environment, note.thread_sha, SlackMessage(transport.channel, root))
    for part in range(envelope.step, transport.parts(note)):
        transport.post(note, root, part)
        envelope = replace(envelope, step=part + 1)
        ctx.outbox.save(envelope)


def _postpone(ctx: WorkerContext, envelope: Envelope, exc: DeliveryError) -> datetime:
    attempts = envelope.attempts + 1
    delay = ctx.outbox_timing.retry_delay(attempts, exc.retry_after)
    until = min(ctx.clock() + delay, envelope.deadline)  # given up on at its deadline, not at the next try
    ctx.outbox.postpone(replace(envelope, attempts=attempts, last_error=str(exc)), until)
    log.warning(
        "outbox message %s (%s) postponed %.1f s after attempt %d: %s",
        envelope.id,
        envelope.lane,
        delay.total_seconds(),
        attempts,
        exc,
    )
    return until


def _delivered(ctx: WorkerContext, envelope: Envelope) -> None:
    ctx.outbox.done(envelope)
    if envelope.attempts:
        now = ctx.clock()
        late = int((now - envelope.created_at).total_seconds())
        reason = f"delivered after {envelope.attempts} failed attempts, {late} s after it was owed"
        audit(ctx.state, now, "slack_delivered_late", envelope.environment, reason, **envelope.summary())


def _dead_letter(ctx: WorkerContext, envelope: Envelope, reason: str) -> None:
    now = ctx.clock()
    ctx.outbox.dead_letter(envelope, reason, now)
    ctx.telemetry.slack_dead_letter()
    audit(ctx.state, now, "slack_dead_letter", envelope.environment, reason, **envelope.summary())


def deliver_notes(ctx: WorkerContext) -> None:
    """The `deliver_notes` job: one pass; wake again when more is due."""
    ctx.outbox.woken()
    at = deliver(ctx)
    if at is not None:
        ctx.outbox.wake(ctx.queue, at, now=ctx.clock())
