"""What the worker tells humans, as values; the Slack adapter in `bot/` renders and delivers them.

Jobs never build Slack JSON: they emit a `Note` through a `Notifier` (in production the Slack outbox,
`scheduler/outbox.py`, which keeps every note in Redis until the sender delivered it through a
`Transport`). Every note names the environment and the package thread it belongs to (`thread_sha`).
`note_to_dict` / `note_from_dict` give a note's JSON form (with its type) for the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter

from scheduler.classify.model import Classification


class RunEvent(StrEnum):
    """Moments of a run's life that are announced."""

    STARTING_SOON = "starting_soon"
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    APPROVED = "approved"
    REJECTED = "rejected"
    SNOOZED = "snoozed"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"


@dataclass(frozen=True)
class DiffNote:
    """The post-deploy migration diff of a freshly deployed package (root of its thread)."""

    environment: str
    thread_sha: str
    short_sha: str
    deployed_at: datetime
    added: list[Classification]
    deleted: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    pending_total: int = 0
    file_url_template: str = ""  # e.g. "{gitlab}/{project}/-/blob/{sha}/{path}"
    out_of_order: list[str] = field(default_factory=list)  # `ordering: independent`: who may pass whom


@dataclass(frozen=True)
class ProposalNote:
    """A batch proposed for approval, with Approve / Reject / Snooze buttons."""

    environment: str
    thread_sha: str
    run_id: str
    migrations: list[str]
    up_to_version: str
    nature: str
    mode: str
    reasons: list[str]
    estimated_minutes: int
    rollback_effect: str
    window_closes_at: datetime | None
    requested_by: str | None = None


@dataclass(frozen=True)
class RunNote:
    """An announcement about a run: starting soon, started, finished, decided on."""

    environment: str
    thread_sha: str
    run_id: str
    event: RunEvent
    migrations: list[str]
    up_to_version: str
    actor: str | None = None
    reason: str | None = None
    pipeline_url: str | None = None
    duration_seconds: int | None = None
    starts_at: datetime | None = None


@dataclass(frozen=True)
class TextNote:
    """A plain message in an environment's thread, e.g. a loud discrepancy of pending sources."""

    environment: str
    thread_sha: str | None
    text: str


Message = DiffNote | ProposalNote | RunNote | TextNote


_TYPES: dict[str, TypeAdapter[Any]] = {
    "diff": TypeAdapter(DiffNote),
    "proposal": TypeAdapter(ProposalNote),
    "run": TypeAdapter(RunNote),
    "text": TypeAdapter(TextNote),
}
_NAMES = {DiffNote: "diff", ProposalNote: "proposal", RunNote: "run", TextNote: "text"}


def note_to_dict(note: Message) -> dict[str, Any]:
    """The JSON-able form of `note`, its type under `type`."""
    kind = _NAMES[type(note)]
    return {"type": kind, **_TYPES[kind].dump_python(note, mode="json")}


def note_from_dict(data: dict[str, Any]) -> Message:
    """Inverse of `note_to_dict`."""
    fields = dict(data)
    note: Message = _TYPES[str(fields.pop("type"))].validate_python(fields)
    return note
