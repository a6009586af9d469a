"""Races: double and concurrent approvals (threads and processes), an approval racing an automatic run,
a deploy starting while a run is triggered, two `pdm-bot cron` processes; and stale approvals."""

from __future__ import annotations

import dataclasses
import multiprocessing
import subprocess
import threading
from collections.abc import Callable
from datetime import timedelta

from freezegun import freeze_time

from scheduler import jobs
from scheduler.records import Note, RunStatus
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack
from tests.support.worker import DEPLOYED, INDEX, NO_OP, SATURDAY, notes, publish, run_due, work

V1, V2, V3 = "20260105101500", "20260105102200", "20260105102900"
COMMIT_URL = f"https://gitlab.example.com/app/-/commit/{DEPLOYED}"


def deploy(ctx: WorkerContext) -> None:
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], SATURDAY.isoformat(), COMMIT_URL)
    work(ctx)


def together(*calls: Callable[[], None]) -> None:
    """Start every call at the same moment on its own thread and wait for all."""
    barrier = threading.Barrier(len(calls))

    def go(call: Callable[[], None]) -> None:
        barrier.wait()
        call()

    threads = [threading.Thread(target=go, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@freeze_time(SATURDAY, tick=True)
def test_eight_concurrent_approvals_by_two_approvers_create_one_pipeline(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    (run,) = ctx.state.runs("gstg")
    gitlab.slow_next(0.2, times=4)
    together(*[lambda u=u: jobs.approve(run.id, u) for u in ["U1", "U2"] * 4])
    done = ctx.state.get_run(run.id)
    assert done.status is RunStatus.RUNNING
    assert len(gitlab.calls("create_pipeline")) == 1 and len(gitlab.pipelines) == 1
    approvals = [e for e in ctx.state.audit_log(limit=200) if e.action == "approved"]
    assert len(approvals) == 1


def _approve_in_child(run_id: str, user: str) -> None:
    jobs.approve(run_id, user)


@freeze_time(SATURDAY, tick=True)
def test_approvals_from_four_worker_processes_at_once_create_one_pipeline(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    (run,) = ctx.state.runs("gstg")
    gitlab.slow_next(0.2, times=4)
    fork = multiprocessing.get_context("fork")
    children = [fork.Process(target=_approve_in_child, args=(run.id, u)) for u in ("U1", "U2", "U1", "U2")]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0
    assert len(gitlab.calls("create_pipeline")) == 1
    assert ctx.state.get_run(run.id).status is RunStatus.RUNNING


@freeze_time(SATURDAY, tick=True)
def test_an_approval_racing_automatic_evaluations_leaves_one_pipeline_and_no_second_run_later(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    ctx.state.set_pause("gstg", Note("U1", SATURDAY, "hold on"))
    publish(gitlab, {V1: NO_OP})
    deploy(ctx)
    jobs.request_run("gstg", None, "U2", None)  # a /pdm run proposal for an auto batch
    (requested,) = ctx.state.runs("gstg")
    ctx.state.clear_pause("gstg")
    gitlab.slow_next(0.2, times=6)
    together(
        lambda: jobs.approve(requested.id, "U1"),
        lambda: jobs.evaluate("gstg"),
        lambda: jobs.evaluate("gstg"),
        lambda: jobs.approve(requested.id, "U1"),
    )
    work(ctx)
    assert len(gitlab.pipelines) == 1
    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = "success"
    run_due(ctx, "poll")
    work(ctx)
    publish(gitlab, {V2: NO_OP}, sha="e" * 40)  # a later package: its batch must not revive a stale run
    for _ in range(2):
        jobs.reconcile()
        jobs.evaluate("gstg")
        work(ctx)
    statuses = [str(r.status) for r in ctx.state.runs("gstg")]
    assert statuses.count("success") == 1 and "approved" not in statuses
    assert [r for r in ctx.state.active_runs() if r.environment == "gstg"] == []
    assert len(gitlab.calls("create_pipeline")) == 1


@freeze_time(SATURDAY, tick=True)
def test_a_deploy_starting_while_a_run_is_triggered_gets_one_pipeline_and_blocks_further_runs(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX, V2: INDEX})
    deploy(ctx)
    (run,) = ctx.state.runs("gstg")
    gitlab.slow_next(0.4, times=3)
    together(
        lambda: jobs.approve(run.id, "U1"),
        lambda: jobs.deploy_started("gstg", 42, "e" * 40, SATURDAY.isoformat()),
    )
    assert len(gitlab.calls("create_pipeline")) <= 1
    jobs.evaluate("gstg")
    jobs.evaluate("gstg")
    work(ctx)
    assert len(gitlab.calls("create_pipeline")) <= 1
    assert ctx.state.deployment_in_progress("gstg") is not None
    assert len(ctx.state.runs("gstg")) == 1
    actions = {e.action for e in ctx.state.audit_log(limit=100)}
    assert "deploy_started" in actions and "approved" in actions


@freeze_time(SATURDAY, tick=True)
def test_an_approved_run_does_not_start_while_a_deploy_is_running(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    (run,) = ctx.state.runs("gstg")
    jobs.deploy_started("gstg", 42, "e" * 40, SATURDAY.isoformat())
    jobs.approve(run.id, "U1")
    assert gitlab.calls("create_pipeline") == []
    assert ctx.state.get_run(run.id).status is RunStatus.APPROVED
    jobs.deploy_ended("gstg", 42, "failed", SATURDAY.isoformat())
    work(ctx)
    assert len(gitlab.calls("create_pipeline")) == 1


def test_two_cron_processes_in_the_same_slot_give_one_run_and_one_pipeline_audited(
    ctx: WorkerContext, gitlab: FakeGitLabApi, processes: Callable[..., subprocess.Popen[bytes]]
) -> None:
    publish(gitlab, {V1: NO_OP})
    ctx.state.set_pause("gstg", Note("U1", SATURDAY, "quiet"))
    with freeze_time(SATURDAY, tick=True):
        deploy(ctx)
    ctx.state.clear_pause("gstg")
    ctx.queue.empty()
    crons = [processes("cron", "--once", "--interval", "3600") for _ in range(3)]
    for proc in crons:
        assert proc.wait(timeout=30) == 0, proc.stderr.read() if proc.stderr else b""
    names = sorted(j.func_name.rsplit(".", 1)[1] for j in ctx.queue.get_jobs())
    assert names == ["evaluate", "evaluate", "reconcile"]
    work(ctx)
    assert len(ctx.state.runs("gstg")) == 1
    assert len(gitlab.calls("create_pipeline")) == 1
    audit = ctx.state.audit_log(limit=100, environment="gstg")
    assert {"auto_approved", "intent", "pipeline_created"} <= {e.action for e in audit}


# Staleness -----------------------------------------------------------------------------------------


@freeze_time(SATURDAY, tick=True)
def test_an_approval_after_a_migration_in_the_batch_was_held_is_refused_and_reproposed(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX, V2: INDEX, V3: INDEX})
    deploy(ctx)
    (stale,) = ctx.state.runs("gstg")
    assert stale.migrations == [V1, V2, V3]
    jobs.hold(V2, "U2", "suspicious")
    jobs.approve(stale.id, "U1")
    assert ctx.state.get_run(stale.id).status is RunStatus.CANCELED
    assert gitlab.calls("create_pipeline") == []
    assert any("refused" in t.text and V2 in t.text for t in notes(ctx).texts())
    assert notes(ctx).proposals()[-1].migrations == [V1]


@freeze_time(SATURDAY, tick=True)
def test_an_approval_after_a_migration_of_the_batch_left_pending_is_refused(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX, V2: INDEX})
    deploy(ctx)
    (stale,) = ctx.state.runs("gstg")
    ctx.state.remove_pending("gstg", [V1])  # e.g. executed by hand meanwhile
    jobs.approve(stale.id, "U1")
    assert ctx.state.get_run(stale.id).status is RunStatus.CANCELED
    assert any("pending migrations changed" in t.text for t in notes(ctx).texts())
    assert notes(ctx).proposals()[-1].migrations == [V2]
    assert gitlab.calls("create_pipeline") == []


@freeze_time(SATURDAY, tick=True)
def test_a_later_migration_added_after_the_proposal_does_not_make_it_stale(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    (run,) = ctx.state.runs("gstg")
    (item,) = ctx.state.pending("gstg")
    ctx.state.add_pending("gstg", [dataclasses.replace(item, version=V2, path=item.path.replace(V1, V2))])
    jobs.approve(run.id, "U1")
    assert ctx.state.get_run(run.id).status is RunStatus.RUNNING
    (created,) = gitlab.calls("create_pipeline")
    variables = {v["key"]: v["value"] for v in created.body["variables"]}
    assert variables["PDM_MIGRATION_VERSION"] == V1


def test_an_approval_after_the_window_closed_is_refused_without_a_new_proposal_until_the_next_one(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    with freeze_time(SATURDAY, tick=True):
        deploy(ctx)
    (run,) = ctx.state.runs("gstg")
    assert run.expires_at is not None
    with freeze_time(run.expires_at + timedelta(hours=1), tick=True):  # Monday night: weekend closed
        jobs.approve(run.id, "U1")
    assert ctx.state.get_run(run.id).status is RunStatus.CANCELED
    assert any("window it was proposed for closed" in t.text for t in notes(ctx).texts())
    assert len(notes(ctx).proposals()) == 1  # the next weekend's proposal comes in working hours
    assert gitlab.calls("create_pipeline") == []


def test_a_burst_of_concurrent_deliveries_with_redeliveries_enqueues_each_deployment_once(
    redis_url: str, slack: FakeSlack
) -> None:
    import random
    from concurrent.futures import ThreadPoolExecutor

    from tests.support.web import serve_app

    ids = list(range(1, 161)) + [random.Random(3).randint(1, 160) for _ in range(40)]
    random.Random(4).shuffle(ids)
    with serve_app(redis_url, slack.api_url) as app:

        def send(dep_id: int) -> str:
            hook = {
                "object_kind": "deployment",
                "status": "success",
                "deployment_id": dep_id,
                "environment": "gstg",
                "short_sha": DEPLOYED[:8],
                "commit_url": COMMIT_URL,
                "status_changed_at": "2026-01-10T03:00:00Z",
            }
            return str(app.webhook(hook).json()["result"])

        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(send, ids))
        enqueued = sorted(j.args[1] for j in app.queue.get_jobs())
    assert results.count("queued") == 160 and results.count("duplicate") == 40
    assert enqueued == list(range(1, 161))
