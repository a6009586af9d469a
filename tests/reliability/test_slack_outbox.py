"""Slack faults with real processes: `pdm-bot serve` and `pdm-bot worker` on real Redis, the fake GitLab, and
the fake Slack answering 429 (with Retry-After) or 5xx. Every message the bot owes — the diff, the
proposal, the approval edit, the STARTED and SUCCEEDED notes — is delivered after the fault ends, once,
in order, and the run reaches success without waiting for Slack.

Production defaults of the outbox, except where a test names a `PDM_SLACK_*` setting (docs/reliability.md).
"""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime

from rq.registry import FailedJobRegistry

from bot.blocks import ACTION_APPROVE
from scheduler.adapters.redis_outbox import Outbox
from scheduler.records import RunStatus
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import Call, FakeSlack
from tests.support.e2e import APPROVER, Stack, deployment_hook, wait_for
from tests.support.processes import kill_tree
from tests.support.web import Served, http
from tests.support.worker import DEPLOYED, INDEX, publish

V1 = "20260105101500"
CHAT = {"chat.postMessage", "chat.update"}


def approve_value(call: Call) -> str | None:
    for block in call.args.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == ACTION_APPROVE:
                return str(element["value"])
    return None


def label(call: Call) -> str:
    """What a delivered post is: the diff (thread root), the proposal, or a run note's event."""
    text = str(call.args["text"])
    if "thread_ts" not in call.args:
        return "diff"
    if approve_value(call):
        return "proposal"
    return text.removeprefix("PDM run on gstg: ")


def gauges(app: Served) -> dict[str, float]:
    """The outbox gauges of `pdm-bot serve`'s /metrics."""
    body = http(app.url + "/metrics", None, {}, method="GET").body.decode()
    values = {}
    for line in body.splitlines():
        name, _, value = line.partition(" ")
        if name in ("pdm_slack_outbox_pending", "pdm_slack_outbox_oldest_seconds"):
            values[name] = float(value)
    return values


def run_to_success(app: Served, gitlab: FakeGitLabApi, run_id: str) -> None:
    """Wait for the run's pipeline, let it succeed, wait for the run to record it."""
    wait_for(lambda: app.state.get_run(run_id).status is RunStatus.RUNNING, "the run to start")
    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = "success"
    wait_for(lambda: app.state.get_run(run_id).status is RunStatus.SUCCESS, "the poll to see success")


def assert_everything_delivered_once_in_order(app: Served, slack: FakeSlack, run_id: str) -> None:
    posts = wait_for(
        lambda: (p := slack.delivered()) and label(p[-1]) == "succeeded" and p, "the SUCCEEDED note", 40
    )
    time.sleep(1.5)  # nothing else (no duplicate) follows
    posts = slack.delivered()
    assert [label(p) for p in posts] == ["diff", "proposal", "started", "succeeded"]
    root = app.state.thread("gstg", DEPLOYED)
    assert root is not None and all(p.args["thread_ts"] == root.ts for p in posts[1:])
    (edit,) = slack.delivered("chat.update")
    assert edit.args["ts"] == app.state.proposal_message(run_id).ts  # type: ignore[union-attr]
    assert "approved" in str(edit.args["text"]) and posts[1].at < edit.at < posts[2].at
    assert Outbox(app.state.r).owed(datetime.now(UTC))[0] == 0
    assert len(FailedJobRegistry(queue=app.queue)) == 0  # no job failed because of Slack


