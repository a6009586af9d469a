"""Exactly one pipeline per run (docs/jobs.md): execute, poll, and the repairs of reconcile.

execute: take the environment lock (owner = run id, fencing token), move approved → triggered (the
intent: one caller wins, and never while another committed run holds one of its migrations), then
find-or-create the pipeline: a re-entered run (retry, crash) first looks for a pipeline carrying its
`PDM_RUN_ID`, and only creates one when none exists. The POST is sent once (the adapter never re-sends
it); when its outcome is unknown (5xx, timeout) the pipeline is looked up at once, then at every retry,
and no second POST goes out before `Timing.create_settle` has passed since the unknown one.
A run that ends is counted in `ctx.telemetry` and annotated through `ctx.annotations` when set; a
successful one's timing is kept for the planner to learn estimates from (`_record_timing`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from scheduler.envstate import load_env_state
from scheduler.errors import (
    GitLabError,
    GitLabOutcomeUnknown,
    GitLabTransientError,
    InvalidRunTransition,
    RunConflict,
)
from scheduler.gitlab_model import Pipeline
from scheduler.jobnames import JobName
from scheduler.lifecycle import not_runnable_now, part_note
from scheduler.notes import RunEvent
from scheduler.plan import decide
from scheduler.policy.decision import Action
from scheduler.policy.learnt import RunTiming, part_of
from scheduler.records import Lock, Run, RunStatus
from scheduler.service.audit import audit
from scheduler.service.context import WorkerContext
from scheduler.service.proposals import announce
from scheduler.service.scheduling import schedule_evaluation

log = logging.getLogger(__name__)

RUN_ID_VARIABLE = "PDM_RUN_ID"
VERSIONS_VARIABLE = "PDM_MIGRATION_VERSIONS"  # the run's versions in execution order (every run)


def ended(ctx: WorkerContext, run: Run, now: datetime) -> None:
    """Count a run that reached its final status and close its annotation."""
    started = run.triggered_at
    duration = (now - started).total_seconds() if started is not None else None
    ctx.telemetry.run_finished(run.environment, str(run.status), duration)
    if ctx.annotations is not None:
        ctx.annotations.run_ended(run, now)


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


def execute(ctx: WorkerContext, now: datetime, run_id: str, attempt: int = 0) -> None:
    """Lock, record intent, create exactly one pipeline, announce STARTED, start polling."""
    run = ctx.state.get_run(run_id)
    if run.status not in (RunStatus.APPROVED, RunStatus.TRIGGERED) or run.pipeline_id is not None:
        log.info("execute %s: nothing to do (%s)", run_id, run.status)
        return
    lock, fresh = _lock_for(ctx, run, now)
    if lock is None:
        holder = ctx.state.lock_holder(run.environment)
        owner = holder.owner if holder else "someone"
        audit(
            ctx.state,
            now,
            "execute_deferred",
            run.environment,
            f"environment locked by {owner}",
            run_id=run_id,
        )
        return
    reentry = run.status is RunStatus.TRIGGERED
    if not reentry:
        triggered = _trigger(ctx, run, lock, fresh, now)
        if triggered is None:
            return
        run = triggered
    creating = f"create-pipeline:{run.id}"
    if not ctx.state.claim(creating, ctx.timing.lock_ttl):
        if fresh:
            ctx.state.release_lock(lock)
        return  # another executor is creating this run's pipeline right now
    try:
        pipeline, adopted = _find_or_create(ctx, run, reentry, now)
    except GitLabTransientError as exc:
        ctx.state.unclaim(creating)
        _retry_or_fail(ctx, run, lock, now, attempt, str(exc))
        return
    except GitLabError as exc:
        fail_run(ctx, run, lock, now, str(exc))
        return
    attach(ctx, run, pipeline, now, adopted=adopted)


def _trigger(ctx: WorkerContext, run: Run, lock: Lock, fresh: bool, now: datetime) -> Run | None:
    """Record the intent (approved → triggered); None when another run holds its migrations or another
    executor moved it first."""
    try:
        run = ctx.state.transition_run(run.id, RunStatus.TRIGGERED, now)
    except RunConflict as exc:
        _refuse(ctx, run, lock, now, str(exc))
        return None
    except InvalidRunTransition:
        if fresh:
            ctx.state.release_lock(lock)
        return None
    reason = "pipeline about to be created"
    audit(ctx.state, now, "intent", run.environment, reason, run_id=run.id, lock_token=lock.token)
    return run


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
    variables = {**spec.variables, RUN_ID_VARIABLE: run.id, VERSIONS_VARIABLE: " ".join(run.migrations)}
    try:
        return ctx.gitlab.create_pipeline(
            run.environment, run.target_sha, run.up_to_version, variables
        ), False
    except GitLabOutcomeUnknown as exc:
        if ctx.timing.create_settle > timedelta(0):
            ctx.state.mark(unknown, ctx.timing.create_settle)
        audit(ctx.state, now, "create_outcome_unknown", run.environment, str(exc), run_id=run.id)
        try:
            found = find_pipeline(ctx, run)  # GitLab may have created it and then failed to answer
        except GitLabError:
            found = None
        if found is None:
            raise
        return found, True


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
        ctx.state,
        now,
        "pipeline_adopted" if adopted else "pipeline_created",
        run.environment,
        f"pipeline {pipeline.id}" + (f" (found by {RUN_ID_VARIABLE})" if adopted else ""),
        run_id=run.id,
        pipeline_id=pipeline.id,
        up_to_version=run.up_to_version,
    )
    ctx.queue.enqueue(JobName.POLL.value, run.id)  # first: nothing said about the run may hold up its polling
    announce(ctx, run, RunEvent.STARTED, reason=part_note(run))
    if ctx.annotations is not None:
        ctx.annotations.run_started(run, now)


def _refuse(ctx: WorkerContext, run: Run, lock: Lock, now: datetime, reason: str) -> None:
    """Cancel an approved run that may not start because another run holds some of its migrations."""
    ctx.state.release_lock(lock)
    try:
        run = ctx.state.transition_run(run.id, RunStatus.CANCELED, now, failure_reason=reason)
    except InvalidRunTransition:
        return
    audit(ctx.state, now, "run_refused", run.environment, reason, run_id=run.id)
    announce(ctx, run, RunEvent.CANCELED, reason=reason)


def _retry_or_fail(
    ctx: WorkerContext, run: Run, lock: Lock, now: datetime, attempt: int, reason: str
) -> None:
    if attempt + 1 >= ctx.timing.max_attempts:
        fail_run(ctx, run, lock, now, f"{reason} (gave up after {attempt + 1} attempts)")
        return
    delay = ctx.timing.retry_delay(attempt)
    ctx.state.renew_lock(lock, ctx.timing.lock_ttl + delay)
    seconds = int(delay.total_seconds())
    audit(
        ctx.state,
        now,
        "retry",
        run.environment,
        reason,
        run_id=run.id,
        attempt=attempt + 1,
        delay_seconds=seconds,
    )
    ctx.queue.enqueue_in(delay, JobName.EXECUTE.value, run.id, attempt + 1)


def fail_run(ctx: WorkerContext, run: Run, lock: Lock | None, now: datetime, reason: str) -> None:
    """End `run` as failed with `reason`, release its lock and announce it."""
    try:
        run = ctx.state.transition_run(run.id, RunStatus.FAILED, now, failure_reason=reason)
    except InvalidRunTransition:
        return
    if lock is not None:
        ctx.state.release_lock(lock)
    audit(ctx.state, now, "run_failed", run.environment, reason, run_id=run.id)
    ended(ctx, run, now)
    announce(ctx, run, RunEvent.FAILED, reason=reason)


def poll(ctx: WorkerContext, now: datetime, run_id: str, attempt: int = 0) -> None:
    """Follow the run's pipeline: renew the lock while it runs, finish the run when it ends."""
    run = ctx.state.get_run(run_id)
    if run.status is not RunStatus.RUNNING or run.pipeline_id is None:
        return
    lock, _ = _lock_for(ctx, run, now)
    ctx.state.claim(f"poll-alive:{run_id}", ctx.timing.poll_interval * 3)
    try:
        pipeline = ctx.gitlab.pipeline(run.pipeline_id)
    except GitLabTransientError as exc:
        audit(ctx.state, now, "poll_retry", run.environment, str(exc), run_id=run_id)
        _next_poll(ctx, run, min(ctx.timing.retry_delay(attempt), ctx.timing.poll_interval), attempt + 1)
        return
    except GitLabError as exc:
        fail_run(ctx, run, lock, now, str(exc))
        return
    if not pipeline.is_finished:
        _next_poll(ctx, run, ctx.timing.poll_interval, 0)
        return
    finish(ctx, run, pipeline, lock, now)


