"""Decide and act on one environment: execute an automatic run, propose a batch, or schedule the next
evaluation. One evaluation of an environment at a time (concurrent ones would both start a run)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from scheduler.budget import BudgetExceeded, time_budget
from scheduler.envstate import approved_run, load_env_state
from scheduler.errors import GitLabTransientError, InvalidRunTransition, RunConflict, UnknownRun
from scheduler.jobnames import JobName
from scheduler.lifecycle import (
    BOT_ACTOR,
    approved_part,
    auto_ahead,
    manual_wait_announced,
    needs_proposal,
    not_runnable_now,
    requested_runs,
    superseded_by_start,
    withheld_reason,
)
from scheduler.notes import ManualWaitNote, OverrunNote, RunEvent
from scheduler.plan import decide, manual_ask_due, manual_head
from scheduler.policy.decision import Action, Decision, EnvState
from scheduler.policy.model import Mode
from scheduler.records import Run, RunStatus
from scheduler.service.audit import audit
from scheduler.service.context import WorkerContext
from scheduler.service.execution import execute
from scheduler.service.proposals import announce, close, new_run, post_proposal
from scheduler.service.reconcile import recover_lapsed
from scheduler.service.scheduling import schedule_evaluation

EVALUATE_MUTEX_TTL = timedelta(minutes=2)
EVALUATE_MUTEX_WAIT = timedelta(seconds=30)
MANUAL_WAIT_MEMORY = timedelta(days=90)
OVERRUN_NOTE_EVERY = timedelta(hours=1)


def evaluate_job(ctx: WorkerContext, now: datetime, env: str) -> None:
    """The `evaluate` job: evaluate now; a GitLab fault is audited and retried after `Timing.recheck`."""
    try:
        evaluate(ctx, env, now)
    except GitLabTransientError as exc:
        audit(ctx.state, now, "evaluate_retry", env, str(exc))
        schedule_evaluation(ctx, env, now + ctx.timing.recheck, now)


def evaluate(ctx: WorkerContext, env: str, now: datetime) -> Decision | None:
    """Decide and act under the environment's evaluation mutex (None: not evaluated, retried later)."""
    with ctx.state.mutex(f"evaluate:{env}", EVALUATE_MUTEX_TTL, EVALUATE_MUTEX_WAIT) as taken:
        if not taken:
            audit(ctx.state, now, "evaluate_skipped", env, "another evaluation held the environment too long")
            schedule_evaluation(ctx, env, now + ctx.timing.recheck, now)
            return None
        try:
            return decide_and_act(ctx, env, now)
        except BudgetExceeded as exc:
            _overrun(ctx, env, now, exc)
            return None


def _overrun(ctx: WorkerContext, env: str, now: datetime, exc: BudgetExceeded) -> None:
    """Report an evaluation that ran out of time (audit, metric, one Slack note an hour) and retry later."""
    audit(ctx.state, now, "evaluate_overrun", env, str(exc), budget_seconds=exc.seconds)
    ctx.telemetry.evaluation_overrun(env)
    if ctx.state.claim(f"overrun-note:{env}", OVERRUN_NOTE_EVERY):
        retry = int(ctx.timing.recheck.total_seconds())
        ctx.notifier.post(OverrunNote(env, None, str(exc), retry))
    schedule_evaluation(ctx, env, now + ctx.timing.recheck, now)


