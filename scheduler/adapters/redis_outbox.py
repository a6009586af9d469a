"""The Redis storage of the Slack outbox (`scheduler/outbox.py` explains lanes and envelopes; the keys
`pdm:outbox:*` are listed in `scheduler/adapters/redis_keys.py`)."""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from scheduler.adapters.redis_codec import RELEASE_IF_OWNER, RENEW_IF_OWNER, text
from scheduler.adapters.redis_keys import Keys
from scheduler.jobnames import JobName
from scheduler.notes import Owed
from scheduler.outbox import DeliveryKind, Envelope, lane_of
from scheduler.ports import JobQueue

DEAD_LETTERS_KEPT = 1000

_SETTLE = "if redis.call('LLEN', KEYS[1]) == 0 then return redis.call('ZREM', KEYS[2], ARGV[1]) end return 0"


def _epoch(at: datetime) -> float:
    return at.timestamp()


class Lease:
    """A sender's exclusive hold on one lane (renew it between messages)."""

    def __init__(self, outbox: Outbox, lane: str, token: str, ttl: timedelta) -> None:
        self._outbox, self.lane, self._token, self._ttl = outbox, lane, token, ttl

    def renew(self) -> bool:
        """Extend the hold; False when it was lost (expired, perhaps taken by another sender)."""
        return self._outbox.renew_lease(self.lane, self._token, self._ttl)


