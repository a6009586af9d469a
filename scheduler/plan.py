"""The planner: pending migrations → the batch to run now (`decide`) and the runs to come (`project`).

A batch is always a contiguous prefix of the pending versions (a run executes `db:migrate VERSION=…`),
the longest one that may run now: it stops before a hold, an unbaked or unsoaked migration, one of the
package deployed now (preserve_rollback), a migration whose nature's windows are closed, and where the
estimate would no longer end before the window closes or an expected deploy starts. Within it, a head
that may start by itself (auto, requested or approved) executes; otherwise an approval-mode head is
proposed and a manual head waits for `/pdm run`.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import accumulate, islice, repeat
from operator import add, is_, le, sub
from typing import cast

from scheduler.natures import Nature, most_restrictive
from scheduler.policy import guards as g
from scheduler.policy.decision import Action, Decision, EnvState, PendingMigration, ProjectedRun
from scheduler.policy.forecast import ExpectedDeploys, ScheduledDeploys, forecast_deploys
from scheduler.policy.learnt import EstimateKind, LearntScale, learn_scales
from scheduler.policy.model import EnvironmentSpec, Mode, Ordering, Policy
from scheduler.policy.ordering import Jump, framework_order, independent_order, passers
from scheduler.policy.promotion import Promotion, learn_promotion
from scheduler.policy.windows import (
    ALWAYS_WINDOW,
    UTC,
    Window,
    WindowVerdict,
    evaluate_windows,
    format_duration,
    format_time,
    next_fit,
    shared_verdict,
)

_MAX_STEPS = 5000
_SEARCH = timedelta(days=400)
_GAP_LOOK = timedelta(hours=12)
_PASSERS = 20  # light migrations considered for an earlier start out of order
_FAIR = 0.6  # a run no gap fits waits only for a moment clearly better than now (a longer gap, a fresh one)
_CALM_FAIR = 0.9  # ... unless nothing presses it: then only a moment nearly as clear as right after a deploy
_TICK = timedelta(minutes=1)  # how often the worker evaluates
_FLIPS = 32  # expected-deploy changes a proposal's revisit search looks at before it looks again
_INSTANT = timedelta(microseconds=1)  # the least step of time: "just after"
_PRESSING = 0.3  # a backlog filling this share of what is left of its window may delay a slot's deploy
_OVERFULL = 0.6  # a backlog filling this share cannot drain at the pace gaps between deploys allow ...
_OVERFULL_FAIR = 0.3  # ... and takes a moment with 3 in 10 of a fresh one's chance to stay clear


@dataclass(frozen=True)
class _Layout:
    """What the planner reads of each pending migration, in one order and under one policy."""

    items: tuple[PendingMigration, ...]
    natures: tuple[Nature, ...]
    modes: tuple[Mode, ...]
    cumulative: tuple[timedelta, ...]
    versions: tuple[str, ...]
    deployed: tuple[datetime | None, ...]
    packages: tuple[str | None, ...]
    kinds: tuple[EstimateKind, ...]  # what learnt scales apply to
    each: tuple[timedelta, ...]  # the policy's estimate of each, a function of its kind
    policy: Policy  # kept alive with the items: the memo's keys are their ids


_LAYOUTS: dict[tuple[int, ...], _Layout] = {}
# the last layout by (policy, one of its first `_HEADS` items) and that item's place in it: the next one
# extends it by what a deploy added, without what a run took from its start
_GROWN: dict[tuple[int, int], tuple[_Layout, int]] = {}
_HEADS = 32
_ORDERS: dict[tuple[int, ...], tuple[tuple[PendingMigration, ...], tuple[PendingMigration, ...]]] = {}
_PREFIXES: dict[tuple[int, int], tuple[tuple[PendingMigration, ...], _Layout]] = {}  # by pending tuple
# Memos keyed by object identity keep their objects alive. The simulator reuses one pending set across
# many decisions; the worker builds fresh objects at every evaluation, so what its memos keep is garbage
# the collector walks on each full pass: small caps keep those passes short (benchmarks/evaluate.py).
_KEPT = 16


def _framework(items: Sequence[PendingMigration]) -> list[PendingMigration]:
    """`framework_order`, memoised per pending set (the same objects, decision after decision)."""
    key = tuple(map(id, items))
    hit = _ORDERS.get(key)
    if hit is None:
        if len(_ORDERS) >= _KEPT:
            _ORDERS.clear()
        hit = _ORDERS[key] = (tuple(items), tuple(framework_order(items)))  # the items keep ids unique
    return list(hit[1])


def _layout(ordered: Sequence[PendingMigration], policy: Policy) -> _Layout:
    """Natures, modes, cumulative estimates… of `ordered`, memoised per (order, policy) object."""
    key = (id(policy), *map(id, ordered))
    hit = _LAYOUTS.get(key)
    if hit is not None:
        return hit
    known, skip = _GROWN.get((id(policy), id(ordered[0])), (None, 0)) if ordered else (None, 0)
    kept = len(known.items) - skip if known is not None else 0  # its items from `skip` on start `ordered`
    if known is None or kept > len(ordered) or not all(map(is_, known.items[skip:], ordered)):
        known, skip, kept = _Layout((), (), (), (), (), (), (), (), (), policy), 0, 0
    new = ordered[kept:]
    natures = tuple(m.classification.primary_nature for m in new)
    sized = policy.sized(m.classification for m in new)
    each = known.each[skip:] + tuple(estimate for _, estimate in sized)
    mode_of = {n: policy.nature_policy(n).mode for n in set(natures)}
    if len(_LAYOUTS) >= _KEPT:
        _LAYOUTS.clear()
        _GROWN.clear()
    hit = _LAYOUTS[key] = _Layout(
        known.items[skip:] + tuple(new),
        known.natures[skip:] + natures,
        known.modes[skip:] + tuple(mode_of[n] for n in natures),
        tuple(accumulate(each, initial=timedelta(0))),
        known.versions[skip:] + tuple(m.version for m in new),
        known.deployed[skip:] + tuple(m.deployed_at for m in new),
        known.packages[skip:] + tuple(m.package_sha for m in new),
        known.kinds[skip:] + tuple(zip(natures, (size for size, _ in sized), strict=True)),
        each,
        policy,
    )
    for i, m in enumerate(hit.items[:_HEADS]):
        _GROWN[id(policy), id(m)] = hit, i
    return hit


def _prefix_layout(items: Sequence[PendingMigration], policy: Policy) -> _Layout:
    """`_layout` of the framework's order of `items`, memoised per `items` tuple as well (the
    simulator hands the planner the same pending tuple until it changes)."""
    if not isinstance(items, tuple):
        return _layout(_framework(items), policy)
    key = (id(items), id(policy))
    hit = _PREFIXES.get(key)
    if hit is not None and hit[0] is items:
        return hit[1]
    layout = _layout(_framework(items), policy)
    if len(_PREFIXES) >= _KEPT:
        _PREFIXES.clear()
    _PREFIXES[key] = (items, layout)  # the items kept keep their id unique (the layout keeps the policy)
    return layout


_SCALED: dict[tuple[int, int], tuple[_Layout, Mapping[EstimateKind, LearntScale], tuple[timedelta, ...]]] = {}


def _scaled(layout: _Layout, learnt: Mapping[EstimateKind, LearntScale]) -> tuple[timedelta, ...]:
    """The cumulative estimates of a layout scaled by what past runs taught, memoised per (layout,
    learnt) object: both stay the same from decision to decision until a deploy or a run ends."""
    key = (id(layout), id(learnt))
    hit = _SCALED.get(key)
    if hit is not None and hit[0] is layout and hit[1] is learnt:
        return hit[2]
    unscaled = dict(zip(layout.kinds, layout.each, strict=True))  # an estimate is a function of its kind
    scale = {k: e * learnt[k].scale if k in learnt else e for k, e in unscaled.items()}
    scaled = tuple(accumulate(map(scale.__getitem__, layout.kinds), initial=timedelta(0)))
    if len(_SCALED) >= _KEPT:
        _SCALED.clear()
    _SCALED[key] = (layout, learnt, scaled)  # the objects kept keep their ids unique
    return scaled


@dataclass(frozen=True)
class _Pending:
    """Pending migrations in execution order with what the planner needs of each."""

    items: tuple[PendingMigration, ...]
    natures: tuple[Nature, ...]
    modes: tuple[Mode, ...]
    cumulative: tuple[timedelta, ...]  # cumulative[i] = estimate of the first i migrations
    versions: tuple[str, ...]
    deployed: tuple[datetime | None, ...]  # when each one's package was deployed
    packages: tuple[str | None, ...]
    jumps: tuple[Jump, ...] = ()
    overridden: frozenset[str] = frozenset()  # versions of a `/pdm run --now` request
    behind: timedelta = timedelta(0)  # the estimate of others pending that a backlog still counts

    @classmethod
    def build(
        cls,
        items: Sequence[PendingMigration],
        policy: Policy,
        state: EnvState | None = None,
        at: datetime | None = None,
        learnt: Mapping[EstimateKind, LearntScale] | None = None,
    ) -> _Pending:
        jumps = list[Jump]()
        if policy.ordering is Ordering.INDEPENDENT and state is not None and at is not None:
            env = policy.environment(state.environment)
            ordered, jumps = independent_order(
                _framework(items), lambda m: _ready_alone(m, state, policy, env, at), list(state.holds)
            )
            layout = _layout(ordered, policy)
        else:
            layout = _prefix_layout(items, policy)
        cumulative = _scaled(layout, learnt) if learnt else layout.cumulative  # else the policy's estimates
        request = state.manual_request if state is not None else None
        overridden: frozenset[str] = frozenset()
        if request is not None and request.override:
            overridden = frozenset(v for v in layout.versions if request.covers(v))
        return cls(
            layout.items,
            layout.natures,
            layout.modes,
            cumulative,
            layout.versions,
            layout.deployed,
            layout.packages,
            tuple(jumps),
            overridden,
        )

    def drop(self, count: int) -> _Pending:
        """The rest after the first `count` ran (the order of the rest is unchanged)."""
        base = self.cumulative[count]
        return replace(
            self,
            items=self.items[count:],
            natures=self.natures[count:],
            modes=self.modes[count:],
            cumulative=tuple(map(sub, self.cumulative[count:], repeat(base))),
            versions=self.versions[count:],
            deployed=self.deployed[count:],
            packages=self.packages[count:],
            jumps=(),
        )

    def windows(self, i: int, policy: Policy) -> tuple[tuple[Window, ...], tuple[Window, ...]]:
        """Allow and deny windows of item `i`: an override opens every allow window and the deny
        windows that say `manual: true`."""
        if self.items[i].version in self.overridden:
            return (ALWAYS_WINDOW,), tuple(w for w in policy.deny_windows if not w.manual)
        return policy.window_sets(self.natures[i])

    def overrides_in(self, count: int, policy: Policy, at: datetime) -> list[str]:
        """Which rules the overridden members of the first `count` run through at `at`."""
        out: list[str] = []
        for i in range(count):
            if self.items[i].version not in self.overridden:
                continue
            normal = evaluate_windows(policy.allow_windows(self.natures[i]), policy.deny_windows, at)
            if not normal.open:
                out.append(
                    f"{self.label(i)} runs now by /pdm run --now, overriding: {'; '.join(normal.reasons)}"
                )
        return out

    def jumps_in(self, count: int) -> list[str]:
        """Why the first `count` may run out of the framework's order."""
        if not self.jumps:
            return []
        versions = {m.version for m in self.items[:count]}
        return [j.describe() for j in self.jumps if j.version in versions]

    def estimate(self, count: int, policy: Policy) -> timedelta:
        return policy.durations.overhead + self.cumulative[count] if count else timedelta(0)

    def backlog(self, policy: Policy) -> timedelta:
        """The estimate of everything pending (with `behind`: also what a search for these alone
        leaves out), which tells whether it presses the head's window."""
        return self.estimate(len(self.items), policy) + self.behind

    def label(self, i: int) -> str:
        return f"{self.items[i].version} ({self.natures[i].value})"


