"""What a use case acts with (`WorkerContext`: ports and settings) and the delays of the run life cycle."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from scheduler.classify.model import Database
from scheduler.errors import PendingSourceError
from scheduler.outbox import OutboxTiming
from scheduler.policy.model import Policy
from scheduler.ports import (
    AppliedVersions,
    Directory,
    GitLab,
    JobQueue,
    MetricsSource,
    Notifier,
    OutboxPort,
    RunAnnotations,
    Store,
    TelemetryPort,
    Transport,
)
from scheduler.records import DEPLOY_MARKER_TTL


def clock() -> datetime:
    """Now, as an aware UTC datetime: jobs read it once and pass it on as `now`."""
    return datetime.now(UTC)


def no_database_reader(database: Database, dsn: str) -> set[str]:
    """The `applied_versions` of a context built without one: a configured database cannot be read."""
    raise PendingSourceError(f"cannot read schema_migrations of the {database} database: no reader")


@dataclass(frozen=True)
class Timing:
    """Delays of the run life cycle (tests shorten them)."""

    starting_soon: timedelta = timedelta(minutes=5)
    poll_interval: timedelta = timedelta(seconds=20)
    lock_ttl: timedelta = timedelta(minutes=5)
    recheck: timedelta = timedelta(minutes=10)
    max_attempts: int = 6
    backoff: timedelta = timedelta(seconds=5)
    backoff_cap: timedelta = timedelta(minutes=5)
    deploy_marker_ttl: timedelta = DEPLOY_MARKER_TTL
    evaluation_budget: timedelta = timedelta(seconds=30)
    create_settle: timedelta = timedelta(seconds=60)  # no new pipeline POST this long after an unknown one

    def retry_delay(self, attempt: int) -> timedelta:
        """Exponential back-off for the `attempt`-th retry (0-based), capped."""
        delay: timedelta = self.backoff * (2 ** min(attempt, 16))
        return min(delay, self.backoff_cap)


@dataclass
class WorkerContext:
    """Everything a use case touches (built by `scheduler/bootstrap.py`, or by a test)."""

    state: Store
    gitlab: GitLab
    notifier: Notifier
    policy: Policy
    queue: JobQueue
    channel: str = ""
    file_url_template: str = ""
    dsns: dict[Database, str] = field(default_factory=dict)
    applied_versions: AppliedVersions = no_database_reader  # reads `schema_migrations` of the `dsns`
    directory: Directory | None = None
    timing: Timing = field(default_factory=Timing)
    annotations: RunAnnotations | None = None
    metrics: MetricsSource | None = None
    slack: Transport | None = None  # what the outbox sender delivers through
    outbox_timing: OutboxTiming = field(default_factory=OutboxTiming)
    clock: Callable[[], datetime] = clock  # the outbox sender's pass watches its time budget

    @property
    def telemetry(self) -> TelemetryPort:
        """The counters behind `/metrics` (runs, durations, guard failures)."""
        return self.state.telemetry()

    @property
    def outbox(self) -> OutboxPort:
        """The Slack messages owed (`scheduler/outbox.py`)."""
        return self.state.outbox()
