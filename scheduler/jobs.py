"""RQ job entry points (docs/jobs.md): thin functions with JSON-able arguments.

Each job takes its collaborators from `worker_context.context()` and the time from `clock()`, loads
state, asks the pure planner, acts, saves, and writes the audit log (each entry also one log event;
`bound_job` puts the job's name, run id and environment on every event). The run life cycle itself is in
`scheduler/runs.py`; proposals, approvals and scheduling of the next evaluation are here.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from scheduler import delivery, runs
from scheduler.budget import BudgetExceeded, time_budget
from scheduler.classify.model import Classification
from scheduler.deploys import full_sha, refresh_pending
from scheduler.envstate import approved_run, load_env_state, planned_pending
from scheduler.errors import (
    GitLabError,
    GitLabTransientError,
    InvalidRunTransition,
    PdmError,
    RunConflict,
    UnknownRun,
)
from scheduler.logcontext import bound_job
from scheduler.natures import most_restrictive
from scheduler.notes import DiffNote, ProposalNote, RunEvent, RunNote, TextNote
from scheduler.plan import decide, manual_head, overridden_rules
from scheduler.policy.decision import Action, Decision, PendingMigration
from scheduler.policy.model import Mode, Ordering
from scheduler.policy.ordering import framework_order, passing_notes
from scheduler.policy.windows import format_duration
from scheduler.records import (
    Baseline,
    Deployment,
    DeploymentStatus,
    Note,
    Run,
    RunStatus,
    conflict_reason,
    conflicting_runs,
)
from scheduler.runs import JOB, announce, audit
from scheduler.worker_context import BOT_ACTOR, WorkerContext, clock, context

log = logging.getLogger(__name__)

DECLINED = ("rejected by ", "snoozed by ")
EVALUATE_MUTEX_TTL = timedelta(minutes=2)
EVALUATE_MUTEX_WAIT = timedelta(seconds=30)
APPROVE_RETRY = timedelta(seconds=10)
MANUAL_WAIT_MEMORY = timedelta(days=90)
OVERRUN_NOTE_EVERY = timedelta(hours=1)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _thread(ctx: WorkerContext, env: str) -> str | None:
    last = ctx.state.last_deployment(env)
    return last.sha if last else None


def _authorised(ctx: WorkerContext, user: str) -> bool:
    approvers = ctx.policy.approvers
    if user in approvers.users:
        return True
    if ctx.directory is None:
        return False
    return any(user in ctx.directory.members(group) for group in approvers.usergroups)


def _refused(ctx: WorkerContext, user: str, what: str, env: str, now: datetime) -> bool:
    """True (and audited) when `user` may not do `what`."""
    try:
        allowed = _authorised(ctx, user)
    except PdmError as exc:
        audit(ctx, now, "refused", env, f"cannot check approvers: {exc}", actor=user, request=what)
        return True
    if not allowed:
        audit(ctx, now, "refused", env, "not an approver", actor=user, request=what)
    return not allowed


# Deploys ------------------------------------------------------------------------------------------


def _record_deployment(ctx: WorkerContext, now: datetime, env: str, deployment: Deployment) -> bool:
    """Record a deployment status change; False (audited `deploy_event_stale`, nothing changed) when
    the same deployment already has a later status. The deploy-in-progress mark of a `running` status
    expires `timing.deploy_marker_ttl` after the status change."""
    marker_ttl = ctx.timing.deploy_marker_ttl - max(timedelta(0), now - deployment.deployed_at)
    newer = ctx.state.record_deployment(env, deployment, marker_ttl=marker_ttl)
    if newer is None:
        return True
    audit(
        ctx,
        now,
        "deploy_event_stale",
        env,
        f"deployment {deployment.deployment_id} {deployment.status} of {deployment.deployed_at.isoformat()} "
        f"is older than its recorded {newer.status} of {newer.deployed_at.isoformat()}; nothing changed",
        deployment_id=deployment.deployment_id,
        status=str(deployment.status),
        recorded_status=str(newer.status),
    )
    return False


@bound_job
def on_deploy(
    environment: str, deployment_id: int, sha: str, status_changed_at: str, commit_url: str
) -> None:
    """A package was deployed: record it, refresh pending, post the diff (thread root), evaluate."""
    ctx, now = context(), clock()
    deployed_at = _at(status_changed_at)
    sha = full_sha(ctx.gitlab, sha, commit_url)
    ctx.policy.environment(environment)
    deployment = Deployment(int(deployment_id), sha, sha[:8], deployed_at, DeploymentStatus.SUCCESS)
    if not _record_deployment(ctx, now, environment, deployment):
        return
    audit(ctx, now, "deployed", environment, f"package {sha[:12]} deployed", deployment_id=deployment_id)
    result = refresh_pending(ctx, environment, sha, deployed_at)
    if ctx.state.thread(environment, sha) is None:
        note = DiffNote(
            environment=environment,
            thread_sha=sha,
            short_sha=sha[:8],
            deployed_at=deployed_at,
            added=result.added,
            deleted=result.deleted,
            modified=result.modified,
            pending_total=result.total,
            file_url_template=ctx.file_url_template,
            out_of_order=_out_of_order(ctx, environment, result.added),
        )
        ctx.notifier.post(note)
    if result.problem is not None:
        audit(ctx, now, "pending_unknown", environment, result.problem)
        if result.discrepancy:
            ctx.state.set_pause(environment, Note(BOT_ACTOR, now, result.problem))
        paused = f"; {environment} is paused until a human looks" if result.discrepancy else ""
        ctx.notifier.post(TextNote(environment, sha, f":rotating_light: {result.problem}{paused}"))
        return
    audit(
        ctx,
        now,
        "pending_refreshed",
        environment,
        f"{result.total} pending, {len(result.added)} new",
        added=[c.version for c in result.added],
    )
    _evaluate(ctx, environment, now)


@bound_job
def deploy_started(environment: str, deployment_id: int, sha: str, at: str, commit_url: str = "") -> None:
    """Mark a deploy of `environment` in progress, under its full SHA when GitLab can tell it.

    The commits API is asked only when neither `sha` nor `commit_url` holds the full SHA; if that call
    fails the mark is recorded under the given (short) SHA: the mark matters more than the SHA.
    """
    ctx, now = context(), clock()
    try:
        sha = full_sha(ctx.gitlab, sha, commit_url)
    except GitLabError as exc:
        log.warning("deploy %s: keeping short SHA %s (%s)", deployment_id, sha, exc)
    deployment = Deployment(int(deployment_id), sha, sha[:8], _at(at), DeploymentStatus.RUNNING)
    if not _record_deployment(ctx, now, environment, deployment):
        return
    ctx.state.record_deploy_start(environment, int(deployment_id), deployment.deployed_at)
    reason = f"deployment {deployment_id} running"
    if now - deployment.deployed_at >= ctx.timing.deploy_marker_ttl:
        reason += f"; older than {ctx.timing.deploy_marker_ttl}, so no deploy-in-progress mark"
    audit(ctx, now, "deploy_started", environment, reason, sha=sha)


@bound_job
def deploy_ended(environment: str, deployment_id: int, status: str, at: str) -> None:
    """A deploy ended without success: clear the in-progress mark and evaluate."""
    ctx, now = context(), clock()
    known = {d.deployment_id: d for d in ctx.state.deployments(environment, limit=200)}
    sha = known[int(deployment_id)].sha if int(deployment_id) in known else ""
    deployment = Deployment(int(deployment_id), sha, sha[:8], _at(at), DeploymentStatus(status))
    if not _record_deployment(ctx, now, environment, deployment):
        return
    audit(ctx, now, "deploy_ended", environment, f"deployment {deployment_id} {status}")
    _evaluate(ctx, environment, now)


# Evaluation ---------------------------------------------------------------------------------------


@bound_job
def evaluate(environment: str) -> None:
    """Decide and act on `environment` now."""
    ctx = context()
    try:
        _evaluate(ctx, environment, clock())
    except GitLabTransientError as exc:
        now = clock()
        audit(ctx, now, "evaluate_retry", environment, str(exc))
        _schedule(ctx, environment, now + ctx.timing.recheck, now)


def _evaluate(ctx: WorkerContext, env: str, now: datetime) -> Decision | None:
    """Decide and act, one evaluation of `env` at a time (concurrent ones would both start a run)."""
    with ctx.state.mutex(f"evaluate:{env}", EVALUATE_MUTEX_TTL, EVALUATE_MUTEX_WAIT) as taken:
        if not taken:
            audit(ctx, now, "evaluate_skipped", env, "another evaluation held the environment too long")
            _schedule(ctx, env, now + ctx.timing.recheck, now)
            return None
        try:
            return _decide_and_act(ctx, env, now)
        except BudgetExceeded as exc:
            _overrun(ctx, env, now, exc)
            return None


def _out_of_order(ctx: WorkerContext, env: str, added: list[Classification]) -> list[str]:
    """With `ordering: independent`, which added migrations may pass earlier pending ones, and why."""
    if ctx.policy.ordering is not Ordering.INDEPENDENT or not added:
        return []
    pending = planned_pending(ctx.state, env)
    added_versions = [c.version for c in added if c.version is not None]
    return passing_notes(framework_order(pending), list(ctx.state.holds()), added_versions)


def _overrun(ctx: WorkerContext, env: str, now: datetime, exc: BudgetExceeded) -> None:
    """Report an evaluation that ran out of time (audit, metric, one Slack note an hour) and retry later."""
    text = (
        f":warning: the evaluation of {env} {exc} (PDM_EVALUATION_BUDGET_SECONDS) and was aborted: "
        f"nothing was decided; it is retried in {format_duration(ctx.timing.recheck)}. "
        "Check the policy's windows with `pdm-bot check-config`."
    )
    audit(ctx, now, "evaluate_overrun", env, str(exc), budget_seconds=exc.seconds)
    ctx.telemetry.evaluation_overrun(env)
    if ctx.state.claim(f"overrun-note:{env}", OVERRUN_NOTE_EVERY):
        ctx.notifier.post(TextNote(env, None, text))
    _schedule(ctx, env, now + ctx.timing.recheck, now)


def _decide_and_act(ctx: WorkerContext, env: str, now: datetime) -> Decision:
    active = ctx.state.active_runs()
    runs.recover_lapsed(ctx, env, active, now)
    es = load_env_state(
        ctx.state, ctx.policy, env, active_runs=active, gitlab=ctx.gitlab, metrics=ctx.metrics
    )
    with time_budget(ctx.timing.evaluation_budget.total_seconds()):
        decision = decide(es, ctx.policy, now)
    for guard in decision.guards:
        if not guard.ok:
            ctx.telemetry.guard_failed(env, guard.name)
    audit(
        ctx,
        now,
        "decided",
        env,
        "; ".join(decision.reasons),
        decision=str(decision.action),
        migrations=decision.migrations,
    )
    if decision.action is Action.WAIT:
        head = manual_head(es, ctx.policy)
        if head is not None:
            _tell_manual_wait(ctx, env, head, len(es.pending) - 1, active, now)
    if decision.action is Action.EXECUTE:
        _run_now(ctx, env, decision, active, now)
    elif decision.action is Action.PROPOSE and _propose(ctx, env, decision, active, now):
        for downstream in ctx.policy.environments:
            if downstream.requires == env:  # it may now propose ahead on this one's projection
                ctx.queue.enqueue(JOB + "evaluate", downstream.name)
    if decision.next_window_at is not None and decision.next_window_at > now:
        _schedule(ctx, env, decision.next_window_at, now)
    elif decision.action is Action.BLOCKED:
        _schedule(ctx, env, now + ctx.timing.recheck, now)
    return decision


def _tell_manual_wait(
    ctx: WorkerContext, env: str, head: PendingMigration, behind: int, active: list[Run], now: datetime
) -> None:
    """Say once per environment and version, in the package thread, that a manual head blocks the queue
    (unless someone already asked for a `/pdm run` that covers it)."""
    asked = [
        r
        for r in active
        if r.environment == env and r.requested_by != BOT_ACTOR and int(r.up_to_version) >= int(head.version)
    ]
    if asked or not ctx.state.claim(f"manual-wait:{env}:{head.version}", MANUAL_WAIT_MEMORY):
        return
    nature = head.classification.primary_nature.value
    text = (
        f":raised_hand: migration {head.version} ({nature}, manual) waits for `/pdm run {env}` — "
        f"everything after it waits too ({behind} more pending)"
    )
    ctx.notifier.post(TextNote(env, head.package_sha, text))
    audit(ctx, now, "manual_waiting", env, text, version=head.version, behind=behind)


def _schedule(ctx: WorkerContext, env: str, at: datetime, now: datetime) -> None:
    """Enqueue one evaluation of `env` at `at` (deduplicated per environment and instant)."""
    at = at.replace(microsecond=0)
    if ctx.state.claim(f"evaluate-at:{env}:{int(at.timestamp())}", at - now + timedelta(hours=1)):
        ctx.queue.enqueue_at(at, JOB + "evaluate", env)
        audit(ctx, now, "evaluation_scheduled", env, f"next evaluation at {at.isoformat()}")


def _new_run(
    ctx: WorkerContext,
    env: str,
    migrations: list[str],
    requested_by: str,
    now: datetime,
    expires_at: datetime | None,
    override_reason: str | None = None,
) -> Run | None:
    last = ctx.state.last_deployment(env)
    if last is None or not migrations:
        return None
    run = Run(
        id=ctx.state.next_run_id(env),
        environment=env,
        migrations=list(migrations),
        up_to_version=max(migrations, key=lambda v: (len(v), v)),
        target_sha=last.sha,
        requested_by=requested_by,
        requested_at=now,
        expires_at=expires_at,
        override_reason=override_reason,
    )
    ctx.state.create_run(run)
    return run


def _run_now(ctx: WorkerContext, env: str, decision: Decision, active: list[Run], now: datetime) -> None:
    assert decision.up_to_version is not None
    run = approved_run(active, env)
    auto = run is None
    if run is None:
        if decision.mode is not Mode.AUTO:
            return
        asked = [
            r.id
            for r in active
            if r.environment == env and r.status is RunStatus.REQUESTED and r.requested_by != BOT_ACTOR
        ]
        if asked:
            audit(ctx, now, "auto_run_withheld", env, f"run {asked[0]} was requested; its approval runs it")
            return
        last = ctx.state.runs(env, limit=1)
        if last and last[0].status is RunStatus.FAILED and last[0].migrations[:1] == decision.migrations[:1]:
            audit(ctx, now, "auto_run_withheld", env, f"run {last[0].id} of this batch failed; use /pdm run")
            return
        created = _new_run(ctx, env, decision.migrations, BOT_ACTOR, now, decision.window_closes_at)
        if created is None:
            return
        try:
            run = ctx.state.transition_run(created.id, RunStatus.APPROVED, now, approved_by=[BOT_ACTOR])
        except RunConflict as exc:
            ctx.state.transition_run(created.id, RunStatus.CANCELED, now, failure_reason=str(exc))
            audit(ctx, now, "auto_run_withheld", env, str(exc), run_id=created.id)
            return
        audit(ctx, now, "auto_approved", env, "; ".join(decision.reasons), run_id=run.id)
    elif int(decision.up_to_version) < int(run.up_to_version):
        audit(
            ctx,
            now,
            "execute_deferred",
            env,
            f"approved run ends at {run.up_to_version}; only up to {decision.up_to_version} may run now",
            run_id=run.id,
        )
        return
    lead = ctx.timing.starting_soon if auto else timedelta(0)
    if not ctx.state.claim(f"start:{run.id}", lead + timedelta(minutes=1)):
        return
    for old in active:
        if (
            old.environment == env
            and old.status is RunStatus.REQUESTED
            and (auto or set(old.migrations) & set(run.migrations))
        ):
            _close(
                ctx,
                old,
                RunEvent.SUPERSEDED,
                now,
                f"superseded by run {run.id}, which executes {len(run.migrations)} up to "
                f"{run.up_to_version}; what is left is proposed afresh",
                superseded_by=run.id,
            )
    if lead > timedelta(0):
        announce(
            ctx, run, RunEvent.STARTING_SOON, starts_at=now + lead, reason="; ".join(decision.notices) or None
        )
        ctx.queue.enqueue_in(lead, JOB + "execute", run.id)
    else:
        runs.execute(ctx, run.id, now, 0)


def _propose(ctx: WorkerContext, env: str, decision: Decision, active: list[Run], now: datetime) -> bool:
    """Post a proposal of the decision's batch unless it is already proposed (or declined in its window);
    a proposal of another batch is superseded: its message says so and points at the new one. An
    approved run stays approved: if the new proposal is not approved, that run executes alone."""
    requested = [r for r in active if r.environment == env and r.status is RunStatus.REQUESTED]
    if any(r.migrations == decision.migrations or r.requested_by != BOT_ACTOR for r in requested):
        return False
    for old in ctx.state.runs(env, limit=10):
        if (
            old.status is RunStatus.CANCELED
            and old.migrations == decision.migrations
            and (old.failure_reason or "").startswith(DECLINED)
            and old.expires_at is not None
            and old.expires_at > now
        ):
            return False
    run = _new_run(ctx, env, decision.migrations, BOT_ACTOR, now, decision.window_closes_at)
    if run is None:
        return False
    for old in requested:
        reason = (
            f"superseded by {run.id} (the batch changed: now {len(run.migrations)} up to {run.up_to_version})"
        )
        _close(ctx, old, RunEvent.SUPERSEDED, now, reason, superseded_by=run.id)
    _post_proposal(
        ctx, run, decision.reasons, str(decision.mode), str(decision.nature), decision.estimated_duration
    )
    audit(ctx, now, "proposed", env, "; ".join(decision.reasons), run_id=run.id, migrations=run.migrations)
    return True


def _post_proposal(
    ctx: WorkerContext, run: Run, reasons: list[str], mode: str, nature: str, estimate: timedelta
) -> None:
    note = ProposalNote(
        environment=run.environment,
        thread_sha=run.target_sha,
        run_id=run.id,
        migrations=list(run.migrations),
        up_to_version=run.up_to_version,
        nature=nature,
        mode=mode,
        reasons=list(reasons),
        estimated_minutes=round(estimate.total_seconds() / 60),
        rollback_effect=f"packages older than {run.target_sha[:8]} can no longer be rolled back to",
        window_closes_at=run.expires_at,
        requested_by=None if run.requested_by == BOT_ACTOR else run.requested_by,
    )
    ctx.notifier.post(note)


def _close(
    ctx: WorkerContext,
    run: Run,
    event: RunEvent,
    now: datetime,
    reason: str,
    actor: str | None = None,
    superseded_by: str | None = None,
) -> Run | None:
    """Cancel a proposed (or approved, not started) run and turn its proposal message into the outcome."""
    try:
        run = ctx.state.transition_run(
            run.id, RunStatus.CANCELED, now, failure_reason=reason, superseded_by=superseded_by
        )
    except InvalidRunTransition:
        return None
    _closed(ctx, run, event, now, reason, actor)
    return run


def _closed(
    ctx: WorkerContext, run: Run, event: RunEvent, now: datetime, reason: str, actor: str | None = None
) -> None:
    """Tell (proposal message edited) and audit that `run` was closed."""
    _decided(ctx, run, event, actor, reason)
    audit(ctx, now, f"run_{event}", run.environment, reason, actor=actor or BOT_ACTOR, run_id=run.id)


def _decided(ctx: WorkerContext, run: Run, event: RunEvent, actor: str | None, reason: str | None) -> None:
    note = RunNote(
        run.environment,
        run.target_sha,
        run.id,
        event,
        list(run.migrations),
        run.up_to_version,
        actor=actor,
        reason=reason,
    )
    ctx.notifier.update(note)


# Human decisions ----------------------------------------------------------------------------------


@bound_job
def request_run(
    environment: str,
    up_to_version: str | None,
    requested_by: str,
    response_url: str | None,
    override_reason: str | None = None,
) -> None:
    """`/pdm run [--now REASON]`: propose the pending prefix up to `up_to_version` (approval flow);
    with a reason, the approved run may start outside closed allow windows."""
    ctx, now = context(), clock()
    reply = _request_run(ctx, environment, up_to_version, requested_by, now, override_reason)
    if response_url:
        ctx.notifier.respond(response_url, reply)


def _request_run(
    ctx: WorkerContext, env: str, up_to: str | None, user: str, now: datetime, override: str | None = None
) -> str:
    if _refused(ctx, user, "run", env, now):
        return "Only approvers may request a run."
    active = [r for r in ctx.state.active_runs() if r.environment == env]
    busy = [r for r in active if r.status is not RunStatus.REQUESTED]
    if busy:
        return f"Run {busy[0].id} on {env} is {busy[0].status}; wait for it to end."
    holds = ctx.state.holds()
    pending = ctx.state.pending(env)
    batch = []
    for item in pending:
        if item.version in holds or (up_to is not None and int(item.version) > int(up_to)):
            break
        batch.append(item)
    if not batch:
        return f"Nothing to run on {env}" + (f" up to {up_to}" if up_to else "") + "."
    for old in active:
        _close(ctx, old, RunEvent.EXPIRED, now, f"superseded by /pdm run from {user}")
    run = _new_run(ctx, env, [m.version for m in batch], user, now, None, override)
    if run is None:
        return f"No deployed package recorded for {env}."
    estimate = ctx.policy.durations.overhead + sum(
        (ctx.policy.estimate(m.classification) for m in batch), timedelta(0)
    )
    natures = [m.classification.primary_nature for m in batch]
    reasons = [f"requested by <@{user}> with /pdm run"]
    if override is not None:
        reasons = [
            f"requested by <@{user}> with /pdm run --now: “{override}”",
            *overridden_rules(ctx.policy, natures, now),
        ]
    _post_proposal(ctx, run, reasons, str(Mode.MANUAL), str(most_restrictive(natures)), estimate)
    audit(
        ctx,
        now,
        "run_requested",
        env,
        f"/pdm run up to {run.up_to_version}" + (f" --now: {override}" if override else ""),
        actor=user,
        run_id=run.id,
        override=override,
    )
    return (
        f"Run {run.id} of {len(batch)} migrations (up to {run.up_to_version}) proposed in the release thread."
    )


def _covered(run: Run, active: list[Run]) -> dict[str, str]:
    """Approved, not started runs of `run`'s environment that its approval supersedes (id → reason):
    those it covers, i.e. ending at or before its `up_to_version`."""
    reason = f"superseded by {run.id}, approved, which covers this batch and extends it"
    return {
        o.id: reason
        for o in active
        if o.environment == run.environment
        and o.id != run.id
        and o.status is RunStatus.APPROVED
        and int(o.up_to_version) <= int(run.up_to_version)
    }


def _stale(ctx: WorkerContext, run: Run, now: datetime) -> str | None:
    if run.expires_at is not None and now >= run.expires_at:
        return f"the window it was proposed for closed at {run.expires_at.isoformat()}"
    current = [m.version for m in ctx.state.pending(run.environment)]
    upto = [v for v in current if int(v) <= int(run.up_to_version)]
    if upto != run.migrations:
        return "the pending migrations changed since it was proposed"
    held = sorted(set(run.migrations) & set(ctx.state.holds()))
    if held:
        return f"{', '.join(held)} {'is' if len(held) == 1 else 'are'} held since it was proposed"
    active = ctx.state.active_runs()
    covered = _covered(run, active)
    blockers = [b for b in conflicting_runs(run, active) if b.id not in covered]
    return conflict_reason(run, blockers) if blockers else None


@bound_job
def approve(run_id: str, user_id: str) -> None:
    """Approve a proposed run; stale proposals are refused and proposed afresh."""
    ctx, now = context(), clock()
    try:
        run = ctx.state.get_run(run_id)
    except UnknownRun:
        audit(ctx, now, "refused", "", f"no run {run_id}", actor=user_id)
        return
    env = run.environment
    if _refused(ctx, user_id, f"approve {run_id}", env, now):
        return
    with ctx.state.mutex(f"evaluate:{env}", EVALUATE_MUTEX_TTL, EVALUATE_MUTEX_WAIT) as taken:
        if taken:
            _approve(ctx, ctx.state.get_run(run_id), user_id, now)
            return
    audit(ctx, now, "approve_retry", env, "an evaluation held the environment too long", actor=user_id)
    ctx.queue.enqueue_in(APPROVE_RETRY, JOB + "approve", run_id, user_id)


def _approve(ctx: WorkerContext, run: Run, user_id: str, now: datetime) -> None:
    """Approve under the evaluation mutex, so no evaluation creates or starts a run meanwhile."""
    env, run_id = run.environment, run.id
    if run.status is not RunStatus.REQUESTED:
        audit(ctx, now, "refused", env, f"run {run_id} is {run.status}, not proposed", actor=user_id)
        if run.superseded_by is not None:
            text = (
                f":no_entry: <@{user_id}>: approval of {run_id} refused as stale: it was superseded by "
                f"{run.superseded_by}; approve that one instead."
            )
            ctx.notifier.post(TextNote(env, run.target_sha, text))
        return
    stale = _stale(ctx, run, now)
    if stale is not None:
        _refuse_stale(ctx, run, user_id, now, stale)
        return
    natures = {m.classification.primary_nature for m in ctx.state.pending(env) if m.version in run.migrations}
    rule = set(ctx.policy.two_person_natures) | (
        {n for n in natures if n.is_heavy} if run.override_reason else set()
    )
    two_person = sorted(str(n) for n in natures & rule)
    if two_person and run.requested_by == user_id:
        reason = f"two-person rule ({', '.join(two_person)}): the requester of {run_id} may not approve it"
        audit(ctx, now, "refused", env, reason, actor=user_id, run_id=run_id)
        ctx.notifier.post(TextNote(env, run.target_sha, f":no_entry: <@{user_id}>: {reason}."))
        return
    known = {a.actor for a in ctx.state.approvals(run_id)}
    approvals = ctx.state.add_approval(run_id, Note(user_id, now, "approved"))
    needed = 2 if two_person else 1
    if len(approvals) < needed:
        audit(
            ctx,
            now,
            "approval_recorded",
            env,
            f"{len(approvals)} of {needed} approvals",
            actor=user_id,
            run_id=run_id,
        )
        again = "already approved" if user_id in known else "approved"
        ctx.notifier.post(
            TextNote(
                env,
                run.target_sha,
                f"<@{user_id}> {again} {run_id}; two-person rule ({', '.join(two_person)}): "
                "a second, different approver is needed.",
            )
        )
        return
    covered = _covered(run, ctx.state.active_runs())
    try:
        run, superseded = ctx.state.approve_run(run_id, now, [a.actor for a in approvals], covered)
    except RunConflict as exc:
        _refuse_stale(ctx, run, user_id, now, str(exc))
        return
    except InvalidRunTransition:
        return
    audit(
        ctx, now, "approved", env, f"approved by {', '.join(run.approved_by)}", actor=user_id, run_id=run_id
    )
    _decided(ctx, run, RunEvent.APPROVED, user_id, None)
    for old in superseded:
        _closed(ctx, old, RunEvent.SUPERSEDED, now, covered[old.id])
    _decide_and_act(ctx, env, now)


def _refuse_stale(ctx: WorkerContext, run: Run, user_id: str, now: datetime, why: str) -> None:
    """Close a proposal whose approval came too late or conflicts, say why in its thread, evaluate."""
    reason = f"approval of {run.id} refused: {why}; a fresh proposal follows if one is due"
    _close(ctx, run, RunEvent.EXPIRED, now, reason, actor=user_id)
    ctx.notifier.post(TextNote(run.environment, run.target_sha, reason))
    _decide_and_act(ctx, run.environment, now)


def _decline(run_id: str, user_id: str, event: RunEvent, verb: str) -> None:
    ctx, now = context(), clock()
    try:
        run = ctx.state.get_run(run_id)
    except UnknownRun:
        audit(ctx, now, "refused", "", f"no run {run_id}", actor=user_id)
        return
    if _refused(ctx, user_id, f"{verb} {run_id}", run.environment, now):
        return
    if run.status is not RunStatus.REQUESTED:
        audit(ctx, now, "refused", run.environment, f"run {run_id} is {run.status}", actor=user_id)
        return
    _close(ctx, run, event, now, f"{verb} by {user_id}", actor=user_id)


@bound_job
def reject(run_id: str, user_id: str) -> None:
    """Reject a proposal (not proposed again for the same batch and window)."""
    _decline(run_id, user_id, RunEvent.REJECTED, "rejected")


@bound_job
def snooze(run_id: str, user_id: str) -> None:
    """Drop a proposal until its window has passed; the batch is proposed again after it."""
    _decline(run_id, user_id, RunEvent.SNOOZED, "snoozed")


# Runs ---------------------------------------------------------------------------------------------


@bound_job
def execute(run_id: str, attempt: int = 0) -> None:
    """Run an approved run now if it still may (re-checked), creating exactly one pipeline."""
    ctx, now = context(), clock()
    run = ctx.state.get_run(run_id)
    if run.status is RunStatus.APPROVED:
        active = ctx.state.active_runs()
        es = load_env_state(
            ctx.state, ctx.policy, run.environment, active_runs=active, gitlab=ctx.gitlab, metrics=ctx.metrics
        )
        decision = decide(es, ctx.policy, now)
        if decision.action is not Action.EXECUTE or int(decision.up_to_version or 0) < int(run.up_to_version):
            audit(ctx, now, "execute_deferred", run.environment, "; ".join(decision.reasons), run_id=run_id)
            ctx.state.unclaim(f"start:{run_id}")
            if decision.next_window_at is not None and decision.next_window_at > now:
                _schedule(ctx, run.environment, decision.next_window_at, now)
            return
    runs.execute(ctx, run_id, now, attempt)


@bound_job
def poll(run_id: str, attempt: int = 0) -> None:
    """Follow a run's pipeline to its end (re-enqueued every poll interval, at most 30 s)."""
    runs.poll(context(), run_id, clock(), attempt)