def _requested(state: EnvState, version: str) -> bool:
    """Whether a `/pdm run` covers `version`."""
    return state.manual_request is not None and state.manual_request.covers(version)


def _ready_alone(
    m: PendingMigration, state: EnvState, policy: Policy, env: EnvironmentSpec, at: datetime
) -> bool:
    """Whether `m` could run at `at` by itself: its mode lets it (a manual one needs a `/pdm run` that
    covers it: moved ahead, it would only hold back the others), the prefix guards (bake, soak,
    preserve_rollback) let it and a window of its nature is open."""
    if policy.nature_policy(m.classification.primary_nature).mode is Mode.MANUAL and not _requested(
        state, m.version
    ):
        return False
    alone = _Pending.build([m], policy)
    return (
        _static(alone, state, policy, env, at).limit > 0
        and shared_verdict(*alone.windows(0, policy), at).open
    )


@dataclass(frozen=True)
class _Static:
    """Prefix guards at an instant: how many may run, and when the head becomes ready (if time fixes it)."""

    limit: int
    results: list[g.GuardResult]
    head_ready_at: datetime | None
    head_fixable: bool


def _static(
    pending: _Pending, state: EnvState, policy: Policy, env: EnvironmentSpec, at: datetime
) -> _Static:
    """The prefix guards at `at`; the last few answers are kept (a search ends where the run it found
    is then planned, and asks again there)."""
    key = (id(pending), id(state), id(policy), id(env), at)
    hit = _STATICS.get(key)
    if hit is not None:
        return hit[1]
    found = _prefix_guards(pending, state, policy, env, at)
    if len(_STATICS) >= _STATICS_KEPT:
        _STATICS.clear()
    _STATICS[key] = ((pending, state, policy, env), found)  # the objects kept keep their ids unique
    return found


_STATICS: dict[
    tuple[int, int, int, int, datetime], tuple[tuple[_Pending, EnvState, Policy, EnvironmentSpec], _Static]
] = {}
_STATICS_KEPT = 8


def _prefix_guards(
    pending: _Pending, state: EnvState, policy: Policy, env: EnvironmentSpec, at: datetime
) -> _Static:
    versions = pending.versions
    current = state.current_package.sha if state.current_package else None
    min_bake = policy.guards.min_bake
    baked = _baked(pending.deployed, min_bake, at) if min_bake > timedelta(0) else 0
    results = [
        g.holds(versions, state.holds),
        g.bake(pending.deployed, min_bake, at, baked=baked),
        g.chain(versions, env.requires, env.min_soak, state.upstream_successes, at),
        g.preserve_rollback(policy.guards.preserve_rollback, pending.packages, current),
    ]
    limit = min(r.allowed if r.allowed is not None else len(versions) for r in results)
    cutting = [r for r in results if r.allowed == 0]
    fixable = all(r.ready_at is not None for r in cutting)
    ready = max((r.ready_at for r in cutting if r.ready_at is not None), default=None)
    return _Static(limit, results, ready, fixable)


_NEVER = datetime.max.replace(tzinfo=UTC)
_READY: dict[tuple[int, timedelta], tuple[tuple[datetime | None, ...], tuple[datetime, ...], timedelta]] = {}


