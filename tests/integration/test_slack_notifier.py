"""SlackNotifier and UsergroupDirectory through the real slack_sdk against the local fake Slack."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from redis import Redis

from bot.slack_client import SlackError, SlackNotifier, UsergroupDirectory, make_web_client
from scheduler.classify.model import Classification
from scheduler.natures import Nature
from scheduler.notes import DiffNote, ProposalNote, RunEvent, RunNote
from scheduler.state import State
from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.web import settings_for

AT = datetime(2026, 1, 9, 12, 0, tzinfo=UTC)
SHA = "c" * 40


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack({"S0RELEASE": ["U1", "U2"]})


@pytest.fixture
def state(redis_url: str) -> State:
    return State(Redis.from_url(redis_url))


@pytest.fixture
def notifier(slack: FakeSlack, state: State, redis_url: str) -> SlackNotifier:
    client = make_web_client(settings_for(redis_url, slack.api_url))
    return SlackNotifier(client, "C0RELEASE", state, clock=lambda: AT)


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


def test_a_diff_starts_the_package_thread_and_later_notes_go_into_it(
    notifier: SlackNotifier, slack: FakeSlack, state: State
) -> None:
    root = notifier.post(diff(2))
    proposal_ts = notifier.post(proposal())
    posts = slack.named("chat.postMessage")
    assert [p.args.get("thread_ts") for p in posts] == [None, root]
    assert posts[0].args["channel"] == "C0RELEASE"
    assert proposal_ts != root
    stored = state.thread("gprd", SHA)
    assert stored is not None and stored.ts == root


def test_posting_the_same_diff_twice_keeps_one_thread(notifier: SlackNotifier, slack: FakeSlack) -> None:
    first = notifier.post(diff(1))
    assert notifier.post(diff(1)) == first
    assert len(slack.named("chat.postMessage")) == 1


def test_a_long_diff_posts_a_summary_then_the_migrations_as_thread_replies(
    notifier: SlackNotifier, slack: FakeSlack
) -> None:
    root = notifier.post(diff(32))
    posts = slack.named("chat.postMessage")
    assert len(posts) == 4
    assert all(p.args["thread_ts"] == root for p in posts[1:])


def test_update_replaces_the_proposal_with_the_decision_without_buttons(
    notifier: SlackNotifier, slack: FakeSlack
) -> None:
    note = RunNote("gprd", SHA, "gprd-1", RunEvent.APPROVED, ["20260100000000"], "20260100000000", actor="U1")
    notifier.update(note, "1767225600.000009")
    [update] = slack.named("chat.update")
    assert update.args["ts"] == "1767225600.000009"
    assert all(b["type"] != "actions" for b in update.args["blocks"])
    assert "approved* by <@U1>" in update.args["blocks"][0]["text"]["text"]


def test_respond_posts_an_ephemeral_answer_to_the_response_url(
    notifier: SlackNotifier, slack: FakeSlack
) -> None:
    notifier.respond(slack.response_url("run"), "run gprd-3 proposed in the release thread")
    [answer] = slack.named("response_url")
    assert answer.args["response_type"] == "ephemeral"
    assert answer.args["text"] == "run gprd-3 proposed in the release thread"


def test_a_429_is_retried_after_retry_after_and_the_post_succeeds(
    notifier: SlackNotifier, slack: FakeSlack
) -> None:
    slack.rate_limit(1, retry_after=1)
    assert notifier.post(diff(1)) is not None
    assert len(slack.named("chat.postMessage")) == 2


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


def test_the_bot_token_is_sent_as_a_bearer_header_only(notifier: SlackNotifier, slack: FakeSlack) -> None:
    notifier.post(diff(1))
    call = slack.named("chat.postMessage")[0]
    assert call.headers["Authorization"] == "Bearer xoxb-test-token"
    assert "xoxb-test-token" not in str(call.args)
