"""In-memory fakes of the ports (assert on what they hold)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from bot.blocks import answer_text, notice_text
from scheduler.adapters.redis_store.deployments import DEPLOY_STARTS_KEPT, ESTIMATED_SUFFIX
from scheduler.errors import GitLabNotFound, RunConflict, UnknownRun
from scheduler.gitlab_model import IncidentIssue, MigrationDiff, Pipeline
from scheduler.lifecycle import conflict_reason, conflicting_runs
from scheduler.notes import (
    NOTICES,
    DiffNote,
    Message,
    Notice,
    Owed,
    ProposalNote,
    RunEvent,
    RunNote,
    RunRequestAnswer,
)
from scheduler.outbox import DeliveryKind, Envelope, lane_of
from scheduler.policy.learnt import RUN_TIMINGS_KEPT, RunTiming
from scheduler.ports import JobQueue, SlackRefPort
from scheduler.records import (
    DEPLOY_MARKER_TTL,
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
from scheduler.redaction import redact

N = TypeVar("N")


@dataclass(frozen=True)
class ShownNotice:
    """A posted notice and the words Slack shows for it."""

    note: Notice
    text: str

    @property
    def thread_sha(self) -> str | None:
        """The package thread of the notice."""
        return self.note.thread_sha


@dataclass
class FakeNotifier:
    """`scheduler.ports.Notifier` that records notes at once, as a Slack that never fails would show them."""

    state: SlackRefPort | None = None
    channel: str = "C0RELEASE"
    posted: list[Message] = field(default_factory=list)
    updated: list[tuple[Message, str]] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)

    def post(self, note: Message) -> None:
        """Record `note`; a diff starts its thread once, a proposal becomes its run's proposal message."""
        if (
            isinstance(note, DiffNote)
            and self.state is not None
            and self.state.thread(note.environment, note.thread_sha) is not None
        ):
            return
        self.posted.append(note)
        ts = f"1700000000.{len(self.posted):06d}"
        if self.state is None:
            return
        if isinstance(note, DiffNote):
            self.state.set_thread(note.environment, note.thread_sha, SlackMessage(self.channel, ts))
        elif isinstance(note, ProposalNote):
            self.state.set_proposal_message(note.run_id, SlackMessage(self.channel, ts))

    def update(self, note: RunNote) -> None:
        """Record an edit of the run's proposal message, or a post when it has none."""
        message = self.state.proposal_message(note.run_id) if self.state is not None else None
        if message is None:
            self.post(note)
        else:
            self.updated.append((note, message.ts))

    def respond(self, response_url: str, answer: str | RunRequestAnswer, *, ephemeral: bool = True) -> None:
        """Record a response_url answer with its words."""
        self.responses.append((response_url, answer if isinstance(answer, str) else answer_text(answer)))

    def diffs(self) -> list[DiffNote]:
        """Posted diff notes."""
        return [n for n in self.posted if isinstance(n, DiffNote)]

    def proposals(self) -> list[ProposalNote]:
        """Posted proposals."""
        return [n for n in self.posted if isinstance(n, ProposalNote)]

    def texts(self) -> list[ShownNotice]:
        """Posted notices with their words as `bot.blocks` renders them."""
        return [ShownNotice(n, notice_text(n)) for n in self.posted if isinstance(n, NOTICES)]

    def notices(self, kind: type[N]) -> list[N]:
        """Posted notices of one type."""
        return [n for n in self.posted if isinstance(n, kind)]

    def events(self) -> list[RunEvent]:
        """Events of posted and updated run notes, in order."""
        notes = [n for n in self.posted if isinstance(n, RunNote)]
        notes += [n for n, _ in self.updated if isinstance(n, RunNote)]
        return [n.event for n in notes]

    def run_notes(self, event: RunEvent) -> list[RunNote]:
        """Posted or updated run notes of one event."""
        every = [n for n in self.posted if isinstance(n, RunNote)]
        every += [n for n, _ in self.updated if isinstance(n, RunNote)]
        return [n for n in every if n.event is event]


