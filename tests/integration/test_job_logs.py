"""A full job flow logs one JSON event per action with its run id bound, and never a configured token."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from freezegun import freeze_time
from pydantic import SecretStr

from bot.logging import configure_logging
from scheduler import bootstrap
from scheduler.adapters.grafana import GrafanaAnnotations
from scheduler.service.context import WorkerContext
from scheduler.settings import Settings
from tests.servers.fake_gitlab import FakeGitLabApi, FakeGitLabServer
from tests.servers.fake_grafana import FakeGrafana, FakeGrafanaServer
from tests.support.worker import (
    DEPLOYED,
    NO_OP,
    SATURDAY,
    gitlab_adapter,
    make_context,
    publish,
    run_due,
    work,
)

GITLAB_TOKEN = "glpat-LogFlowSecret-9911"
GRAFANA_TOKEN = "glsa_logFlowGrafana_77aa"
SLACK_TOKEN = "xoxb-4444-5555-LogFlowSlack"
V1 = "20260105101500"


@pytest.fixture
def stream(redis_url: str) -> Iterator[io.StringIO]:
    out = io.StringIO()
    level = logging.getLogger().level
    settings = Settings(
        redis_url=redis_url,
        gitlab_token=SecretStr(GITLAB_TOKEN),
        grafana_token=SecretStr(GRAFANA_TOKEN),
        slack_bot_token=SecretStr(SLACK_TOKEN),
    )
    configure_logging(settings, stream=out)
    yield out
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    root = logging.getLogger()
    root.setLevel(level)
    for handler in [h for h in root.handlers if h.get_name() == "pdm-bot-json"]:
        root.removeHandler(handler)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLabApi]:
    server = FakeGitLabServer(FakeGitLabApi(token=GITLAB_TOKEN)).start()
    yield server.fake
    server.stop()


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    server = FakeGrafanaServer().start()
    yield server.fake
    server.stop()


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLabApi, grafana: FakeGrafana) -> Iterator[WorkerContext]:
    context = make_context(redis_url, gitlab.url)
    context.gitlab = gitlab_adapter(gitlab.url, GITLAB_TOKEN)
    context.annotations = GrafanaAnnotations(grafana.url, GRAFANA_TOKEN)
    bootstrap.install(context)
    yield context
    bootstrap.install(None)


def events(out: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


@freeze_time(SATURDAY, tick=True)
def test_a_run_from_deploy_to_success_logs_each_action_once_with_the_run_id_and_no_token(
    ctx: WorkerContext, gitlab: FakeGitLabApi, grafana: FakeGrafana, stream: io.StringIO
) -> None:
    publish(gitlab, {V1: NO_OP})
    grafana.fail_next(401)  # a failing annotation is logged too
    gitlab.fail_next(502)  # one transient GitLab error during the flow
    commit_url = f"https://gitlab.example.com/app/-/commit/{DEPLOYED}"
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], SATURDAY.isoformat(), commit_url)
    work(ctx)
    run_due(ctx)
    work(ctx)
    (pipeline_id,) = gitlab.pipelines
    gitlab.pipelines[pipeline_id]["status"] = "success"
    run_due(ctx, "poll")
    work(ctx)

    text = stream.getvalue()
    for secret in (GITLAB_TOKEN, GRAFANA_TOKEN, SLACK_TOKEN):
        assert secret not in text
    logged = events(stream)
    run_id = ctx.state.runs("gstg")[0].id
    actions = [e["event"] for e in logged if e.get("logger") == "scheduler.audit"]
    for action in ("deployed", "auto_approved", "intent", "pipeline_created", "run_success"):
        assert actions.count(action) == 1, action
    assert actions.count("decided") == 3  # on deploy, then gstg and gprd after the success
    for event in logged:
        if event.get("logger") == "scheduler.audit" and event["event"] in ("intent", "run_success"):
            assert event["run_id"] == run_id and event["environment"] == "gstg"
    poll = [e for e in logged if e.get("job") == "poll"]
    assert poll and all(e["run_id"] == run_id for e in poll)
    assert any("grafana annotation refused" in e["event"] for e in logged)
