"""Runs as humans see them: created, proposed (a `ProposalNote`), closed (the proposal message edited
into the outcome), and announced (`RunNote`s in the package thread)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scheduler.errors import InvalidRunTransition
from scheduler.lifecycle import BOT_ACTOR
from scheduler.notes import ProposalNote, RunEvent, RunNote, RunRequestReason
from scheduler.records import Run, RunStatus, up_to_version
from scheduler.service.audit import audit
from scheduler.service.context import WorkerContext


def new_run(
    ctx: WorkerContext,
    env: str,
    migrations: list[str],
    requested_by: str,
    now: datetime,
    expires_at: datetime | None,
    override_reason: str | None = None,
) -> Run | None:
    """Create a requested run of `migrations` on the package deployed last (None: nothing to run)."""
    last = ctx.state.last_deployment(env)
    if last is None or not migrations:
        return None
    run = Run(
        id=ctx.state.next_run_id(env),
        environment=env,
        migrations=list(migrations),
        up_to_version=up_to_version(migrations),
        target_sha=last.sha,
        requested_by=requested_by,
        requested_at=now,
        expires_at=expires_at,
        override_reason=override_reason,
    )
    ctx.state.create_run(run)
    return run


def post_proposal(
    ctx: WorkerContext,
    run: Run,
    reasons: list[str],
    mode: str,
    nature: str,
    estimate: timedelta,
    request: RunRequestReason | None = None,
) -> None:
    """Propose `run` in its package thread, with Approve / Reject / Snooze."""
    ctx.notifier.post(
        ProposalNote(
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
            request=request,
        )
    )


def close(
    ctx: WorkerContext,
    run: Run,
    event: RunEvent,
    now: datetime,
    reason: str,
    actor: str | None = None,
    superseded_by: str | None = None,
) -> Run | None:
    """Cancel a proposed (or approved, not started) run as `event` and turn its proposal message into
    the outcome; None when it could no longer be closed."""
    try:
        run = ctx.state.transition_run(
            run.id,
            RunStatus.CANCELED,
            now,
            failure_reason=reason,
            superseded_by=superseded_by,
            closed_as=event,
        )
    except InvalidRunTransition:
        return None
    closed(ctx, run, event, now, reason, actor)
    return run


def closed(
    ctx: WorkerContext, run: Run, event: RunEvent, now: datetime, reason: str, actor: str | None = None
) -> None:
    """Tell (proposal message edited) and audit that `run` was closed."""
    decided(ctx, run, event, actor, reason)
    audit(ctx.state, now, f"run_{event}", run.environment, reason, actor=actor or BOT_ACTOR, run_id=run.id)


def decided(ctx: WorkerContext, run: Run, event: RunEvent, actor: str | None, reason: str | None) -> None:
    """Edit the proposal message of `run` into the decision taken on it."""
    ctx.notifier.update(
        RunNote(
            run.environment,
            run.target_sha,
            run.id,
            event,
            list(run.migrations),
            run.up_to_version,
            actor=actor,
            reason=reason,
        )
    )


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