def _baked(deployed: tuple[datetime | None, ...], min_bake: timedelta, at: datetime) -> int:
    """How many leading migrations have baked at `at`: a bisection over the running latest ready
    time, memoised per tuple of deploy times (the same pending set is searched step after step); over
    the deploy times themselves when they never go back (each package deployed after the one before)."""
    key = (id(deployed), min_bake)
    hit = _READY.get(key)
    if hit is None:
        if len(_READY) >= _KEPT:
            _READY.clear()
        if None in deployed:
            ready = accumulate((_NEVER if w is None else w + min_bake for w in deployed), max)
            hit = (deployed, tuple(ready), timedelta(0))
        elif all(map(le, times := cast(tuple[datetime, ...], deployed), islice(times, 1, None))):
            hit = (deployed, times, min_bake)  # each is ready after the one before it
        else:
            ready = accumulate(map(add, deployed, repeat(min_bake)), max)
            hit = (deployed, tuple(ready), timedelta(0))
        _READY[key] = hit  # the tuple kept keeps its id unique
    return bisect_right(hit[1], at - hit[2])


_CLEAR, _DUE = g.GuardResult("deploy_due", True, ""), g.GuardResult("deploy_due", False, "")  # no words


@dataclass(frozen=True)
class _Runnable:
    """The longest prefix (of `limit`) whose windows are open at `at` and that ends in time."""

    count: int
    reasons: list[str]
    window: str | None
    closes_at: datetime | None  # when the windows of the batch close (the approval of a proposal lapses)
    timing: list[g.GuardResult]
    squeeze: str | None = None
    fitted: int = 0  # the prefix that fitted its windows and deadlines, before the deploy-due check


def _verdict(
    pending: _Pending, i: int, policy: Policy, at: datetime, cache: dict[tuple[Nature, bool], WindowVerdict]
) -> WindowVerdict:
    key = (pending.natures[i], pending.items[i].version in pending.overridden)
    if key not in cache:
        cache[key] = shared_verdict(*pending.windows(i, policy), at)
    return cache[key]


@dataclass(frozen=True)
class _Deploys:
    """Expected deploys of the environment (configured or forecast), or why there are none."""

    expected: ExpectedDeploys | None
    note: str = ""


def expected_deploys(state: EnvState, policy: Policy, now: datetime, *, soft: bool = True) -> _Deploys:
    """The configured `deploy_schedule`, else the forecast from the deploy history (unless `off`);
    `soft=False` leaves out the soft rooms (of the gaps between deploys, before a new upstream package
    could be promoted): projections only split runs at expected slots and awaited promotions."""
    window = policy.deploy_window
    if window is not None:
        return _Deploys(ScheduledDeploys(window))
    spec = policy.guards.deploy_forecast
    if spec is None:
        return _Deploys(None, "deploy_schedule not configured, deploy_forecast off")
    forecast = forecast_deploys(
        state.deploy_starts,
        now,
        lookback=spec.lookback,
        min_share=spec.min_share,
        zone=policy.zone,
        observed_since=state.observed_since,
        cap=policy.guards.deploy_duration if soft else None,
        promotion=_promotion(state, policy, now),
        by_minute=spec.slot_start == "minute",
    )
    if forecast is None:
        return _Deploys(
            None,
            "deploy_schedule not configured; deploy forecast: less than one complete week of history yet",
        )
    if not forecast.slots and not forecast.gaps and forecast.promotion is None:
        return _Deploys(
            None,
            "deploy_schedule not configured; deploy forecast: no hour of the week saw deploys often "
            f"enough in the last {forecast.weeks} weeks",
        )
    return _Deploys(forecast)


def _promotion(state: EnvState, policy: Policy, now: datetime) -> Promotion | None:
    """Deploys promoted from the environment this one `requires`, when its state is known."""
    upstream, spec = state.upstream, policy.environment(state.environment)
    if upstream is None or spec.requires is None or policy.guards.deploy_forecast is None:
        return None
    return learn_promotion(
        state.packages,
        state.deploy_starts,
        spec.requires,
        upstream.packages,
        now,
        lookback=policy.guards.deploy_forecast.lookback,
        cap=policy.guards.deploy_duration,
    )


def _runnable(
    pending: _Pending,
    policy: Policy,
    limit: int,
    at: datetime,
    deploys: _Deploys,
    *,
    explain: bool = True,
    words: bool = True,
) -> _Runnable:
    """The longest runnable prefix at `at`; `explain=False` (a search step, a projection) leaves out
    the reasons and the window-fit guard, `words=False` (where only the count and timing matter) the
    announcement of a squeezed head as well."""
    cache: dict[tuple[Nature, bool], WindowVerdict] = {}
    deploy = deploys.expected
    deadline: datetime | None = deploy.next_open(at) if deploy is not None else None
    expected_at = deadline
    started = at + policy.durations.overhead  # + cumulative[i + 1] = the end of the first i + 1
    window: str | None = None
    strictest = Nature.NO_OP
    reasons: list[str] = []
    count = 0
    shut: datetime | None = None  # the earliest close of the windows of the batch
    natures, items, cumulative = pending.natures, pending.items, pending.cumulative
    overridden = pending.overridden
    for i in range(limit):
        key = (natures[i], bool(overridden) and items[i].version in overridden)  # `_verdict`, inlined
        verdict = cache.get(key)
        if verdict is None:
            verdict = cache[key] = shared_verdict(*pending.windows(i, policy), at)
        if not verdict.open:
            if explain:
                reasons.append(_closed_reason(pending, policy, i, verdict, at))
            break
        closes = verdict.closes_at if deadline is None else deadline
        if deadline is not None and verdict.closes_at is not None and verdict.closes_at < deadline:
            closes = verdict.closes_at
        if closes is not None and started + cumulative[i + 1] > closes:
            if not explain:
                break
            why = deploy.why(closes) if deploy is not None and closes == expected_at else ""
            reasons.append(
                f"{pending.label(i)} would not end before {format_time(closes, policy.zone)}"
                + (f" ({why})" if why else "")
            )
            break
        if window is None or natures[i].rank > strictest.rank:
            window, strictest = verdict.window, natures[i]
        if verdict.closes_at is not None and (shut is None or verdict.closes_at < shut):
            shut = verdict.closes_at
        deadline, count = closes, i + 1
    fitted = count
    estimate = pending.estimate(max(count, 1), policy) if pending.items else timedelta(0)
    if explain:
        timing = [g.deploy_due(deploy, at, estimate, deploys.note)]
    else:  # deploy_due's verdict without its words: no expected deploy holds or starts within the run
        clear = deploy is None or not (
            deploy.is_open(at) or (expected_at is not None and expected_at < at + estimate)
        )
        timing = [_CLEAR if clear else _DUE]
    head = _verdict(pending, 0, policy, at, cache) if pending.items else None
    if explain and head is not None and (count or head.open):
        timing.append(g.window_fit(estimate, at, head.closes_at, head.window or "?"))
    squeeze = None
    if deploy is not None and not timing[0].ok:
        holding = deploy.is_open(at)  # a head that fits no deadline may still face deploys without end
        squeezed = limit and (not count or holding)
        squeeze = _squeeze(pending, policy, at, deploy, head, words) if squeezed else None
        if squeeze is None:
            count = 0
            reasons.append(timing[0].reason)
        else:
            count, window, shut = 1, head.window if head else None, head.closes_at if head else None
            timing[0] = g.GuardResult("deploy_due", True, squeeze)
            reasons.append(squeeze)
    return _Runnable(count, reasons, window, shut, timing, squeeze if count else None, fitted)


