"""The composition root of the worker: settings → adapters → `WorkerContext`, built once per process.

`pdm-bot worker` builds a `WorkerContext` with `from_settings` and installs it; tests call `install(...)`
with their own collaborators. Jobs read the time with `scheduler.service.context.clock` (freeze it with
freezegun, or call the use cases with `now`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from rq import Queue

from scheduler.adapters.gitlab import GitLabAdapter
from scheduler.adapters.postgres import database_dsns, read_applied_versions
from scheduler.adapters.redis_connection import connect
from scheduler.adapters.redis_store import RedisStore
from scheduler.adapters.redis_telemetry import install_telemetry
from scheduler.errors import PdmError
from scheduler.jobnames import QUEUE_NAME
from scheduler.outbox import OutboxNotifier, OutboxTiming
from scheduler.policy.model import load_policy
from scheduler.ports import Directory, Transport
from scheduler.service.context import Timing, WorkerContext, clock
from scheduler.settings import Settings

_current: WorkerContext | None = None


def install(ctx: WorkerContext | None) -> None:
    """Use `ctx` for the jobs of this process (None: none)."""
    global _current
    _current = ctx


def installed() -> WorkerContext:
    """The context of this process (installed by `pdm-bot worker`, or by a test)."""
    if _current is None:
        raise PdmError("no worker context is installed: jobs run in `pdm-bot worker`")
    return _current


def rq_queue(ctx: WorkerContext) -> Queue:
    """The RQ queue behind a context built by `from_settings` (what `pdm-bot worker` works on)."""
    if not isinstance(ctx.queue, Queue):
        raise PdmError("this worker context has no RQ queue")
    return ctx.queue


def from_settings(
    settings: Settings, *, slack: Transport | None = None, directory: Directory | None = None
) -> WorkerContext:
    """Build every collaborator from `PDM_*` settings and the policy file (raises PolicyError). The Slack
    side (`slack`: the outbox's transport, `directory`: usergroups of approvers) is given by the caller."""
    from scheduler.adapters.grafana import GrafanaAnnotations
    from scheduler.adapters.prometheus import PrometheusClient

    policy = load_policy(Path(settings.policy_file).read_text(encoding="utf-8"))
    connection = connect(settings)
    state = RedisStore(connection)
    install_telemetry(state.telemetry())
    incidents = policy.guards.incidents
    gitlab = GitLabAdapter.from_settings(
        settings,
        incident_project=incidents.project if incidents else "",
        incident_labels=incidents.labels if incidents else (),
    )
    db_load = policy.guards.max_db_load
    project = settings.gitlab_project
    queue = Queue(QUEUE_NAME, connection=connection)
    slack_timing = outbox_timing(settings)
    return WorkerContext(
        state=state,
        gitlab=gitlab,
        notifier=OutboxNotifier(state.outbox(), queue, slack_timing, clock),
        policy=policy,
        queue=queue,
        channel=settings.slack_channel,
        file_url_template=f"{settings.gitlab_url.rstrip('/')}/{project}/-/blob/{{sha}}/{{path}}"
        if project
        else "",
        dsns=database_dsns(settings),
        applied_versions=read_applied_versions,
        directory=directory,
        timing=Timing(
            starting_soon=timedelta(seconds=settings.starting_soon_seconds),
            poll_interval=timedelta(seconds=min(30, settings.poll_interval_seconds)),
            lock_ttl=timedelta(seconds=settings.run_lock_ttl_seconds),
            deploy_marker_ttl=timedelta(seconds=settings.deploy_marker_ttl_seconds),
            evaluation_budget=timedelta(seconds=settings.evaluation_budget_seconds),
            create_settle=timedelta(seconds=settings.gitlab_create_settle_seconds),
        ),
        annotations=GrafanaAnnotations(settings.grafana_url, settings.grafana_token.get_secret_value())
        if settings.grafana_url
        else None,
        metrics=PrometheusClient(
            db_load.prometheus_url,
            timeout=settings.prometheus_timeout_seconds,
            bearer_token=settings.prometheus_token.get_secret_value() or None,
        )
        if db_load
        else None,
        slack=slack,
        outbox_timing=slack_timing,
    )


def outbox_timing(settings: Settings) -> OutboxTiming:
    """The deadline and retry back-off of the Slack outbox from `PDM_SLACK_*` settings."""
    return OutboxTiming(
        deadline=timedelta(seconds=settings.slack_outbox_deadline_seconds),
        backoff=timedelta(seconds=settings.slack_retry_base_seconds),
        backoff_cap=timedelta(seconds=settings.slack_retry_max_seconds),
    )
