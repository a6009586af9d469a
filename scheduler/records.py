"""Typed records of the store (`adapters/redis_store/`); each round-trips through `to_dict`/`from_dict`.

Datetimes are stored as ISO 8601 strings and must be timezone-aware. Statuses are `StrEnum`s stored
as their values. A run moves only along `RUN_TRANSITIONS`; `Run.moved_to` raises
`InvalidRunTransition` for anything else.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from scheduler.classify.model import Classification
from scheduler.errors import InvalidRunTransition
from scheduler.notes import RunEvent


def up_to_version(migrations: Sequence[str]) -> str:
    """The highest version of a batch (by number)."""
    return max(migrations, key=lambda v: (len(v), v))


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def _parse(text: Any) -> datetime | None:
    return None if text is None else datetime.fromisoformat(str(text))


def _at(text: Any) -> datetime:
    return datetime.fromisoformat(str(text))


class RunStatus(StrEnum):
    """Life cycle of a PDM run."""

    REQUESTED = "requested"
    APPROVED = "approved"
    TRIGGERED = "triggered"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        """True once the run can no longer change."""
        return self in TERMINAL_RUN_STATUSES


TERMINAL_RUN_STATUSES = frozenset({RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.CANCELED})
# A run in one of these statuses owns its migrations: no other run may contain them (a proposal, still
# `requested`, owns nothing: it is superseded instead). In flight = its pipeline may exist or be running.
COMMITTED_RUN_STATUSES = frozenset({RunStatus.APPROVED, RunStatus.TRIGGERED, RunStatus.RUNNING})
IN_FLIGHT_RUN_STATUSES = frozenset({RunStatus.TRIGGERED, RunStatus.RUNNING})

RUN_TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.REQUESTED: frozenset({RunStatus.APPROVED, RunStatus.CANCELED}),
    RunStatus.APPROVED: frozenset({RunStatus.TRIGGERED, RunStatus.FAILED, RunStatus.CANCELED}),
    RunStatus.TRIGGERED: frozenset(
        {RunStatus.RUNNING, RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.CANCELED}
    ),
    RunStatus.RUNNING: frozenset({RunStatus.SUCCESS, RunStatus.FAILED, RunStatus.CANCELED}),
    RunStatus.SUCCESS: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELED: frozenset(),
}


DEPLOY_MARKER_TTL = timedelta(hours=4)  # default of `PDM_DEPLOY_MARKER_TTL_SECONDS`


class DeploymentStatus(StrEnum):
    """GitLab deployment statuses (API and Deployment Hook)."""

    CREATED = "created"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELED = "canceled"
    BLOCKED = "blocked"
    SKIPPED = "skipped"

    @property
    def is_finished(self) -> bool:
        """True for statuses after which the deploy no longer holds the environment."""
        return self in {self.SUCCESS, self.FAILED, self.CANCELED, self.SKIPPED}

    @property
    def rank(self) -> int:
        """Order of statuses changed at the same instant: created, blocked, running, then the end."""
        if self.is_finished:
            return 3
        return {self.CREATED: 0, self.BLOCKED: 1}.get(self, 2)


_OPTIONAL_RUN_TIMES = (
    "approved_at",
    "triggered_at",
    "started_at",
    "finished_at",
    "updated_at",
    "expires_at",
)


@dataclass(frozen=True)
class Run:
    """One PDM pipeline execution of a contiguous prefix of an environment's pending migrations."""

    id: str
    environment: str
    migrations: list[str]
    up_to_version: str
    target_sha: str
    requested_by: str
    requested_at: datetime
    status: RunStatus = RunStatus.REQUESTED
    approved_by: list[str] = field(default_factory=list)
    approved_at: datetime | None = None
    triggered_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    updated_at: datetime | None = None
    pipeline_id: int | None = None
    pipeline_url: str | None = None
    failure_reason: str | None = None
    expires_at: datetime | None = None  # a proposal/approval holds until its window closes
    superseded_by: str | None = None  # the run whose proposal or approval replaced this one
    closed_as: RunEvent | None = None  # how a proposal or approval was closed (rejected, snoozed, …)
    override_reason: str | None = None  # `/pdm run --now REASON`: may run outside closed allow windows
    part_of: str | None = None  # the approved run this one was split from (it runs the part a gap allows)

    def moved_to(self, status: RunStatus, at: datetime, **changes: Any) -> Run:
        """A copy in `status` with its timestamp set at `at`; other fields may change via `changes`."""
        if status not in RUN_TRANSITIONS[self.status]:
            raise InvalidRunTransition(
                f"run {self.id} cannot go from {self.status} to {status}; "
                f"allowed: {', '.join(sorted(RUN_TRANSITIONS[self.status])) or 'none (finished)'}"
            )
        stamp = {
            RunStatus.APPROVED: "approved_at",
            RunStatus.TRIGGERED: "triggered_at",
            RunStatus.RUNNING: "started_at",
        }.get(status, "finished_at" if status.is_terminal else "updated_at")
        return dataclasses.replace(self, status=status, updated_at=at, **{stamp: at, **changes})

    def split(self, part_id: str, part: list[str], at: datetime) -> tuple[Run, Run]:
        """An approved run split in two: a new approved run `part_id` of `part` (a strict, non-empty subset
        of the migrations, in execution order) with the same approvals, expiry and override, and this
        run keeping the rest, still approved."""
        taken = set(part)
        rest = [v for v in self.migrations if v not in taken]
        if self.status is not RunStatus.APPROVED:
            raise InvalidRunTransition(f"run {self.id} is {self.status}: only an approved run is split")
        if not part or not rest or len(rest) + len(part) != len(self.migrations):
            raise ValueError(f"run {self.id}: a part must be a strict, non-empty subset of its migrations")
        piece = dataclasses.replace(
            self,
            id=part_id,
            migrations=list(part),
            up_to_version=up_to_version(part),
            requested_at=at,
            updated_at=at,
            part_of=self.id,
        )
        kept = dataclasses.replace(self, migrations=rest, up_to_version=up_to_version(rest), updated_at=at)
        return piece, kept

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        data = dataclasses.asdict(self)
        for name in (
            "requested_at",
            "approved_at",
            "triggered_at",
            "started_at",
            "finished_at",
            "updated_at",
            "expires_at",
        ):
            data[name] = _iso(data[name])
        data["status"] = str(self.status)
        data["closed_as"] = str(self.closed_as) if self.closed_as is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        """Inverse of `to_dict`."""
        values = dict(data)
        for name in _OPTIONAL_RUN_TIMES:
            values[name] = _parse(values.get(name))
        values["requested_at"] = _at(values["requested_at"])
        values["status"] = RunStatus(values["status"])
        values["migrations"] = list(values["migrations"])
        values["approved_by"] = list(values.get("approved_by", []))
        values["closed_as"] = _closed_as(values)
        return cls(**values)