def _next_poll(ctx: WorkerContext, run: Run, delay: timedelta, attempt: int) -> None:
    ctx.state.unclaim(f"poll-alive:{run.id}")
    ctx.state.claim(f"poll-alive:{run.id}", delay * 3)
    ctx.queue.enqueue_in(delay, JobName.POLL.value, run.id, attempt)


def _ended_status(pipeline: Pipeline) -> tuple[RunStatus, RunEvent]:
    if pipeline.status == "success":
        return RunStatus.SUCCESS, RunEvent.SUCCEEDED
    if pipeline.status in ("canceled", "skipped"):
        return RunStatus.CANCELED, RunEvent.CANCELED
    return RunStatus.FAILED, RunEvent.FAILED


def finish(ctx: WorkerContext, run: Run, pipeline: Pipeline, lock: Lock | None, now: datetime) -> None:
    """Record the end of the pipeline (a success: its timing too), update pending and the rollback line,
    release, announce."""
    duration = int((now - (run.triggered_at or run.requested_at)).total_seconds())
    status, event = _ended_status(pipeline)
    reason = None if status is RunStatus.SUCCESS else f"pipeline {pipeline.id} ended {pipeline.status}"
    timing = _timing(ctx, run, now) if status is RunStatus.SUCCESS else None  # read before they leave
    kept = timing if isinstance(timing, RunTiming) else None
    try:  # a success also takes the run's migrations out of pending and keeps its timing, in one write
        changes = {"failure_reason": reason} if reason else {}
        run = ctx.state.transition_run(run.id, status, now, timing=kept, **changes)
    except InvalidRunTransition:
        return
    timing_skipped = timing if isinstance(timing, str) else None
    if lock is not None:
        ctx.state.release_lock(lock)
    audit(
        ctx.state,
        now,
        f"run_{run.status}",
        run.environment,
        reason or "pipeline succeeded",
        run_id=run.id,
        pipeline_id=pipeline.id,
        duration_seconds=duration,
        **({"timing_skipped": timing_skipped} if timing_skipped else {}),
    )
    ended(ctx, run, now)
    announce(ctx, run, event, reason=reason, duration_seconds=duration)
    if run.status is RunStatus.SUCCESS:
        chained = [e.name for e in ctx.policy.environments if e.requires == run.environment]
        for env in [run.environment, *chained]:
            ctx.queue.enqueue(JobName.EVALUATE.value, env)


