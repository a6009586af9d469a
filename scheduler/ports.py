"""What the use cases need from the outside, as `typing.Protocol`s (one real adapter each in
`scheduler/adapters/` or `bot/`, one in-memory fake each in `tests/fakes.py`).

The store is split by concern like its Redis adapter; `Store` is all of them together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from scheduler.classify.model import Database
from scheduler.gitlab_model import IncidentIssue, MigrationDiff, Pipeline
from scheduler.notes import Message, Owed, RunNote, RunRequestAnswer
from scheduler.policy.learnt import RunTiming
from scheduler.records import (
    AuditEntry,
    Baseline,
    Deployment,
    DeploymentStatus,
    Lock,
    Note,
    PendingRecord,
    Run,
    RunStatus,
    SlackMessage,
)

if TYPE_CHECKING:
    from scheduler.outbox import DeliveryKind, Envelope


class JobQueue(Protocol):
    """RQ's queue: jobs enqueued by dotted name (`scheduler.jobnames.JobName` values)."""

    def enqueue(self, f: str, /, *args: Any) -> object:
        """Run `f(*args)` as soon as a worker is free."""

    def enqueue_at(self, at: datetime, f: str, /, *args: Any) -> object:
        """Run `f(*args)` at `at`."""

    def enqueue_in(self, delay: timedelta, f: str, /, *args: Any) -> object:
        """Run `f(*args)` after `delay`."""


# Store, by concern ----------------------------------------------------------------------------------


class PendingReads(Protocol):
    def pending(self, env: str) -> list[PendingRecord]:
        """Pending migrations of `env`, by version."""


class PendingPort(PendingReads, Protocol):
    def set_pending(self, env: str, items: Iterable[PendingRecord]) -> None:
        """Replace the pending set of `env`."""

    def remove_pending(self, env: str, versions: Iterable[str]) -> None:
        """Forget pending migrations of `env`."""


class DeploymentReads(Protocol):
    def deployments(self, env: str, limit: int = 20) -> list[Deployment]:
        """Deployment history of `env`, newest first."""

    def deploy_starts(self, env: str) -> list[datetime]:
        """Recorded deploy starts of `env`, oldest first."""

    def deployment_in_progress(self, env: str) -> Deployment | None:
        """The running deployment of `env`, if any."""

    def deploy_marker_expires_in(self, env: str) -> timedelta | None:
        """How long the deploy-in-progress marker of `env` has left."""


class DeploymentPort(DeploymentReads, Protocol):
    def last_deployment(
        self, env: str, status: DeploymentStatus = DeploymentStatus.SUCCESS
    ) -> Deployment | None:
        """The newest deployment of `env` in `status`."""

    def record_deployment(
        self, env: str, deployment: Deployment, marker_ttl: timedelta = ...
    ) -> Deployment | None:
        """Store a status change unless stale; the newer recorded status when stale."""

    def record_deploy_start(
        self, env: str, deployment_id: int, at: datetime, *, estimated: bool = False
    ) -> None:
        """Remember when a deploy of `env` started (`estimated`: until the reported start arrives)."""


class RunReads(Protocol):
    def get_run(self, run_id: str) -> Run:
        """The run `run_id`; raises UnknownRun."""

    def active_runs(self) -> list[Run]:
        """Runs not yet finished, by request time."""

    def last_successful_run(self, env: str) -> Run | None:
        """The last run of `env` that ended in success."""


class RunPort(RunReads, Protocol):
    def runs(self, env: str, limit: int = 20) -> list[Run]:
        """Runs of `env`, newest first."""

    def next_run_id(self, env: str) -> str:
        """A new, never reused run id."""

    def create_run(self, run: Run) -> bool:
        """Store a new run; False when the id exists."""

    def transition_run(
        self, run_id: str, status: RunStatus, at: datetime, *, timing: RunTiming | None = None, **changes: Any
    ) -> Run:
        """Move a run (InvalidRunTransition, RunConflict, UnknownRun); a success's `timing` is kept in the
        same write."""

    def approve_run(
        self, run_id: str, at: datetime, approved_by: list[str], supersede: Mapping[str, str]
    ) -> tuple[Run, list[Run]]:
        """Approve a run and cancel the approved runs it covers, atomically."""

    def split_run(self, run_id: str, part_id: str, part: list[str], at: datetime) -> tuple[Run, Run]:
        """Split an approved run atomically (`Run.split`): the new run of `part` and the run keeping the
        rest (UnknownRun, InvalidRunTransition, ValueError)."""

    def add_approval(self, run_id: str, approval: Note) -> list[Note]:
        """Record one approval per approver; all approvals of the run."""

    def approvals(self, run_id: str) -> list[Note]:
        """Approvals of a run, oldest first."""


class RunTimingReads(Protocol):
    def run_timings(self, env: str) -> list[RunTiming]:
        """The kept timings of `env`'s successful runs, oldest first."""