@bound_job
def reconcile() -> None:
    """Periodic repair: lost polls, interrupted executions, unknown pipelines, stale locks, expiries."""
    ctx, now = context(), clock()
    for run in ctx.state.active_runs():
        if (
            run.status in (RunStatus.REQUESTED, RunStatus.APPROVED)
            and run.expires_at
            and now >= run.expires_at
        ):
            _close(ctx, run, RunEvent.EXPIRED, now, "its window closed before it could run")
    try:
        runs.reconcile(ctx, now)
    except GitLabError as exc:
        audit(ctx, now, "reconcile_failed", "", str(exc))
    ctx.outbox.resume(ctx.queue)  # a sender lost with its worker resumes here at the latest


# Slack outbox -------------------------------------------------------------------------------------


@bound_job
def deliver_notes() -> None:
    """Deliver the Slack messages that are due (`scheduler/delivery.py`); wake again when more are due."""
    ctx = context()
    ctx.outbox.woken()
    at = delivery.deliver(ctx)
    if at is not None:
        ctx.outbox.wake(ctx.queue, at, now=clock())


# Operator commands --------------------------------------------------------------------------------


def _environments(ctx: WorkerContext, environment: str | None) -> list[str]:
    if environment is None:
        return [e.name for e in ctx.policy.environments]
    return [ctx.policy.environment(environment).name]


