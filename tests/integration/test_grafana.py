"""Grafana run annotations over real HTTP to a local fake Grafana, alone and inside a real run."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from pydantic import SecretStr
from redis import Redis

from scheduler import bootstrap
from scheduler.adapters.grafana import GrafanaAnnotations
from scheduler.adapters.redis_telemetry import Telemetry, install_telemetry
from scheduler.records import Run, RunStatus
from scheduler.service.context import WorkerContext
from scheduler.settings import Settings
from tests.conftest import REPO_ROOT, free_port
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_grafana import FakeGrafana, FakeGrafanaServer
from tests.support.worker import DEPLOYED, NO_OP, SATURDAY, make_context, publish, run_due, work

GRAFANA_TOKEN = "glsa_pdmTestServiceAccount_4f2a"
T0 = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
RUN = Run(
    id="gstg-7",
    environment="gstg",
    migrations=["20260105101500"],
    up_to_version="20260105101500",
    target_sha=DEPLOYED,
    requested_by="pdm-bot",
    requested_at=T0 - timedelta(minutes=1),
    triggered_at=T0,
    pipeline_url="https://gitlab.example.com/deployer/-/pipelines/12",
)


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    server = FakeGrafanaServer().start()
    yield server.fake
    server.stop()


@pytest.fixture
def telemetry(redis_url: str) -> Iterator[Telemetry]:
    counters = Telemetry(Redis.from_url(redis_url))
    install_telemetry(counters)
    yield counters
    install_telemetry(None)


def test_run_start_posts_a_point_annotation_with_the_bearer_token(grafana: FakeGrafana) -> None:
    GrafanaAnnotations(grafana.url, GRAFANA_TOKEN).run_started(RUN, T0)
    (request,) = grafana.requests
    assert request.path == "/api/annotations"
    assert request.headers["Authorization"] == f"Bearer {GRAFANA_TOKEN}"
    assert request.body["time"] == int(T0.timestamp() * 1000)
    assert "timeEnd" not in request.body
    assert request.body["tags"] == ["pdm", "gstg", "started"]
    assert "gstg-7" in request.body["text"] and "20260105101500" in request.body["text"]


def test_run_end_posts_a_region_from_trigger_to_end_tagged_with_the_outcome(grafana: FakeGrafana) -> None:
    failed = dataclasses.replace(RUN, status=RunStatus.FAILED, failure_reason="pipeline 12 ended failed")
    GrafanaAnnotations(grafana.url + "/", GRAFANA_TOKEN).run_ended(failed, T0 + timedelta(minutes=9))
    (request,) = grafana.requests
    assert request.path == "/api/annotations"
    assert request.body["time"] == int(T0.timestamp() * 1000)
    assert request.body["timeEnd"] == int((T0 + timedelta(minutes=9)).timestamp() * 1000)
    assert request.body["tags"] == ["pdm", "gstg", "failed"]
    assert "pipeline 12 ended failed" in request.body["text"]


def test_a_refused_annotation_is_counted_and_logged_without_the_token(
    grafana: FakeGrafana, telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    grafana.fail_next(500)
    with caplog.at_level(logging.WARNING, logger="scheduler.grafana"):
        GrafanaAnnotations(grafana.url, GRAFANA_TOKEN).run_started(RUN, T0)
    assert telemetry.read().api_errors == {("grafana", "http_500"): 1}
    assert "HTTP 500" in caplog.text and GRAFANA_TOKEN not in caplog.text


def test_an_unreachable_grafana_is_counted_as_a_connection_error(telemetry: Telemetry) -> None:
    GrafanaAnnotations(f"http://127.0.0.1:{free_port()}", GRAFANA_TOKEN).run_ended(RUN, T0)
    assert telemetry.read().api_errors == {("grafana", "connection"): 1}


@freeze_time(SATURDAY, tick=True)
def test_a_real_run_is_annotated_at_start_and_end_and_a_failing_grafana_never_fails_it(
    redis_url: str, gitlab: FakeGitLabApi, grafana: FakeGrafana, telemetry: Telemetry
) -> None:
    ctx: WorkerContext = make_context(redis_url, gitlab.url)
    ctx.annotations = GrafanaAnnotations(grafana.url, GRAFANA_TOKEN)
    bootstrap.install(ctx)
    try:
        publish(gitlab, {"20260105101500": NO_OP})
        grafana.fail_next(503)  # the start annotation is lost; the run goes on
        ctx.queue.enqueue(
            "scheduler.jobs.on_deploy",
            "gstg",
            41,
            DEPLOYED[:8],
            SATURDAY.isoformat(),
            f"https://gitlab.example.com/app/-/commit/{DEPLOYED}",
        )
        work(ctx)
        (pipeline_id,) = gitlab.pipelines
        gitlab.pipelines[pipeline_id]["status"] = "success"
        run_due(ctx, "poll")
        work(ctx)
    finally:
        bootstrap.install(None)
    run = ctx.state.runs("gstg")[0]
    assert run.status is RunStatus.SUCCESS
    started, ended = grafana.requests
    assert started.body["tags"] == ["pdm", "gstg", "started"]
    assert ended.body["tags"] == ["pdm", "gstg", "success"]
    assert ended.headers["Authorization"] == f"Bearer {GRAFANA_TOKEN}"
    assert run.triggered_at is not None and run.finished_at is not None
    assert ended.body["time"] == int(run.triggered_at.timestamp() * 1000)
    assert ended.body["timeEnd"] == int(run.finished_at.timestamp() * 1000)
    assert telemetry.read().api_errors == {("grafana", "http_503"): 1}


def test_annotations_are_off_without_a_grafana_url_and_on_with_one() -> None:
    base = Settings(policy_file=str(REPO_ROOT / "examples/policy.yaml"), redis_url="redis://127.0.0.1:1/0")
    try:
        assert bootstrap.from_settings(base).annotations is None
        enabled = base.model_copy(
            update={"grafana_url": "http://grafana.example", "grafana_token": SecretStr(GRAFANA_TOKEN)}
        )
        assert isinstance(bootstrap.from_settings(enabled).annotations, GrafanaAnnotations)
    finally:
        install_telemetry(None)