class ManualClock:
    """A clock that moves only when told (`advance`, or set `now`)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        """Move the clock forward."""
        self.now += by


def _expired(expires: datetime | None, now: datetime) -> bool:
    return expires is not None and now >= expires


@dataclass
class FakeTelemetry:
    """`scheduler.ports.Telemetry` keeping the counts."""

    runs: Counter[tuple[str, str]] = field(default_factory=Counter)
    durations: list[tuple[str, float]] = field(default_factory=list)
    guard_failures: Counter[tuple[str, str]] = field(default_factory=Counter)
    overruns: Counter[str] = field(default_factory=Counter)
    dead_letters: int = 0

    def run_finished(self, env: str, outcome: str, duration_seconds: float | None) -> None:
        self.runs[(env, outcome)] += 1
        if duration_seconds is not None:
            self.durations.append((env, duration_seconds))

    def guard_failed(self, env: str, guard: str) -> None:
        self.guard_failures[(env, guard)] += 1

    def evaluation_overrun(self, env: str) -> None:
        self.overruns[env] += 1

    def slack_dead_letter(self) -> None:
        self.dead_letters += 1


class FakeStore:
    """`scheduler.ports.Store` in memory; TTLs run on `clock` (the same contract as the Redis store:
    `tests/integration/test_store_contract.py`)."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.clock = clock or (lambda: datetime.now(UTC))
        self._pending: dict[str, dict[str, PendingRecord]] = defaultdict(dict)
        self._deployments: dict[str, dict[int, Deployment]] = defaultdict(dict)
        self._markers: dict[str, tuple[Deployment, datetime | None]] = {}
        self._starts: dict[str, dict[str, datetime]] = defaultdict(dict)
        self._runs: dict[str, Run] = {}
        self._active: set[str] = set()
        self._seq = 0
        self._last_success: dict[str, str] = {}
        self._succeeded: dict[str, dict[str, datetime]] = defaultdict(dict)
        self._timings: dict[str, list[RunTiming]] = defaultdict(list)
        self._approvals: dict[str, dict[str, Note]] = defaultdict(dict)
        self._pauses: dict[str | None, Note] = {}
        self._holds: dict[str, Note] = {}
        self._baselines: dict[str, Baseline] = {}
        self._locks: dict[str, tuple[Lock, datetime]] = {}
        self._fences: Counter[str] = Counter()
        self._claims: dict[str, datetime] = {}
        self._mutexes: set[str] = set()
        self._threads: dict[str, SlackMessage] = {}
        self._proposals: dict[str, SlackMessage] = {}
        self.audits: list[AuditEntry] = []
        self.counters = FakeTelemetry()
        self.owed = FakeOutbox(self)

    # pending
    def pending(self, env: str) -> list[PendingRecord]:
        return sorted(self._pending[env].values(), key=lambda m: m.version)

    def set_pending(self, env: str, items: Iterable[PendingRecord]) -> None:
        self._pending[env] = {m.version: m for m in items}

    def add_pending(self, env: str, items: Iterable[PendingRecord]) -> None:
        self._pending[env].update({m.version: m for m in items})

    def remove_pending(self, env: str, versions: Iterable[str]) -> None:
        for version in versions:
            self._pending[env].pop(version, None)

    # deployments
    def record_deployment(
        self, env: str, deployment: Deployment, marker_ttl: timedelta = DEPLOY_MARKER_TTL
    ) -> Deployment | None:
        recorded = self._deployments[env].get(deployment.deployment_id)
        if recorded is not None and deployment.is_stale_after(recorded):
            return recorded
        current = self.deployment_in_progress(env)
        mine_or_older = current is not None and (
            current.deployment_id == deployment.deployment_id or current.deployed_at <= deployment.deployed_at
        )
        self._deployments[env][deployment.deployment_id] = deployment
        if deployment.status is DeploymentStatus.RUNNING:
            if marker_ttl > timedelta(0) and (current is None or mine_or_older):
                self._markers[env] = (deployment, self.clock() + marker_ttl)
        elif deployment.status.is_finished and mine_or_older:
            self._markers.pop(env, None)
        return None

    def record_deploy_start(
        self, env: str, deployment_id: int, at: datetime, *, estimated: bool = False
    ) -> None:
        starts, member = self._starts[env], str(deployment_id)
        if estimated:
            if member not in starts:
                starts.setdefault(f"{member}{ESTIMATED_SUFFIX}", at)
        else:
            starts.pop(f"{member}{ESTIMATED_SUFFIX}", None)
            starts.setdefault(member, at)
        self._starts[env] = {k: v for k, v in starts.items() if v >= at - DEPLOY_STARTS_KEPT}

    def deploy_starts(self, env: str) -> list[datetime]:
        return sorted(self._starts[env].values())

    def deployments(self, env: str, limit: int = 20) -> list[Deployment]:
        ordered = sorted(
            self._deployments[env].values(), key=lambda d: (d.deployed_at, str(d.deployment_id)), reverse=True
        )
        return ordered[:limit]

    def last_deployment(
        self, env: str, status: DeploymentStatus = DeploymentStatus.SUCCESS
    ) -> Deployment | None:
        return next((d for d in self.deployments(env, limit=200) if d.status is status), None)

    def deployment_in_progress(self, env: str) -> Deployment | None:
        marker = self._markers.get(env)
        if marker is None or _expired(marker[1], self.clock()):
            return None
        return marker[0]

    def deploy_marker_expires_in(self, env: str) -> timedelta | None:
        marker = self._markers.get(env)
        if marker is None or marker[1] is None or self.deployment_in_progress(env) is None:
            return None
        return marker[1] - self.clock()

    # runs
    def next_run_id(self, env: str) -> str:
        self._seq += 1
        return f"{env}-{self._seq}"

    def create_run(self, run: Run) -> bool:
        if run.id in self._runs:
            return False
        self._runs[run.id] = run
        if not run.status.is_terminal:
            self._active.add(run.id)
        return True

    def get_run(self, run_id: str) -> Run:
        if run_id not in self._runs:
            raise UnknownRun(f"no run '{run_id}'")
        return self._runs[run_id]

    def transition_run(
        self, run_id: str, status: RunStatus, at: datetime, *, timing: RunTiming | None = None, **changes: Any
    ) -> Run:
        moved, _ = self._transition(run_id, status, at, changes, {})
        if status is RunStatus.SUCCESS and timing is not None:
            self.record_run_timing(moved.environment, timing)
        return moved

    def approve_run(
        self, run_id: str, at: datetime, approved_by: list[str], supersede: Mapping[str, str]
    ) -> tuple[Run, list[Run]]:
        return self._transition(run_id, RunStatus.APPROVED, at, {"approved_by": approved_by}, supersede)

    def split_run(self, run_id: str, part_id: str, part: list[str], at: datetime) -> tuple[Run, Run]:
        if part_id in self._runs:
            raise ValueError(f"run {part_id} exists")
        piece, kept = self.get_run(run_id).split(part_id, part, at)
        self._runs[run_id], self._runs[piece.id] = kept, piece
        self._active.add(piece.id)
        return piece, kept

    def _transition(
        self,
        run_id: str,
        status: RunStatus,
        at: datetime,
        changes: Mapping[str, Any],
        supersede: Mapping[str, str],
    ) -> tuple[Run, list[Run]]:
        moved = self.get_run(run_id).moved_to(status, at, **changes)
        replaced: list[Run] = []
        if status in (RunStatus.APPROVED, RunStatus.TRIGGERED):
            others = [r for r in self.active_runs() if r.environment == moved.environment]
            replaced = [
                o.moved_to(RunStatus.CANCELED, at, failure_reason=supersede[o.id], superseded_by=run_id)
                for o in others
                if o.id in supersede and o.status is RunStatus.APPROVED
            ]
            gone = {r.id for r in replaced}
            blockers = conflicting_runs(moved, [o for o in others if o.id not in gone])
            if blockers:
                raise RunConflict(conflict_reason(moved, blockers))
        self._runs[run_id] = moved
        for old in replaced:
            self._runs[old.id] = old
            self._active.discard(old.id)
        if status.is_terminal:
            self._active.discard(run_id)
        if status is RunStatus.SUCCESS:
            self._last_success[moved.environment] = run_id
            self.record_successes(moved.environment, moved.migrations, at)
            self.remove_pending(moved.environment, moved.migrations)
        return moved, replaced

    def runs(self, env: str, limit: int = 20) -> list[Run]:
        mine = [r for r in self._runs.values() if r.environment == env]
        return sorted(mine, key=lambda r: (r.requested_at, r.id), reverse=True)[:limit]

    def active_runs(self) -> list[Run]:
        return sorted((self._runs[i] for i in self._active), key=lambda r: r.requested_at)

    def last_successful_run(self, env: str) -> Run | None:
        run_id = self._last_success.get(env)
        return None if run_id is None else self.get_run(run_id)

    def add_approval(self, run_id: str, approval: Note) -> list[Note]:
        self._approvals[run_id].setdefault(approval.actor, approval)
        return self.approvals(run_id)

    def approvals(self, run_id: str) -> list[Note]:
        return sorted(self._approvals[run_id].values(), key=lambda n: n.at)

    # run timings
    def record_run_timing(self, env: str, timing: RunTiming) -> None:
        self._timings[env] = [*self._timings[env], timing][-RUN_TIMINGS_KEPT:]

    def run_timings(self, env: str) -> list[RunTiming]:
        return list(self._timings[env])

    # controls
    def set_pause(self, env: str | None, note: Note) -> None:
        self._pauses[env] = note

    def clear_pause(self, env: str | None) -> bool:
        return self._pauses.pop(env, None) is not None

    def pause(self, env: str | None) -> Note | None:
        return self._pauses.get(env)

    def effective_pause(self, env: str) -> Note | None:
        return self.pause(env) or self.pause(None)

    def set_hold(self, version: str, note: Note) -> None:
        self._holds[version] = note

    def clear_hold(self, version: str) -> bool:
        return self._holds.pop(version, None) is not None

    def holds(self) -> dict[str, Note]:
        return dict(self._holds)

    def set_baseline(self, env: str, baseline: Baseline) -> None:
        self._baselines[env] = baseline

    def baseline(self, env: str) -> Baseline | None:
        return self._baselines.get(env)

    def record_successes(self, env: str, versions: Iterable[str], at: datetime) -> None:
        self._succeeded[env].update(dict.fromkeys(versions, at))

    def successes(self, env: str) -> dict[str, datetime]:
        return dict(self._succeeded[env])

    # locks, claims, mutexes
    def acquire_lock(self, env: str, owner: str, ttl: timedelta, at: datetime) -> Lock | None:
        self._fences[env] += 1
        lock = Lock(environment=env, owner=owner, token=self._fences[env], acquired_at=at)
        if self.lock_holder(env) is not None:
            return None
        self._locks[env] = (lock, self.clock() + ttl)
        return lock

    def renew_lock(self, lock: Lock, ttl: timedelta) -> bool:
        if self.lock_holder(lock.environment) != lock:
            return False
        self._locks[lock.environment] = (lock, self.clock() + ttl)
        return True

    def release_lock(self, lock: Lock) -> bool:
        if self.lock_holder(lock.environment) != lock:
            return False
        del self._locks[lock.environment]
        return True

    def lock_holder(self, env: str) -> Lock | None:
        held = self._locks.get(env)
        return None if held is None or _expired(held[1], self.clock()) else held[0]

    def holds_lock(self, lock: Lock) -> bool:
        return self.lock_holder(lock.environment) == lock

    def claim(self, key: str, ttl: timedelta) -> bool:
        if self.marked(key):
            return False
        self.mark(key, ttl)
        return True

    def unclaim(self, key: str) -> None:
        self._claims.pop(key, None)

    def mark(self, key: str, ttl: timedelta) -> None:
        self._claims[key] = self.clock() + max(ttl, timedelta(seconds=1))

    def marked(self, key: str) -> bool:
        return key in self._claims and not _expired(self._claims[key], self.clock())

    @contextmanager
    def mutex(self, name: str, ttl: timedelta, wait: timedelta) -> Iterator[bool]:
        if name in self._mutexes:
            yield False
            return
        self._mutexes.add(name)
        try:
            yield True
        finally:
            self._mutexes.discard(name)

    def hold_mutex(self, name: str) -> None:
        """Hold `name` as another process would (until `release_mutex`)."""
        self._mutexes.add(name)

    def release_mutex(self, name: str) -> None:
        """Release a mutex held with `hold_mutex`."""
        self._mutexes.discard(name)

    # Slack references
    def set_thread(self, env: str, sha: str, message: SlackMessage) -> bool:
        return self._threads.setdefault(f"{env}:{sha}", message) is message

    def thread(self, env: str, sha: str) -> SlackMessage | None:
        return self._threads.get(f"{env}:{sha}")

    def set_proposal_message(self, run_id: str, message: SlackMessage) -> None:
        self._proposals[run_id] = message

    def proposal_message(self, run_id: str) -> SlackMessage | None:
        return self._proposals.get(run_id)

    # audit
    def audit(self, entry: AuditEntry) -> str:
        stored = replace(
            entry, id=f"{len(self.audits)}-0", details=json.loads(json.dumps(redact(entry.details)))
        )
        self.audits.append(stored)
        return stored.id

    def audit_log(self, limit: int = 50, environment: str | None = None) -> list[AuditEntry]:
        found = [e for e in reversed(self.audits) if environment is None or e.environment == environment]
        return found[:limit]

    def actions(self) -> list[str]:
        """The audited actions, oldest first."""
        return [e.action for e in self.audits]

    # the rest of the port
    def snapshot(self, envs: Sequence[str], *, deployments: int = 50) -> FakeStore:
        return self

    def telemetry(self) -> FakeTelemetry:
        return self.counters

    def outbox(self) -> FakeOutbox:
        return self.owed


