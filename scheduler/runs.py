"""The run life cycle behind the `execute`, `poll` and `reconcile` jobs (exactly one pipeline per run).

execute: take the environment lock (owner = run id, fencing token), move approved → triggered (the
intent, under WATCH: one caller wins, and never while another committed run holds one of its migrations),
then find-or-create the pipeline: a re-entered run (retry, crash) first looks for a pipeline carrying its
`PDM_RUN_ID`, and only creates one when none exists. The POST is sent once (the adapter never re-sends
it); when its outcome is unknown (5xx, timeout) the pipeline is looked up at once, then at every retry,
and no second POST goes out before `Timing.create_settle` has passed since the unknown one.

Every audit entry is also logged as one structured event (its action as `event`, its details as keys).
A run that ends (success, failed, canceled) is counted in `ctx.telemetry` (`pdm_runs_total`, and
`pdm_run_duration_seconds` from trigger to end) and annotated through `ctx.annotations` when set.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import structlog

from scheduler.errors import (
    GitLabError,
    GitLabOutcomeUnknown,
    GitLabTransientError,
    InvalidRunTransition,
    RunConflict,
    UnknownRun,
)
from scheduler.gitlab_model import Pipeline
from scheduler.notes import RunEvent, RunNote, TextNote
from scheduler.records import IN_FLIGHT_RUN_STATUSES, AuditEntry, Lock, Run, RunStatus
from scheduler.worker_context import BOT_ACTOR, JOB_PREFIX, WorkerContext

log = logging.getLogger(__name__)
events = structlog.get_logger("scheduler.audit")

RUN_ID_VARIABLE = "PDM_RUN_ID"
VERSIONS_VARIABLE = "PDM_MIGRATION_VERSIONS"  # the run's versions in execution order (every run)
JOB = JOB_PREFIX


def audit(
    ctx: WorkerContext,
    at: datetime,
    action: str,
    env: str,
    reason: str,
    actor: str = BOT_ACTOR,
    **details: Any,
) -> None:
    """Append one audit entry and log it as one event."""
    ctx.state.audit(
        AuditEntry(at=at, actor=actor, action=action, environment=env, reason=reason, details=details)
    )
    events.info(action, environment=env, reason=reason, actor=actor, **details)


def ended(ctx: WorkerContext, run: Run, now: datetime) -> None:
    """Count a run that reached its final status and close its annotation."""
    started = run.triggered_at
    duration = (now - started).total_seconds() if started is not None else None
    ctx.telemetry.run_finished(run.environment, str(run.status), duration)
    if ctx.annotations is not None:
        ctx.annotations.run_ended(run, now)


def announce(ctx: WorkerContext, run: Run, event: RunEvent, **extra: Any) -> None:
    """Post a run note in the run's package thread."""
    ctx.notifier.post(
        RunNote(
            environment=run.environment,
            thread_sha=run.target_sha,
            run_id=run.id,
            event=event,
            migrations=list(run.migrations),
            up_to_version=run.up_to_version,
            pipeline_url=run.pipeline_url,
            **extra,
        )
    )


def _lock_for(ctx: WorkerContext, run: Run, now: datetime) -> tuple[Lock | None, bool]:
    """The environment lock for `run` and whether this call took it; None when someone else holds it."""
    holder = ctx.state.lock_holder(run.environment)
    if holder is not None and holder.owner == run.id:
        ctx.state.renew_lock(holder, ctx.timing.lock_ttl)
        return holder, False
    return ctx.state.acquire_lock(run.environment, run.id, ctx.timing.lock_ttl, now), True


def find_pipeline(ctx: WorkerContext, run: Run) -> Pipeline | None:
    """The pipeline created for `run` (by its `PDM_RUN_ID` variable), if any."""
    since = (run.triggered_at or run.requested_at) - timedelta(minutes=5)
    for pipeline in ctx.gitlab.pdm_pipelines(run.environment, updated_after=since):
        if pipeline.variables.get(RUN_ID_VARIABLE) == run.id:
            return pipeline
    return None