def _timing(ctx: WorkerContext, run: Run, finished: datetime) -> RunTiming | str:
    """How long the successful `run` took against the policy's estimates of its migrations (read from
    their pending records, so call it before they are removed): `took` is the time from its pipeline's
    start to `finished` without the policy's per-run `overhead`, never negative.

    When a pending record of the run is gone (or the run has no start time) there is nothing to keep and
    the run still finishes: the reason is returned (the `timing_skipped` field of the run's audit entry)."""
    pending = {p.version: p.classification for p in ctx.state.pending(run.environment)}
    missing = [v for v in run.migrations if v not in pending]
    if missing:
        return f"no pending record of {', '.join(missing)}"
    started = run.started_at or run.triggered_at
    if started is None:
        return "the run has no start time"
    parts = tuple(part_of(pending[v], ctx.policy) for v in run.migrations)
    took = max(finished - started - ctx.policy.durations.overhead, timedelta(0))
    return RunTiming(finished, took, parts)


def execute_approved(ctx: WorkerContext, now: datetime, run_id: str, attempt: int = 0) -> None:
    """The `execute` job: an approved run starts only if the decision still lets it (the window may have
    closed during the starting-soon delay); else it waits for the next window."""
    run = ctx.state.get_run(run_id)
    if run.status is RunStatus.APPROVED:
        es = load_env_state(
            ctx.state,
            ctx.policy,
            run.environment,
            active_runs=ctx.state.active_runs(),
            gitlab=ctx.gitlab,
            metrics=ctx.metrics,
        )
        decision = decide(es, ctx.policy, now)
        executes = decision.action is Action.EXECUTE
        waits = not_runnable_now(run, decision.migrations) if executes else "; ".join(decision.reasons)
        if waits is not None:
            audit(ctx.state, now, "execute_deferred", run.environment, waits, run_id=run_id)
            ctx.state.unclaim(f"start:{run_id}")
            if decision.next_window_at is not None and decision.next_window_at > now:
                schedule_evaluation(ctx, run.environment, decision.next_window_at, now)
            return
    execute(ctx, now, run_id, attempt)
