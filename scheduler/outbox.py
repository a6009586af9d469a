"""The Slack outbox: every message the bot owes is written to Redis first, delivered later by the sender.

Jobs hand notes to `OutboxNotifier` (the `Notifier` of production); it stores an `Envelope` and wakes
the `deliver_notes` job (`scheduler/service/delivery.py`), which sends it and retries until it is delivered or
its deadline passes. Envelopes wait in lanes, one per thread (`thread:{env}:{sha}`), one for top-level
messages of an environment (`channel:{env}`) and one per `response_url`: within a lane only the head is
tried, so a reply never overtakes its thread root and an edit never overtakes its post.

Their Redis storage is `scheduler/adapters/redis_outbox.py` (keys `pdm:outbox:*`).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from scheduler.notes import Message, Owed, RunNote, RunRequestAnswer, note_from_dict, note_to_dict
from scheduler.ports import JobQueue, OutboxPort

RESPONSE_URL_LIFETIME = timedelta(minutes=30)  # Slack accepts answers on a response_url this long


class DeliveryKind(StrEnum):
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
    kind: DeliveryKind
    created_at: datetime
    deadline: datetime
    note: Owed | None = None
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
                "kind": DeliveryKind(data["kind"]),
                "created_at": datetime.fromisoformat(data["created_at"]),
                "deadline": datetime.fromisoformat(data["deadline"]),
                "note": note_from_dict(data["note"]) if data.get("note") is not None else None,
            }
        )


def lane_of(note: Owed | None, response_url: str = "") -> str:
    """The lane of a note: its package thread, else its environment's top level; a response_url its own."""
    if response_url or note is None:
        return "respond:" + hashlib.sha256(response_url.encode()).hexdigest()[:16]
    if isinstance(note, RunRequestAnswer) or not note.thread_sha:
        return f"channel:{note.environment}"
    return f"thread:{note.environment}:{note.thread_sha}"


class OutboxNotifier:
    """The `Notifier` of production: each note is owed in the outbox, and the sender is woken."""

    def __init__(
        self, outbox: OutboxPort, queue: JobQueue, timing: OutboxTiming, clock: Callable[[], datetime]
    ) -> None:
        self._outbox, self._queue, self._timing, self._clock = outbox, queue, timing, clock

    def _owe(self, kind: DeliveryKind, deadline: timedelta, **fields: Any) -> None:
        now = self._clock()
        self._outbox.add(kind, now, now + deadline, **fields)
        self._outbox.wake(self._queue)

    def post(self, note: Message) -> None:
        """Owe a post of `note` in its thread."""
        self._owe(DeliveryKind.POST, self._timing.deadline, note=note)

    def update(self, note: RunNote) -> None:
        """Owe the edit of the proposal message of `note.run_id` into `note`."""
        self._owe(DeliveryKind.UPDATE, self._timing.deadline, note=note)

    def respond(self, response_url: str, answer: str | RunRequestAnswer, *, ephemeral: bool = True) -> None:
        """Owe an answer through `response_url` (owed while Slack accepts answers on it)."""
        deadline = min(self._timing.deadline, RESPONSE_URL_LIFETIME)
        words = {"text": answer} if isinstance(answer, str) else {"note": answer}
        self._owe(DeliveryKind.RESPOND, deadline, response_url=response_url, ephemeral=ephemeral, **words)