_LEGACY_DECLINES = {"rejected by ": RunEvent.REJECTED, "snoozed by ": RunEvent.SNOOZED}


def _closed_as(values: dict[str, Any]) -> RunEvent | None:
    """The stored `closed_as`; a run declined before the field existed is recognised by its reason."""
    if values.get("closed_as"):
        return RunEvent(values["closed_as"])
    reason = str(values.get("failure_reason") or "")
    return next((e for prefix, e in _LEGACY_DECLINES.items() if reason.startswith(prefix)), None)


@dataclass(frozen=True)
class PendingRecord:
    """A post-deploy migration waiting to run in one environment."""

    version: str
    path: str
    classification: Classification
    package_sha: str
    deployed_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the classification as its own JSON text)."""
        return {
            "version": self.version,
            "path": self.path,
            "classification": self.classification.model_dump_json(),
            "package_sha": self.package_sha,
            "deployed_at": self.deployed_at.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingRecord:
        """Inverse of `to_dict`."""
        return cls(
            version=str(data["version"]),
            path=str(data["path"]),
            classification=Classification.model_validate_json(data["classification"]),
            package_sha=str(data["package_sha"]),
            deployed_at=_at(data["deployed_at"]),
        )


@dataclass(frozen=True)
class Deployment:
    """One deployment of a package to an environment."""

    deployment_id: int
    sha: str
    short_sha: str
    deployed_at: datetime
    status: DeploymentStatus

    def is_stale_after(self, recorded: Deployment) -> bool:
        """True when this status change of a deployment is older than the `recorded` one of the same
        deployment: an earlier `status_changed_at`, or the same instant with a lower or another status
        of the same rank. The same status at the same instant again is not stale (a job re-run)."""
        mine, theirs = (self.deployed_at, self.status.rank), (recorded.deployed_at, recorded.status.rank)
        return mine < theirs or (mine == theirs and self.status is not recorded.status)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            **dataclasses.asdict(self),
            "deployed_at": self.deployed_at.isoformat(),
            "status": str(self.status),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deployment:
        """Inverse of `to_dict`."""
        return cls(
            deployment_id=int(data["deployment_id"]),
            sha=str(data["sha"]),
            short_sha=str(data["short_sha"]),
            deployed_at=_at(data["deployed_at"]),
            status=DeploymentStatus(data["status"]),
        )


@dataclass(frozen=True)
class Note:
    """Who did something, when and why: an approval, a pause or a hold."""

    actor: str
    at: datetime
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"actor": self.actor, "at": self.at.isoformat(), "reason": self.reason}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Note:
        """Inverse of `to_dict`."""
        return cls(
            actor=str(data["actor"]),
            at=_at(data["at"]),
            reason=str(data.get("reason", "")),
        )


@dataclass(frozen=True)
class Baseline:
    """The SHA from which pending detection starts when an environment has no successful run."""

    sha: str
    actor: str
    at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"sha": self.sha, "actor": self.actor, "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Baseline:
        """Inverse of `to_dict`."""
        return cls(sha=str(data["sha"]), actor=str(data["actor"]), at=_at(data["at"]))


@dataclass(frozen=True)
class Lock:
    """An environment lock held by `owner`; `token` grows with every acquisition (fencing)."""

    environment: str
    owner: str
    token: int
    acquired_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {**dataclasses.asdict(self), "acquired_at": self.acquired_at.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lock:
        """Inverse of `to_dict`."""
        return cls(
            environment=str(data["environment"]),
            owner=str(data["owner"]),
            token=int(data["token"]),
            acquired_at=_at(data["acquired_at"]),
        )


@dataclass(frozen=True)
class SlackMessage:
    """Where a Slack message lives (needed to reply in its thread or update it)."""

    channel: str
    ts: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlackMessage:
        """Inverse of `to_dict`."""
        return cls(channel=str(data["channel"]), ts=str(data["ts"]))


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit log."""

    at: datetime
    actor: str
    action: str
    environment: str = ""
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {**dataclasses.asdict(self), "at": self.at.isoformat()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditEntry:
        """Inverse of `to_dict`."""
        return cls(
            at=_at(data["at"]),
            actor=str(data["actor"]),
            action=str(data["action"]),
            environment=str(data.get("environment", "")),
            reason=str(data.get("reason", "")),
            details=dict(data.get("details", {})),
            id=str(data.get("id", "")),
        )
