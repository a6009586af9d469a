"""GitLab Deployment Hook deliveries over real HTTP: token, validation, dedup, one job per status."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.servers.fake_slack import serve_fake_slack
from tests.support.web import Served, serve_app

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def app(redis_url: str) -> Iterator[Served]:
    for slack in serve_fake_slack():
        with serve_app(redis_url, slack.api_url) as served:
            yield served


def hook(status: str = "success", deployment_id: int = 42, **changes: Any) -> dict[str, Any]:
    payload = {
        "object_kind": "deployment",
        "status": status,
        "status_changed_at": "2026-01-09 14:05:00 +0100",
        "deployment_id": deployment_id,
        "deployable_id": 7,
        "environment": "gprd",
        "project": {"id": 1, "path_with_namespace": "group/app"},
        "short_sha": SHA[:8],
        "commit_url": f"https://gitlab.example.com/group/app/-/commit/{SHA}",
        "commit_title": "Merge branch 'x'",
    }
    payload.update(changes)
    return payload


@pytest.mark.parametrize("token", ["wrong-secret", None], ids=["wrong", "missing"])
def test_a_wrong_or_missing_token_is_401_and_nothing_is_enqueued(app: Served, token: str | None) -> None:
    assert app.webhook(hook(), token=token).status == 401
    assert app.jobs() == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "body is not a JSON object"),
        (hook(deployment_id="x"), "deployment_id"),
        (hook(status="exploded"), "status"),
        (hook(object_kind="push"), "object_kind"),
        (hook(status_changed_at="yesterday"), "status_changed_at"),
        ({k: v for k, v in hook().items() if k != "environment"}, "environment"),
    ],
    ids=["not-json", "bad-id", "bad-status", "other-kind", "bad-time", "no-environment"],
)
def test_a_malformed_body_is_400_with_a_reason(app: Served, payload: Any, reason: str) -> None:
    reply = app.webhook(payload)
    assert reply.status == 400
    assert reason in reply.json()["reason"]
    assert app.jobs() == []


def test_success_enqueues_on_deploy_with_the_full_sha_and_an_iso_time(app: Served) -> None:
    reply = app.webhook(hook())
    assert (reply.status, reply.json()["result"]) == (200, "queued")
    assert app.jobs() == [
        (
            "scheduler.jobs.on_deploy",
            (
                "gprd",
                42,
                SHA,
                "2026-01-09T14:05:00+01:00",
                f"https://gitlab.example.com/group/app/-/commit/{SHA}",
            ),
        )
    ]


def test_a_duplicate_delivery_answers_200_and_is_processed_once(app: Served) -> None:
    app.webhook(hook())
    again = app.webhook(hook())
    assert (again.status, again.json()["result"]) == (200, "duplicate")
    assert len(app.jobs()) == 1


def test_running_then_failed_mark_and_clear_the_deploy_in_progress(app: Served) -> None:
    app.webhook(hook("running", 43, status_changed_at="2026-01-09 13:05:00 UTC"))
    app.webhook(hook("failed", 43, status_changed_at="2026-01-09T13:35:00Z"))
    assert app.jobs() == [
        (
            "scheduler.jobs.deploy_started",
            ("gprd", 43, SHA, "2026-01-09T13:05:00+00:00", hook()["commit_url"]),
        ),
        ("scheduler.jobs.deploy_ended", ("gprd", 43, "failed", "2026-01-09T13:35:00+00:00")),
    ]


def test_environments_outside_the_policy_and_statuses_without_action_are_ignored(app: Served) -> None:
    assert app.webhook(hook(environment="review/feature-x")).json()["result"] == "ignored"
    assert app.webhook(hook("created", 44)).json()["result"] == "ignored"
    assert app.jobs() == []
