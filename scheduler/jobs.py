"""RQ entry points (docs/jobs.md): each reads the installed context and the clock once, and hands over to
a use case in `scheduler/service/`. Their dotted names are `scheduler.jobnames.JobName`: jobs already
queued in Redis name these functions, so they keep their names and arguments."""

from __future__ import annotations

from scheduler.bootstrap import installed
from scheduler.logcontext import bound_job
from scheduler.notes import RunEvent
from scheduler.service import approvals, delivery, deploys, evaluation, execution, operator
from scheduler.service import reconcile as repair
from scheduler.service.context import clock


@bound_job
def on_deploy(
    environment: str, deployment_id: int, sha: str, status_changed_at: str, commit_url: str
) -> None:
    """A package was deployed: record it, refresh pending, post the diff (thread root), evaluate."""
    deploys.on_deploy(installed(), clock(), environment, deployment_id, sha, status_changed_at, commit_url)


@bound_job
def deploy_started(environment: str, deployment_id: int, sha: str, at: str, commit_url: str = "") -> None:
    """Mark a deploy of `environment` in progress."""
    deploys.deploy_started(installed(), clock(), environment, deployment_id, sha, at, commit_url)


@bound_job
def deploy_ended(environment: str, deployment_id: int, status: str, at: str) -> None:
    """A deploy ended without success: clear the in-progress mark and evaluate."""
    deploys.deploy_ended(installed(), clock(), environment, deployment_id, status, at)


@bound_job
def evaluate(environment: str) -> None:
    """Decide and act on `environment` now."""
    evaluation.evaluate_job(installed(), clock(), environment)


@bound_job
def request_run(
    environment: str,
    up_to_version: str | None,
    requested_by: str,
    response_url: str | None,
    override_reason: str | None = None,
) -> None:
    """`/pdm run [--now REASON]`: propose the pending prefix up to `up_to_version`; answer the user."""
    ctx = installed()
    reply = approvals.request_run(ctx, clock(), environment, up_to_version, requested_by, override_reason)
    if response_url:
        ctx.notifier.respond(response_url, reply)


@bound_job
def approve(run_id: str, user_id: str) -> None:
    """Approve a proposed run; stale proposals are refused and proposed afresh."""
    approvals.approve(installed(), clock(), run_id, user_id)


@bound_job
def reject(run_id: str, user_id: str) -> None:
    """Reject a proposal (not proposed again for the same batch and window)."""
    approvals.decline(installed(), clock(), run_id, user_id, RunEvent.REJECTED)


@bound_job
def snooze(run_id: str, user_id: str) -> None:
    """Drop a proposal until its window has passed; the batch is proposed again after it."""
    approvals.decline(installed(), clock(), run_id, user_id, RunEvent.SNOOZED)


@bound_job
def execute(run_id: str, attempt: int = 0) -> None:
    """Run an approved run now if it still may (re-checked), creating exactly one pipeline."""
    execution.execute_approved(installed(), clock(), run_id, attempt)


@bound_job
def poll(run_id: str, attempt: int = 0) -> None:
    """Follow a run's pipeline to its end (re-enqueued every poll interval, at most 30 s)."""
    execution.poll(installed(), clock(), run_id, attempt)


@bound_job
def reconcile() -> None:
    """Periodic repair: lost polls, interrupted executions, unknown pipelines, stale locks, expiries."""
    repair.reconcile(installed(), clock())


@bound_job
def deliver_notes() -> None:
    """Deliver the Slack messages that are due; wake again when more are due."""
    delivery.deliver_notes(installed())


@bound_job
def pause(environment: str | None, actor: str, reason: str) -> None:
    """Pause one environment (None: all)."""
    operator.pause(installed(), clock(), environment, actor, reason)


@bound_job
def resume(environment: str | None, actor: str) -> None:
    """Lift a pause and evaluate at once."""
    operator.resume(installed(), clock(), environment, actor)


@bound_job
def hold(version: str, actor: str, reason: str) -> None:
    """Keep `version` (and every later one) out of runs."""
    operator.hold(installed(), clock(), version, actor, reason)


@bound_job
def unhold(version: str, actor: str) -> None:
    """Release a hold and evaluate every environment."""
    operator.unhold(installed(), clock(), version, actor)


@bound_job
def set_baseline(environment: str, sha: str, actor: str) -> None:
    """Set the baseline SHA of pending detection, refresh pending from it and evaluate."""
    operator.set_baseline(installed(), clock(), environment, sha, actor)