def _squeeze(
    pending: _Pending,
    policy: Policy,
    at: datetime,
    deploy: ExpectedDeploys,
    head: WindowVerdict | None,
    words: bool = True,
) -> str | None:
    """When no gap between expected deploys in the head's open window (12 hours at most) is long enough
    for the head alone, the head takes the best moment: now, unless right after a later expected
    deploy it would keep a deploy waiting clearly less on average (a backlog pressing its window:
    unless a later gap, counted as the room left as of now, is clearly longer). Between soft limits it
    runs when its chance to stay clear is 9 in 10 of a fresh moment's (3 in 5 for a pressing backlog,
    3 in 10 for one that fills `_OVERFULL` of what is left: gaps no longer hold it). Returns the
    announcement ("" without `words`), or None (wait for that moment)."""
    estimate = pending.estimate(1, policy)
    if head is None or not head.open or (head.closes_at is not None and at + estimate > head.closes_at):
        return None  # a deploy may wait for a head, but its own window never does
    if deploy.is_open(at):
        return _without_a_break(pending, policy, at, deploy, head, words)
    end = min(head.closes_at or at + _GAP_LOOK, at + _GAP_LOOK)
    due = deploy.next_open(at)
    if due is None:
        return None
    backlog = pending.backlog(policy)
    share = _backlog_share(backlog, at, head.closes_at)
    pressing = share >= _PRESSING
    if not deploy.firm(due):
        chances = deploy.clear_chance(at, estimate)
        fair = _fairness(share)
        if chances is not None and chances[0] < fair * chances[1]:
            return None  # a moment right after a deploy is clearly better: wait for it
        if not words:
            return ""
        chance = f"{round(100 * (1 - chances[0]))} % chance, " if chances is not None else ""
        moment = (
            f"rather than wait for a clearer moment ({_fills(backlog, share, head)})"
            if share >= _OVERFULL
            else "about as clear a moment as right after a deploy"
        )
        return (
            f"{pending.label(0)} (estimate {format_duration(estimate)}) is longer than the room deploys "
            f"usually leave and runs alone now, {moment}: "
            f"{deploy.why(due)}; a deploy may wait ({chance}up to {format_duration(estimate)})"
        )
    this_gap = due - at
    if deploy.awaited(due):  # a package awaiting promotion comes once: wait when right after it is
        gap = _gap_after(deploy, due, end, deploy.next_firm, deploy.fresh_room())  # clearer (the head
        after = gap[1] if gap is not None else timedelta(0)  # fits, or has more room than now)
        if after >= estimate or after > this_gap:
            return None
    # A later gap starts when a deploy ends: deploys come in it as in a fresh gap, not as in the gap
    # now. A backlog that fills `_PRESSING` of the window counts only the room it could use now.
    if pressing and _longer_gap_later(deploy, due, end, estimate, this_gap):
        return None
    if not pressing and _clearer_later(deploy, at, due, end, estimate):
        return None
    if not words:
        return ""
    why, fills = deploy.why(due), f"; {_fills(backlog, share, head)}" if pressing else ""
    return (
        f"no gap between expected deploys in window {head.window} is long enough for "
        f"{pending.label(0)} (estimate {format_duration(estimate)}); it takes the largest gap "
        f"and delays the deploy due at {format_time(due, deploy.zone)}{f' ({why})' if why else ''} by "
        f"about {format_duration(at + estimate - due)}{fills}"
    )


def _fills(backlog: timedelta, share: float, head: WindowVerdict) -> str:
    """How much of what is left of the head's window everything pending fills, for humans."""
    return (
        f"everything pending (estimate {format_duration(backlog)}) fills {share:.0%} of what is left of "
        f"window {head.window}"
    )


def _without_a_break(
    pending: _Pending,
    policy: Policy,
    at: datetime,
    deploy: ExpectedDeploys,
    head: WindowVerdict,
    words: bool = True,
) -> str | None:
    """A head whose open window expected deploys hold without a break until it closes, for good, or
    longer than a squeeze looks ahead (`_GAP_LOOK`), runs now rather than never. Returns the
    announcement, or None (the stretch holding `at` ends soon, before the window closes: wait for it)."""
    free, closes = deploy.closes_at(at), head.closes_at
    if free is not None and free < at + _GAP_LOOK and (closes is None or free < closes):
        return None
    if not words:
        return ""
    estimate = format_duration(pending.estimate(1, policy))
    if closes is not None and (free is None or free >= closes):
        until = f"until window {head.window} closes"
    elif free is None:
        until = "until further notice"
    else:
        until = f"until {format_time(free, deploy.zone)}"
    why = deploy.why(at)
    return (
        f"deploys are expected without a break {until}{f' ({why})' if why else ''}: {pending.label(0)} "
        f"(estimate {estimate}) runs now rather than never; a deploy may wait (up to {estimate})"
    )


def _longer_gap_later(
    deploy: ExpectedDeploys, due: datetime, end: datetime, estimate: timedelta, this_gap: timedelta
) -> bool:
    """Whether a later gap before `end` fits a run of `estimate`, or is clearly longer than `this_gap`,
    each counted as the room left as of now after the expected stretch before it."""
    t, longest = due, timedelta(0)
    for _ in range(_MAX_STEPS):
        gap = _gap_after(deploy, t, end, deploy.next_after_deploy, None) if longest < estimate else None
        if gap is None:
            break
        t, longest = gap[0], max(longest, gap[1])
    return longest >= estimate or _FAIR * longest > this_gap


def _clearer_later(
    deploy: ExpectedDeploys, at: datetime, due: datetime, end: datetime, estimate: timedelta
) -> bool:
    """Whether a run of `estimate` starting right after one of the expected stretches from `due` until
    `end` would keep a deploy waiting clearly less, on average, than starting at `at` (`_FAIR` of it)."""
    enough = _FAIR * deploy.expected_wait(at, estimate)  # a later moment must keep a deploy waiting less
    t: datetime | None = due
    for _ in range(_MAX_STEPS):
        free = deploy.closes_at(t) if t is not None and enough else None
        if free is None or free >= end:
            break
        if deploy.expected_wait(free, estimate, fresh=True) < enough:
            return True
        t = deploy.next_firm(free)
    return False


def _gap_after(
    deploy: ExpectedDeploys,
    at: datetime,
    end: datetime,
    step: Callable[[datetime], datetime | None],
    fresh: timedelta | None,
) -> tuple[datetime, timedelta] | None:
    """The gap after the expected stretch holding `at`: where it ends (the next stretch `step` finds, or
    `end`) and how long it counts (no longer than `fresh`); None when that stretch reaches `end`."""
    free = deploy.closes_at(at)
    if free is None or free >= end:
        return None
    stop = min(step(free) or end, end)
    return stop, stop - free if fresh is None else min(stop - free, fresh)


def _backlog_share(backlog: timedelta, at: datetime, closes: datetime | None) -> float:
    """`backlog` as a share of what is left at `at` of a window closing at `closes` (0 when it never
    closes)."""
    if closes is None:
        return 0.0
    left = closes - at
    return backlog / left if left > timedelta(0) else float("inf")


def _closed_reason(pending: _Pending, policy: Policy, i: int, verdict: WindowVerdict, at: datetime) -> str:
    windows = policy.nature_policy(pending.natures[i]).windows
    described = ", ".join(
        f"{n} ({w.describe()})"
        for n, w in zip(windows, policy.allow_windows(pending.natures[i]), strict=True)
    )
    opens = f"; opens {format_time(verdict.next_open_at, policy.zone)}" if verdict.next_open_at else ""
    closed = "; ".join(verdict.reasons)
    return f"{pending.label(i)} may run only in {described}: {closed}{opens}"


@dataclass(frozen=True)
class _Batch:
    """A mode split of a runnable prefix."""

    action: Action
    count: int
    reasons: list[str]


def _satisfied(pending: _Pending, state: EnvState, policy: Policy, i: int, at: datetime) -> bool:
    version, mode = pending.items[i].version, pending.modes[i]
    if mode is Mode.AUTO or _requested(state, version):
        return True
    needed = 2 if pending.natures[i] in policy.two_person_natures else 1
    return (
        mode is Mode.APPROVAL
        and state.approval is not None
        and state.approval.covers(version, at, approvers_needed=needed)
    )


