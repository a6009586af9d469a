"""Faults: Redis crash + restart (AOF), worker SIGKILL in execute and in poll, GitLab 502s and timeouts,
and a web process restart while GitLab redelivers webhooks (Slack faults: test_slack_outbox.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from freezegun import freeze_time
from redis import Redis
from rq import Queue

from scheduler import bootstrap, jobs
from scheduler.adapters.gitlab import GitLabAdapter
from scheduler.adapters.redis_store import RedisStore
from scheduler.jobnames import QUEUE_NAME
from scheduler.notes import RunEvent
from scheduler.records import Note, RunStatus
from scheduler.service.context import Timing, WorkerContext
from tests.fakes import FakeNotifier
from tests.reliability.conftest import RedisProcess
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack
from tests.support.processes import kill_tree, wait_for
from tests.support.web import serve_app
from tests.support.worker import (
    DEPLOYED,
    INDEX,
    NO_OP,
    SATURDAY,
    TOKEN,
    gitlab_adapter,
    make_context,
    notes,
    policy,
    publish,
    run_due,
    scheduled,
    work,
)

V1, V2 = "20260105101500", "20260105102200"
COMMIT_URL = f"https://gitlab.example.com/app/-/commit/{DEPLOYED}"


def deploy(ctx: WorkerContext, at: datetime = SATURDAY) -> None:
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], at.isoformat(), COMMIT_URL)
    work(ctx)


# Redis ---------------------------------------------------------------------------------------------


@freeze_time(SATURDAY, tick=True)
def test_a_redis_crash_and_restart_with_aof_keeps_pending_runs_approvals_and_pauses(
    own_redis: RedisProcess, gitlab: FakeGitLabApi
) -> None:
    ctx = make_context(own_redis.url, gitlab.url)
    bootstrap.install(ctx)
    try:
        publish(gitlab, {V1: INDEX, V2: INDEX})
        deploy(ctx)
        (run,) = ctx.state.runs("gstg")
        ctx.state.add_approval(run.id, Note("U1", SATURDAY, "approved"))
        ctx.state.set_pause("gprd", Note("U2", SATURDAY, "drill"))
        before = (ctx.state.pending("gstg"), ctx.state.get_run(run.id), ctx.state.approvals(run.id))

        own_redis.kill()
        with pytest.raises(redis.ConnectionError):
            ctx.state.pending("gstg")
        own_redis.start()

        after = (ctx.state.pending("gstg"), ctx.state.get_run(run.id), ctx.state.approvals(run.id))
        assert after == before
        assert [m.version for m in after[0]] == [V1, V2]
        assert ctx.state.effective_pause("gprd") is not None
        assert run.id in {r.id for r in ctx.state.active_runs()}
        jobs.approve(run.id, "U2")  # the flow goes on where it stopped: one pipeline
        assert ctx.state.get_run(run.id).status is RunStatus.RUNNING
        assert len(gitlab.calls("create_pipeline")) == 1
    finally:
        bootstrap.install(None)


# Worker killed -------------------------------------------------------------------------------------


@pytest.mark.parametrize("during", ["execute", "poll"])
def test_a_worker_killed_during_execute_or_poll_completes_the_run_with_one_pipeline_after_restart(
    during: str,
    ctx: WorkerContext,
    gitlab: FakeGitLabApi,
    processes: Callable[..., subprocess.Popen[bytes]],
) -> None:
    publish(gitlab, {V1: NO_OP})
    gitlab.pipeline_time = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED, datetime.now(UTC).isoformat(), "")
    if during == "execute":
        gitlab.slow_next(0.5, times=8)  # the worker dies while GitLab is creating the pipeline
    worker = processes("worker")
    if during == "execute":
        wait_for(lambda: len(gitlab.calls("create_pipeline")) == 1, what="pipeline POST sent")
    else:
        wait_for(lambda: len(gitlab.calls("pipeline")) >= 1, what="first poll")
    kill_tree(worker)
    (run,) = ctx.state.runs("gstg")
    assert not ctx.state.get_run(run.id).status.is_terminal
    wait_for(lambda: len(gitlab.pipelines) == 1, what="GitLab finished creating the pipeline")
    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = "success"

    processes("worker")  # the restarted worker, and cron's reconcile once the lock / poll heartbeat lapsed
    heartbeat = f"pdm:once:poll-alive:{run.id}"
    wait_for(lambda: ctx.state.lock_holder("gstg") is None, timeout=5, what="lock expiry")
    wait_for(lambda: not ctx.state.r.exists(heartbeat), timeout=5, what="poll heartbeat expiry")
    ctx.queue.enqueue("scheduler.jobs.reconcile")
    wait_for(lambda: ctx.state.get_run(run.id).status is RunStatus.SUCCESS, timeout=20, what="run success")
    assert len(gitlab.pipelines) == 1 and len(gitlab.calls("create_pipeline")) == 1
    assert ctx.state.get_run(run.id).pipeline_id == pipeline_id
    assert ctx.state.pending("gstg") == []


# GitLab --------------------------------------------------------------------------------------------


@freeze_time(SATURDAY, tick=True)
def test_gitlab_502s_are_retried_with_growing_backoff_then_fail_the_run_in_its_thread(
    redis_url: str, gitlab: FakeGitLabApi
) -> None:
    ctx = make_context(redis_url, gitlab.url, max_attempts=4, backoff=timedelta(seconds=2))
    bootstrap.install(ctx)
    try:
        publish(gitlab, {V1: INDEX})
        deploy(ctx)
        (run,) = ctx.state.runs("gstg")
        gitlab.fail_next(502, times=1000)
        jobs.approve(run.id, "U1")
        delays: list[float] = []
        for _ in range(10):
            pending = [(j, t) for j, t in scheduled(ctx) if j.func_name.endswith(".execute")]
            if not pending:
                break
            ((_job, at),) = pending
            delays.append((at - datetime.now(UTC)).total_seconds())
            run_due(ctx, "execute")
            work(ctx)
        failed = ctx.state.get_run(run.id)
        assert failed.status is RunStatus.FAILED
        assert "502" in (failed.failure_reason or "") and "gave up after 4 attempts" in (
            failed.failure_reason or ""
        )
        assert len(delays) == 3 and delays[0] < delays[1] < delays[2]
        retries = list(reversed([e for e in ctx.state.audit_log(limit=100) if e.action == "retry"]))
        assert [e.details["attempt"] for e in retries] == [1, 2, 3]
        assert [e.details["delay_seconds"] for e in retries] == [2, 4, 8]
        (note,) = notes(ctx).run_notes(RunEvent.FAILED)
        assert note.thread_sha == DEPLOYED and "502" in (note.reason or "")
        assert gitlab.pipelines == {} and ctx.state.lock_holder("gstg") is None
    finally:
        bootstrap.install(None)


@freeze_time(SATURDAY, tick=True)
def test_a_pipeline_post_that_times_out_after_gitlab_created_it_is_adopted_not_duplicated(
    redis_url: str, gitlab: FakeGitLabApi
) -> None:
    ctx = make_context(redis_url, gitlab.url)
    # Production retries (python-gitlab retries reads only); a short PDM_GITLAB_TIMEOUT_SECONDS.
    ctx.gitlab = gitlab_adapter(gitlab.url, gitlab_timeout_seconds=0.4)
    bootstrap.install(ctx)
    try:
        publish(gitlab, {V1: INDEX})
        deploy(ctx)
        (run,) = ctx.state.runs("gstg")
        gitlab.pipeline_time = "2026-01-10T03:00:01Z"
        gitlab.slow_next(0.8)  # GitLab answers too late, but it does create the pipeline (after 0.8 s)
        jobs.approve(run.id, "U1")
        assert ctx.state.get_run(run.id).status is RunStatus.TRIGGERED
        assert len(gitlab.calls("create_pipeline")) == 1  # not re-sent by python-gitlab
        wait_for(lambda: len(gitlab.pipelines) == 1, timeout=5, what="GitLab creating the pipeline late")
        run_due(ctx, "execute")
        work(ctx)
        adopted = ctx.state.get_run(run.id)
        assert adopted.status is RunStatus.RUNNING and adopted.pipeline_id in gitlab.pipelines
        assert len(gitlab.calls("create_pipeline")) == 1
        audit = ctx.state.audit_log(limit=50)
        assert any(e.action == "create_outcome_unknown" and "no answer" in e.reason for e in audit)
        assert any(e.action == "pipeline_adopted" for e in audit)
    finally:
        bootstrap.install(None)


@freeze_time(SATURDAY, tick=True)
def test_a_gitlab_outage_during_polling_keeps_polling_and_the_run_ends_when_gitlab_is_back(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: NO_OP})
    deploy(ctx)
    (run,) = ctx.state.runs("gstg")
    gitlab.fail_next(503, times=12)  # three polls, each retried three times by python-gitlab
    for _ in range(3):
        run_due(ctx, "poll")
        work(ctx)
        assert ctx.state.get_run(run.id).status is RunStatus.RUNNING
    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = "success"
    run_due(ctx, "poll")
    work(ctx)
    assert ctx.state.get_run(run.id).status is RunStatus.SUCCESS
    assert len([e for e in ctx.state.audit_log(limit=100) if e.action == "poll_retry"]) == 3


# Web process restarted -----------------------------------------------------------------------------


def hook(deployment_id: int, status: str = "success") -> dict[str, object]:
    return {
        "object_kind": "deployment",
        "status": status,
        "deployment_id": deployment_id,
        "environment": "gstg",
        "short_sha": DEPLOYED[:8],
        "commit_url": COMMIT_URL,
        "status_changed_at": "2026-01-10 03:00:00 UTC",
    }


@pytest.fixture
def slack_url(slack: FakeSlack) -> Iterator[str]:
    yield slack.api_url


def test_a_delivery_lost_while_the_web_process_was_down_is_processed_once_when_gitlab_redelivers(
    redis_url: str, slack_url: str
) -> None:
    queue = Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))
    with serve_app(redis_url, slack_url) as first:
        assert first.webhook(hook(1)).json()["result"] == "queued"
        url = first.url
    from tests.support.web import http

    down = None
    try:
        down = http(url + "/webhooks/gitlab", b"{}", {"X-Gitlab-Token": "x"})
    except OSError:
        down = None  # connection refused: GitLab records a failed delivery and retries it
    assert down is None
    with serve_app(redis_url, slack_url) as restarted:  # a new process: state lives in Redis only
        assert restarted.webhook(hook(2)).json()["result"] == "queued"  # the redelivery
        assert restarted.webhook(hook(2)).json()["result"] == "duplicate"
        assert restarted.webhook(hook(1)).json()["result"] == "duplicate"
    ids = sorted(job.args[1] for job in queue.get_jobs())
    assert ids == [1, 2]


def test_a_delivery_answered_500_because_redis_was_down_is_processed_when_redelivered(
    own_redis: RedisProcess, slack_url: str
) -> None:
    with serve_app(own_redis.url, slack_url) as app:
        own_redis.kill()
        failed = app.webhook(hook(7))
        assert failed.status >= 500  # no 2xx: GitLab will deliver it again
        own_redis.start()
        assert app.webhook(hook(7)).json()["result"] == "queued"
        assert app.webhook(hook(7)).json()["result"] == "duplicate"
        assert [j.args[1] for j in app.queue.get_jobs()] == [7]


def test_state_built_by_a_new_context_after_restart_is_the_same_state(
    redis_url: str, gitlab: FakeGitLabApi
) -> None:
    first = RedisStore(Redis.from_url(redis_url))
    first.set_pause("gstg", Note("U1", SATURDAY, "x"))
    again = WorkerContext(
        state=RedisStore(Redis.from_url(redis_url)),
        gitlab=GitLabAdapter(gitlab.url, TOKEN, "app", "deployer", "master"),
        notifier=FakeNotifier(),
        policy=policy(),
        queue=Queue(QUEUE_NAME, connection=Redis.from_url(redis_url)),
        timing=Timing(),
    )
    assert again.state.effective_pause("gstg") == Note("U1", SATURDAY, "x")