@bound_job
def pause(environment: str | None, actor: str, reason: str) -> None:
    """Pause one environment (None: all)."""
    ctx, now = context(), clock()
    if _refused(ctx, actor, "pause", environment or "", now):
        return
    ctx.state.set_pause(environment, Note(actor, now, reason))
    audit(ctx, now, "paused", environment or "", reason, actor=actor)
    target = environment or "all environments"
    ctx.notifier.post(
        TextNote(
            environment or "",
            _thread(ctx, environment) if environment else None,
            f":double_vertical_bar: <@{actor}> paused {target}: {reason or 'no reason given'}",
        )
    )


@bound_job
def resume(environment: str | None, actor: str) -> None:
    """Lift a pause and evaluate at once."""
    ctx, now = context(), clock()
    if _refused(ctx, actor, "resume", environment or "", now):
        return
    cleared = ctx.state.clear_pause(environment)
    audit(ctx, now, "resumed", environment or "", "resumed" if cleared else "was not paused", actor=actor)
    for env in _environments(ctx, environment):
        _evaluate(ctx, env, now)


@bound_job
def hold(version: str, actor: str, reason: str) -> None:
    """Keep `version` (and every later one) out of runs."""
    ctx, now = context(), clock()
    if _refused(ctx, actor, f"hold {version}", "", now):
        return
    ctx.state.set_hold(version, Note(actor, now, reason))
    audit(ctx, now, "held", "", reason, actor=actor, version=version)


