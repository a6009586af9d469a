"""The release flow end to end, across processes: a signed GitLab deployment webhook to `pdm-bot serve`,
the `pdm-bot worker` posting the diff and the proposal in one Slack thread, a refused click, a double
click by an approver, exactly one pipeline with the contract variables, its result in the same thread,
and `/pdm status` showing nothing pending."""

from __future__ import annotations

import time

from bot.blocks import ACTION_APPROVE
from scheduler.records import RunStatus
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import Call, FakeSlack
from tests.support.blocks_text import render
from tests.support.e2e import APPROVER, STRANGER, StartStack, deployment_hook, wait_for
from tests.support.worker import DEPLOYED, INDEX, publish

V1, V2 = "20260105101500", "20260105102200"


def posts(slack: FakeSlack) -> list[Call]:
    return slack.named("chat.postMessage")


def approve_value(call: Call) -> str | None:
    """The run id carried by the Approve button of a posted message, if it has one."""
    for block in call.args.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == ACTION_APPROVE:
                return str(element["value"])
    return None


def test_a_deployment_goes_from_webhook_to_one_approved_pipeline_and_an_empty_status(
    start_stack: StartStack, gitlab: FakeGitLabApi, slack: FakeSlack
) -> None:
    started = time.monotonic()
    publish(gitlab, {V1: INDEX, V2: INDEX})
    app = start_stack()

    reply = app.webhook(deployment_hook(gitlab, DEPLOYED))
    assert reply.status == 200 and reply.json()["result"] == "queued"
    assert app.webhook(deployment_hook(gitlab, DEPLOYED)).json()["result"] == "duplicate"

    proposal = wait_for(
        lambda: next((c for c in posts(slack) if approve_value(c)), None), "the proposal in the thread"
    )
    root = posts(slack)[0]
    assert "thread_ts" not in root.args and V1 in render(root.args["blocks"])
    root_ts = app.state.thread("gstg", DEPLOYED).ts  # type: ignore[union-attr]
    assert proposal.args["thread_ts"] == root_ts
    run_id = approve_value(proposal)
    assert run_id is not None
    assert f"`{V2}`" in render(proposal.args["blocks"])  # the longest runnable prefix: both migrations

    refused = app.click(ACTION_APPROVE, run_id, STRANGER, slack.response_url("stranger"))
    assert refused.status == 200
    answer = wait_for(lambda: slack.named("response_url"), "the ephemeral refusal")[-1].args
    assert answer["response_type"] == "ephemeral" and "Only approvers" in answer["text"]
    audit = [e for e in app.state.audit_log(limit=50) if e.action == "refused"]
    assert [(e.actor, e.details["request"]) for e in audit] == [(STRANGER, f"approve {run_id}")]
    assert app.state.get_run(run_id).status is RunStatus.REQUESTED

    for _ in range(2):
        assert app.click(ACTION_APPROVE, run_id, APPROVER, slack.response_url("approver")).status == 200
    texts = [c.args["text"] for c in slack.named("response_url")[1:]]
    assert len(texts) == 2 and "queued" in texts[0] and "already handled" in texts[1]

    wait_for(lambda: app.state.get_run(run_id).status is RunStatus.RUNNING, "the run to start")
    (created,) = gitlab.calls("create_pipeline")
    variables = {v["key"]: v["value"] for v in created.body["variables"]}
    assert created.body["ref"] == "master"
    assert variables["PDM_ENVIRONMENT"] == "gstg"
    assert variables["PDM_TARGET_SHA"] == DEPLOYED and len(DEPLOYED) == 40
    assert variables["PDM_MIGRATION_VERSION"] == V2
    assert variables["POSTDEPLOY_PIPELINE"] == "true"

    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = "success"
    wait_for(lambda: app.state.get_run(run_id).status is RunStatus.SUCCESS, "the run to succeed")
    finished = wait_for(
        lambda: [c for c in posts(slack) if c.args["text"] == "PDM run on gstg: succeeded"],
        "the result in the thread",
    )
    assert finished[0].args["thread_ts"] == root_ts
    assert all(c.args.get("thread_ts") == root_ts for c in posts(slack)[1:]), "one thread per package"
    updates = slack.named("chat.update")
    assert [u.args["ts"] for u in updates] == [app.state.proposal_message(run_id).ts]  # type: ignore[union-attr]
    assert "approved" in render(updates[0].args["blocks"]) and f"<@{APPROVER}>" in render(
        updates[0].args["blocks"]
    )
    assert "actions" not in [b["type"] for b in updates[0].args["blocks"]]

    status = app.slash("status gstg", user=STRANGER)
    assert status.status == 200
    body = status.json()
    assert body["response_type"] == "ephemeral"
    assert "*gstg*: *0* pending post-deploy migrations" in render(body["blocks"])

    time.sleep(1.5)  # the evaluation after success and any late poll have run: still one pipeline
    assert len(gitlab.calls("create_pipeline")) == 1
    print(f"\nrelease flow end to end: {time.monotonic() - started:.1f}s")
