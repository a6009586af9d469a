"""The replay: deploys, PDM runs and release-manager answers as timed events on one clock.

Shared mechanics (every strategy): a deploy holds its environment for its duration and waits while a
PDM run holds it; a run holds it for the sum of its migrations' durations; a deploy's migrations are
pending once it ends; the rollback line opens when a migration of the package deployed now starts and
closes when the next deploy ends. Strategies only say when runs start: `PolicyStrategy` asks the
worker's `decide()` at every instant where its answer may change (or every minute), the baselines
follow their fixed rule.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import IntEnum
from operator import attrgetter
from typing import Literal, Protocol

from scheduler.classify.model import Classification
from scheduler.errors import ScenarioError
from scheduler.lifecycle import approval_rule, approved_part, auto_ahead, covers
from scheduler.natures import Nature
from scheduler.plan import decide, manual_ask_due
from scheduler.policy.decision import (
    Action,
    Approval,
    Decision,
    DeployedPackage,
    EnvState,
    ManualRequest,
    PendingMigration,
)
from scheduler.policy.forecast import relearnt_at
from scheduler.policy.learnt import RUN_TIMINGS_KEPT, Part, RunTiming, part_of
from scheduler.policy.model import Mode, Ordering, Policy
from scheduler.policy.ordering import version_key
from scheduler.policy.windows import Window, shared_verdict
from scheduler.records import up_to_version
from scheduler.simulate.scenario import DeploySpec, MigrationSpec, Scenario

Resolution = Literal["event", "minute"]
_MINUTE = timedelta(minutes=1)
_PACKAGES_KEPT = 50  # the successful deployments the worker reads per environment


class _Kind(IntEnum):
    """Event kinds; at one instant, lower values are handled first."""

    END = 0
    DEPLOY = 1
    ANSWER = 2
    TRIGGER = 3


@dataclass(frozen=True)
class Execution:
    """One migration executed by a run."""

    environment: str
    version: str
    nature: Nature
    package_sha: str
    pending_since: datetime
    start: datetime
    end: datetime


@dataclass(frozen=True)
class RunRecord:
    """One PDM pipeline."""

    environment: str
    start: datetime
    end: datetime
    executions: tuple[Execution, ...]


@dataclass(frozen=True)
class DeployRecord:
    """One deploy: scheduled start, actual start (later if a run held the environment), end."""

    environment: str
    sha: str
    scheduled: datetime
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Interval:
    """A stretch of time on one environment (rollback unavailable)."""

    environment: str
    start: datetime
    end: datetime


@dataclass
class Outcome:
    """Everything one strategy did over the scenario."""

    name: str
    runs: list[RunRecord] = field(default_factory=list)
    deploys: list[DeployRecord] = field(default_factory=list)
    waiting_deploys: list[DeployRecord] = field(default_factory=list)
    rollback_unavailable: list[Interval] = field(default_factory=list)
    human_actions: int = 0
    pending_at_end: int = 0


@dataclass
class _Pending:
    migration: MigrationSpec
    pending: PendingMigration
    since: datetime
    order: tuple[int, str]  # version order


_ORDER, _PLANNED = attrgetter("order"), attrgetter("pending")


@dataclass(frozen=True)
class Proposal:
    """A proposal posted in the release thread; only the latest one of an environment is answered."""

    id: int
    versions: tuple[str, ...]
    needed: int
    expires: datetime | None

    def in_force(self, at: datetime) -> bool:
        """Whether the window it was proposed for is still open at `at`."""
        return self.expires is None or self.expires > at


@dataclass
class EnvSim:
    """Mutable state of one simulated environment."""

    name: str
    pending: dict[str, _Pending] = field(default_factory=dict)  # changed by `add` and `take` only
    packages: tuple[DeployedPackage, ...] = ()  # the last `_PACKAGES_KEPT` successful deploys
    busy: bool = False
    waiting: deque[DeploySpec] = field(default_factory=deque)
    succeeded: dict[str, datetime] = field(default_factory=dict)
    approval: Approval | None = None
    approved: tuple[str, ...] = ()  # the approved run's migrations: it executes this explicit set
    manual_request: ManualRequest | None = None
    proposal: Proposal | None = None
    # the manual version last asked for and the close of its window (a later answer is not given)
    manual_asked: tuple[str, datetime | None] | None = None
    proposed: tuple[str, ...] = ()  # the batch the last decision proposed (in force or covered)
    rollback_since: datetime | None = None
    due: bool = False
    starts: tuple[datetime, ...] = ()  # deploy starts the bot recorded, oldest first
    timings: tuple[RunTiming, ...] = ()  # finished runs, oldest first (the planner learns estimates)
    running: tuple[Part, ...] = ()  # estimates of the run going on
    _sorted: list[_Pending] = field(default_factory=list, init=False, repr=False, compare=False)  # by order
    # `pending` as the planner reads it and in version order, made once per pending set: the planner
    # memoises by object, so decisions between two changes hand it the same tuples
    _views: tuple[tuple[PendingMigration, ...], tuple[_Pending, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def add(self, item: _Pending) -> None:
        """Make `item` pending (a scenario brings each version once per environment)."""
        self.pending[item.migration.version] = item
        insort(self._sorted, item, key=_ORDER)
        self._views = None

    def take(self, version: str) -> _Pending:
        """Remove `version` from the pending migrations (it runs)."""
        self._views = None
        item = self.pending.pop(version)
        del self._sorted[bisect_left(self._sorted, item.order, key=_ORDER)]
        return item

    def planned(self) -> tuple[PendingMigration, ...]:
        """What the planner reads of the pending migrations, in version order."""
        return self._pending_views()[0]

    def ordered(self) -> tuple[_Pending, ...]:
        """Pending migrations in version order."""
        return self._pending_views()[1]

    def _pending_views(self) -> tuple[tuple[PendingMigration, ...], tuple[_Pending, ...]]:
        if self._views is None:
            ordered = tuple(self._sorted)
            self._views = tuple(map(_PLANNED, ordered)), ordered
        return self._views

    def deployed(self, package: DeployedPackage) -> None:
        """Record a successful deploy (the last `_PACKAGES_KEPT`, which the worker reads)."""
        self.packages = (*self.packages[-(_PACKAGES_KEPT - 1) :], package)


class Strategy(Protocol):
    """When runs start."""

    name: str

    def setup(self, replay: Replay) -> None:
        """Schedule the strategy's own events."""

    def on_free(self, replay: Replay, env: EnvSim, at: datetime, after_deploy: bool) -> None:
        """The environment just became free (no deploy waiting)."""

    def on_trigger(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """A TRIGGER event of this strategy fired."""

    def on_answer(self, replay: Replay, env: EnvSim, at: datetime, kind: str) -> None:
        """The simulated release manager answered a request of this strategy."""

    def on_run_end(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """A run of `env` ended (before `on_free`)."""

    def on_deploy_end(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """A deploy of `env` ended: its package is deployed (before `on_free`)."""


def classification(m: MigrationSpec) -> Classification:
    """The classification the planner sees for a scenario migration: one object per migration, shared
    by every environment and strategy of the scenario (the policy memoises estimates per object)."""
    hit = _CLASSIFIED.get(id(m))
    if hit is None:
        if len(_CLASSIFIED) >= _CLASSIFIED_KEPT:
            _CLASSIFIED.clear()
        made = Classification(
            path=f"db/post_migrate/{m.version}_simulated.rb",
            version=m.version,
            name="simulated",
            primary_nature=m.nature,
            natures=[m.nature],
            tables=list(m.tables or []),
            touches_no_table=m.tables == [],  # listed as none; without `tables`: unknown tables
            table_sizes={"simulated": m.size} if m.size is not None else {},
        )
        hit = _CLASSIFIED[id(m)] = (m, made)  # the migration kept keeps its id unique
    return hit[1]


_CLASSIFIED: dict[int, tuple[MigrationSpec, Classification]] = {}
_CLASSIFIED_KEPT = 65536


class Replay:
    """The event loop of one strategy over one scenario."""

    def __init__(self, scenario: Scenario, strategy: Strategy) -> None:
        self.scenario = scenario
        self.strategy = strategy
        self.envs = {name: EnvSim(name) for name in scenario.environments}
        for known in sorted(scenario.history, key=lambda h: h.at):
            env = self.envs[known.environment]
            env.starts = (*env.starts, known.at)
        self.observed_since = min([scenario.start, *(h.at for h in scenario.history)])
        self.outcome = Outcome(strategy.name)
        self._heap: list[tuple[datetime, int, int, str, object]] = []
        self._seq = 0

    def push(self, at: datetime, kind: _Kind, env: str, payload: object = None) -> None:
        """Schedule an event (ignored at or after the end of the scenario)."""
        if at < self.scenario.end:
            self._seq += 1
            heapq.heappush(self._heap, (at, int(kind), self._seq, env, payload))

    def run(self) -> Outcome:
        """Replay every event in time order until the end of the scenario."""
        for d in self.scenario.deploy_list:
            self.push(d.at, _Kind.DEPLOY, d.environment, d)
        self.strategy.setup(self)
        while self._heap:
            at, kind, _, name, payload = heapq.heappop(self._heap)
            env = self.envs[name]
            if kind == _Kind.END:
                self._end(env, at, payload)
            elif kind == _Kind.DEPLOY:
                assert isinstance(payload, DeploySpec)
                if env.busy:
                    env.waiting.append(payload)
                else:
                    self._start_deploy(env, payload, at)
            elif kind == _Kind.ANSWER:
                self.strategy.on_answer(self, env, at, str(payload))
            else:
                self.strategy.on_trigger(self, env, at)
        return self._finish()

    def _start_deploy(self, env: EnvSim, deploy: DeploySpec, at: datetime) -> None:
        env.busy = True
        env.starts = (*env.starts, at)
        end = at + timedelta(minutes=deploy.duration_minutes)
        self.outcome.deploys.append(DeployRecord(env.name, deploy.sha, deploy.at, at, end))
        self.push(end, _Kind.END, env.name, deploy)

    def _end(self, env: EnvSim, at: datetime, payload: object) -> None:
        env.busy = False
        after_deploy = isinstance(payload, DeploySpec)
        if isinstance(payload, DeploySpec):
            env.deployed(DeployedPackage(payload.sha, at))
            self.strategy.on_deploy_end(self, env, at)
            for m in payload.migrations:
                pending = PendingMigration(m.version, classification(m), payload.sha, at)
                env.add(_Pending(m, pending, at, version_key(pending)))
            if env.rollback_since is not None:
                self.outcome.rollback_unavailable.append(Interval(env.name, env.rollback_since, at))
                env.rollback_since = None
        elif isinstance(payload, RunRecord):
            for e in payload.executions:
                env.succeeded[e.version] = payload.end
            self.strategy.on_run_end(self, env, at)
        if env.waiting:
            self._start_deploy(env, env.waiting.popleft(), at)
        else:
            self.strategy.on_free(self, env, at, after_deploy)

    def start_run(self, env: EnvSim, versions: list[str], at: datetime) -> RunRecord:
        """Execute `versions` (pending, in the given execution order) from `at`, holding the environment."""
        current = env.packages[-1].sha if env.packages else None
        t, executions = at, []
        for version in versions:
            item = env.take(version)
            end = t + timedelta(minutes=item.migration.duration_minutes)
            package = item.pending.package_sha or ""
            executions.append(
                Execution(env.name, version, item.migration.nature, package, item.since, t, end)
            )
            if package == current and env.rollback_since is None:
                env.rollback_since = t
            t = end
        if env.proposal is not None and set(env.proposal.versions) & set(versions):
            env.proposal = None  # the worker supersedes it by this run; what is left is proposed afresh
        record = RunRecord(env.name, at, t, tuple(executions))
        self.outcome.runs.append(record)
        env.busy = True
        self.push(t, _Kind.END, env.name, record)
        return record

    def _finish(self) -> Outcome:
        end = self.scenario.end
        for env in self.envs.values():
            if env.rollback_since is not None and env.rollback_since < end:
                self.outcome.rollback_unavailable.append(Interval(env.name, env.rollback_since, end))
            self.outcome.pending_at_end += len(env.pending)
            self.outcome.waiting_deploys += [
                DeployRecord(env.name, d.sha, d.at, end, end) for d in env.waiting
            ]
        return self.outcome


def _weekdays_at(scenario: Scenario, hour: int) -> list[datetime]:
    midnight = scenario.start.replace(hour=0, minute=0, second=0, microsecond=0)
    days = [midnight + timedelta(days=d, hours=hour) for d in range(scenario.days + 1)]
    return [d for d in days if d.weekday() < 5 and scenario.start <= d < scenario.end]


class DailyManual:
    """Baseline: a human runs everything pending once each weekday at `manual_hour` UTC (after a
    running deploy if one holds the environment)."""

    name = "daily_manual"

    def setup(self, replay: Replay) -> None:
        """One trigger per weekday and environment."""
        for at in _weekdays_at(replay.scenario, replay.scenario.manual_hour):
            for env in replay.envs:
                replay.push(at, _Kind.TRIGGER, env)

    def on_trigger(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """Run now, or as soon as the environment is free."""
        env.due = True
        if not env.busy:
            self.on_free(replay, env, at, False)

    def on_free(self, replay: Replay, env: EnvSim, at: datetime, after_deploy: bool) -> None:
        """Run what is pending when a run is due."""
        if env.due:
            env.due = False
            if env.pending:
                replay.outcome.human_actions += 1
                replay.start_run(env, [p.migration.version for p in env.ordered()], at)

    def on_answer(self, replay: Replay, env: EnvSim, at: datetime, kind: str) -> None:
        """Nobody is asked."""

    def on_run_end(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """Nothing to follow up."""

    def on_deploy_end(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """Nothing to follow up: `on_free` acts."""


class AfterEachDeploy:
    """Baseline: the deploy pipeline runs everything pending right after each deploy (no human)."""

    name = "after_each_deploy"

    def setup(self, replay: Replay) -> None:
        """No events of its own."""

    def on_trigger(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """No triggers."""

    def on_free(self, replay: Replay, env: EnvSim, at: datetime, after_deploy: bool) -> None:
        """Run everything pending as soon as a deploy ends."""
        if after_deploy and env.pending:
            replay.start_run(env, [p.migration.version for p in env.ordered()], at)

    def on_answer(self, replay: Replay, env: EnvSim, at: datetime, kind: str) -> None:
        """Nobody is asked."""

    def on_run_end(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """Nothing to follow up."""

    def on_deploy_end(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """Nothing to follow up: `on_free` acts."""


def _window_boundaries(window: Window, start: datetime, end: datetime) -> list[datetime]:
    """Where `window` opens or closes in [start, end] (merged stretches: touching openings are one)."""
    return [b for pair in window.openings(start, end) for b in pair if b is not None]


def boundaries(policy: Policy, start: datetime, end: datetime) -> list[datetime]:
    """Every instant in [start, end] where a window of the policy opens or closes, where the last
    `proposals.post_within` of working hours begins (and hour starts when the database-load guard
    reads the traffic curve)."""
    windows = [w.to_window(policy.timezone) for w in policy.windows]
    hours = policy.working_hours
    windows.append(hours)
    if policy.deploy_window is not None:
        windows.append(policy.deploy_window)
    out = {b for w in windows for b in _window_boundaries(w, start, end) if start <= b <= end}
    within = policy.proposals.post_within
    if within is not None:
        late = (max(s, e - within) for s, e in hours.openings(start, end) if e is not None)
        out.update(b for b in late if start <= b <= end)
    if policy.guards.max_db_load is not None:
        out.update(start + timedelta(hours=h) for h in range(int((end - start).total_seconds() // 3600) + 1))
    return sorted(out)


class PolicyStrategy:
    """The bot: `decide()` at every instant where its answer may change, acting on it like the worker,
    with a simulated release manager answering proposals and `/pdm run` needs in working hours."""

    name = "policy"

    def __init__(self, policy: Policy, resolution: Resolution = "event") -> None:
        self.policy = policy
        self.resolution = resolution
        self._boundaries: list[datetime] = []
        self._hours = ((policy.working_hours,), ())
        self._verdicts: dict[object, tuple[datetime, datetime | None, bool]] = {}  # see `_open`
        self._scheduled: set[tuple[str, datetime]] = set()
        self._soaking: dict[tuple[str, datetime], set[str]] = {}  # wakes only for soak ends: see `_wake`
        self._proposals = 0
        self.decisions = 0

    def setup(self, replay: Replay) -> None:
        """Precompute window boundaries; wake every environment at incident starts and ends."""
        s = replay.scenario
        for name in s.environments:
            spec = self.policy.environment(name)
            if spec.requires is not None and spec.requires not in replay.envs:
                raise ScenarioError(
                    f"invalid scenario: environments: {name} requires {spec.requires} in the policy, "
                    "which the scenario does not simulate"
                )
        self._boundaries = boundaries(self.policy, s.start, s.end)
        for incident in s.incidents:
            for name in replay.envs:
                self._wake(replay, name, incident.start)
                self._wake(replay, name, incident.end)

    def _wake(self, replay: Replay, env: str, at: datetime, soaking: set[str] | None = None) -> None:
        """Wake `env` at `at`; `soaking`: only because the soak of these upstream successes ends then,
        which `on_trigger` weighs (`_soak_matters`) unless something else wakes it then too."""
        key = (env, at)
        if key not in self._scheduled:
            self._scheduled.add(key)
            replay.push(at, _Kind.TRIGGER, env)
            if soaking is not None:
                self._soaking[key] = set(soaking)
        elif soaking is None:
            self._soaking.pop(key, None)
        elif key in self._soaking:
            self._soaking[key] |= soaking

    def on_trigger(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """Evaluate unless the environment is held (its release re-evaluates), or only an upstream soak
        ends now and changes nothing here (`_soak_matters`)."""
        self._scheduled.discard((env.name, at))
        soaked = self._soaking.pop((env.name, at), None)
        if not env.busy and (soaked is None or self._soak_matters(env, soaked, at)):
            self.evaluate(replay, env, at)

    def on_free(self, replay: Replay, env: EnvSim, at: datetime, after_deploy: bool) -> None:
        """Evaluate at once (the worker's on_deploy / run-result evaluation). The end of the bake needs
        no wake of its own: the decision's start search waits for it."""
        self.evaluate(replay, env, at)

    def on_deploy_end(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """Downstream environments expect the new package to be promoted: their forecast changes now. It
        changes no answer of one whose head's window is closed: the window's opening wakes it, and its
        decision then reads the promotion. In working hours what the upstream will run changes as well,
        and with it what a downstream may propose ahead."""
        proposing = self._working(at)
        for other in replay.envs.values():
            spec = self.policy.environment(other.name)
            if spec.requires == env.name and other.pending and (proposing or self._window_open(other, at)):
                self._wake(replay, other.name, at)

    def on_run_end(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """Record how long the run took (estimates learn from it); downstream environments may run once
        the soak ends (`_soak_matters`), and in working hours may propose ahead what the run succeeded."""
        run = next(r for r in reversed(replay.outcome.runs) if r.environment == env.name)
        timing = RunTiming(at, at - run.start, env.running)
        env.timings = (*env.timings[-(RUN_TIMINGS_KEPT - 1) :], timing)
        ran = {e.version for e in run.executions}
        proposing = self._working(at)
        for other in replay.envs.values():
            spec = self.policy.environment(other.name)
            if spec.requires == env.name:
                if proposing and other.pending:  # its successes change what a proposal ahead covers
                    self._wake(replay, other.name, at)
                self._wake(replay, other.name, at + spec.min_soak, soaking=ran)

    def _soak_matters(self, env: EnvSim, ran: set[str], at: datetime) -> bool:
        """Whether the soak of upstream successes `ran`, ending at `at`, may change what `env` does now:
        its head (under `ordering: independent`, any pending migration) is one of `ran`, a proposal waits
        for its answer (its batch may grow), or working hours are open (a proposal ahead may cover more).
        Else the head is held for another reason, and what its own decision's start search found still
        holds: a start it found wakes the environment on its own. The minute replay looks every minute."""
        if self.resolution == "minute" or env.proposal is not None:
            return True
        if self._working(at):
            return True
        if not env.pending:
            return False
        if self.policy.ordering is Ordering.INDEPENDENT:
            return any(version in ran for version in env.pending)
        return env.ordered()[0].migration.version in ran

    def on_answer(self, replay: Replay, env: EnvSim, at: datetime, kind: str) -> None:
        """Record the release manager's approval of the latest proposal or `/pdm run`, then evaluate.
        An answer to a superseded proposal is not given (its message says superseded)."""
        if kind.startswith("approval:"):
            proposal = env.proposal
            if proposal is None or kind != f"approval:{proposal.id}":
                return
            env.proposal = None
            if proposal.in_force(at):  # an expired proposal is not answered
                approvers = tuple(f"release-manager-{i + 1}" for i in range(proposal.needed))
                env.approval = Approval(
                    up_to_version(proposal.versions), approvers, expires_at=proposal.expires
                )
                env.approved = proposal.versions
                replay.outcome.human_actions += proposal.needed
        elif kind == "manual" and env.pending:
            closes = env.manual_asked[1] if env.manual_asked is not None else None
            if closes is not None and at >= closes:
                return  # the ask's window closed: the bot asks again before the next one
            last = env.ordered()[-1].migration.version
            env.manual_request = ManualRequest("release-manager", last)
            env.manual_asked = None
            env.proposal = None  # `/pdm run` supersedes the open proposal: it covers that batch too
            # the request, then its approvals: the requester approves a one-person request; the
            # two-person rule takes two approvers besides them
            replay.outcome.human_actions += 1 + self._approvers(env.pending.values())
        self._wake_downstream(replay, env, at)  # what the upstream will run changed
        if not env.busy:
            self.evaluate(replay, env, at)

    def _state(self, replay: Replay, env: EnvSim, at: datetime) -> EnvState:
        spec = self.policy.environment(env.name)
        upstream = replay.envs[spec.requires] if spec.requires else None
        incidents = sum(1 for i in replay.scenario.incidents if i.start <= at < i.end)
        return EnvState(
            environment=env.name,
            pending=env.planned(),
            packages=env.packages,
            db_load=replay.scenario.traffic.at(at),
            open_incidents=incidents,
            upstream_successes=upstream.succeeded if upstream else {},
            approval=env.approval,
            manual_request=env.manual_request,
            upstream=self._state(replay, upstream, at) if upstream else None,
            deploy_starts=env.starts,
            run_timings=env.timings,
            observed_since=replay.observed_since,
        )

    def evaluate(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """One worker evaluation: decide and act."""
        if not env.pending:
            return
        if self._only_waits(env, at):  # no manual ask is due: its window is closed, working hours too
            self._next_wake(replay, env, at, None)
            return
        self.decisions += 1
        decision = decide(self._state(replay, env, at), self.policy, at, follow_up=True)
        if decision.action is Action.EXECUTE:
            versions = self._approved_batch(env, decision.migrations, at)
            if versions:
                guessed = (env.pending[v].pending.classification for v in versions)
                env.running = tuple(part_of(c, self.policy) for c in guessed)
                replay.start_run(env, versions, at)
                self._release(env)
                return
        proposes = decision.action is Action.PROPOSE and decision.up_to_version is not None
        # asked together, the release manager answers with `/pdm run` alone: it covers the proposal
        self._ask_manual(replay, env, at, len(decision.migrations) if proposes else 0, decision)
        if proposes:
            self._propose(replay, env, at, decision.migrations, decision.window_closes_at)
            if tuple(decision.migrations) != env.proposed and self._working(at):
                self._wake_downstream(replay, env, at)  # what it projects to run here changed
            env.proposed = tuple(decision.migrations)
        self._next_wake(replay, env, at, decision.next_window_at)
        spec = self.policy.guards.deploy_forecast
        if spec is not None and self._held_by_deploys(env, decision, at):  # wake where it is re-learnt
            zone = self.policy.zone
            self._wake(
                replay, env.name, relearnt_at(env.starts, at, lookback=spec.lookback, zone=zone, step=_MINUTE)
            )
        if proposes and decision.revisit_at is not None and decision.revisit_at > at:
            self._wake(replay, env.name, _tick(at, decision.revisit_at))  # a waiting proposal may change

    def _only_waits(self, env: EnvSim, at: datetime) -> bool:
        """Whether the worker's decision at `at` can only be to wait, with nothing to do but look again at
        the next boundary, so that the event replay need not ask `decide`: no pending migration may start
        (the window of the head is closed; under `ordering: independent`, of every one) and none is
        proposed ahead (working hours are closed). Where the decision's start search would wake it earlier,
        at a proposal's lead time, the same holds until the next boundary, where windows or working hours
        open. The minute replay asks `decide` every time: it is the reference."""
        request = env.manual_request
        if self.resolution == "minute" or (request is not None and request.override):
            return False
        return not self._working(at) and not self._window_open(env, at)

    def _held_by_deploys(self, env: EnvSim, decision: Decision, at: datetime) -> bool:
        """Whether forecast deploys alone hold the head back: its window is open (`_window_open`) and a
        deploy is expected before its run would end. The answer may then change where the forecast is
        re-learnt (`relearnt_at`)."""
        if self.policy.deploy_window is not None or not env.pending:
            return False
        if all(g.ok for g in decision.guards if g.name == "deploy_due"):
            return False
        return self._window_open(env, at)

    def _window_open(self, env: EnvSim, at: datetime) -> bool:
        """Whether the window of the head (under `ordering: independent`, of any pending migration: a
        light one may pass) is open at `at`."""
        ordered = env.ordered()
        if self.policy.ordering is Ordering.INDEPENDENT:
            natures = {p.migration.nature for p in ordered}
        else:
            natures = {ordered[0].migration.nature}
        return any(self._open(n, self.policy.window_sets(n), at) for n in natures)

    def _working(self, at: datetime) -> bool:
        """Whether the policy's working hours (when proposals are posted) are open at `at`."""
        return self._open("working hours", self._hours, at)

    def _open(
        self, key: object, windows: tuple[tuple[Window, ...], tuple[Window, ...]], at: datetime
    ) -> bool:
        """Whether `windows` (allow, deny) are open at `at`, kept under `key`: the verdict found at an
        earlier instant holds until they close or open (the replay's clock only moves forward)."""
        known = self._verdicts.get(key)
        if known is not None and known[0] <= at and (known[1] is None or at < known[1]):
            return known[2]
        verdict = shared_verdict(*windows, at)
        until = verdict.closes_at if verdict.open else verdict.next_open_at
        if verdict.open or until is not None:  # closed without a known opening: look again next time
            self._verdicts[key] = (at, until, verdict.open)
        return verdict.open

    def _wake_downstream(self, replay: Replay, env: EnvSim, at: datetime) -> None:
        """An answer upstream (an approval, a `/pdm run`) changes what a downstream environment may
        propose ahead. An upstream proposal alone does not: it is no part of the downstream's state."""
        for other in replay.envs.values():
            if self.policy.environment(other.name).requires == env.name and other.pending:
                self._wake(replay, other.name, at)

    def _approved_batch(self, env: EnvSim, versions: list[str], at: datetime) -> list[str]:
        """What the worker runs for an `EXECUTE`: an approved run executes its own set, whole or in the
        parts the decisions let run (`approved_part`), after the automatic migrations the batch starts
        with (`auto_ahead`); without one, the decision's batch."""
        approval = env.approval
        if approval is None or env.manual_request is not None:
            return versions
        if approval.expires_at is not None and at >= approval.expires_at:
            return versions
        approved = [v for v in env.approved if v in env.pending]
        if not approved:
            return versions

        def auto(version: str) -> bool:
            nature = env.pending[version].migration.nature
            return self.policy.nature_policy(nature).mode is Mode.AUTO

        return approved_part(approved, versions) or auto_ahead(approved, versions, auto)

    def _propose(
        self, replay: Replay, env: EnvSim, at: datetime, versions: list[str], expires: datetime | None
    ) -> None:
        """Post a proposal unless one in force covers the batch (`covers`, as the worker does); another
        batch supersedes the old proposal and the release manager answers it after the usual delay. The
        approval is valid until the window it was proposed for closes."""
        proposal = env.proposal
        if proposal is not None and proposal.in_force(at) and covers(proposal.versions, versions):
            return
        needed = self._approvers(env.pending[v] for v in versions)
        self._proposals += 1
        env.proposal = Proposal(self._proposals, tuple(versions), needed, expires)
        answer = replay.scenario.release_manager.answer_at(at)
        replay.push(answer, _Kind.ANSWER, env.name, f"approval:{self._proposals}")

    def _approvers(self, items: Iterable[_Pending]) -> int:
        """Approvals a run of `items` needs: the worker's rule (`two_person_natures`: two)."""
        natures = [item.migration.nature for item in items]
        return approval_rule(natures, self.policy.two_person_natures, override=False).needed

    def _ask_manual(self, replay: Replay, env: EnvSim, at: datetime, stop: int, decision: Decision) -> None:
        """Ask for `/pdm run` when a proposal of the first `stop` names a manual migration pending after
        them that no request covers (the first), or one is at the head (`stop` 0) and the ask is due
        (`manual_ask_due`), as the worker does: once per version and window."""
        ordered = env.ordered()
        request = env.manual_request

        def waits(item: _Pending) -> bool:  # a manual one no `/pdm run` covers
            manual = self.policy.nature_policy(item.migration.nature).mode is Mode.MANUAL
            return manual and (request is None or not request.covers(item.migration.version))

        rest = ordered[stop:] if stop else ordered[:1]
        head = next((item for item in rest if waits(item)), None)
        if head is None:
            return
        asked = head.migration.version, decision.window_closes_at
        # the worker announces a manual head with a decision to wait only
        due = bool(stop) or (decision.action is Action.WAIT and manual_ask_due(self.policy, decision, at))
        if env.manual_asked == asked or not due:
            return
        env.manual_asked = asked
        replay.push(replay.scenario.release_manager.answer_at(at), _Kind.ANSWER, env.name, "manual")

    def _release(self, env: EnvSim) -> None:
        """Forget an approval or a manual request once every version it covers has run."""
        if env.approval is not None and not any(v in env.pending for v in env.approved):
            env.approval, env.approved = None, ()
        request = env.manual_request
        if request is not None and not any(request.covers(v) for v in env.pending):
            env.manual_request = None

    def _next_wake(self, replay: Replay, env: EnvSim, at: datetime, next_start: datetime | None) -> None:
        candidates = []
        i = bisect_right(self._boundaries, at)
        if i < len(self._boundaries):
            candidates.append(self._boundaries[i])
        if next_start is not None and next_start > at:
            candidates.append(next_start)
            proposals = self.policy.proposals
            aheads = [next_start - proposals.lead_time]  # where proposals ahead may become due
            if proposals.post_within is not None:
                aheads.append(next_start - proposals.post_within)
            candidates += [ahead for ahead in aheads if ahead > at]
        if self.resolution == "minute":
            candidates.append(at + _MINUTE)
        if candidates:
            self._wake(replay, env.name, min(candidates))


def _tick(at: datetime, then: datetime) -> datetime:
    """The first instant from `then` on at which a worker evaluating every minute from `at` looks."""
    return at + -((at - then) // _MINUTE) * _MINUTE


def replay(scenario: Scenario, strategy: Strategy) -> Outcome:
    """Run one strategy over the scenario."""
    return Replay(scenario, strategy).run()
