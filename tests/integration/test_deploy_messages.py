"""Deploy-notifier messages (policy `deploy_message_pattern`): signed Events API posts over real HTTP to
the app; a matching announcement in the release channel enqueues `on_deploy` once per package."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from scheduler.policy.model import InvalidPolicy, load_policy
from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.web import POLICY, Served, http, serve_app, sign

PATTERN = r"Deploy of (?P<environment>\w+) finished: `(?P<sha>[0-9a-f]{7,40})`"
WITH_PATTERN = POLICY + f"deploy_message_pattern: '{PATTERN}'\n"
SHA = "c0ffee12"
TS = "1767225600.000123"


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack()


@pytest.fixture
def app(redis_url: str, slack: FakeSlack) -> Iterator[Served]:
    with serve_app(redis_url, slack.api_url, WITH_PATTERN) as served:
        yield served


def delivery(event_id: str = "Ev1", **event: Any) -> dict[str, Any]:
    """An Events API `event_callback` envelope around a release-channel bot message."""
    message = {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B0NOTIFIER",
        "channel": "C0RELEASE",
        "text": f"Deploy of gprd finished: `{SHA}` :tada:",
        "ts": TS,
        **event,
    }
    return {
        "type": "event_callback",
        "token": "legacy",
        "team_id": "T1",
        "api_app_id": "A1",
        "event": {k: v for k, v in message.items() if v is not None},
        "event_id": event_id,
        "event_time": 1767225600,
    }


def test_a_matching_announcement_enqueues_on_deploy_like_the_webhook(app: Served) -> None:
    reply = app.event(delivery())
    assert reply.status == 200
    assert app.jobs() == [
        ("scheduler.jobs.on_deploy", ("gprd", 1767225600000123, SHA, "2026-01-01T00:00:00.000123+00:00", ""))
    ]


def test_a_retried_delivery_and_a_second_announcement_of_the_package_are_processed_once(app: Served) -> None:
    app.event(delivery())
    assert (
        app.event(delivery(), **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}).status
        == 200
    )
    assert app.event(delivery("Ev2", ts="1767225700.000001")).status == 200
    assert len(app.jobs()) == 1


def test_the_deployment_id_group_is_used_when_the_pattern_has_one(redis_url: str, slack: FakeSlack) -> None:
    pattern = PATTERN + r" \(#(?P<deployment_id>\d+)\)"
    with serve_app(redis_url, slack.api_url, POLICY + f"deploy_message_pattern: '{pattern}'\n") as served:
        served.event(delivery(text=f"Deploy of gstg finished: `{SHA}` (#4242)"))
        assert [args[:3] for _, args in served.jobs()] == [("gstg", 4242, SHA)]


def test_the_text_of_legacy_attachments_is_matched(app: Served) -> None:
    app.event(delivery(text="", attachments=[{"fallback": f"Deploy of gstg finished: `{SHA}`"}]))
    assert [args[0] for _, args in app.jobs()] == ["gstg"]


@pytest.mark.parametrize(
    "event",
    [
        {"channel": "C0OTHER"},
        {"thread_ts": "1767225599.000001"},
        {"subtype": "message_changed"},
        {"text": "Deploy of gprd started: `c0ffee12`"},
        {"text": "Deploy of gprd2 finished: `c0ffee12`"},
    ],
    ids=["other-channel", "thread-reply", "edit", "no-match", "unknown-environment"],
)
def test_other_messages_are_acknowledged_and_ignored(app: Served, event: dict[str, Any]) -> None:
    assert app.event(delivery(**event)).status == 200
    assert app.jobs() == []


def test_without_a_pattern_message_events_are_acknowledged_and_ignored(
    redis_url: str, slack: FakeSlack
) -> None:
    with serve_app(redis_url, slack.api_url) as served:
        assert served.event(delivery()).status == 200
        assert served.jobs() == []


def test_an_unsigned_or_stale_event_is_refused(app: Served) -> None:
    body = json.dumps(delivery())
    stale = {**sign(body, timestamp=1_000_000_000), "Content-Type": "application/json"}
    forged = {**sign(body, secret="wrong"), "Content-Type": "application/json"}
    assert http(app.url + "/slack/events", body.encode(), stale).status == 401
    assert http(app.url + "/slack/events", body.encode(), forged).status == 401
    assert app.jobs() == []


def test_the_events_url_verification_challenge_is_answered(app: Served) -> None:
    reply = app.event({"type": "url_verification", "token": "legacy", "challenge": "c-123"})
    assert reply.status == 200 and reply.json()["challenge"] == "c-123"


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("'(?P<environment>x'", "deploy_message_pattern: not a regular expression"),
        (r"'deployed (?P<environment>\w+)'", "deploy_message_pattern: needs the named groups (?P<sha>...)"),
    ],
)
def test_a_pattern_that_cannot_work_is_a_policy_error(pattern: str, error: str) -> None:
    with pytest.raises(InvalidPolicy) as raised:
        load_policy(POLICY + f"deploy_message_pattern: {pattern}\n")
    assert error in str(raised.value)