def execute(ctx: WorkerContext, run_id: str, now: datetime, attempt: int) -> None:
    """Lock, record intent, create exactly one pipeline, announce STARTED, start polling."""
    state = ctx.state
    run = state.get_run(run_id)
    if run.status not in (RunStatus.APPROVED, RunStatus.TRIGGERED) or run.pipeline_id is not None:
        log.info("execute %s: nothing to do (%s)", run_id, run.status)
        return
    lock, fresh = _lock_for(ctx, run, now)
    if lock is None:
        holder = state.lock_holder(run.environment)
        audit(
            ctx,
            now,
            "execute_deferred",
            run.environment,
            f"environment locked by {holder.owner if holder else 'someone'}",
            run_id=run_id,
        )
        return
    reentry = run.status is RunStatus.TRIGGERED
    if not reentry:
        try:
            run = state.transition_run(run_id, RunStatus.TRIGGERED, now)
        except RunConflict as exc:
            _refuse(ctx, run, lock, now, str(exc))
            return
        except InvalidRunTransition:
            if fresh:
                state.release_lock(lock)
            return
        audit(
            ctx,
            now,
            "intent",
            run.environment,
            "pipeline about to be created",
            run_id=run_id,
            lock_token=lock.token,
        )
    creating = f"create-pipeline:{run.id}"
    if not state.claim(creating, ctx.timing.lock_ttl):
        if fresh:
            state.release_lock(lock)
        return  # another executor is creating this run's pipeline right now
    try:
        pipeline, adopted = _find_or_create(ctx, run, reentry, now)
    except GitLabTransientError as exc:
        state.unclaim(creating)
        _retry_or_fail(ctx, run, lock, now, attempt, str(exc), "execute")
        return
    except GitLabError as exc:
        fail(ctx, run, lock, now, str(exc))
        return
    attach(ctx, run, pipeline, now, adopted=adopted)


def _find_or_create(ctx: WorkerContext, run: Run, reentry: bool, now: datetime) -> tuple[Pipeline, bool]:
    """The run's pipeline and whether it was found (True) rather than created. Raises
    GitLabTransientError to be tried again later, also while an unknown POST may still turn into one."""
    unknown = f"create-unknown:{run.id}"
    if reentry:
        found = find_pipeline(ctx, run)
        if found is not None:
            return found, True
        if ctx.state.marked(unknown):
            settle = int(ctx.timing.create_settle.total_seconds())
            raise GitLabTransientError(
                f"no pipeline carries {RUN_ID_VARIABLE}={run.id} yet after a pipeline POST of unknown "
                f"outcome; no new POST within {settle} s of that one"
            )
    spec = ctx.policy.environment(run.environment)
    try:
        created = ctx.gitlab.create_pipeline(
            run.environment,
            run.target_sha,
            run.up_to_version,
            {**spec.variables, RUN_ID_VARIABLE: run.id, VERSIONS_VARIABLE: " ".join(run.migrations)},
        )
    except GitLabOutcomeUnknown as exc:
        if ctx.timing.create_settle > timedelta(0):
            ctx.state.mark(unknown, ctx.timing.create_settle)
        audit(ctx, now, "create_outcome_unknown", run.environment, str(exc), run_id=run.id)
        try:
            found = find_pipeline(ctx, run)  # GitLab may have created it and then failed to answer
        except GitLabError:
            found = None
        if found is None:
            raise
        return found, True
    return created, False


def attach(ctx: WorkerContext, run: Run, pipeline: Pipeline, now: datetime, *, adopted: bool = False) -> None:
    """Record the pipeline of a triggered run (created now, or `adopted`: found by its `PDM_RUN_ID`),
    announce STARTED and start polling."""
    try:
        run = ctx.state.transition_run(
            run.id, RunStatus.RUNNING, now, pipeline_id=pipeline.id, pipeline_url=pipeline.web_url
        )
    except InvalidRunTransition:
        return
    audit(
        ctx,
        now,
        "pipeline_adopted" if adopted else "pipeline_created",
        run.environment,
        f"pipeline {pipeline.id}" + (f" (found by {RUN_ID_VARIABLE})" if adopted else ""),
        run_id=run.id,
        pipeline_id=pipeline.id,
        up_to_version=run.up_to_version,
    )
    ctx.queue.enqueue(JOB + "poll", run.id)  # first: nothing said about the run may hold up its polling
    announce(ctx, run, RunEvent.STARTED)
    if ctx.annotations is not None:
        ctx.annotations.run_started(run, now)


def _refuse(ctx: WorkerContext, run: Run, lock: Lock, now: datetime, reason: str) -> None:
    """Cancel an approved run that may not start because another run holds some of its migrations."""
    ctx.state.release_lock(lock)
    try:
        run = ctx.state.transition_run(run.id, RunStatus.CANCELED, now, failure_reason=reason)
    except InvalidRunTransition:
        return
    audit(ctx, now, "run_refused", run.environment, reason, run_id=run.id)
    announce(ctx, run, RunEvent.CANCELED, reason=reason)


