"""Jobs in a separate `pdm-bot worker` process: Slack output through the outbox and the real
SlackTransport, and exactly one pipeline when the worker is SIGKILLed after recording intent, before or
after the POST."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scheduler import bootstrap, jobs
from scheduler.records import RunStatus
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.processes import kill_tree, pdm_processes, wait_for
from tests.support.worker import DEPLOYED, INDEX, NO_OP, make_context, publish, run_due, work

V1 = "20260105101500"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack()


@pytest.fixture
def start_worker(
    redis_url: str, gitlab: FakeGitLabApi, slack: FakeSlack, tmp_path: Path
) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    with pdm_processes(redis_url, gitlab, slack, tmp_path) as start:
        yield lambda: start("worker")


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLabApi) -> Iterator[WorkerContext]:
    context = make_context(redis_url, gitlab.url, starting_soon=timedelta(minutes=5))
    bootstrap.install(context)
    yield context
    bootstrap.install(None)


def test_a_worker_process_posts_the_diff_and_then_the_proposal_in_its_slack_thread(
    ctx: WorkerContext,
    gitlab: FakeGitLabApi,
    slack: FakeSlack,
    start_worker: Callable[[], subprocess.Popen[bytes]],
) -> None:
    publish(gitlab, {V1: INDEX})
    now = datetime.now(UTC).isoformat()
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], now, f"x/-/commit/{DEPLOYED}")
    start_worker()
    wait_for(lambda: len(slack.named("chat.postMessage")) >= 2)
    root, proposal = slack.named("chat.postMessage")[:2]
    assert "thread_ts" not in root.args
    assert proposal.args["thread_ts"] == ctx.state.thread("gstg", DEPLOYED).ts  # type: ignore[union-attr]
    assert "Approve" in str(proposal.args["blocks"])
    assert ctx.state.runs("gstg")[0].status is RunStatus.REQUESTED


@pytest.mark.parametrize("lost", ["before", "after"], ids=["killed-before-post", "killed-after-post"])
def test_a_worker_killed_between_intent_and_pipeline_leaves_one_pipeline_after_reconcile(
    lost: str, ctx: WorkerContext, gitlab: FakeGitLabApi, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    publish(gitlab, {V1: NO_OP})
    gitlab.pipeline_time = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED, datetime.now(UTC).isoformat(), "")
    work(ctx)  # auto run approved; execute scheduled after the starting-soon notice
    (run,) = ctx.state.runs("gstg")
    if lost == "before":
        gitlab.drop_next(1.5)  # the POST never reaches GitLab's pipeline creation
    else:
        gitlab.slow_next(1.5)  # GitLab creates the pipeline, but the worker is gone before the answer
    assert run_due(ctx, "execute") == 1
    proc = start_worker()
    wait_for(lambda: len(gitlab.calls("create_pipeline")) == 1)
    kill_tree(proc)
    time.sleep(1.7)
    assert len(gitlab.pipelines) == (0 if lost == "before" else 1)
    stuck = ctx.state.get_run(run.id)
    assert stuck.status is RunStatus.TRIGGERED and stuck.pipeline_id is None
    wait_for(lambda: ctx.state.lock_holder("gstg") is None, timeout=5)
    time.sleep(0.2)
    jobs.reconcile()
    work(ctx)
    assert len(gitlab.pipelines) == 1
    (pipeline_id,) = gitlab.pipelines
    assert ctx.state.get_run(run.id).pipeline_id == pipeline_id
    jobs.reconcile()
    work(ctx)
    assert len(gitlab.calls("create_pipeline")) == (2 if lost == "before" else 1)
