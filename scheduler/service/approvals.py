"""Human decisions on runs: `/pdm run` (a requested run, proposed), Approve (two-person rule, staleness,
superseding), Reject and Snooze. Approvers are re-checked in every one of them."""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.errors import InvalidRunTransition, RunConflict, UnknownRun
from scheduler.jobnames import JobName
from scheduler.lifecycle import (
    approval_rule,
    busy_run,
    covered_runs,
    request_batch,
    self_approval_refused,
    stale_reason,
)
from scheduler.natures import most_restrictive
from scheduler.notes import (
    ApprovalRefusal,
    ApprovalRefusedNote,
    RunEvent,
    RunRequestAnswer,
    RunRequestOutcome,
    RunRequestReason,
    SecondApproverNote,
)
from scheduler.plan import overridden_rules
from scheduler.policy.model import Mode
from scheduler.records import Note, Run, RunStatus
from scheduler.service.audit import audit
from scheduler.service.authorisation import refused
from scheduler.service.context import WorkerContext
from scheduler.service.evaluation import EVALUATE_MUTEX_TTL, EVALUATE_MUTEX_WAIT, decide_and_act
from scheduler.service.proposals import close, closed, decided, new_run, post_proposal

APPROVE_RETRY = timedelta(seconds=10)


def _refused(ctx: WorkerContext, now: datetime, user: str, request: str, env: str) -> str | None:
    return refused(ctx.state, ctx.policy.approvers, ctx.directory, now, user, request, env)


def request_run(
    ctx: WorkerContext, now: datetime, env: str, up_to: str | None, user: str, override: str | None = None
) -> RunRequestAnswer:
    """`/pdm run [--up-to V] [--now REASON]`: propose the pending prefix up to `V` (approval flow); with a
    reason the approved run may start outside closed allow windows. Returns the answer to the user."""
    refusal = _refused(ctx, now, user, "run", env)
    if refusal is not None:
        return RunRequestAnswer(env, RunRequestOutcome.REFUSED, refusal=refusal)
    active = [r for r in ctx.state.active_runs() if r.environment == env]
    busy = busy_run(active, env)
    if busy is not None:
        return RunRequestAnswer(env, RunRequestOutcome.BUSY, run_id=busy.id, status=str(busy.status))
    batch = request_batch(ctx.state.pending(env), ctx.state.holds(), up_to)
    if not batch:
        return RunRequestAnswer(env, RunRequestOutcome.NOTHING, up_to=up_to)
    for old in active:
        close(ctx, old, RunEvent.EXPIRED, now, f"superseded by /pdm run from {user}")
    run = new_run(ctx, env, [m.version for m in batch], user, now, None, override)
    if run is None:
        return RunRequestAnswer(env, RunRequestOutcome.NO_PACKAGE)
    estimate = ctx.policy.durations.overhead + sum(
        (ctx.policy.estimate(m.classification) for m in batch), timedelta(0)
    )
    natures = [m.classification.primary_nature for m in batch]
    reasons = [] if override is None else overridden_rules(ctx.policy, natures, now)
    request = RunRequestReason(user, override)
    post_proposal(ctx, run, reasons, str(Mode.MANUAL), str(most_restrictive(natures)), estimate, request)
    what = f"/pdm run up to {run.up_to_version}" + (f" --now: {override}" if override else "")
    audit(ctx.state, now, "run_requested", env, what, actor=user, run_id=run.id, override=override)
    return RunRequestAnswer(
        env, RunRequestOutcome.PROPOSED, run_id=run.id, count=len(batch), up_to=run.up_to_version
    )


def approve(ctx: WorkerContext, now: datetime, run_id: str, user: str) -> None:
    """Approve a proposed run under the evaluation mutex (no evaluation creates or starts a run
    meanwhile); when the mutex stays taken the approval is retried in `APPROVE_RETRY`."""
    try:
        run = ctx.state.get_run(run_id)
    except UnknownRun:
        audit(ctx.state, now, "refused", "", f"no run {run_id}", actor=user)
        return
    env = run.environment
    if _refused(ctx, now, user, f"approve {run_id}", env) is not None:
        return
    with ctx.state.mutex(f"evaluate:{env}", EVALUATE_MUTEX_TTL, EVALUATE_MUTEX_WAIT) as taken:
        if taken:
            _approve(ctx, ctx.state.get_run(run_id), user, now)
            return
    audit(ctx.state, now, "approve_retry", env, "an evaluation held the environment too long", actor=user)
    ctx.queue.enqueue_in(APPROVE_RETRY, JobName.APPROVE.value, run_id, user)