class Outbox:
    """Redis storage of owed messages (see the module docstring for the layout)."""

    def __init__(self, client: redis.Redis) -> None:
        self.r: Any = client
        self._release = client.register_script(RELEASE_IF_OWNER)
        self._renew = client.register_script(RENEW_IF_OWNER)
        self._settle = client.register_script(_SETTLE)

    # Owing -------------------------------------------------------------------------------------------

    def add(
        self,
        kind: DeliveryKind,
        now: datetime,
        deadline: datetime,
        *,
        note: Owed | None = None,
        response_url: str = "",
        text: str = "",
        ephemeral: bool = True,
    ) -> Envelope:
        """Owe a message: stored, appended to its lane, the lane due now unless it is waiting."""
        envelope = Envelope(
            id=str(self.r.incr(Keys.outbox("seq"))),
            lane=lane_of(note, response_url),
            kind=kind,
            created_at=now,
            deadline=deadline,
            note=note,
            response_url=response_url,
            text=text,
            ephemeral=ephemeral,
        )
        with self.r.pipeline(transaction=True) as pipe:
            pipe.set(Keys.outbox("msg", envelope.id), json.dumps(envelope.to_dict()))
            pipe.rpush(Keys.outbox("lane", envelope.lane), envelope.id)
            pipe.zadd(Keys.outbox("due"), {envelope.lane: _epoch(now)}, nx=True)
            pipe.zadd(Keys.outbox("owed"), {envelope.id: _epoch(now)})
            pipe.execute()
        return envelope

    def wake(self, queue: JobQueue, at: datetime | None = None, *, now: datetime | None = None) -> None:
        """Make sure a `deliver_notes` job runs now (at most one queued), or at `at` (one per second)."""
        if at is None or now is None or at <= now:
            self._queue_now(queue, unless_queued=True)
            return
        second = math.ceil(_epoch(at))
        ttl = max(60, second - int(_epoch(now)) + 60)
        if self.r.set(Keys.outbox("wake", str(second)), "1", nx=True, ex=ttl):
            queue.enqueue_at(datetime.fromtimestamp(second, UTC), JobName.DELIVER_NOTES.value)

    def resume(self, queue: JobQueue) -> None:
        """Wake the sender if anything is owed (a worker starting, the periodic reconcile), even when the
        wake flag says a `deliver_notes` job is queued: that job may have gone with a stopped worker, and
        the flag would hold every later wake-up back until it expires. A second job finds nothing due."""
        if self.r.zcard(Keys.outbox("owed")):
            self._queue_now(queue, unless_queued=False)

    def _queue_now(self, queue: JobQueue, *, unless_queued: bool) -> None:
        """Queue a `deliver_notes` job and flag it queued (`pdm:outbox:wake`, 5 min, cleared by `woken`);
        `unless_queued`: not when the flag says one is."""
        if self.r.set(Keys.outbox("wake"), "1", nx=unless_queued, ex=300):
            queue.enqueue(JobName.DELIVER_NOTES.value)

    def woken(self) -> None:
        """A `deliver_notes` job started: the next message owed must queue another one."""
        self.r.delete(Keys.outbox("wake"))

    # Delivering --------------------------------------------------------------------------------------

    def lanes(self) -> list[tuple[str, float]]:
        """Every lane holding owed messages with the epoch when its head may be tried, soonest first."""
        return [
            (text(lane), float(score))
            for lane, score in self.r.zrange(Keys.outbox("due"), 0, -1, withscores=True)
        ]

    @contextmanager
    def lease(self, lane: str, ttl: timedelta) -> Iterator[Lease | None]:
        """Hold `lane` for one sender (None when another holds it); released at the end."""
        token = secrets.token_hex(8)
        key = Keys.outbox("lease", lane)
        if not self.r.set(key, token, nx=True, px=int(ttl.total_seconds() * 1000)):
            yield None
            return
        try:
            yield Lease(self, lane, token, ttl)
        finally:
            self._release(keys=[key], args=[token])

    def renew_lease(self, lane: str, token: str, ttl: timedelta) -> bool:
        """Extend the hold `token` has on `lane`; False when it no longer has it."""
        millis = int(ttl.total_seconds() * 1000)
        return bool(self._renew(keys=[Keys.outbox("lease", lane)], args=[token, millis]))

    def lease_left(self, lane: str) -> timedelta:
        """How long another sender's hold on `lane` lasts at most."""
        return timedelta(milliseconds=max(0, int(self.r.pttl(Keys.outbox("lease", lane)))))

    def head(self, lane: str) -> Envelope | None:
        """The first owed message of `lane`."""
        while True:
            first = self.r.lindex(Keys.outbox("lane", lane), 0)
            if first is None:
                return None
            raw = self.r.get(Keys.outbox("msg", text(first)))
            if raw is not None:
                return Envelope.from_dict(json.loads(raw))
            self.r.lrem(Keys.outbox("lane", lane), 1, first)  # an id without its message: nothing to deliver

    def save(self, envelope: Envelope) -> None:
        """Store the delivery progress of `envelope`."""
        self.r.set(Keys.outbox("msg", envelope.id), json.dumps(envelope.to_dict()))

    def postpone(self, envelope: Envelope, until: datetime) -> None:
        """Keep `envelope` (with its attempts and error) at the head of its lane until `until`."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.set(Keys.outbox("msg", envelope.id), json.dumps(envelope.to_dict()))
            pipe.zadd(Keys.outbox("due"), {envelope.lane: _epoch(until)})
            pipe.execute()

    def done(self, envelope: Envelope) -> None:
        """`envelope` was delivered: no longer owed; its lane leaves the schedule when empty."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.lrem(Keys.outbox("lane", envelope.lane), 1, envelope.id)
            pipe.delete(Keys.outbox("msg", envelope.id))
            pipe.zrem(Keys.outbox("owed"), envelope.id)
            pipe.execute()
        self.settle(envelope.lane)

    def dead_letter(self, envelope: Envelope, reason: str, at: datetime) -> None:
        """Give up on `envelope`: kept (without its response_url) in the dead letters, no longer owed."""
        record = {**envelope.to_dict(), "response_url": "", "reason": reason, "dead_at": at.isoformat()}
        with self.r.pipeline(transaction=True) as pipe:
            pipe.lpush(Keys.outbox("dead"), json.dumps(record))
            pipe.ltrim(Keys.outbox("dead"), 0, DEAD_LETTERS_KEPT - 1)
            pipe.execute()
        self.done(envelope)

    def settle(self, lane: str) -> None:
        """Take `lane` off the schedule if nothing is owed in it (atomic against a concurrent `add`)."""
        self._settle(keys=[Keys.outbox("lane", lane), Keys.outbox("due")], args=[lane])

    # Reading -----------------------------------------------------------------------------------------

    def owed(self, now: datetime) -> tuple[int, float]:
        """How many messages are owed and the age in seconds of the oldest (0 when none)."""
        with self.r.pipeline(transaction=False) as pipe:
            pipe.zcard(Keys.outbox("owed"))
            pipe.zrange(Keys.outbox("owed"), 0, 0, withscores=True)
            count, oldest = pipe.execute()
        age = max(0.0, _epoch(now) - float(oldest[0][1])) if oldest else 0.0
        return int(count), age
