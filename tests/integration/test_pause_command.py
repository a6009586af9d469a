"""`/pdm pause` over signed HTTP: a typo in the environment is an error, never a pause of everything."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.fake_slack import FakeSlack, serve_fake_slack
from tests.support.blocks_text import render
from tests.support.web import APPROVER, Served, serve_app


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    yield from serve_fake_slack()


@pytest.fixture
def app(redis_url: str, slack: FakeSlack) -> Iterator[Served]:
    with serve_app(redis_url, slack.api_url) as served:
        yield served


def test_a_pause_of_an_unknown_environment_is_an_ephemeral_error_with_usage(app: Served) -> None:
    reply = app.slash("pause gprdd db maintenance", user=APPROVER)
    assert reply.status == 200
    body = reply.json()
    text = render(body["blocks"])
    assert body["response_type"] == "ephemeral"
    assert "unknown environment `gprdd`" in text and "Usage: `/pdm pause [ENV|all] [reason]`" in text
    assert app.jobs() == []


def test_a_global_pause_with_a_reason_is_spelled_all(app: Served) -> None:
    app.slash("pause all freeze for the offsite", user=APPROVER)
    assert app.jobs() == [("scheduler.jobs.pause", (None, APPROVER, "freeze for the offsite"))]


def test_a_bare_pause_pauses_every_environment(app: Served) -> None:
    app.slash("pause", user=APPROVER)
    assert app.jobs() == [("scheduler.jobs.pause", (None, APPROVER, ""))]