def _approve(ctx: WorkerContext, run: Run, user: str, now: datetime) -> None:
    env = run.environment
    if run.status is not RunStatus.REQUESTED:
        audit(ctx.state, now, "refused", env, f"run {run.id} is {run.status}, not proposed", actor=user)
        if run.superseded_by is not None:
            _tell_refusal(ctx, run, user, ApprovalRefusal.SUPERSEDED, run.superseded_by)
        return
    pending = ctx.state.pending(env)
    stale = stale_reason(run, now, [m.version for m in pending], ctx.state.holds(), ctx.state.active_runs())
    if stale is not None:
        refuse_stale(ctx, run, user, now, stale)
        return
    natures = [m.classification.primary_nature for m in pending if m.version in run.migrations]
    rule = approval_rule(natures, ctx.policy.two_person_natures, bool(run.override_reason))
    if self_approval_refused(rule, run, user):
        reason = (
            f"two-person rule ({', '.join(rule.two_person)}): the requester of {run.id} may not approve it"
        )
        audit(ctx.state, now, "refused", env, reason, actor=user, run_id=run.id)
        _tell_refusal(ctx, run, user, ApprovalRefusal.TWO_PERSON, ", ".join(rule.two_person))
        return
    known = {a.actor for a in ctx.state.approvals(run.id)}
    approvals = ctx.state.add_approval(run.id, Note(user, now, "approved"))
    if len(approvals) < rule.needed:
        reason = f"{len(approvals)} of {rule.needed} approvals"
        audit(ctx.state, now, "approval_recorded", env, reason, actor=user, run_id=run.id)
        note = SecondApproverNote(env, run.target_sha, run.id, user, list(rule.two_person), user in known)
        ctx.notifier.post(note)
        return
    _record_approval(ctx, run, [a.actor for a in approvals], user, now)


def _record_approval(ctx: WorkerContext, run: Run, approvers: list[str], user: str, now: datetime) -> None:
    """Approve `run` and supersede the approved runs it covers, then evaluate (it may start at once)."""
    covered = covered_runs(run, ctx.state.active_runs())
    try:
        approved, superseded = ctx.state.approve_run(run.id, now, approvers, covered)
    except RunConflict as exc:
        refuse_stale(ctx, run, user, now, str(exc))
        return
    except InvalidRunTransition:
        return
    env = approved.environment
    audit(
        ctx.state,
        now,
        "approved",
        env,
        f"approved by {', '.join(approved.approved_by)}",
        actor=user,
        run_id=run.id,
    )
    decided(ctx, approved, RunEvent.APPROVED, user, None)
    for old in superseded:
        closed(ctx, old, RunEvent.SUPERSEDED, now, covered[old.id])
    decide_and_act(ctx, env, now)


def _tell_refusal(ctx: WorkerContext, run: Run, user: str, refusal: ApprovalRefusal, detail: str) -> None:
    ctx.notifier.post(ApprovalRefusedNote(run.environment, run.target_sha, run.id, user, refusal, detail))


def refuse_stale(ctx: WorkerContext, run: Run, user: str, now: datetime, why: str) -> None:
    """Close a proposal whose approval came too late or conflicts, say why in its thread, evaluate."""
    reason = f"approval of {run.id} refused: {why}; a fresh proposal follows if one is due"
    close(ctx, run, RunEvent.EXPIRED, now, reason, actor=user)
    _tell_refusal(ctx, run, user, ApprovalRefusal.STALE, why)
    decide_and_act(ctx, run.environment, now)


def decline(ctx: WorkerContext, now: datetime, run_id: str, user: str, event: RunEvent) -> None:
    """Reject (not proposed again for the same batch and window) or snooze (dropped until its window has
    passed) a proposal."""
    verb = str(event)
    try:
        run = ctx.state.get_run(run_id)
    except UnknownRun:
        audit(ctx.state, now, "refused", "", f"no run {run_id}", actor=user)
        return
    if _refused(ctx, now, user, f"{verb} {run_id}", run.environment) is not None:
        return
    if run.status is not RunStatus.REQUESTED:
        audit(ctx.state, now, "refused", run.environment, f"run {run_id} is {run.status}", actor=user)
        return
    close(ctx, run, event, now, f"{verb} by {user}", actor=user)