@dataclass
class FakeLease:
    """A held lane of the fake outbox."""

    lane: str
    lost: bool = False

    def renew(self) -> bool:
        return not self.lost


class FakeOutbox:
    """`scheduler.ports.OutboxPort` in memory: lanes of envelopes, due times, leases, dead letters."""

    def __init__(self, store: FakeStore) -> None:
        self._store = store
        self._seq = 0
        self._lanes: dict[str, list[Envelope]] = defaultdict(list)
        self._due: dict[str, datetime] = {}
        self.leased: set[str] = set()
        self.dead: list[tuple[Envelope, str]] = []
        self.wakes: list[datetime | None] = []

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
        self._seq += 1
        envelope = Envelope(
            id=str(self._seq),
            lane=lane_of(note, response_url),
            kind=kind,
            created_at=now,
            deadline=deadline,
            note=note,
            response_url=response_url,
            text=text,
            ephemeral=ephemeral,
        )
        self._lanes[envelope.lane].append(envelope)
        self._due.setdefault(envelope.lane, now)
        return envelope

    def wake(self, queue: JobQueue, at: datetime | None = None, *, now: datetime | None = None) -> None:
        self.wakes.append(at)

    def resume(self, queue: JobQueue) -> None:
        if any(self._lanes.values()):
            self.wake(queue)

    def woken(self) -> None:
        return None

    def lanes(self) -> list[tuple[str, float]]:
        return sorted(((lane, at.timestamp()) for lane, at in self._due.items()), key=lambda x: x[1])

    @contextmanager
    def lease(self, lane: str, ttl: timedelta) -> Iterator[FakeLease | None]:
        if lane in self.leased:
            yield None
            return
        self.leased.add(lane)
        try:
            yield FakeLease(lane)
        finally:
            self.leased.discard(lane)

    def lease_left(self, lane: str) -> timedelta:
        return timedelta(seconds=30) if lane in self.leased else timedelta(0)

    def head(self, lane: str) -> Envelope | None:
        return self._lanes[lane][0] if self._lanes[lane] else None

    def save(self, envelope: Envelope) -> None:
        lane = self._lanes[envelope.lane]
        lane[:] = [envelope if e.id == envelope.id else e for e in lane]

    def postpone(self, envelope: Envelope, until: datetime) -> None:
        self.save(envelope)
        self._due[envelope.lane] = until

    def done(self, envelope: Envelope) -> None:
        self._lanes[envelope.lane] = [e for e in self._lanes[envelope.lane] if e.id != envelope.id]
        self.settle(envelope.lane)

    def dead_letter(self, envelope: Envelope, reason: str, at: datetime) -> None:
        self.dead.append((envelope, reason))
        self.done(envelope)

    def settle(self, lane: str) -> None:
        if not self._lanes[lane]:
            self._due.pop(lane, None)

    def owed_envelopes(self) -> list[Envelope]:
        """Every envelope still owed, lane by lane."""
        return [e for lane in self._lanes.values() for e in lane]


