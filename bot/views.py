"""Read models of `/pdm status`, `plan`, `history` and `help`: plain values that `bot.blocks` renders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scheduler.classify.model import SizeClass
from scheduler.natures import Nature
from scheduler.next_deploy import NextDeploy


@dataclass(frozen=True)
class PendingGroup:
    """How many pending migrations share a nature and a database."""

    nature: Nature
    database: str
    count: int


@dataclass(frozen=True)
class GuardLine:
    """One guard's state for humans: `ok` False blocks; `configured` False means it never blocks."""

    name: str
    ok: bool
    detail: str
    configured: bool = True


@dataclass(frozen=True)
class DeployInProgress:
    """The "deploy in progress" marker: whose, how old, and how long before it expires by itself."""

    deployment_id: int
    short_sha: str
    age: timedelta
    expires_in: timedelta | None


@dataclass(frozen=True)
class StatusView:
    """What `/pdm status ENV` states, in this order."""

    environment: str
    pending_total: int
    groups: list[PendingGroup]
    next_window_at: datetime | None
    action: str
    reasons: list[str]
    guards: list[GuardLine]
    rollback_line: str
    paused: str | None = None
    holds: list[str] = field(default_factory=list)
    active_runs: list[str] = field(default_factory=list)  # newest first: `gstg-12 (running, part of gstg-9)`
    deploy_in_progress: DeployInProgress | None = None
    expected_deploys: NextDeploy | None = None


@dataclass(frozen=True)
class ScheduledRun:
    """One projected run of `/pdm plan`."""

    at: datetime
    action: str
    migrations: list[str]


@dataclass(frozen=True)
class LearntEstimate:
    """A kind of migration (nature, size class of its largest table) whose estimates the environment's past
    runs scaled, and how many runs taught it."""

    nature: Nature
    size: SizeClass | None
    scale: float
    runs: int


@dataclass(frozen=True)
class PlanView:
    """What `/pdm plan ENV` shows: the decision now, the projected schedule and the learnt estimates."""

    environment: str
    at: datetime
    action: str
    migrations: list[str]
    up_to_version: str | None
    reasons: list[str]
    next_window_at: datetime | None
    schedule: list[ScheduledRun]
    guards: list[GuardLine]
    learnt: list[LearntEstimate] = field(default_factory=list)
    expected_deploys: NextDeploy | None = None


@dataclass(frozen=True)
class HistoryLine:
    """One past or current run for `/pdm history`."""

    run_id: str
    environment: str
    status: str
    up_to_version: str
    migration_count: int
    requested_at: datetime
    finished_at: datetime | None
    actor: str | None
    pipeline_url: str | None


@dataclass(frozen=True)
class CommandHelp:
    """One line of `/pdm help`."""

    usage: str
    summary: str
    mutating: bool