def _split(
    pending: _Pending, state: EnvState, policy: Policy, count: int, at: datetime, *, assume_approved: bool
) -> _Batch:
    ready = 0
    while ready < count and _satisfied(pending, state, policy, ready, at):
        ready += 1
    if ready:
        if ready == count:
            return _Batch(Action.EXECUTE, ready, [])
        need = "an approval" if pending.modes[ready] is Mode.APPROVAL else "/pdm run (manual)"
        return _Batch(Action.EXECUTE, ready, [f"{pending.label(ready)} needs {need}; it follows this run"])
    if not count:
        return _Batch(Action.WAIT, 0, [])
    if pending.modes[0] is Mode.MANUAL:
        return _Batch(Action.WAIT, 0, [f"{pending.label(0)} is manual: it runs only on /pdm run"])
    proposable = 0
    while proposable < count and (
        pending.modes[proposable] is not Mode.MANUAL or _satisfied(pending, state, policy, proposable, at)
    ):
        proposable += 1
    action = Action.EXECUTE if assume_approved else Action.PROPOSE
    return _Batch(action, proposable, [f"needs approval ({pending.label(0)} is approval mode)"])


def _next_start(
    pending: _Pending,
    state: EnvState,
    policy: Policy,
    env: EnvironmentSpec,
    start: datetime,
    end: datetime,
    deploys: _Deploys,
    known: tuple[_Static, _Runnable] | None = None,
    *,
    explain: bool = True,
) -> tuple[datetime | None, list[str]]:
    """The first instant >= `start` when the head could start (modes and environment guards aside).
    `known`: the prefix guards and runnable prefix `decide` found at `start` (the first step);
    `explain=False` (the caller reads no reasons): the first step words none of its own."""
    t, reasons, guarded, asked = start, list[str](), True, False
    stretch: WindowVerdict | None = None  # the head's open window, while the search is inside it
    for _ in range(_MAX_STEPS):
        if t > end:
            return None, reasons
        first = known is not None and t == start
        static = known[0] if known is not None and first else None
        if guarded:  # the prefix guards only ever let more through as time passes (bake, soak)
            static = static or _static(pending, state, policy, env, t)
            if static.limit == 0:
                reasons = [r.reason for r in static.results if r.allowed == 0]
                if not static.head_fixable or static.head_ready_at is None:
                    return None, reasons
                t = max(t, static.head_ready_at)
                continue
            guarded = False
        run = None
        if known is not None and first and known[1].fitted == 0:
            run = known[1]  # the head alone did not fit: the same answer as for a prefix of one
        elif not reasons and not asked:  # the first step says why the head cannot start now
            run, asked = _runnable(pending, policy, 1, t, deploys, explain=explain, words=False), True
        if run is not None and run.count:
            return t, reasons
        reasons = reasons or (run.reasons if run is not None else [])
        if stretch is None or stretch.closes_at is None or t >= stretch.closes_at:
            stretch = shared_verdict(*pending.windows(0, policy), t)
        starts, nxt = _head_step(pending, policy, t, deploys.expected, stretch)
        if starts:
            return t, reasons
        if nxt is None:
            return None, reasons
        t = nxt
    return None, reasons


def _first_start(
    pending: _Pending,
    state: EnvState,
    policy: Policy,
    env: EnvironmentSpec,
    start: datetime,
    end: datetime,
    deploys: _Deploys,
    known: tuple[_Static, _Runnable] | None = None,
    *,
    explain: bool = True,
) -> tuple[datetime | None, list[str]]:
    """`_next_start`, or earlier when (`ordering: independent`) a light migration that may pass the
    ones before it becomes ready first."""
    found, reasons = _next_start(pending, state, policy, env, start, end, deploys, known, explain=explain)
    if policy.ordering is not Ordering.INDEPENDENT:
        return found, reasons
    for light in passers(pending.items, list(state.holds))[:_PASSERS]:
        alone = _Pending.build([light], policy, learnt=learn_scales(state.run_timings))
        alone = replace(alone, behind=pending.cumulative[-1] - alone.cumulative[-1])  # it leads them then
        own, _ = _next_start(alone, state, policy, env, start, found or end, deploys, explain=False)
        if own == start and pending.items[0] is not light:
            own = _ahead_unready(pending, policy, light, start)
        if own is not None and (found is None or own < found):
            found = own
    return found, reasons


def _ahead_unready(
    pending: _Pending, policy: Policy, light: PendingMigration, at: datetime
) -> datetime | None:
    """When a light migration that could start by itself at `at`, but comes after others (light ones,
    ready too, that wait for room before an expected deploy; the search found their start), may come
    first: where the first window of those ahead of it closes (they are then no longer ready)."""
    ahead = range(pending.items.index(light))
    closes = (shared_verdict(*pending.windows(i, policy), at).closes_at for i in ahead)
    return min((c for c in closes if c is not None), default=None)


def _head_step(
    pending: _Pending, policy: Policy, t: datetime, deploy: ExpectedDeploys | None, verdict: WindowVerdict
) -> tuple[bool, datetime | None]:
    """One search step: whether the head may start at `t` (what `_runnable` with a limit of one
    answers, without its words), else the next instant worth checking: where its window next leaves it
    room to end in (openings too short for it skipped), or where deploys may leave it room. `verdict`:
    the head's windows at `t`, or at an earlier instant of the same open stretch with a known close
    (the step reads only whether they are open and when they close)."""
    windows = pending.windows(0, policy)
    estimate = pending.estimate(1, policy)
    closes = verdict.closes_at
    if not verdict.open or (closes is not None and t + estimate > closes):
        return False, next_fit(*windows, t, estimate, t + _SEARCH)  # no room in the window: no squeeze
    if deploy is None:
        return True, None
    due = deploy.next_open(t)  # `estimate` is what `_runnable` fits: the overhead and the head
    if not deploy.is_open(t) and (due is None or due >= t + estimate):
        return True, None  # it fits and no deploy is due: the deploy_due guard holds
    if _squeeze(pending, policy, t, deploy, verdict, False) is not None:
        return True, None  # a deploy holds the environment or is due within the run: squeezed in
    return False, _deploy_stop(pending, policy, t, deploy, closes)


def _deploy_stop(
    pending: _Pending, policy: Policy, t: datetime, deploy: ExpectedDeploys, closes: datetime | None
) -> datetime | None:
    """The next instant worth checking when expected deploys keep a head that has room in its window
    (closing at `closes`) from starting at `t`."""
    if deploy.is_open(t):  # the stretch ends or another one joins it (it may then last until the
        # window closes), or the window closes (a head it leaves no room waits)
        held = (deploy.closes_at(t), deploy.next_firm(t), closes)
        return min((s for s in held if s is not None), default=None)
    # the room of the current gap ends, or it (or the head's chance to stay clear) may change, or the
    # backlog starts pressing its window (a squeeze then needs a lesser chance), or a room that slides
    # with the clock reaches the next firm stretch (the deploy due is then firm): no sooner than where
    # a room as long as now would, as the room left never grows between changes
    due, firm = deploy.next_open(t), deploy.next_firm(t)
    reaches = firm - (due - t) if due is not None and firm is not None and due < firm else None
    backlog, estimate = pending.backlog(policy), pending.estimate(1, policy)
    pressing = (_share_from(backlog, closes, _PRESSING), _share_from(backlog, closes, _OVERFULL))
    if due is not None and not deploy.firm(due):  # `_squeeze` refused it for its chance (a soft limit)
        fair = _fairness(_backlog_share(backlog, t, closes))
        change, due = deploy.next_clear(t, estimate, fair), None  # the room's end counted there
    else:
        change = deploy.next_change(t, estimate)
    stops = (closes, due, change, *pressing, reaches)
    return min((s for s in stops if s is not None and s > t), default=None)


def _share_from(backlog: timedelta, closes: datetime | None, share: float) -> datetime | None:
    """The first instant at which `backlog` fills `share` of what is left of a window closing at
    `closes` (None: it never closes)."""
    if closes is None:
        return None
    at = closes - backlog / share
    return at if _backlog_share(backlog, at, closes) >= share else at + _INSTANT


def _fairness(share: float) -> float:
    """The least chance to stay clear of a deploy, as a share of a fresh moment's, at which a head no gap
    fits runs now, for a backlog filling `share` of what is left of its window."""
    if share >= _OVERFULL:
        return _OVERFULL_FAIR
    return _FAIR if share >= _PRESSING else _CALM_FAIR


