"""A deploy announced by a notifier bot in the release channel (no GitLab webhook) drives the same flow
across processes: the short SHA is resolved, and the diff and the proposal follow in one thread."""

from __future__ import annotations

from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_slack import FakeSlack
from tests.support.blocks_text import render
from tests.support.e2e import ALWAYS_POLICY, StartStack, wait_for
from tests.support.worker import DEPLOYED, INDEX, publish

V1 = "20260105101500"
PATTERN = r"'Deploy of (?P<environment>[a-z]+) finished: `(?P<sha>[0-9a-f]{7,40})`'"


def test_a_notifier_message_posts_the_diff_and_the_proposal_in_the_package_thread(
    start_stack: StartStack, gitlab: FakeGitLabApi, slack: FakeSlack
) -> None:
    publish(gitlab, {V1: INDEX})
    app = start_stack(ALWAYS_POLICY + f"deploy_message_pattern: {PATTERN}\n")
    message = {
        "type": "message",
        "subtype": "bot_message",
        "channel": "C0RELEASE",
        "text": f"Deploy of gstg finished: `{DEPLOYED[:8]}`",
        "ts": "1767225600.000042",
    }
    for attempt in range(2):  # Slack retries a delivery it thinks was lost
        envelope = {"type": "event_callback", "team_id": "T1", "event": message, "event_id": "Ev9"}
        assert app.event(envelope, **({"X-Slack-Retry-Num": "1"} if attempt else {})).status == 200
    posted = wait_for(
        lambda: len(slack.named("chat.postMessage")) >= 2 and slack.named("chat.postMessage"),
        "diff and proposal",
    )
    root, proposal = posted[:2]
    thread = app.state.thread("gstg", DEPLOYED)
    assert thread is not None and "thread_ts" not in root.args and V1 in render(root.args["blocks"])
    assert proposal.args["thread_ts"] == thread.ts and "Approve" in render(proposal.args["blocks"])
    assert [d.deployment_id for d in app.state.deployments("gstg")] == [1767225600000042]
    assert len(app.state.runs("gstg")) == 1
    assert sum("thread_ts" not in c.args for c in slack.named("chat.postMessage")) == 1