def _retry_or_fail(
    ctx: WorkerContext, run: Run, lock: Lock, now: datetime, attempt: int, reason: str, job: str
) -> None:
    if attempt + 1 >= ctx.timing.max_attempts:
        fail(ctx, run, lock, now, f"{reason} (gave up after {attempt + 1} attempts)")
        return
    delay = ctx.timing.retry_delay(attempt)
    ctx.state.renew_lock(lock, ctx.timing.lock_ttl + delay)
    audit(
        ctx,
        now,
        "retry",
        run.environment,
        reason,
        run_id=run.id,
        attempt=attempt + 1,
        delay_seconds=int(delay.total_seconds()),
    )
    ctx.queue.enqueue_in(delay, JOB + job, run.id, attempt + 1)


def fail(ctx: WorkerContext, run: Run, lock: Lock | None, now: datetime, reason: str) -> None:
    """End `run` as failed with `reason`, release its lock and announce it."""
    try:
        run = ctx.state.transition_run(run.id, RunStatus.FAILED, now, failure_reason=reason)
    except InvalidRunTransition:
        return
    if lock is not None:
        ctx.state.release_lock(lock)
    audit(ctx, now, "run_failed", run.environment, reason, run_id=run.id)
    ended(ctx, run, now)
    announce(ctx, run, RunEvent.FAILED, reason=reason)


def poll(ctx: WorkerContext, run_id: str, now: datetime, attempt: int) -> None:
    """Follow the run's pipeline: renew the lock while it runs, finish the run when it ends."""
    state = ctx.state
    run = state.get_run(run_id)
    if run.status is not RunStatus.RUNNING or run.pipeline_id is None:
        return
    lock, _ = _lock_for(ctx, run, now)
    state.claim(f"poll-alive:{run_id}", ctx.timing.poll_interval * 3)
    try:
        pipeline = ctx.gitlab.pipeline(run.pipeline_id)
    except GitLabTransientError as exc:
        audit(ctx, now, "poll_retry", run.environment, str(exc), run_id=run_id)
        _next_poll(ctx, run, min(ctx.timing.retry_delay(attempt), ctx.timing.poll_interval), attempt + 1)
        return
    except GitLabError as exc:
        fail(ctx, run, lock, now, str(exc))
        return
    if not pipeline.is_finished:
        _next_poll(ctx, run, ctx.timing.poll_interval, 0)
        return
    finish(ctx, run, pipeline, lock, now)


def _next_poll(ctx: WorkerContext, run: Run, delay: timedelta, attempt: int) -> None:
    ctx.state.unclaim(f"poll-alive:{run.id}")
    ctx.state.claim(f"poll-alive:{run.id}", delay * 3)
    ctx.queue.enqueue_in(delay, JOB + "poll", run.id, attempt)


def finish(ctx: WorkerContext, run: Run, pipeline: Pipeline, lock: Lock | None, now: datetime) -> None:
    """Record the end of the pipeline, update pending and the rollback line, release, announce."""
    state = ctx.state
    started = run.triggered_at or run.requested_at
    duration = int((now - started).total_seconds())
    if pipeline.status == "success":
        try:
            run = state.transition_run(run.id, RunStatus.SUCCESS, now)
        except InvalidRunTransition:
            return
        state.record_successes(run.environment, run.migrations, now)
        state.remove_pending(run.environment, run.migrations)
        event, reason = RunEvent.SUCCEEDED, None
    else:
        status = RunStatus.CANCELED if pipeline.status in ("canceled", "skipped") else RunStatus.FAILED
        reason = f"pipeline {pipeline.id} ended {pipeline.status}"
        try:
            run = state.transition_run(run.id, status, now, failure_reason=reason)
        except InvalidRunTransition:
            return
        event = RunEvent.CANCELED if status is RunStatus.CANCELED else RunEvent.FAILED
    if lock is not None:
        state.release_lock(lock)
    audit(
        ctx,
        now,
        f"run_{run.status}",
        run.environment,
        reason or "pipeline succeeded",
        run_id=run.id,
        pipeline_id=pipeline.id,
        duration_seconds=duration,
    )
    ended(ctx, run, now)
    announce(ctx, run, event, reason=reason, duration_seconds=duration)
    if run.status is RunStatus.SUCCESS:
        chained = [e.name for e in ctx.policy.environments if e.requires == run.environment]
        for env in [run.environment, *chained]:
            ctx.queue.enqueue(JOB + "evaluate", env)