def _environment_guards(state: EnvState, policy: Policy) -> list[g.GuardResult]:
    load = policy.guards.max_db_load
    return [
        g.paused(state.paused, state.pause_reason),
        g.locked(state.lock_holder),
        g.deploy_running(state.deploy_running, state.deploy_started_at),
        g.db_load(state.db_load, load.threshold if load else None, state.db_load_unknown),
        g.incidents(state.open_incidents if policy.guards.incidents is not None else None),
    ]


def _decision(
    action: Action,
    pending: _Pending,
    count: int,
    policy: Policy,
    reasons: list[str],
    guards: list[g.GuardResult],
    next_at: datetime | None,
    run: _Runnable | None = None,
) -> Decision:
    natures = pending.natures[:count]
    return Decision(
        action=action,
        migrations=[m.version for m in pending.items[:count]],
        up_to_version=_highest(pending.items[:count]),
        mode=max(pending.modes[:count], key=lambda m: m.rank) if count else None,
        nature=most_restrictive(natures) if count else None,
        estimated_duration=pending.estimate(count, policy),
        reasons=reasons,
        next_window_at=next_at,
        guards=guards,
        window=run.window if run else None,
        window_closes_at=run.closes_at if run else None,
        notices=pending.jumps_in(count)
        + ([run.squeeze] if run and run.squeeze and count else [])
        + (pending.overrides_in(count, policy, next_at) if next_at is not None else []),
    )


def _highest(items: Sequence[PendingMigration]) -> str | None:
    """The highest version of a batch (`PDM_MIGRATION_VERSION`)."""
    return max((m.version for m in items), key=lambda v: (len(v), v), default=None)


def decide(state: EnvState, policy: Policy, now: datetime, *, follow_up: bool = False) -> Decision:
    """What to do on `state.environment` at `now`: execute, propose, wait, blocked or idle.
    `follow_up`: also find a proposal's `revisit_at` (for a replay that looks only where answers may
    change; the worker evaluates every minute and needs none)."""
    now = now.astimezone(UTC)
    env = policy.environment(state.environment)
    pending = _Pending.build(state.pending, policy, state, now, learnt=learn_scales(state.run_timings))
    env_guards = _environment_guards(state, policy)
    if not pending.items:
        return _decision(
            Action.IDLE, pending, 0, policy, [f"nothing pending on {env.name}"], env_guards, None
        )
    deploys = expected_deploys(state, policy, now)
    static = _static(pending, state, policy, env, now)
    run = _runnable(pending, policy, static.limit, now, deploys)
    guards = env_guards + static.results + run.timing
    blocking = [r.reason for r in env_guards if not r.ok]
    if blocking:
        known = static, run
        nxt, _ = _first_start(pending, state, policy, env, now, now + _SEARCH, deploys, known, explain=False)
        return _decision(Action.BLOCKED, pending, 0, policy, blocking, guards, nxt)
    if run.count:
        batch = _split(pending, state, policy, run.count, now, assume_approved=False)
        if batch.count:
            why = [f"{batch.count} of {len(pending.items)} pending may run now in window {run.window}"]
            cut = [r.reason for r in static.results if not r.ok or (r.allowed or 0) < len(pending.items)]
            extra = run.reasons if batch.count == run.count else []
            decision = _decision(
                batch.action,
                pending,
                batch.count,
                policy,
                why
                + pending.overrides_in(batch.count, policy, now)
                + pending.jumps_in(batch.count)
                + batch.reasons
                + (
                    _manual_after(pending, state, policy, env, batch.count)
                    if batch.action is Action.PROPOSE
                    else []
                )
                + [r for r in cut if r]
                + extra,
                guards,
                now,
                run,
            )
            if follow_up and batch.action is Action.PROPOSE:
                head = shared_verdict(*pending.windows(0, policy), now)
                revisits = [_past_last_start(pending, policy, now, deploys.expected, head.closes_at)]
                if policy.ordering is Ordering.INDEPENDENT:  # a light one that bakes may pass the head
                    revisits.append(_next_baked(pending.deployed, policy.guards.min_bake, now))
                if any(e.requires == env.name for e in policy.environments):  # a downstream projects
                    closes, count = run.closes_at, run.count  # this batch: it shrinks from then on
                    revisits.append(_past_last_start(pending, policy, now, deploys.expected, closes, count))
                revisit = min((t for t in revisits if t is not None and t > now), default=None)
                if deploys.expected is not None:
                    flips = (
                        _next_flip(pending, policy, static.limit, now, deploys, run.count, revisit),
                        _squeeze_end(pending, policy, now, deploys, run, revisit),
                    )
                    revisit = min((t for t in (*flips, revisit) if t is not None), default=None)
                decision = replace(decision, revisit_at=revisit)
            return decision
        return _decision(Action.WAIT, pending, 0, policy, batch.reasons, guards, None, run)
    return _not_now(pending, state, policy, env, now, static, run, guards, deploys)


def _next_flip(
    pending: _Pending,
    policy: Policy,
    limit: int,
    now: datetime,
    deploys: _Deploys,
    count: int,
    until: datetime | None,
) -> datetime | None:
    """The first instant before `until` at which the expected deploys may let no migration start, or
    more than the `count` that may start at `now`: where a waiting proposal stops covering what would
    be proposed. Only the instants the room or the head's chance to stay clear change are looked at
    (`next_change`), `_FLIPS` of them at most: the last one looked at, if none flips."""
    deploy = deploys.expected
    assert deploy is not None
    head, at = pending.estimate(1, policy), now
    limit = 1 if count >= limit else count + 1  # whether none or more than `count` start, no further
    for _ in range(_FLIPS):
        nxt = deploy.next_change(at, head)
        if nxt is None or (until is not None and nxt >= until):
            return None
        at = nxt
        runs = _runnable(pending, policy, limit, at, deploys, explain=False, words=False).count
        if runs == 0 or runs > count:
            return at
    return at


