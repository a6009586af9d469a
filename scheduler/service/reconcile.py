"""Periodic repair (the `reconcile` job, and the start of each evaluation): lost polls, interrupted
executions, lapsed locks, pipelines the store does not know, locks of finished runs, expired proposals."""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.errors import GitLabError, UnknownRun
from scheduler.jobnames import JobName
from scheduler.notes import RunEvent, UnknownPipelineNote
from scheduler.records import IN_FLIGHT_RUN_STATUSES, Run, RunStatus
from scheduler.service.audit import audit
from scheduler.service.context import WorkerContext
from scheduler.service.execution import RUN_ID_VARIABLE, execute
from scheduler.service.proposals import close


def recover_lapsed(ctx: WorkerContext, env: str, active: list[Run], now: datetime) -> None:
    """Take care of the runs of `env` in flight whose lock lapsed (their worker was down longer than the
    lock TTL): a running run gets the lock back (and a poll if its poll was lost); a triggered run is
    resumed by an `execute` job (find-or-create). Meanwhile nothing else can start: `envstate` names the
    run as the lock holder, and the store refuses its migrations to any other run."""
    if ctx.state.lock_holder(env) is not None:
        return
    for run in active:
        if run.environment != env or run.status not in IN_FLIGHT_RUN_STATUSES:
            continue
        if run.status is RunStatus.RUNNING:
            lock = ctx.state.acquire_lock(env, run.id, ctx.timing.lock_ttl, now)
            if lock is not None:
                reason = f"the lock of running run {run.id} had lapsed; taken back for it"
                audit(ctx.state, now, "lock_renewed", env, reason, run_id=run.id, lock_token=lock.token)
            _repoll_if_lost(ctx, run, now)
        else:
            audit(ctx.state, now, "reconcile", env, "triggered run without lock: resuming", run_id=run.id)
            ctx.queue.enqueue(JobName.EXECUTE.value, run.id)


def _repoll_if_lost(ctx: WorkerContext, run: Run, now: datetime) -> None:
    if ctx.state.claim(f"poll-alive:{run.id}", ctx.timing.poll_interval * 3):
        audit(ctx.state, now, "reconcile", run.environment, "poll was lost; polling again", run_id=run.id)
        ctx.queue.enqueue(JobName.POLL.value, run.id)


def reconcile(ctx: WorkerContext, now: datetime) -> None:
    """Expire proposals and approvals whose window closed, repair runs (a GitLab fault is audited), and
    wake the Slack outbox sender (a sender lost with its worker resumes here at the latest)."""
    for run in ctx.state.active_runs():
        if (
            run.status in (RunStatus.REQUESTED, RunStatus.APPROVED)
            and run.expires_at
            and now >= run.expires_at
        ):
            close(ctx, run, RunEvent.EXPIRED, now, "its window closed before it could run")
    try:
        _repair_runs(ctx, now)
    except GitLabError as exc:
        audit(ctx.state, now, "reconcile_failed", "", str(exc))
    ctx.outbox.resume(ctx.queue)


def _repair_runs(ctx: WorkerContext, now: datetime) -> None:
    """Lost polls, triggered runs without a pipeline, pipelines the state does not know, stale locks."""
    for run in ctx.state.active_runs():
        if run.status is RunStatus.RUNNING:
            _repoll_if_lost(ctx, run, now)
        elif run.status is RunStatus.TRIGGERED and run.pipeline_id is None:
            holder = ctx.state.lock_holder(run.environment)
            if holder is not None and holder.owner == run.id:
                continue  # its executor may still be working; the lock expires if it died
            reason = "triggered run without pipeline: resuming"
            audit(ctx.state, now, "reconcile", run.environment, reason, run_id=run.id)
            execute(ctx, now, run.id)
    _unknown_pipelines(ctx, now)
    _stale_locks(ctx, now)


def _known(ctx: WorkerContext, run_id: str | None, pipeline_id: int) -> bool:
    if not run_id:
        return False
    try:
        return ctx.state.get_run(run_id).pipeline_id == pipeline_id
    except UnknownRun:
        return False


def _unknown_pipelines(ctx: WorkerContext, now: datetime) -> None:
    for pipeline in ctx.gitlab.pdm_pipelines(updated_after=now - timedelta(days=1)):
        run_id = pipeline.variables.get(RUN_ID_VARIABLE)
        if _known(ctx, run_id, pipeline.id) or not ctx.state.claim(
            f"unknown-pipeline:{pipeline.id}", timedelta(days=7)
        ):
            continue
        env = pipeline.variables.get("PDM_ENVIRONMENT", "")
        origin = f"run {run_id}" if run_id else "someone outside pdm-bot"
        reason = (
            f"PDM pipeline {pipeline.id} on {env} ({pipeline.status}) was started by {origin} and is not "
            f"recorded as that run's pipeline: {pipeline.web_url}"
        )
        audit(ctx.state, now, "unknown_pipeline", env, reason, pipeline_id=pipeline.id)
        last = ctx.state.last_deployment(env) if env else None
        ctx.notifier.post(
            UnknownPipelineNote(
                env,
                last.sha if last else None,
                pipeline.id,
                pipeline.status,
                run_id or None,
                pipeline.web_url,
            )
        )


def _stale_locks(ctx: WorkerContext, now: datetime) -> None:
    for spec in ctx.policy.environments:
        holder = ctx.state.lock_holder(spec.name)
        if holder is None:
            continue
        try:
            finished = ctx.state.get_run(holder.owner).status.is_terminal
        except UnknownRun:
            finished = True
        if finished and ctx.state.release_lock(holder):
            reason = f"lock held by finished run {holder.owner}"
            audit(ctx.state, now, "stale_lock_released", spec.name, reason, lock_token=holder.token)