class RunTimingPort(RunTimingReads, Protocol):
    def record_run_timing(self, env: str, timing: RunTiming) -> None:
        """Keep `timing` of a successful run of `env` (the newest `RUN_TIMINGS_KEPT`)."""


class ControlReads(Protocol):
    def pause(self, env: str | None) -> Note | None:
        """The pause set on exactly `env` (None: the global one)."""

    def effective_pause(self, env: str) -> Note | None:
        """The pause that stops `env`."""

    def holds(self) -> dict[str, Note]:
        """Held versions and why."""

    def baseline(self, env: str) -> Baseline | None:
        """The baseline of `env`."""

    def successes(self, env: str) -> dict[str, datetime]:
        """Versions that succeeded in `env` and when."""


class ControlPort(ControlReads, Protocol):
    def set_pause(self, env: str | None, note: Note) -> None:
        """Pause `env` (None: every environment)."""

    def clear_pause(self, env: str | None) -> bool:
        """Resume `env`; False if it was not paused."""

    def set_hold(self, version: str, note: Note) -> None:
        """Hold a version in every environment."""

    def clear_hold(self, version: str) -> bool:
        """Release a hold; False if there was none."""

    def set_baseline(self, env: str, baseline: Baseline) -> None:
        """Set where pending detection of `env` starts."""

    def record_successes(self, env: str, versions: Iterable[str], at: datetime) -> None:
        """Record versions that succeeded in `env` at `at`."""


class LockReads(Protocol):
    def lock_holder(self, env: str) -> Lock | None:
        """Who holds the lock of `env` now."""


class LockPort(LockReads, Protocol):
    def acquire_lock(self, env: str, owner: str, ttl: timedelta, at: datetime) -> Lock | None:
        """Take the lock of `env`; None if it is held."""

    def renew_lock(self, lock: Lock, ttl: timedelta) -> bool:
        """Extend `lock` if still held by its owner."""

    def release_lock(self, lock: Lock) -> bool:
        """Release `lock` if still held by its owner."""

    def claim(self, key: str, ttl: timedelta) -> bool:
        """True for the first caller of `key` within `ttl`."""

    def unclaim(self, key: str) -> None:
        """Give a claim back."""

    def mark(self, key: str, ttl: timedelta) -> None:
        """Set the claim `key` for `ttl`, whoever held it."""

    def marked(self, key: str) -> bool:
        """True while `key` is claimed or marked."""

    def mutex(self, name: str, ttl: timedelta, wait: timedelta) -> AbstractContextManager[bool]:
        """Hold the mutex `name`; yields whether it is held."""


class SlackRefPort(Protocol):
    def set_thread(self, env: str, sha: str, message: SlackMessage) -> bool:
        """Remember a package thread's root; False if known."""

    def thread(self, env: str, sha: str) -> SlackMessage | None:
        """The root message of a package's thread."""

    def set_proposal_message(self, run_id: str, message: SlackMessage) -> None:
        """Remember the proposal message of a run."""

    def proposal_message(self, run_id: str) -> SlackMessage | None:
        """The proposal message of a run."""


class AuditPort(Protocol):
    def audit(self, entry: AuditEntry) -> str:
        """Append `entry` (redacted); its id."""

    def audit_log(self, limit: int = 50, environment: str | None = None) -> list[AuditEntry]:
        """The newest entries, newest first."""


class PlannerReads(
    PendingReads, DeploymentReads, LockReads, ControlReads, RunReads, RunTimingReads, Protocol
):
    """What the planner's input is read from: the store, or a snapshot of it."""


class TelemetryPort(Protocol):
    """Counters behind `/metrics`."""

    def run_finished(self, env: str, outcome: str, duration_seconds: float | None) -> None:
        """Count a finished run and observe its duration."""

    def guard_failed(self, env: str, guard: str) -> None:
        """Count one evaluation that `guard` blocked."""

    def evaluation_overrun(self, env: str) -> None:
        """Count one evaluation aborted on its time budget."""

    def slack_dead_letter(self) -> None:
        """Count one Slack message given up on."""


class LeasePort(Protocol):
    """A sender's hold on one lane of the outbox."""

    lane: str

    def renew(self) -> bool:
        """Extend the hold; False when it was lost."""


class OutboxPort(Protocol):
    """Storage of the Slack messages owed (`scheduler/outbox.py`)."""

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
        """Owe a message."""

    def wake(self, queue: JobQueue, at: datetime | None = None, *, now: datetime | None = None) -> None:
        """Make sure a `deliver_notes` job runs now, or at `at`."""

    def resume(self, queue: JobQueue) -> None:
        """Wake the sender if anything is owed."""

    def woken(self) -> None:
        """A `deliver_notes` job started."""

    def lanes(self) -> list[tuple[str, float]]:
        """Lanes with owed messages and when their heads are due."""

    def lease(self, lane: str, ttl: timedelta) -> AbstractContextManager[LeasePort | None]:
        """Hold `lane` for one sender (None: held by another)."""

    def lease_left(self, lane: str) -> timedelta:
        """How long another sender's hold lasts at most."""

    def head(self, lane: str) -> Envelope | None:
        """The first owed message of `lane`."""

    def save(self, envelope: Envelope) -> None:
        """Store delivery progress."""

    def postpone(self, envelope: Envelope, until: datetime) -> None:
        """Keep `envelope` at its lane's head until `until`."""

    def done(self, envelope: Envelope) -> None:
        """`envelope` was delivered."""

    def dead_letter(self, envelope: Envelope, reason: str, at: datetime) -> None:
        """Give up on `envelope`."""

    def settle(self, lane: str) -> None:
        """Take an empty lane off the schedule."""