def _squeeze_end(
    pending: _Pending,
    policy: Policy,
    now: datetime,
    deploys: _Deploys,
    run: _Runnable,
    until: datetime | None,
) -> datetime | None:
    """Where a head squeezed in before a firm expected deploy may stop squeezing in: the gap before that
    deploy shrinks with the clock, and a later gap may become the better moment at any minute. The first
    minute tick from `now` at which no migration may start, found by bisection (the answer changes once
    until the deploy is due or the backlog's share of its window reaches another tier), else that
    instant (or `until`, if sooner)."""
    deploy = deploys.expected
    if deploy is None or run.squeeze is None or deploy.is_open(now):
        return None
    due = deploy.next_open(now)
    if due is None or not deploy.firm(due):
        return None  # a squeeze before a soft limit changes where `next_change` says (`_next_flip`)
    backlog = pending.backlog(policy)
    tiers = (_share_from(backlog, run.closes_at, share) for share in (_PRESSING, _OVERFULL))
    stop = min(t for t in (due, until, *tiers) if t is not None and t > now)

    def stopped(ticks: int) -> bool:
        at = now + ticks * _TICK
        return _runnable(pending, policy, 1, at, deploys, explain=False, words=False).count == 0

    first, last = 0, -((now - stop) // _TICK) - 1  # the last tick before `stop`
    if last < 1 or not stopped(last):
        return stop
    while last - first > 1:
        middle = (first + last) // 2
        first, last = (first, middle) if stopped(middle) else (middle, last)
    return now + last * _TICK


def _next_baked(deployed: Sequence[datetime | None], min_bake: timedelta, now: datetime) -> datetime | None:
    """The next instant after `now` at which a pending migration's package has baked."""
    return min((d + min_bake for d in deployed if d is not None and d + min_bake > now), default=None)


def _past_last_start(
    pending: _Pending,
    policy: Policy,
    now: datetime,
    deploy: ExpectedDeploys | None,
    closes: datetime | None,
    count: int = 1,
) -> datetime | None:
    """The first instant after the last one at which the first `count` may start in windows closing at
    `closes` (their estimate before then and before the next firm expected deploy starts). For the head
    in the window open now: from then on, what is proposed is for a later window; for a whole batch: a
    downstream environment then projects a smaller run here."""
    ends = (closes, deploy.next_firm(now) if deploy is not None else None)
    end = min((e for e in ends if e is not None), default=None)
    return end - pending.estimate(count, policy) + _INSTANT if end is not None else None


def _not_now(
    pending: _Pending,
    state: EnvState,
    policy: Policy,
    env: EnvironmentSpec,
    now: datetime,
    static: _Static,
    run: _Runnable,
    guards: list[g.GuardResult],
    deploys: _Deploys,
) -> Decision:
    """Nothing may start now: say why, when it could, and propose ahead of a coming window."""
    nxt, reasons = _first_start(pending, state, policy, env, now, now + _SEARCH, deploys, (static, run))
    reasons = [r.reason for r in static.results if r.allowed == 0] or run.reasons or reasons
    held = any(r.name == "holds" and r.allowed == 0 for r in static.results)
    view, projected = _upstream_view(pending, state, policy, env, now)
    if projected:
        start, _ = _first_start(pending, view, policy, env, now, now + _SEARCH, deploys, explain=False)
    else:
        start = nxt
    if start is None:
        waits_for_event = any(r.allowed == 0 for r in static.results)  # its reason names the event
        tail = [] if waits_for_event else ["no start found within 400 days if nothing changes"]
        return _decision(
            Action.BLOCKED if held else Action.WAIT, pending, 0, policy, reasons + tail, guards, None
        )
    if policy.ordering is Ordering.INDEPENDENT and start > now:  # light ones ready then pass then
        learnt = learn_scales(state.run_timings)
        pending = _Pending.build(state.pending, policy, view, start, learnt=learnt)
    later_static = _static(pending, view, policy, env, start)
    later = _runnable(pending, policy, later_static.limit, start, deploys, explain=False)
    batch = _split(pending, view, policy, later.count, start, assume_approved=False)
    when = f"next possible start: {format_time(start, policy.zone)}"
    if start != nxt:
        when += f" if {env.requires} runs as projected"
    end = 0
    if _proposal_time(policy, now, start):  # what an approval covers is not cut at the first deploy
        uncut = _runnable(pending, policy, later_static.limit, start, _Deploys(None), explain=False)
        end = _proposal_end(pending, view, policy, batch, uncut.count, start)
    if end:
        ready = batch.count if batch.action is Action.EXECUTE else 0  # start by themselves (or approved)
        asks = (
            i for i in range(ready, len(pending.items)) if not _satisfied(pending, view, policy, i, start)
        )
        first_ask = next(asks, None)
        posted = _posted(policy, now, start) if first_ask is not None else None
        later_post = posted is not None and posted > now  # now it only says when it will be posted
        # no projection when nothing a proposal could cover needs an approval, or when a proposal posted
        # later covers one already (it is wanted whatever the projection adds, and its reach unused)
        if first_ask is not None and not (later_post and first_ask < end):
            end = _same_window_end(pending, view, policy, start, later.closes_at, end)
        wanted = first_ask is not None and first_ask < end  # a proposal would cover an approval-mode one
        if wanted and later_post:
            reasons.append(
                f"proposed from {format_time(posted, policy.zone)}, in the last working hours before the "
                "start, so that one proposal covers what is deployed until then"
            )
        elif wanted:
            ahead = _ahead_reasons(pending, view, policy, env, ready, end, projected)
            return _decision(
                Action.PROPOSE,
                pending,
                end,
                policy,
                [*reasons, *ahead, f"proposed ahead of the window; {when}"],
                guards,
                start,
                later,
            )
    if batch.action is Action.EXECUTE and pending.modes[0] is not Mode.AUTO:
        return _decision(
            Action.WAIT,
            pending,
            batch.count,
            policy,
            [*reasons, f"approved or requested; {when}"],
            guards,
            start,
            later,
        )
    return _decision(Action.WAIT, pending, 0, policy, [*reasons, when], guards, start, later)


def _posted(policy: Policy, now: datetime, start: datetime) -> datetime | None:
    """When a proposal ahead of `start` is posted: from the last `post_within` of the last working hours
    before `start` (None: at once)."""
    within = policy.proposals.post_within
    if within is None:
        return None
    last = None
    for opened, closes in policy.working_hours.stretches(now, start):
        if opened < start:
            last = opened, min(closes, start)
    return max(last[0], last[1] - within) if last is not None else None


def _proposal_end(
    pending: _Pending, state: EnvState, policy: Policy, batch: _Batch, count: int, at: datetime
) -> int:
    """How far a proposal for a start at `at` may reach (0: nothing to propose): the `count` that may
    run then. A head that may start by itself (auto, approved or requested) is extended through the
    members after it, up to the first manual one nobody requested; the caller proposes only when one of
    them needs an approval."""
    if batch.action is Action.PROPOSE:
        return batch.count
    if batch.action is not Action.EXECUTE or batch.count >= count:
        return 0
    end = batch.count
    while end < count and (
        pending.modes[end] is not Mode.MANUAL or _satisfied(pending, state, policy, end, at)
    ):
        end += 1
    return end


def _same_window_end(
    pending: _Pending, state: EnvState, policy: Policy, start: datetime, closes_at: datetime | None, end: int
) -> int:
    """Extend a proposal through the projected runs that start later in the same window (after a
    bake, a soak or an expected deploy): the approval holds for that window, so it covers them too, and
    the worker runs the approved set in the parts each moment lets run. It stays a prefix of what those
    runs execute: light migrations they run ahead of a manual one (`ordering: independent`) do not
    stretch it over that manual one."""
    if closes_at is None:
        return end
    projected = _projected_before(state, policy, start, closes_at)
    items = pending.items
    while end < len(items) and items[end].version in projected:
        end += 1
    return end


_WINDOW_RUNS: dict[tuple[object, ...], tuple[EnvState, Policy, frozenset[str]]] = {}


def _projected_before(
    state: EnvState, policy: Policy, start: datetime, closes_at: datetime
) -> frozenset[str]:
    """The versions of the runs `project` finds from `start` that start before `closes_at`, memoised:
    a downstream waiting for one start asks again at events that change nothing it projects. The key
    names all a projection reads of `state` (environment guards are not projected): the pending,
    package, deploy start and run timing tuples the simulator hands over unchanged and the upstream's
    packages (the promotion forecast), by identity; the holds, the approval, the `/pdm run` request and
    the upstream successes of the pending versions (the only ones the chain guard reads), by value."""
    upstream = state.upstream
    key = (
        id(policy),
        state.environment,
        id(state.pending),
        id(state.packages),
        id(state.deploy_starts),
        id(state.run_timings),
        state.observed_since,
        None if upstream is None else id(upstream.packages),
        tuple(state.holds.items()),
        tuple(state.upstream_successes.get(m.version) for m in state.pending),
        state.approval,
        state.manual_request,
        start,
        closes_at,
    )
    hit = _WINDOW_RUNS.get(key)
    if hit is not None:
        return hit[2]
    runs = project(state, policy, start, closes_at - start)
    found = frozenset(v for r in runs if r.at < closes_at for v in r.migrations)
    if len(_WINDOW_RUNS) >= _KEPT:
        _WINDOW_RUNS.clear()
    _WINDOW_RUNS[key] = (state, policy, found)  # the state and policy kept keep the ids unique
    return found


def _manual_after(
    pending: _Pending, state: EnvState, policy: Policy, env: EnvironmentSpec, end: int
) -> list[str]:
    """A proposal of the first `end` names the first manual migration after them that no `/pdm run`
    covers: one `/pdm run` answers the proposal and covers it."""
    waits = (
        i
        for i in range(end, len(pending.items))
        if pending.modes[i] is Mode.MANUAL and not _requested(state, pending.items[i].version)
    )
    first = next(waits, None)
    if first is None:
        return []
    if first == end:
        return [
            f"{pending.label(end)} is manual: the proposal stops before it "
            f"(/pdm run {env.name} covers it and what follows)"
        ]
    return [
        f"{pending.label(first)} is manual and pending after this batch: /pdm run {env.name} covers it "
        "and everything before it"
    ]


def _ahead_reasons(
    pending: _Pending,
    state: EnvState,
    policy: Policy,
    env: EnvironmentSpec,
    ready: int,
    end: int,
    projected: dict[str, datetime],
) -> list[str]:
    """What a proposal ahead of its window means: what it extends, what it waits for."""
    out: list[str] = []
    if 0 < ready < end:
        last, added = pending.items[end - 1].version, end - ready
        approval = state.approval
        if approval is not None and int(pending.items[ready - 1].version) <= int(approval.up_to_version):
            out.append(
                f"extends the approved batch (up to {approval.up_to_version}) by {added} migration"
                f"{'s' if added != 1 else ''} up to {last}; without this approval the approved batch "
                "runs alone"
            )
        else:
            out.append(f"the first {ready} may start by themselves; approving adds {added} up to {last}")
    out += _manual_after(pending, state, policy, env, end)
    waiting = [m.version for m in pending.items[:end] if m.version in projected]
    if waiting:
        by = format_time(max(projected[v] for v in waiting), policy.zone)
        out.append(
            f"runs after {env.requires} succeeds + {format_duration(env.min_soak)} soak "
            f"({len(waiting)} of these are projected to run on {env.requires} by {by}); "
            "the approval does not bypass that"
        )
    return out


def _upstream_view(
    pending: _Pending, state: EnvState, policy: Policy, env: EnvironmentSpec, now: datetime
) -> tuple[EnvState, dict[str, datetime]]:
    """`state` with the upstream's projected runs counted as successes at their projected end, for
    proposing ahead (execution reads the real successes). Only worth it in working hours; the runs
    projected until `lead_time` after they close count, so that the view does not grow minute by minute
    while the release managers are at work (a horizon sliding with the clock superseded the downstream
    proposal whenever one more upstream run entered it)."""
    upstream, hours = state.upstream, policy.working_hours
    if (
        env.requires is None
        or upstream is None
        or upstream.environment != env.requires
        or not hours.is_open(now)
        or all(map(state.upstream_successes.__contains__, pending.versions))
    ):
        return state, {}
    wanted = {m.version for m in pending.items} - set(state.upstream_successes)
    projected: dict[str, datetime] = {}
    until = (hours.closes_at(now) or now) + policy.proposals.lead_time
    for upcoming in project(upstream, policy, now, until - now):
        done = upcoming.at + upcoming.estimated_duration
        projected.update({v: done for v in upcoming.migrations if v in wanted})
    if not projected:
        return state, {}
    return replace(state, upstream_successes={**state.upstream_successes, **projected}), projected


def _proposal_time(policy: Policy, now: datetime, start: datetime) -> bool:
    """Proposals for a coming start are posted within the lead time, during working hours."""
    return start - now <= policy.proposals.lead_time and policy.working_hours.is_open(now)


def manual_ask_due(policy: Policy, decision: Decision, now: datetime) -> bool:
    """Whether to ask now for the `/pdm run` a manual migration waits for, given the decision that
    waits for it: at once when it could start now, or when no start is found and no event (an upstream
    run, a hold) is awaited; when it may start later, as a proposal ahead of that start would be posted
    (lead time, working hours, `post_within`), so that one request covers what is deployed until then.
    While an event is awaited, the ask waits for it."""
    start = decision.next_window_at
    if start is None:
        return decision.window is not None or not any(g.allowed == 0 for g in decision.guards)
    if start <= now:
        return True
    if not _proposal_time(policy, now, start):
        return False
    posted = _posted(policy, now, start)
    return posted is None or posted <= now


def manual_head(state: EnvState, policy: Policy) -> PendingMigration | None:
    """The first pending migration when its nature is manual mode and no `/pdm run` covers it: it
    waits for a human, and every later migration waits behind it."""
    pending = _Pending.build(state.pending, policy)
    if not pending.items or pending.modes[0] is not Mode.MANUAL:
        return None
    head = pending.items[0]
    return None if _requested(state, head.version) else head


def project(state: EnvState, policy: Policy, now: datetime, horizon: timedelta) -> list[ProjectedRun]:
    """Projected future runs if nothing else changes (approvals assumed given; environment guards,
    which change by events rather than time, are not projected)."""
    now = now.astimezone(UTC)
    env = policy.environment(state.environment)
    remaining: Sequence[PendingMigration] = state.pending
    learnt = learn_scales(state.run_timings)
    reorders = policy.ordering is Ordering.INDEPENDENT  # else the order is fixed: drop what ran
    pending = _Pending.build(remaining, policy, state, now, learnt=learnt)
    deploys = expected_deploys(state, policy, now, soft=False)
    runs: list[ProjectedRun] = []
    t, end = now, now + horizon
    for _ in range(_MAX_STEPS):
        if not remaining:
            break
        if reorders:
            pending = _Pending.build(remaining, policy, state, t, learnt=learnt)
        start, _ = _first_start(pending, state, policy, env, t, end, deploys, explain=False)
        if start is None:
            break
        if reorders:
            pending = _Pending.build(remaining, policy, state, start, learnt=learnt)
        static = _static(pending, state, policy, env, start)
        run = _runnable(pending, policy, static.limit, start, deploys, explain=False, words=False)
        batch = _split(pending, state, policy, run.count, start, assume_approved=True)
        if not batch.count:
            if not reorders or start == t:
                break
            t = start  # a light migration that may pass was due here but is not ready: look on from here
            continue
        approval = any(not _satisfied(pending, state, policy, i, start) for i in range(batch.count))
        estimate = pending.estimate(batch.count, policy)
        chosen = pending.items[: batch.count]
        runs.append(
            ProjectedRun(
                at=start,
                action=Action.PROPOSE if approval else Action.EXECUTE,
                migrations=[m.version for m in chosen],
                up_to_version=_highest(chosen) or chosen[-1].version,
                mode=max(pending.modes[: batch.count], key=lambda m: m.rank),
                nature=most_restrictive(pending.natures[: batch.count]),
                estimated_duration=estimate,
                window=run.window,
            )
        )
        done = {m.version for m in chosen}
        remaining, t = [m for m in remaining if m.version not in done], start + estimate
        pending = pending.drop(batch.count)
    return runs


def overridden_rules(policy: Policy, natures: Sequence[Nature], now: datetime) -> list[str]:
    """What a `/pdm run --now` of migrations of `natures` overrides at `now`, for its proposal: the
    closed allow windows, the `manual: true` deny windows in force, and the deny windows it waits for."""
    out: list[str] = []
    for nature in sorted(set(natures), key=lambda n: n.rank, reverse=True):
        allow = policy.allow_windows(nature)
        if not any(w.is_open(now) for w in allow):
            names = ", ".join(f"{w.name} ({w.describe()})" for w in allow) or "none"
            out.append(f"overrides the closed allow windows of {nature.value}: {names}")
    for deny in policy.deny_windows:
        if not deny.is_open(now):
            continue
        if deny.manual:
            out.append(f"runs through deny window {deny.name} ({deny.describe()}), which allows manual runs")
        else:
            closes = deny.closes_at(now)
            until = f" until {format_time(closes, policy.zone)}" if closes else ""
            out.append(
                f"deny window {deny.name} is in force and does not yield to --now: the run waits{until}"
            )
    if any(n.is_heavy for n in natures):
        out.append(
            "heavy natures: the two-person rule applies (the requester may not approve; two approvers)"
        )
    return out or ["no rule to override now: the windows are open"]
