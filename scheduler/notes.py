"""What the worker tells humans, as values; the Slack adapter in `bot/` renders and delivers them.

Use cases never build Slack JSON nor words: they emit a `Message` through a `Notifier` (in production the
Slack outbox, `scheduler/outbox.py`, which keeps every message in Redis until the sender delivered it
through a `Transport`); `bot/blocks.py` words and renders each type. Every message names the environment
and the package thread it belongs to (`thread_sha`).
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
class RunRequestReason:
    """Why now: `user` asked with `/pdm run` (`override`: the reason given with `--now`)."""

    user: str
    override: str | None = None


@dataclass(frozen=True)
class ProposalNote:
    """A batch proposed for approval, with Approve / Reject / Snooze buttons; `request` comes before
    the `reasons` when a human asked for the run."""

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
    request: RunRequestReason | None = None


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
    """A free-text message in an environment's thread (kept for messages owed before typed notices)."""

    environment: str
    thread_sha: str | None
    text: str


@dataclass(frozen=True)
class PendingProblemNote:
    """The pending sources of a package could not be read or disagree (`paused`: the bot paused the
    environment until a human looks)."""

    environment: str
    thread_sha: str | None
    problem: str
    paused: bool = False


@dataclass(frozen=True)
class OverrunNote:
    """An evaluation ran out of its time budget and was aborted; it is retried later."""

    environment: str
    thread_sha: str | None
    error: str
    retry_in_seconds: int


@dataclass(frozen=True)
class ManualWaitNote:
    """A manual-mode migration heads the queue: everything behind it waits for `/pdm run`. It could
    start from `starts_at` (None: now) in a window that closes at `closes_at` (None: not known to close);
    if no `/pdm run` comes by then, the bot asks again before the next window."""

    environment: str
    thread_sha: str | None
    version: str
    nature: str
    behind: int
    starts_at: datetime | None = None
    closes_at: datetime | None = None


@dataclass(frozen=True)
class PausedNote:
    """An operator paused one environment ("": every environment)."""

    environment: str
    thread_sha: str | None
    actor: str
    reason: str


@dataclass(frozen=True)
class UnknownPipelineNote:
    """A PDM pipeline not recorded as its run's pipeline (started by hand, or by a run that gave up)."""

    environment: str
    thread_sha: str | None
    pipeline_id: int
    status: str
    run_id: str | None
    web_url: str


class ApprovalRefusal(StrEnum):
    """Why an approval was refused in the thread."""

    SUPERSEDED = "superseded"  # detail: the run that superseded it
    TWO_PERSON = "two_person"  # detail: the natures under the two-person rule
    STALE = "stale"  # detail: why the proposal is stale


@dataclass(frozen=True)
class ApprovalRefusedNote:
    """An approval that was refused, and why."""

    environment: str
    thread_sha: str | None
    run_id: str
    actor: str
    refusal: ApprovalRefusal
    detail: str


@dataclass(frozen=True)
class SecondApproverNote:
    """An approval was recorded, but the two-person rule needs another, different approver."""

    environment: str
    thread_sha: str | None
    run_id: str
    actor: str
    natures: list[str]
    repeated: bool = False


class RunRequestOutcome(StrEnum):
    """What became of a `/pdm run`."""

    PROPOSED = "proposed"
    REFUSED = "refused"  # not an approver (`refusal` says why)
    BUSY = "busy"  # another run of the environment is approved or in flight
    NOTHING = "nothing"  # nothing pending up to the asked version
    NO_PACKAGE = "no_package"  # no deployment recorded


@dataclass(frozen=True)
class RunRequestAnswer:
    """The answer to a `/pdm run`, sent through its `response_url`."""

    environment: str
    outcome: RunRequestOutcome
    run_id: str = ""
    status: str = ""
    count: int = 0
    up_to: str | None = None
    refusal: str = ""


Notice = (
    TextNote
    | PendingProblemNote
    | OverrunNote
    | ManualWaitNote
    | PausedNote
    | UnknownPipelineNote
    | ApprovalRefusedNote
    | SecondApproverNote
)
NOTICES = (
    TextNote,
    PendingProblemNote,
    OverrunNote,
    ManualWaitNote,
    PausedNote,
    UnknownPipelineNote,
    ApprovalRefusedNote,
    SecondApproverNote,
)


Message = DiffNote | ProposalNote | RunNote | Notice


Owed = Message | RunRequestAnswer  # what the outbox keeps: a message for the channel, or an answer

_TYPES: dict[str, TypeAdapter[Any]] = {
    "run_request": TypeAdapter(RunRequestAnswer),
    "diff": TypeAdapter(DiffNote),
    "proposal": TypeAdapter(ProposalNote),
    "run": TypeAdapter(RunNote),
    "text": TypeAdapter(TextNote),
    "pending_problem": TypeAdapter(PendingProblemNote),
    "overrun": TypeAdapter(OverrunNote),
    "manual_wait": TypeAdapter(ManualWaitNote),
    "paused": TypeAdapter(PausedNote),
    "unknown_pipeline": TypeAdapter(UnknownPipelineNote),
    "approval_refused": TypeAdapter(ApprovalRefusedNote),
    "second_approver": TypeAdapter(SecondApproverNote),
}
_NAMES: dict[type, str] = {
    RunRequestAnswer: "run_request",
    DiffNote: "diff",
    ProposalNote: "proposal",
    RunNote: "run",
    TextNote: "text",
    PendingProblemNote: "pending_problem",
    OverrunNote: "overrun",
    ManualWaitNote: "manual_wait",
    PausedNote: "paused",
    UnknownPipelineNote: "unknown_pipeline",
    ApprovalRefusedNote: "approval_refused",
    SecondApproverNote: "second_approver",
}


def note_to_dict(note: Owed) -> dict[str, Any]:
    """The JSON-able form of `note`, its type under `type`."""
    kind = _NAMES[type(note)]
    return {"type": kind, **_TYPES[kind].dump_python(note, mode="json")}


def note_from_dict(data: dict[str, Any]) -> Owed:
    """Inverse of `note_to_dict`."""
    fields = dict(data)
    note: Owed = _TYPES[str(fields.pop("type"))].validate_python(fields)
    return note