@dataclass
class FakeQueue:
    """`scheduler.ports.JobQueue` recording what was enqueued, when."""

    now: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    at: list[tuple[datetime, str, tuple[Any, ...]]] = field(default_factory=list)
    later: list[tuple[timedelta, str, tuple[Any, ...]]] = field(default_factory=list)

    def enqueue(self, f: str, /, *args: Any) -> object:
        self.now.append((f, args))
        return None

    def enqueue_at(self, at: datetime, f: str, /, *args: Any) -> object:
        self.at.append((at, f, args))
        return None

    def enqueue_in(self, delay: timedelta, f: str, /, *args: Any) -> object:
        self.later.append((delay, f, args))
        return None

    def names(self) -> list[str]:
        """Names of the jobs enqueued to run now, in order."""
        return [f for f, _ in self.now]


@dataclass
class FakeGitLab:
    """`scheduler.ports.GitLab` in memory: fill `files`/`compares`/`trees`/`commits`; `file_fails` makes
    every read of a path raise, `reads` records the paths read; `create_fails` makes the next pipeline POST
    raise (after creating it when `create_lands`)."""

    files: dict[tuple[str, str], str] = field(default_factory=dict)
    file_fails: dict[str, Exception] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)
    compares: dict[tuple[str, str], MigrationDiff] = field(default_factory=dict)
    trees: dict[str, list[str]] = field(default_factory=dict)
    commits: list[str] = field(default_factory=list)
    pipelines: list[Pipeline] = field(default_factory=list)
    incidents: list[IncidentIssue] | None = None
    create_fails: Exception | None = None
    create_lands: bool = False
    created: int = 0

    def compare(self, from_sha: str, to_sha: str) -> MigrationDiff:
        return self.compares.get((from_sha, to_sha), MigrationDiff(from_sha, to_sha))

    def file_text(self, path: str, sha: str) -> str:
        self.reads.append(path)
        if path in self.file_fails:
            raise self.file_fails[path]
        if (path, sha) not in self.files:
            raise GitLabNotFound(f"GitLab file {path} at {sha[:12]}: HTTP 404")
        return self.files[(path, sha)]

    def post_migrations_at(self, sha: str) -> list[str]:
        return sorted(self.trees.get(sha, []))

    def resolve_sha(self, ref: str) -> str:
        found = [c for c in self.commits if c.startswith(ref)]
        if not found:
            raise GitLabNotFound(f"GitLab commit {ref}: HTTP 404")
        return found[0]

    def create_pipeline(
        self, environment: str, target_sha: str, up_to_version: str, extras: Mapping[str, str] | None = None
    ) -> Pipeline:
        variables = {
            **(extras or {}),
            "PDM_ENVIRONMENT": environment,
            "PDM_TARGET_SHA": target_sha,
            "PDM_MIGRATION_VERSION": up_to_version,
        }
        failure, self.create_fails = self.create_fails, None
        if failure is not None and not self.create_lands:
            raise failure
        self.created += 1
        pipeline = Pipeline(
            id=100 + len(self.pipelines),
            status="created",
            web_url=f"https://gitlab.example/pipelines/{100 + len(self.pipelines)}",
            ref="master",
            sha=target_sha,
            source="api",
            created_at=None,
            variables=variables,
        )
        self.pipelines.append(pipeline)
        if failure is not None:
            raise failure
        return pipeline

    def pipeline(self, pipeline_id: int) -> Pipeline:
        for pipeline in self.pipelines:
            if pipeline.id == pipeline_id:
                return pipeline
        raise GitLabNotFound(f"GitLab pipeline {pipeline_id}: HTTP 404")

    def finish(self, pipeline_id: int, status: str = "success") -> None:
        """Let a pipeline end with `status`."""
        self.pipelines = [replace(p, status=status) if p.id == pipeline_id else p for p in self.pipelines]

    def pdm_pipelines(
        self,
        environment: str | None = None,
        *,
        updated_after: datetime | None = None,
        source: str | None = None,
        limit: int = 50,
    ) -> list[Pipeline]:
        found = [
            p
            for p in reversed(self.pipelines)
            if "PDM_ENVIRONMENT" in p.variables and environment in (None, p.variables["PDM_ENVIRONMENT"])
        ]
        return found[:limit]

    def open_incidents(self) -> list[IncidentIssue] | None:
        return self.incidents


@dataclass
class FakeTransport:
    """`scheduler.ports.Transport`: records what Slack would show; `failures` are raised first, in order."""

    channel: str = "C0RELEASE"
    failures: list[Exception] = field(default_factory=list)
    posts: list[tuple[Message, str | None, int]] = field(default_factory=list)
    updates: list[tuple[Message, str]] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    def parts(self, note: Message) -> int:
        return 1

    def post(self, note: Message, thread_ts: str | None, part: int = 0) -> str:
        self._maybe_fail()
        self.posts.append((note, thread_ts, part))
        return f"1700000000.{len(self.posts):06d}"

    def update(self, note: Message, ts: str) -> None:
        self._maybe_fail()
        self.updates.append((note, ts))

    def respond(self, response_url: str, answer: str | RunRequestAnswer, *, ephemeral: bool) -> None:
        self._maybe_fail()
        self.responses.append((response_url, answer if isinstance(answer, str) else answer_text(answer)))