class Store(
    PendingPort,
    DeploymentPort,
    RunPort,
    RunTimingPort,
    ControlPort,
    LockPort,
    SlackRefPort,
    AuditPort,
    Protocol,
):
    """Every concern of the store (the Redis store, or `tests.fakes.FakeStore`)."""

    def snapshot(self, envs: Sequence[str], *, deployments: int = 50) -> PlannerReads:
        """The planner's reads of `envs`, read at once."""

    def telemetry(self) -> TelemetryPort:
        """The counters behind `/metrics`."""

    def outbox(self) -> OutboxPort:
        """The Slack messages owed."""


# Outside systems -------------------------------------------------------------------------------------


class GitLab(Protocol):
    """What pdm-bot asks GitLab (`scheduler/adapters/gitlab.py`); errors are `scheduler.errors.GitLab*`."""

    def compare(self, from_sha: str, to_sha: str) -> MigrationDiff:
        """Post-deploy migrations changed between two SHAs."""

    def file_text(self, path: str, sha: str) -> str:
        """The content of `path` at `sha`."""

    def post_migrations_at(self, sha: str) -> list[str]:
        """Every post-deploy migration file at `sha`."""

    def resolve_sha(self, ref: str) -> str:
        """The full SHA of a short SHA or ref."""

    def create_pipeline(
        self, environment: str, target_sha: str, up_to_version: str, extras: Mapping[str, str] | None = None
    ) -> Pipeline:
        """Create the PDM pipeline (sent once; GitLabOutcomeUnknown when its fate is unknown)."""

    def pipeline(self, pipeline_id: int) -> Pipeline:
        """The current state of a pipeline."""

    def pdm_pipelines(
        self,
        environment: str | None = None,
        *,
        updated_after: datetime | None = None,
        source: str | None = None,
        limit: int = 50,
    ) -> list[Pipeline]:
        """PDM pipelines on the pipeline ref, newest first, with their variables."""

    def open_incidents(self) -> list[IncidentIssue] | None:
        """Open incidents; None when no incident project is configured."""


class AppliedVersions(Protocol):
    """Versions in `schema_migrations` of a database (`scheduler/adapters/postgres.py`)."""

    def __call__(self, database: Database, dsn: str) -> set[str]:
        """Raises PendingSourceError when the database cannot answer."""


class Notifier(Protocol):
    """Owes messages to humans: each is delivered later, in order within its thread, never lost silently."""

    def post(self, note: Message) -> None:
        """Post `note` in its thread (a `DiffNote` starts the thread; a `ProposalNote` becomes the proposal
        message of its run)."""

    def update(self, note: RunNote) -> None:
        """Turn the proposal message of `note.run_id` into `note`; post it when the run has none."""

    def respond(self, response_url: str, answer: str | RunRequestAnswer, *, ephemeral: bool = True) -> None:
        """Answer a slash command later, through its `response_url`."""


class Transport(Protocol):
    """Sends one rendered message to Slack now; raises `scheduler.errors.DeliveryError` when it cannot."""

    @property
    def channel(self) -> str:
        """The release channel that posts go to."""

    def parts(self, note: Message) -> int:
        """How many messages `note` takes (a long diff: its root, then replies)."""

    def post(self, note: Message, thread_ts: str | None, part: int = 0) -> str:
        """Post part `part` of `note` (in the thread of `thread_ts` when given); the message's ts."""

    def update(self, note: Message, ts: str) -> None:
        """Replace message `ts` of the release channel with `note`."""

    def respond(self, response_url: str, answer: str | RunRequestAnswer, *, ephemeral: bool) -> None:
        """Answer through a `response_url`."""


class Directory(Protocol):
    """Usergroup membership (Slack), to check approvers."""

    def members(self, usergroup: str) -> frozenset[str]:
        """User ids of `usergroup`."""


class MetricsSource(Protocol):
    """Instant metric queries (Prometheus) for data-source guards such as `max_db_load`."""

    def instant_value(self, query: str) -> float:
        """The value of `query` now (raises MetricsSourceError when there is none)."""


class RunAnnotations(Protocol):
    """Marks on dashboards at the start and the end of a run (Grafana); must never raise."""

    def run_started(self, run: Run, at: datetime) -> None:
        """The run's pipeline was created at `at`."""

    def run_ended(self, run: Run, at: datetime) -> None:
        """The run ended (its status is final) at `at`."""