def decide_and_act(ctx: WorkerContext, env: str, now: datetime) -> Decision:
    """One evaluation of `env` (the caller holds its mutex)."""
    active = ctx.state.active_runs()
    recover_lapsed(ctx, env, active, now)
    es = load_env_state(
        ctx.state, ctx.policy, env, active_runs=active, gitlab=ctx.gitlab, metrics=ctx.metrics
    )
    with time_budget(ctx.timing.evaluation_budget.total_seconds()):
        decision = decide(es, ctx.policy, now)
    for guard in decision.guards:
        if not guard.ok:
            ctx.telemetry.guard_failed(env, guard.name)
    reasons = "; ".join(decision.reasons)
    audit(
        ctx.state, now, "decided", env, reasons, decision=str(decision.action), migrations=decision.migrations
    )
    if decision.action is Action.WAIT:
        _tell_manual_wait(ctx, es, decision, active, now)
    if decision.action is Action.EXECUTE:
        _run_now(ctx, es, decision, active, now)
    elif decision.action is Action.PROPOSE and _propose(ctx, env, decision, active, now):
        for downstream in ctx.policy.environments:
            if downstream.requires == env:  # it may now propose ahead on this one's projection
                ctx.queue.enqueue(JobName.EVALUATE.value, downstream.name)
    if decision.next_window_at is not None and decision.next_window_at > now:
        schedule_evaluation(ctx, env, decision.next_window_at, now)
    elif decision.action is Action.BLOCKED:
        schedule_evaluation(ctx, env, now + ctx.timing.recheck, now)
    return decision


def _tell_manual_wait(
    ctx: WorkerContext, es: EnvState, decision: Decision, active: list[Run], now: datetime
) -> None:
    """Say in the package thread that a manual head blocks the queue (unless someone already asked for a
    `/pdm run` that covers it), when the request is due (`manual_ask_due`): once per environment,
    version and window it may run in, so that a window that closes unanswered leads to one more ask
    before the next."""
    env, head = es.environment, manual_head(es, ctx.policy)
    if head is None or manual_wait_announced(active, env, head.version):
        return
    if not manual_ask_due(ctx.policy, decision, now):
        return
    closes = decision.window_closes_at
    window = closes.isoformat() if closes else "open"
    if not ctx.state.claim(f"manual-wait:{env}:{head.version}:{window}", MANUAL_WAIT_MEMORY):
        return
    nature, behind = head.classification.primary_nature.value, len(es.pending) - 1
    starts = decision.next_window_at if decision.next_window_at and decision.next_window_at > now else None
    note = ManualWaitNote(env, head.package_sha, head.version, nature, behind, starts, closes)
    ctx.notifier.post(note)
    reason = f"migration {head.version} ({nature}, manual) waits for /pdm run {env}; {behind} more pending"
    audit(
        ctx.state,
        now,
        "manual_waiting",
        env,
        reason,
        version=head.version,
        behind=behind,
        starts_at=starts.isoformat() if starts else None,
        closes_at=closes.isoformat() if closes else None,
    )


def _runs_by_itself(ctx: WorkerContext, es: EnvState) -> Callable[[str], bool]:
    """Whether a pending migration of the evaluated environment is of a nature the policy runs
    automatically."""
    natures = {p.version: p.classification.primary_nature for p in es.pending}
    return lambda v: v in natures and ctx.policy.nature_policy(natures[v]).mode is Mode.AUTO


def _auto_run(
    ctx: WorkerContext, env: str, decision: Decision, migrations: list[str], active: list[Run], now: datetime
) -> Run | None:
    """Create and approve the automatic run of `migrations`, the decision's batch or the automatic
    migrations it starts with (None: withheld, audited)."""
    last = ctx.state.runs(env, limit=1)
    withheld = withheld_reason(env, migrations, active, last[0] if last else None)
    if withheld is not None:
        audit(ctx.state, now, "auto_run_withheld", env, withheld)
        return None
    created = new_run(ctx, env, migrations, BOT_ACTOR, now, decision.window_closes_at)
    if created is None:
        return None
    try:
        run = ctx.state.transition_run(created.id, RunStatus.APPROVED, now, approved_by=[BOT_ACTOR])
    except RunConflict as exc:
        ctx.state.transition_run(created.id, RunStatus.CANCELED, now, failure_reason=str(exc))
        audit(ctx.state, now, "auto_run_withheld", env, str(exc), run_id=created.id)
        return None
    audit(ctx.state, now, "auto_approved", env, "; ".join(decision.reasons), run_id=run.id)
    return run


