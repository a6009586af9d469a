"""SlackTransport and UsergroupDirectory through the real slack_sdk against the local fake Slack."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot.slack_client import SlackError, SlackTransport, UsergroupDirectory, make_web_client
from scheduler.classify.model import Classification
from scheduler.natures import Nature
from scheduler.notes import DiffNote, ProposalNote, RunEvent, RunNote
from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.web import settings_for

AT = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
SHA = "c" * 40


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack({"S0RELEASE": ["U1", "U2"]})


@pytest.fixture
def transport(slack: FakeSlack, redis_url: str) -> SlackTransport:
    """The transport as the worker builds it: one attempt per call."""
    client = make_web_client(settings_for(redis_url, slack.api_url), retries=False)
    return SlackTransport(client, "C0RELEASE", clock=lambda: AT)


def migration(i: int) -> Classification:
    return Classification(
        path=f"db/post_migrate/202601{i:08d}_m{i}.rb",
        version=f"202601{i:08d}",
        name=f"m{i}",
        primary_nature=Nature.NO_OP,
        natures=[Nature.NO_OP],
    )


def diff(count: int) -> DiffNote:
    return DiffNote("gprd", SHA, SHA[:8], AT, [migration(i) for i in range(count)], pending_total=count)


def proposal() -> ProposalNote:
    return ProposalNote(
        "gprd",
        SHA,
        "gprd-1",
        ["20260100000000"],
        "20260100000000",
        "no_op",
        "approval",
        ["window open"],
        5,
        "packages older than cccccccc can no longer be rolled back to",
        None,
    )


def test_a_diff_root_and_a_reply_in_its_thread_go_to_the_release_channel(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    root = transport.post(diff(2), None)
    reply = transport.post(proposal(), root)
    posts = slack.named("chat.postMessage")
    assert [p.args.get("thread_ts") for p in posts] == [None, root]
    assert {p.args["channel"] for p in posts} == {"C0RELEASE"}
    assert reply != root and transport.channel == "C0RELEASE"


def test_a_long_diff_is_a_summary_root_and_one_reply_per_fifteen_migrations(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    note = diff(32)
    assert transport.parts(note) == 4 and transport.parts(proposal()) == 1
    root = transport.post(note, None)
    for part in range(1, 4):
        transport.post(note, root, part)
    posts = slack.named("chat.postMessage")
    assert len(posts) == 4 and all(p.args["thread_ts"] == root for p in posts[1:])
    assert "20260100000031" in str(posts[3].args["blocks"]) and "20260100000031" not in str(posts[1].args)


def test_update_replaces_the_proposal_with_the_decision_without_buttons(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    note = RunNote("gprd", SHA, "gprd-1", RunEvent.APPROVED, ["20260100000000"], "20260100000000", actor="U1")
    transport.update(note, "1767225600.000009")
    [update] = slack.named("chat.update")
    assert update.args["ts"] == "1767225600.000009"
    assert all(b["type"] != "actions" for b in update.args["blocks"])
    assert "approved* by <@U1>" in update.args["blocks"][0]["text"]["text"]


def test_respond_posts_an_ephemeral_answer_to_the_response_url(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    transport.respond(slack.response_url("run"), "run gprd-3 proposed in the release thread", ephemeral=True)
    [answer] = slack.named("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert answer.args["text"] == "run gprd-3 proposed in the release thread"


def test_a_429_is_one_attempt_whose_error_carries_slacks_retry_after(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    slack.rate_limit(1, retry_after=7)
    started = time.monotonic()
    with pytest.raises(SlackError, match="ratelimited") as raised:
        transport.post(diff(1), None)
    assert time.monotonic() - started < 2  # no sleep inside the call: the outbox waits, not the job
    assert raised.value.retry_after == 7 and not raised.value.permanent
    assert len(slack.named("chat.postMessage")) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_with_a_text_body_is_a_retryable_error_named_by_its_status(
    status: int, transport: SlackTransport, slack: FakeSlack
) -> None:
    slack.fail_next(1, status)
    with pytest.raises(SlackError, match=f"http_{status}") as raised:
        transport.post(proposal(), None)
    assert raised.value.retry_after is None and not raised.value.permanent


def test_a_message_slack_refuses_is_permanent_and_an_edit_of_a_deleted_message_is_gone(
    transport: SlackTransport, slack: FakeSlack
) -> None:
    slack.refuse_next(1, "invalid_blocks")
    with pytest.raises(SlackError) as refused:
        transport.post(proposal(), None)
    assert refused.value.permanent and not refused.value.gone
    slack.refuse_next(1, "message_not_found")
    note = RunNote("gprd", SHA, "gprd-1", RunEvent.APPROVED, ["20260100000000"], "20260100000000")
    with pytest.raises(SlackError) as gone:
        transport.update(note, "1767225600.000009")
    assert gone.value.gone
    slack.refuse_next(1, "not_in_channel")  # an operator can fix it: retried until the deadline
    with pytest.raises(SlackError) as fixable:
        transport.post(proposal(), None)
    assert not fixable.value.permanent


def test_response_url_faults_say_whether_to_retry(transport: SlackTransport, slack: FakeSlack) -> None:
    slack.rate_limit(1, retry_after=3)
    with pytest.raises(SlackError) as limited:
        transport.respond(slack.response_url(), "x", ephemeral=True)
    assert limited.value.retry_after == 3 and not limited.value.permanent
    slack.fail_next(1, 404)  # an expired response_url
    with pytest.raises(SlackError) as expired:
        transport.respond(slack.response_url(), "x", ephemeral=True)
    assert expired.value.permanent


def test_usergroup_members_are_cached_until_the_ttl_expires(slack: FakeSlack, redis_url: str) -> None:
    now = [0.0]
    client = make_web_client(settings_for(redis_url, slack.api_url))
    directory = UsergroupDirectory(client, ttl_seconds=60, clock=lambda: now[0])
    assert directory.members("S0RELEASE") == {"U1", "U2"}
    now[0] = 59
    directory.members("S0RELEASE")
    assert len(slack.named("usergroups.users.list")) == 1
    now[0] = 61
    directory.members("S0RELEASE")
    assert len(slack.named("usergroups.users.list")) == 2


def test_an_unknown_usergroup_is_a_named_slack_error(slack: FakeSlack, redis_url: str) -> None:
    directory = UsergroupDirectory(make_web_client(settings_for(redis_url, slack.api_url)))
    with pytest.raises(SlackError, match=r"usergroups\.users\.list failed: no_such_subteam"):
        directory.members("S0NOPE")


def test_the_bot_token_is_sent_as_a_bearer_header_only(transport: SlackTransport, slack: FakeSlack) -> None:
    transport.post(diff(1), None)
    call = slack.named("chat.postMessage")[0]
    assert call.headers["Authorization"] == "Bearer xoxb-test-token"
    assert "xoxb-test-token" not in str(call.args)