def test_five_429s_on_the_diff_and_five_after_approve_lose_nothing_and_block_no_poll(
    stack: Stack, gitlab: FakeGitLabApi, slack: FakeSlack
) -> None:
    publish(gitlab, {V1: INDEX})
    app = stack.start()
    slack.rate_limit(5, retry_after=1, methods=CHAT)
    assert app.webhook(deployment_hook(gitlab, DEPLOYED)).json()["result"] == "queued"
    wait_for(lambda: gauges(app).get("pdm_slack_outbox_pending") == 2, "diff and proposal owed on /metrics")
    proposal = wait_for(
        lambda: next((c for c in slack.delivered() if approve_value(c)), None), "the proposal", timeout=40
    )
    attempts = slack.named("chat.postMessage")
    assert [c.status for c in attempts[:6]] == [429] * 5 + [200]  # the diff: five 429s, then delivered
    gaps = [b.at - a.at for a, b in itertools.pairwise(attempts[:6])]
    assert min(gaps) >= 0.9  # each retry waited Slack's Retry-After (1 s)
    run_id = approve_value(proposal)
    assert run_id is not None

    slack.rate_limit(5, retry_after=1, methods=CHAT)
    assert app.click(ACTION_APPROVE, run_id, APPROVER, slack.response_url("approver")).status == 200
    run_to_success(app, gitlab, run_id)
    assert_everything_delivered_once_in_order(app, slack, run_id)
    late = [e for e in app.state.audit_log(limit=200) if e.action == "slack_delivered_late"]
    tries = sorted((e.details["note"], e.details["attempts"]) for e in late)
    assert tries == [("DiffNote", 5), ("RunNote", 5)]  # the diff and the approval edit
    assert gauges(app) == {"pdm_slack_outbox_pending": 0, "pdm_slack_outbox_oldest_seconds": 0}


def test_slack_5xx_until_the_run_has_ended_holds_up_neither_the_poll_nor_any_message(
    stack: Stack, gitlab: FakeGitLabApi, slack: FakeSlack
) -> None:
    publish(gitlab, {V1: INDEX})
    app = stack.start(slack_retry_base_seconds="0.2", slack_retry_max_seconds="2")
    assert app.webhook(deployment_hook(gitlab, DEPLOYED)).json()["result"] == "queued"
    proposal = wait_for(lambda: next((c for c in slack.delivered() if approve_value(c)), None), "proposal")
    run_id = approve_value(proposal)
    assert run_id is not None

    slack.fail_next(100_000, 503, methods=CHAT)  # Slack is down from the approval on
    assert app.click(ACTION_APPROVE, run_id, APPROVER, slack.response_url("approver")).status == 200
    run_to_success(app, gitlab, run_id)  # while every Slack call fails
    # the run's last note is stored just after its status: wait for the three owed messages
    owed = wait_for(lambda: (g := gauges(app))["pdm_slack_outbox_pending"] >= 3 and g, "three owed messages")
    assert owed["pdm_slack_outbox_pending"] == 3 and owed["pdm_slack_outbox_oldest_seconds"] > 0
    assert len(slack.delivered()) == 2 and slack.named("chat.update")  # tried, refused, still owed

    slack.heal()
    assert_everything_delivered_once_in_order(app, slack, run_id)


def test_messages_owed_when_the_worker_is_killed_are_delivered_once_by_the_next_worker(
    ctx: WorkerContext,
    gitlab: FakeGitLabApi,
    slack: FakeSlack,
    processes: Callable[..., subprocess.Popen[bytes]],
) -> None:
    publish(gitlab, {V1: INDEX})
    outbox = Outbox(ctx.state.r)
    slack.fail_next(100_000, 503, methods=CHAT)
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED, datetime.now(UTC).isoformat(), "")
    worker = processes("worker")
    lease = f"pdm:outbox:lease:thread:gstg:{DEPLOYED}"
    wait_for(
        lambda: (
            outbox.owed(datetime.now(UTC))[0] == 2
            and len(slack.named("chat.postMessage")) >= 2
            and not ctx.state.r.exists(lease)
        ),
        timeout=20,
        what="the diff tried and failing (between two tries), the proposal owed behind it",
    )
    kill_tree(worker)
    assert ctx.state.runs("gstg")[0].status is RunStatus.REQUESTED  # the jobs themselves went on
    # Start the next worker once the lane's retry time has come: a retry scheduled for later waits for
    # RQ's scheduler, which the killed worker keeps locked for about a minute (docs/reliability.md).
    ((_lane, due),) = outbox.lanes()
    wait_for(lambda: time.time() >= due, timeout=10, what="the lane's retry time")

    slack.heal()
    processes("worker")  # a new worker sends what is owed at start, without cron
    wait_for(lambda: len(slack.delivered()) == 2, timeout=15, what="diff and proposal delivered")
    time.sleep(1.5)
    posts = slack.delivered()
    assert [label(p) for p in posts] == ["diff", "proposal"]
    assert posts[1].args["thread_ts"] == ctx.state.thread("gstg", DEPLOYED).ts  # type: ignore[union-attr]
    assert outbox.owed(datetime.now(UTC)) == (0, 0.0)