def _run_now(ctx: WorkerContext, es: EnvState, decision: Decision, active: list[Run], now: datetime) -> None:
    """Start the approved run of the evaluated environment, or the part of it the decision lets run (an
    automatic one is created first), announced ahead when automatic."""
    assert decision.up_to_version is not None
    env = es.environment
    held, auto = approved_run(active, env), False
    run: Run | None = held
    if held is None:
        if decision.mode is not Mode.AUTO:
            return
        run, auto = _auto_run(ctx, env, decision, decision.migrations, active, now), True
    elif part := approved_part(held.migrations, decision.migrations):
        run = held if len(part) == len(held.migrations) else _split(ctx, held, part, decision, now)
    elif ahead := auto_ahead(held.migrations, decision.migrations, _runs_by_itself(ctx, es)):
        run, auto = _auto_run(ctx, env, decision, ahead, active, now), True
    else:
        reason = not_runnable_now(held, decision.migrations)
        audit(ctx.state, now, "execute_deferred", env, reason or "", run_id=held.id)
        return
    if run is None:
        return
    lead = ctx.timing.starting_soon if auto else timedelta(0)
    if not ctx.state.claim(f"start:{run.id}", lead + timedelta(minutes=1)):
        return
    for old in superseded_by_start(run, active, auto):
        reason = (
            f"superseded by run {run.id}, which executes {len(run.migrations)} up to "
            f"{run.up_to_version}; what is left is proposed afresh"
        )
        close(ctx, old, RunEvent.SUPERSEDED, now, reason, superseded_by=run.id)
    if lead > timedelta(0):
        notices = "; ".join(decision.notices) or None
        announce(ctx, run, RunEvent.STARTING_SOON, starts_at=now + lead, reason=notices)
        ctx.queue.enqueue_in(lead, JobName.EXECUTE.value, run.id)
    else:
        execute(ctx, now, run.id)


def _split(ctx: WorkerContext, run: Run, part: list[str], decision: Decision, now: datetime) -> Run | None:
    """Split off the part of an approved run the decision lets run now (a deploy is expected before the
    rest would end, a window closes, a soak is not over); the rest stays approved for the next moments
    its approval holds. None when the run changed meanwhile (audited; the next evaluation sees it)."""
    env = run.environment
    try:
        piece, rest = ctx.state.split_run(run.id, ctx.state.next_run_id(env), part, now)
    except (InvalidRunTransition, UnknownRun, ValueError) as exc:
        audit(
            ctx.state,
            now,
            "execute_deferred",
            env,
            f"approved run {run.id} was not split: {exc}",
            run_id=run.id,
        )
        return None
    until = f" until {rest.expires_at.isoformat()}" if rest.expires_at else ""
    left = len(rest.migrations)
    others = "the other one stays" if left == 1 else f"the other {left} stay"
    reason = (
        f"{len(piece.migrations)} of the {len(run.migrations)} approved migrations of run {run.id} run now "
        f"as {piece.id}; {others} approved{until}: " + "; ".join(decision.reasons)
    )
    audit(ctx.state, now, "approved_run_split", env, reason, run_id=piece.id, part_of=run.id, migrations=part)
    return piece


def _propose(ctx: WorkerContext, env: str, decision: Decision, active: list[Run], now: datetime) -> bool:
    """Post a proposal of the decision's batch unless it is already proposed (or declined in its window);
    a proposal of another batch is superseded: its message says so and points at the new one. An
    approved run stays approved: if the new proposal is not approved, that run executes alone."""
    if not needs_proposal(decision.migrations, env, active, ctx.state.runs(env, limit=10), now):
        return False
    run = new_run(ctx, env, decision.migrations, BOT_ACTOR, now, decision.window_closes_at)
    if run is None:
        return False
    for old in requested_runs(active, env):
        reason = (
            f"superseded by {run.id} (the batch changed: now {len(run.migrations)} up to {run.up_to_version})"
        )
        close(ctx, old, RunEvent.SUPERSEDED, now, reason, superseded_by=run.id)
    nature, mode = str(decision.nature), str(decision.mode)
    post_proposal(ctx, run, decision.reasons, mode, nature, decision.estimated_duration)
    audit(
        ctx.state, now, "proposed", env, "; ".join(decision.reasons), run_id=run.id, migrations=run.migrations
    )
    return True
