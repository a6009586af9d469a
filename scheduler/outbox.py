"""The Slack outbox: every message the bot owes is written to Redis first, delivered later by the sender.

Jobs hand notes to `OutboxNotifier` (the `Notifier` of production); it stores an `Envelope` and wakes
the `deliver_notes` job (`scheduler/delivery.py`), which sends it and retries until it is delivered or
its deadline passes. Envelopes wait in lanes, one per thread (`thread:{env}:{sha}`), one for top-level
messages of an environment (`channel:{env}`) and one per `response_url`: within a lane only the head is
tried, so a reply never overtakes its thread root and an edit never overtakes its post.

| key                        | type   | content                                                  |
|----------------------------|--------|----------------------------------------------------------|
| pdm:outbox:seq             | string | counter behind envelope ids                              |
| pdm:outbox:msg:{id}        | string | Envelope JSON                                            |
| pdm:outbox:lane:{lane}     | list   | envelope ids in delivery order                           |
| pdm:outbox:due             | zset   | lane → epoch seconds when its head may be tried          |
| pdm:outbox:owed            | zset   | envelope id → epoch seconds of its creation              |
| pdm:outbox:lease:{lane}    | string | the one sender working on a lane, expires (PX)           |
| pdm:outbox:dead            | list   | the latest 1,000 dead-lettered envelopes, newest first   |
| pdm:outbox:wake            | string | a `deliver_notes` job is queued and has not started yet  |
| pdm:outbox:wake:{epoch}    | string | a `deliver_notes` job is scheduled at that second        |
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import redis
from rq import Queue

from scheduler.notes import Note, RunNote, note_from_dict, note_to_dict

DELIVER_JOB = "scheduler.jobs.deliver_notes"
PREFIX = "pdm:outbox"
DEAD_LETTERS_KEPT = 1000
RESPONSE_URL_LIFETIME = timedelta(minutes=30)  # Slack accepts answers on a response_url this long

_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
_RENEW = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then "
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
)
_SETTLE = "if redis.call('LLEN', KEYS[1]) == 0 then return redis.call('ZREM', KEYS[2], ARGV[1]) end return 0"


class Kind(StrEnum):
    """What delivering an envelope does."""

    POST = "post"  # chat.postMessage (a diff: its root, then its replies)
    UPDATE = "update"  # chat.update of a run's proposal message (posted instead when it has none)
    RESPOND = "respond"  # an answer through a slash command's response_url


@dataclass(frozen=True)
class OutboxTiming:
    """How long a message is owed and how its retries are spaced (`PDM_SLACK_*` settings)."""

    deadline: timedelta = timedelta(hours=24)
    backoff: timedelta = timedelta(seconds=1)
    backoff_cap: timedelta = timedelta(minutes=5)
    lease: timedelta = timedelta(seconds=30)  # > one Slack call (10 s timeout); renewed per message
    budget: timedelta = timedelta(seconds=20)

    def retry_delay(self, attempt: int, retry_after: float | None = None) -> timedelta:
        """Wait before retry `attempt` (1-based): Slack's Retry-After when it gave one, else exponential
        back-off from `backoff`, doubling per attempt, at most `backoff_cap`."""
        if retry_after is not None:
            return timedelta(seconds=max(0.0, retry_after))
        delay: timedelta = self.backoff * (2 ** min(max(attempt, 1) - 1, 30))
        return min(delay, self.backoff_cap)


@dataclass(frozen=True)
class Envelope:
    """One owed message with its delivery progress."""

    id: str
    lane: str
    kind: Kind
    created_at: datetime
    deadline: datetime
    note: Note | None = None
    response_url: str = ""
    text: str = ""
    ephemeral: bool = True
    attempts: int = 0
    step: int = 0  # parts of a multi-part post already delivered
    root_ts: str = ""  # ts of a diff's root once posted
    last_error: str = ""

    @property
    def environment(self) -> str:
        """The environment of the note ("" for a response_url answer)."""
        return self.note.environment if self.note is not None else ""

    def summary(self) -> dict[str, Any]:
        """What the audit log and the logs say about this envelope (never the response_url)."""
        note = self.note
        return {
            "message_id": self.id,
            "lane": self.lane,
            "kind": str(self.kind),
            "note": type(note).__name__ if note is not None else "response",
            "run_id": getattr(note, "run_id", None),
            "run_event": str(getattr(note, "event", "")) or None,
            "attempts": self.attempts,
            "owed_since": self.created_at.isoformat(),
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        data = dataclasses.asdict(self)
        data.update(
            kind=str(self.kind),
            created_at=self.created_at.isoformat(),
            deadline=self.deadline.isoformat(),
            note=note_to_dict(self.note) if self.note is not None else None,
        )
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        """Inverse of `to_dict`."""
        return cls(
            **{
                **data,
                "kind": Kind(data["kind"]),
                "created_at": datetime.fromisoformat(data["created_at"]),
                "deadline": datetime.fromisoformat(data["deadline"]),
                "note": note_from_dict(data["note"]) if data.get("note") is not None else None,
            }
        )


def lane_of(note: Note | None, response_url: str = "") -> str:
    """The lane of a note: its package thread, else its environment's top level; a response_url its own."""
    if note is None:
        return "respond:" + hashlib.sha256(response_url.encode()).hexdigest()[:16]
    if note.thread_sha:
        return f"thread:{note.environment}:{note.thread_sha}"
    return f"channel:{note.environment}"