@bound_job
def unhold(version: str, actor: str) -> None:
    """Release a hold and evaluate every environment."""
    ctx, now = context(), clock()
    if _refused(ctx, actor, f"unhold {version}", "", now):
        return
    ctx.state.clear_hold(version)
    audit(ctx, now, "unheld", "", f"hold on {version} released", actor=actor, version=version)
    for env in _environments(ctx, None):
        _evaluate(ctx, env, now)


@bound_job
def set_baseline(environment: str, sha: str, actor: str) -> None:
    """Set the baseline SHA of pending detection, refresh pending from it and evaluate."""
    ctx, now = context(), clock()
    if _refused(ctx, actor, "baseline", environment, now):
        return
    full = full_sha(ctx.gitlab, sha, "")
    ctx.state.set_baseline(environment, Baseline(full, actor, now))
    audit(ctx, now, "baseline_set", environment, f"baseline {full[:12]}", actor=actor)
    last = ctx.state.last_deployment(environment)
    if last is not None and ctx.state.last_successful_run(environment) is None:
        refresh = refresh_pending(ctx, environment, last.sha, last.deployed_at)
        if refresh.problem:
            ctx.notifier.post(TextNote(environment, last.sha, f":rotating_light: {refresh.problem}"))
            return
        _evaluate(ctx, environment, now)
