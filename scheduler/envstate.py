"""The planner's input for one environment, gathered from Redis (and, when configured, GitLab incidents
and the DB load from Prometheus)."""

from __future__ import annotations

from collections.abc import Sequence

from scheduler.errors import MetricsSourceError
from scheduler.lifecycle import BOT_ACTOR
from scheduler.policy.decision import Approval, DeployedPackage, EnvState, ManualRequest, PendingMigration
from scheduler.policy.model import Policy
from scheduler.ports import GitLab, MetricsSource, PlannerReads
from scheduler.records import IN_FLIGHT_RUN_STATUSES, DeploymentStatus, Lock, Run, RunStatus


def planned_pending(state: PlannerReads, env: str) -> tuple[PendingMigration, ...]:
    """The stored pending migrations of `env` as the planner sees them."""
    return tuple(
        PendingMigration(p.version, p.classification, p.package_sha, p.deployed_at)
        for p in state.pending(env)
    )


def approved_run(active: Sequence[Run], env: str) -> Run | None:
    """The approved, not yet triggered run of `env` (the newest when there are several)."""
    approved = [r for r in active if r.environment == env and r.status is RunStatus.APPROVED]
    return approved[-1] if approved else None


def lock_holder(lock: Lock | None, active: Sequence[Run], env: str) -> str | None:
    """Who holds `env`: the lock's owner, else a run of `env` still in flight whose lock lapsed (its worker
    was down longer than the lock TTL) — that run still holds its environment and its migrations."""
    if lock is not None:
        return lock.owner
    flying = [r for r in active if r.environment == env and r.status in IN_FLIGHT_RUN_STATUSES]
    return f"run {flying[0].id} ({flying[0].status}; its lock lapsed)" if flying else None


def read_db_load(policy: Policy, metrics: MetricsSource | None) -> tuple[float | None, str]:
    """The `max_db_load` reading now, or None and why there is none (unconfigured: None, "")."""
    guard = policy.guards.max_db_load
    if guard is None:
        return None, ""
    if metrics is None:
        return None, "only the worker reads Prometheus (right before each decision)"
    try:
        return metrics.instant_value(guard.query), ""
    except MetricsSourceError as exc:
        return None, str(exc)


def load_env_state(
    state: PlannerReads,
    policy: Policy,
    env: str,
    *,
    active_runs: Sequence[Run],
    gitlab: GitLab | None = None,
    metrics: MetricsSource | None = None,
) -> EnvState:
    """Everything `decide` needs about `env`. Without `gitlab` incidents stay unknown; without
    `metrics` (the web process) the DB load stays unknown. Pass `State.snapshot(...)` holding `env` and
    its upstream chain to read Redis in two round trips."""
    spec = policy.environment(env)
    deploying = state.deployment_in_progress(env)
    holder = lock_holder(state.lock_holder(env), active_runs, env)
    pause = state.effective_pause(env)
    run = approved_run(active_runs, env)
    incidents = gitlab.open_incidents() if gitlab is not None and policy.guards.incidents else None
    load, load_unknown = read_db_load(policy, metrics)
    return EnvState(
        environment=env,
        pending=planned_pending(state, env),
        packages=tuple(
            DeployedPackage(d.sha, d.deployed_at)
            for d in reversed(state.deployments(env, limit=50))
            if d.status is DeploymentStatus.SUCCESS
        ),
        deploy_starts=tuple(state.deploy_starts(env)),
        run_timings=tuple(state.run_timings(env)),
        deploy_running=deploying is not None,
        deploy_started_at=deploying.deployed_at if deploying else None,
        lock_holder=holder,
        paused=pause is not None,
        pause_reason=pause.reason if pause else "",
        holds={version: note.reason for version, note in state.holds().items()},
        upstream_successes=state.successes(spec.requires) if spec.requires else {},
        db_load=load,
        db_load_unknown=load_unknown,
        open_incidents=len(incidents) if incidents is not None else None,
        approval=Approval(run.up_to_version, tuple(run.approved_by), expires_at=run.expires_at)
        if run
        else None,
        manual_request=ManualRequest(run.requested_by, run.up_to_version, run.override_reason)
        if run and run.requested_by != BOT_ACTOR
        else None,
        upstream=load_env_state(state, policy, spec.requires, active_runs=active_runs)
        if spec.requires
        else None,
    )