def _key(*parts: str) -> str:
    return ":".join((PREFIX, *parts))


def _epoch(at: datetime) -> float:
    return at.timestamp()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


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
        self._release = client.register_script(_RELEASE)
        self._renew = client.register_script(_RENEW)
        self._settle = client.register_script(_SETTLE)

    # Owing -------------------------------------------------------------------------------------------

    def add(
        self,
        kind: Kind,
        now: datetime,
        deadline: datetime,
        *,
        note: Note | None = None,
        response_url: str = "",
        text: str = "",
        ephemeral: bool = True,
    ) -> Envelope:
        """Owe a message: stored, appended to its lane, the lane due now unless it is waiting."""
        envelope = Envelope(
            id=str(self.r.incr(_key("seq"))),
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
            pipe.set(_key("msg", envelope.id), json.dumps(envelope.to_dict()))
            pipe.rpush(_key("lane", envelope.lane), envelope.id)
            pipe.zadd(_key("due"), {envelope.lane: _epoch(now)}, nx=True)
            pipe.zadd(_key("owed"), {envelope.id: _epoch(now)})
            pipe.execute()
        return envelope

    def wake(self, queue: Queue, at: datetime | None = None, *, now: datetime | None = None) -> None:
        """Make sure a `deliver_notes` job runs now (at most one queued), or at `at` (one per second)."""
        if at is None or now is None or at <= now:
            if self.r.set(_key("wake"), "1", nx=True, ex=300):
                queue.enqueue(DELIVER_JOB)
            return
        second = math.ceil(_epoch(at))
        ttl = max(60, second - int(_epoch(now)) + 60)
        if self.r.set(_key("wake", str(second)), "1", nx=True, ex=ttl):
            queue.enqueue_at(datetime.fromtimestamp(second, UTC), DELIVER_JOB)

    def resume(self, queue: Queue) -> None:
        """Wake the sender if anything is owed (a worker starting, the periodic reconcile)."""
        if self.r.zcard(_key("owed")):
            self.wake(queue)

    def woken(self) -> None:
        """A `deliver_notes` job started: the next message owed must queue another one."""
        self.r.delete(_key("wake"))

    # Delivering --------------------------------------------------------------------------------------

    def lanes(self) -> list[tuple[str, float]]:
        """Every lane holding owed messages with the epoch when its head may be tried, soonest first."""
        return [
            (_text(lane), float(score)) for lane, score in self.r.zrange(_key("due"), 0, -1, withscores=True)
        ]

    @contextmanager
    def lease(self, lane: str, ttl: timedelta) -> Iterator[Lease | None]:
        """Hold `lane` for one sender (None when another holds it); released at the end."""
        token = secrets.token_hex(8)
        key = _key("lease", lane)
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
        return bool(self._renew(keys=[_key("lease", lane)], args=[token, millis]))

    def lease_left(self, lane: str) -> timedelta:
        """How long another sender's hold on `lane` lasts at most."""
        return timedelta(milliseconds=max(0, int(self.r.pttl(_key("lease", lane)))))

    def head(self, lane: str) -> Envelope | None:
        """The first owed message of `lane`."""
        while True:
            first = self.r.lindex(_key("lane", lane), 0)
            if first is None:
                return None
            raw = self.r.get(_key("msg", _text(first)))
            if raw is not None:
                return Envelope.from_dict(json.loads(raw))
            self.r.lrem(_key("lane", lane), 1, first)  # an id without its message: nothing to deliver

    def save(self, envelope: Envelope) -> None:
        """Store the delivery progress of `envelope`."""
        self.r.set(_key("msg", envelope.id), json.dumps(envelope.to_dict()))

    def postpone(self, envelope: Envelope, until: datetime) -> None:
        """Keep `envelope` (with its attempts and error) at the head of its lane until `until`."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.set(_key("msg", envelope.id), json.dumps(envelope.to_dict()))
            pipe.zadd(_key("due"), {envelope.lane: _epoch(until)})
            pipe.execute()

    def done(self, envelope: Envelope) -> None:
        """`envelope` was delivered: no longer owed; its lane leaves the schedule when empty."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.lrem(_key("lane", envelope.lane), 1, envelope.id)
            pipe.delete(_key("msg", envelope.id))
            pipe.zrem(_key("owed"), envelope.id)
            pipe.execute()
        self.settle(envelope.lane)

    def dead_letter(self, envelope: Envelope, reason: str, at: datetime) -> None:
        """Give up on `envelope`: kept (without its response_url) in the dead letters, no longer owed."""
        record = {**envelope.to_dict(), "response_url": "", "reason": reason, "dead_at": at.isoformat()}
        with self.r.pipeline(transaction=True) as pipe:
            pipe.lpush(_key("dead"), json.dumps(record))
            pipe.ltrim(_key("dead"), 0, DEAD_LETTERS_KEPT - 1)
            pipe.execute()
        self.done(envelope)

    def settle(self, lane: str) -> None:
        """Take `lane` off the schedule if nothing is owed in it (atomic against a concurrent `add`)."""
        self._settle(keys=[_key("lane", lane), _key("due")], args=[lane])

    # Reading -----------------------------------------------------------------------------------------

    def owed(self, now: datetime) -> tuple[int, float]:
        """How many messages are owed and the age in seconds of the oldest (0 when none)."""
        with self.r.pipeline(transaction=False) as pipe:
            pipe.zcard(_key("owed"))
            pipe.zrange(_key("owed"), 0, 0, withscores=True)
            count, oldest = pipe.execute()
        age = max(0.0, _epoch(now) - float(oldest[0][1])) if oldest else 0.0
        return int(count), age


class OutboxNotifier:
    """The `Notifier` of production: each note is owed in the outbox, and the sender is woken."""

    def __init__(
        self, outbox: Outbox, queue: Queue, timing: OutboxTiming, clock: Callable[[], datetime]
    ) -> None:
        self._outbox, self._queue, self._timing, self._clock = outbox, queue, timing, clock

    def _owe(self, kind: Kind, deadline: timedelta, **fields: Any) -> None:
        now = self._clock()
        self._outbox.add(kind, now, now + deadline, **fields)
        self._outbox.wake(self._queue)

    def post(self, note: Note) -> None:
        """Owe a post of `note` in its thread."""
        self._owe(Kind.POST, self._timing.deadline, note=note)

    def update(self, note: RunNote) -> None:
        """Owe the edit of the proposal message of `note.run_id` into `note`."""
        self._owe(Kind.UPDATE, self._timing.deadline, note=note)

    def respond(self, response_url: str, text: str, *, ephemeral: bool = True) -> None:
        """Owe an answer through `response_url` (owed while Slack accepts answers on it)."""
        deadline = min(self._timing.deadline, RESPONSE_URL_LIFETIME)
        self._owe(Kind.RESPOND, deadline, response_url=response_url, text=text, ephemeral=ephemeral)
