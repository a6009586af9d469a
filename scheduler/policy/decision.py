"""Values of a decision: the input `EnvState` (built by the worker and the simulator) and the outputs
`Decision` and `ProjectedRun`. The planner that computes them is `scheduler/plan.py`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from scheduler.classify.model import Classification
from scheduler.natures import Nature
from scheduler.policy.guards import GuardResult
from scheduler.policy.learnt import RunTiming
from scheduler.policy.model import Mode


class Action(StrEnum):
    """What the worker should do now."""

    EXECUTE = "execute"
    PROPOSE = "propose"
    WAIT = "wait"
    BLOCKED = "blocked"
    IDLE = "idle"


@dataclass(frozen=True)
class PendingMigration:
    """One pending post-deploy migration and the package that brought it to the environment."""

    version: str
    classification: Classification
    package_sha: str | None = None
    deployed_at: datetime | None = None


@dataclass(frozen=True)
class DeployedPackage:
    """One successful deploy of the environment."""

    sha: str
    deployed_at: datetime


@dataclass(frozen=True)
class Approval:
    """An approval held for a batch: valid for versions up to `up_to_version` until `expires_at`."""

    up_to_version: str
    approvers: tuple[str, ...] = ()
    expires_at: datetime | None = None
    window_at: datetime | None = None

    def covers(self, up_to_version: str, at: datetime, *, approvers_needed: int = 1) -> bool:
        """Whether this approval lets a batch ending at `up_to_version` start at `at`."""
        fresh = self.expires_at is None or at < self.expires_at
        return (
            fresh
            and int(up_to_version) <= int(self.up_to_version)
            and len(set(self.approvers)) >= approvers_needed
        )


@dataclass(frozen=True)
class ManualRequest:
    """`/pdm run ENV [--up-to VERSION]`: a human asked for a run (None = everything pending)."""

    requested_by: str
    up_to_version: str | None = None
    override: str | None = None  # `--now REASON`: closed allow windows (and `manual` deny ones) yield

    def covers(self, version: str) -> bool:
        """Whether `version` is inside the requested range."""
        return self.up_to_version is None or int(version) <= int(self.up_to_version)


@dataclass(frozen=True)
class EnvState:
    """Everything the planner knows about one environment at one instant (pure data, no I/O).

    `pending` may come in any order (the planner sorts by version). `packages` is the deploy history,
    oldest first; its last entry is the package deployed now. `holds` maps version → reason.
    `db_load` None with `max_db_load` configured means "no reading" (blocks; `db_load_unknown` says
    why, e.g. the Prometheus query failed). `open_incidents` None
    means incident tracking is not configured (passes). `deploy_starts` are the recorded deploy start
    instants of the environment (oldest first; they feed the deploy forecast), recorded since
    `observed_since` (None: since the first of them). `upstream_successes` maps version → the time
    it finished successfully on the environment named by `requires`. `upstream` is that environment's
    own state (optional): with it, a proposal may be posted ahead for the migrations projected to run
    there before this environment's start; execution still needs `upstream_successes`. `run_timings`
    are the environment's finished runs, oldest first: estimates learn from them.
    """

    environment: str
    pending: tuple[PendingMigration, ...] = ()
    packages: tuple[DeployedPackage, ...] = ()
    deploy_running: bool = False
    deploy_started_at: datetime | None = None
    lock_holder: str | None = None
    paused: bool = False
    pause_reason: str = ""
    holds: Mapping[str, str] = field(default_factory=dict)
    db_load: float | None = None
    db_load_unknown: str = ""
    open_incidents: int | None = None
    upstream_successes: Mapping[str, datetime] = field(default_factory=dict)
    approval: Approval | None = None
    manual_request: ManualRequest | None = None
    upstream: EnvState | None = None
    deploy_starts: tuple[datetime, ...] = ()
    observed_since: datetime | None = None
    run_timings: tuple[RunTiming, ...] = ()

    @property
    def current_package(self) -> DeployedPackage | None:
        """The package deployed now."""
        return self.packages[-1] if self.packages else None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class Decision:
    """What to do now, with which batch (a contiguous version prefix), and why."""

    action: Action
    migrations: list[str]
    up_to_version: str | None
    mode: Mode | None
    nature: Nature | None
    estimated_duration: timedelta
    reasons: list[str]
    next_window_at: datetime | None
    guards: list[GuardResult]
    window: str | None = None
    window_closes_at: datetime | None = None
    notices: list[str] = field(default_factory=list)  # what announcements must say (order, delays)
    # A proposal of a batch that may start now: the next instant the same state may give an answer the
    # proposal does not cover (expected deploys let none or more start, the head no longer fits its
    # window, a migration that may pass it bakes), where a replay follows a waiting proposal up. A
    # batch that only shrinks stays covered, unless a downstream environment projects it.
    revisit_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """The `plan --json` decision object."""
        return {
            "action": self.action.value,
            "migrations": list(self.migrations),
            "up_to_version": self.up_to_version,
            "mode": self.mode.value if self.mode else None,
            "nature": self.nature.value if self.nature else None,
            "estimated_minutes": round(self.estimated_duration.total_seconds() / 60),
            "reasons": list(self.reasons),
            "next_window_at": _iso(self.next_window_at),
            "window": self.window,
            "window_closes_at": _iso(self.window_closes_at),
            "notices": list(self.notices),
            "guards": [g.to_dict() for g in self.guards],
        }


@dataclass(frozen=True)
class ProjectedRun:
    """One future run of the projected schedule (if nothing else changes)."""

    at: datetime
    action: Action
    migrations: list[str]
    up_to_version: str
    mode: Mode
    nature: Nature
    estimated_duration: timedelta
    window: str | None

    def to_dict(self) -> dict[str, Any]:
        """The `plan --json` schedule entry."""
        return {
            "at": self.at.isoformat(),
            "action": self.action.value,
            "migrations": list(self.migrations),
            "up_to_version": self.up_to_version,
            "mode": self.mode.value,
            "nature": self.nature.value,
            "estimated_minutes": round(self.estimated_duration.total_seconds() / 60),
            "window": self.window,
        }