def recover_lapsed(ctx: WorkerContext, env: str, active: list[Run], now: datetime) -> None:
    """Take care of the runs of `env` in flight whose lock lapsed (their worker was down longer than the
    lock TTL): a running run gets the lock back (and a poll if its poll was lost); a triggered run is
    resumed by an `execute` job (find-or-create). Meanwhile nothing else can start: `envstate` names the
    run as the lock holder, and `State.transition_run` refuses its migrations to any other run."""
    if ctx.state.lock_holder(env) is not None:
        return
    for run in active:
        if run.environment != env or run.status not in IN_FLIGHT_RUN_STATUSES:
            continue
        if run.status is RunStatus.RUNNING:
            lock = ctx.state.acquire_lock(env, run.id, ctx.timing.lock_ttl, now)
            if lock is not None:
                reason = f"the lock of running run {run.id} had lapsed; taken back for it"
                audit(ctx, now, "lock_renewed", env, reason, run_id=run.id, lock_token=lock.token)
            _repoll_if_lost(ctx, run, now)
        else:
            audit(ctx, now, "reconcile", env, "triggered run without lock: resuming", run_id=run.id)
            ctx.queue.enqueue(JOB + "execute", run.id)


def _repoll_if_lost(ctx: WorkerContext, run: Run, now: datetime) -> None:
    if ctx.state.claim(f"poll-alive:{run.id}", ctx.timing.poll_interval * 3):
        audit(ctx, now, "reconcile", run.environment, "poll was lost; polling again", run_id=run.id)
        ctx.queue.enqueue(JOB + "poll", run.id)


def reconcile(ctx: WorkerContext, now: datetime) -> None:
    """Lost polls, triggered runs without a pipeline, pipelines the state does not know, stale locks."""
    state = ctx.state
    active = state.active_runs()
    for run in active:
        if run.status is RunStatus.RUNNING:
            _repoll_if_lost(ctx, run, now)
        elif run.status is RunStatus.TRIGGERED and run.pipeline_id is None:
            holder = state.lock_holder(run.environment)
            if holder is not None and holder.owner == run.id:
                continue  # its executor may still be working; the lock expires if it died
            audit(
                ctx,
                now,
                "reconcile",
                run.environment,
                "triggered run without pipeline: resuming",
                run_id=run.id,
            )
            execute(ctx, run.id, now, 0)
    _unknown_pipelines(ctx, now)
    _stale_locks(ctx, now)


def _unknown_pipelines(ctx: WorkerContext, now: datetime) -> None:
    state = ctx.state
    for pipeline in ctx.gitlab.pdm_pipelines(updated_after=now - timedelta(days=1)):
        run_id = pipeline.variables.get(RUN_ID_VARIABLE)
        known = False
        if run_id:
            try:
                known = state.get_run(run_id).pipeline_id == pipeline.id
            except UnknownRun:
                known = False
        if known or not state.claim(f"unknown-pipeline:{pipeline.id}", timedelta(days=7)):
            continue
        env = pipeline.variables.get("PDM_ENVIRONMENT", "")
        origin = f"run {run_id}" if run_id else "someone outside pdm-bot"
        text = (
            f":warning: PDM pipeline {pipeline.id} on {env} ({pipeline.status}) was started by {origin} "
            f"and is not recorded as that run's pipeline: {pipeline.web_url}"
        )
        audit(ctx, now, "unknown_pipeline", env, text, pipeline_id=pipeline.id)
        last = state.last_deployment(env) if env else None
        ctx.notifier.post(TextNote(env, last.sha if last else None, text))


def _stale_locks(ctx: WorkerContext, now: datetime) -> None:
    state = ctx.state
    for spec in ctx.policy.environments:
        holder = state.lock_holder(spec.name)
        if holder is None:
            continue
        try:
            finished = state.get_run(holder.owner).status.is_terminal
        except UnknownRun:
            finished = True
        if finished and state.release_lock(holder):
            audit(
                ctx,
                now,
                "stale_lock_released",
                spec.name,
                f"lock held by finished run {holder.owner}",
                lock_token=holder.token,
            )
