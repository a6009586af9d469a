"""Auto mode end to end across processes: a deployment whose migrations may run at any time is announced
(starting soon), started and finished — or failed, with the reason — all in the package's thread."""

from __future__ import annotations

import time

import pytest

from scheduler.records import RunStatus
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack
from tests.support.blocks_text import render
from tests.support.e2e import StartStack, deployment_hook, wait_for
from tests.support.worker import DEPLOYED, NO_OP, publish

V1 = "20260105101500"
ANNOUNCED = "PDM run on gstg: "


def announcements(slack: FakeSlack) -> list[str]:
    """Run announcements posted so far, as their event names, in order."""
    texts = [c.args["text"] for c in slack.named("chat.postMessage")]
    return [t.removeprefix(ANNOUNCED) for t in texts if t.startswith(ANNOUNCED)]


@pytest.mark.parametrize("outcome", ["success", "failed"])
def test_an_auto_batch_is_announced_started_and_reported_in_its_thread(
    outcome: str, start_stack: StartStack, gitlab: FakeGitLabApi, slack: FakeSlack
) -> None:
    started = time.monotonic()
    publish(gitlab, {V1: NO_OP})
    app = start_stack(starting_soon_seconds="1")
    assert app.webhook(deployment_hook(gitlab, DEPLOYED)).json()["result"] == "queued"

    wait_for(lambda: "starting_soon" in announcements(slack), "the starting-soon announcement")
    assert gitlab.calls("create_pipeline") == [], "nothing starts before the announced delay"
    (run,) = app.state.runs("gstg")
    wait_for(lambda: app.state.get_run(run.id).status is RunStatus.RUNNING, "the run to start", timeout=10)
    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = outcome
    final = "succeeded" if outcome == "success" else "failed"
    wait_for(lambda: final in announcements(slack), f"the {final} announcement")

    assert announcements(slack) == ["starting_soon", "started", final]
    root, *replies = slack.named("chat.postMessage")
    assert "thread_ts" not in root.args
    root_ts = app.state.thread("gstg", DEPLOYED).ts  # type: ignore[union-attr]
    assert [c.args["thread_ts"] for c in replies] == [root_ts] * len(replies)
    last = render(replies[-1].args["blocks"])
    if outcome == "success":
        assert "Finished" in last and f"/pipelines/{pipeline_id}" in last
        assert "*0* pending" in render(app.slash("status gstg").json()["blocks"])
    else:
        assert f"failed: pipeline {pipeline_id} ended failed" in last
        assert app.state.get_run(run.id).failure_reason == f"pipeline {pipeline_id} ended failed"
        assert "*1* pending" in render(app.slash("status gstg").json()["blocks"])
    assert len(gitlab.calls("create_pipeline")) == 1
    print(f"\nauto flow ({outcome}) end to end: {time.monotonic() - started:.1f}s")
