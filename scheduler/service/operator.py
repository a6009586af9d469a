"""Operator commands: pause / resume, hold / unhold, baseline. Approvers only; each is audited."""

from __future__ import annotations

from datetime import datetime

from scheduler.notes import PausedNote, PendingProblemNote
from scheduler.records import Baseline, Note
from scheduler.service.audit import audit
from scheduler.service.authorisation import refused
from scheduler.service.context import WorkerContext
from scheduler.service.deploys import full_sha, refresh_pending
from scheduler.service.evaluation import evaluate


def _refused(ctx: WorkerContext, now: datetime, user: str, request: str, env: str) -> bool:
    return refused(ctx.state, ctx.policy.approvers, ctx.directory, now, user, request, env) is not None


def _environments(ctx: WorkerContext, environment: str | None) -> list[str]:
    if environment is None:
        return [e.name for e in ctx.policy.environments]
    return [ctx.policy.environment(environment).name]


def pause(ctx: WorkerContext, now: datetime, environment: str | None, actor: str, reason: str) -> None:
    """Pause one environment (None: all), and say so in its current package thread."""
    if _refused(ctx, now, actor, "pause", environment or ""):
        return
    ctx.state.set_pause(environment, Note(actor, now, reason))
    audit(ctx.state, now, "paused", environment or "", reason, actor=actor)
    last = ctx.state.last_deployment(environment) if environment else None
    ctx.notifier.post(PausedNote(environment or "", last.sha if last else None, actor, reason))


def resume(ctx: WorkerContext, now: datetime, environment: str | None, actor: str) -> None:
    """Lift a pause and evaluate at once."""
    if _refused(ctx, now, actor, "resume", environment or ""):
        return
    cleared = ctx.state.clear_pause(environment)
    audit(
        ctx.state, now, "resumed", environment or "", "resumed" if cleared else "was not paused", actor=actor
    )
    for env in _environments(ctx, environment):
        evaluate(ctx, env, now)


def hold(ctx: WorkerContext, now: datetime, version: str, actor: str, reason: str) -> None:
    """Keep `version` (and every later one) out of runs."""
    if _refused(ctx, now, actor, f"hold {version}", ""):
        return
    ctx.state.set_hold(version, Note(actor, now, reason))
    audit(ctx.state, now, "held", "", reason, actor=actor, version=version)


def unhold(ctx: WorkerContext, now: datetime, version: str, actor: str) -> None:
    """Release a hold and evaluate every environment."""
    if _refused(ctx, now, actor, f"unhold {version}", ""):
        return
    ctx.state.clear_hold(version)
    audit(ctx.state, now, "unheld", "", f"hold on {version} released", actor=actor, version=version)
    for env in _environments(ctx, None):
        evaluate(ctx, env, now)


def set_baseline(ctx: WorkerContext, now: datetime, environment: str, sha: str, actor: str) -> None:
    """Set the baseline SHA of pending detection, refresh pending from it and evaluate."""
    if _refused(ctx, now, actor, "baseline", environment):
        return
    full = full_sha(ctx.gitlab, sha, "")
    ctx.state.set_baseline(environment, Baseline(full, actor, now))
    audit(ctx.state, now, "baseline_set", environment, f"baseline {full[:12]}", actor=actor)
    last = ctx.state.last_deployment(environment)
    if last is not None and ctx.state.last_successful_run(environment) is None:
        refresh = refresh_pending(ctx, now, environment, last.sha, last.deployed_at)
        if refresh.problem:
            ctx.notifier.post(PendingProblemNote(environment, last.sha, refresh.problem))
            return
        evaluate(ctx, environment, now)
