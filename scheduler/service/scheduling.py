"""Evaluations scheduled ahead: one per environment and instant."""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduler.jobnames import JobName
from scheduler.service.audit import audit
from scheduler.service.context import WorkerContext


def schedule_evaluation(ctx: WorkerContext, env: str, at: datetime, now: datetime) -> None:
    """Enqueue one evaluation of `env` at `at` (deduplicated per environment and instant)."""
    at = at.replace(microsecond=0)
    if ctx.state.claim(f"evaluate-at:{env}:{int(at.timestamp())}", at - now + timedelta(hours=1)):
        ctx.queue.enqueue_at(at, JobName.EVALUATE.value, env)
        audit(ctx.state, now, "evaluation_scheduled", env, f"next evaluation at {at.isoformat()}")
