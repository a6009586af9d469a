"""`GET /metrics` over real HTTP after a real flow: webhook → on_deploy → execute → poll on real Redis/RQ.

The web app and the worker share only Redis, as separate processes do: the counters the worker owns
reach `/metrics` through `scheduler.adapters.redis_telemetry`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq import Queue
from werkzeug.serving import make_server

from bot.app import QUEUE_NAME, create_app, deps_from
from bot.slack_client import UsergroupDirectory, make_web_client
from scheduler import bootstrap
from scheduler.adapters.redis_outbox import Outbox
from scheduler.adapters.redis_store import RedisStore
from scheduler.adapters.redis_telemetry import Telemetry, install_telemetry
from scheduler.natures import ALL_NATURES
from scheduler.notes import TextNote
from scheduler.outbox import DeliveryKind
from scheduler.records import Note
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.support.web import WEBHOOK_SECRET, http, settings_for
from tests.support.worker import DEPLOYED, INDEX, NO_OP, make_context, policy, publish, run_due, work

V1, V2 = "20260105101500", "20260105102200"
WEDNESDAY_NIGHT = "2026-01-07T03:00:00+00:00"  # the weekend window is closed
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLabApi) -> Iterator[WorkerContext]:
    context = make_context(redis_url, gitlab.url)
    bootstrap.install(context)
    install_telemetry(Telemetry(context.state.r))
    yield context
    install_telemetry(None)
    bootstrap.install(None)


@contextmanager
def web(redis_url: str) -> Iterator[str]:
    """The real web app, with the worker's policy, on a free port; yields its base URL."""
    settings = settings_for(redis_url, "http://127.0.0.1:9/")
    connection = Redis.from_url(redis_url)
    state = RedisStore(connection)
    client = make_web_client(settings)
    deps = deps_from(
        settings,
        policy(),
        state=state,
        queue=Queue(QUEUE_NAME, connection=connection),
        directory=UsergroupDirectory(client),
    )
    server = make_server("127.0.0.1", 0, create_app(settings, deps=deps, client=client), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def scrape(url: str) -> Samples:
    """Every sample of `GET /metrics`, keyed by name and sorted labels."""
    reply = http(url + "/metrics", None, {}, method="GET")
    assert reply.status == 200
    samples: Samples = {}
    for family in text_string_to_metric_families(reply.body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def deployment_hook(deployed_at: str) -> dict[str, object]:
    return {
        "object_kind": "deployment",
        "status": "success",
        "status_changed_at": deployed_at,
        "deployment_id": 41,
        "environment": "gstg",
        "project": {"id": 1, "path_with_namespace": "app"},
        "short_sha": DEPLOYED[:8],
        "commit_url": f"https://gitlab.example.com/app/-/commit/{DEPLOYED}",
    }


def test_metrics_after_a_webhook_and_a_successful_auto_run_report_the_real_values(
    ctx: WorkerContext, gitlab: FakeGitLabApi, redis_url: str
) -> None:
    publish(gitlab, {V1: NO_OP, V2: INDEX})
    with freeze_time(WEDNESDAY_NIGHT, tick=True) as frozen, web(redis_url) as url:
        body = json.dumps(deployment_hook("2026-01-07T02:00:00+00:00")).encode()
        headers = {"Content-Type": "application/json", "X-Gitlab-Token": WEBHOOK_SECRET}
        assert http(url + "/webhooks/gitlab", body, headers).status == 200
        work(ctx)  # on_deploy → evaluate → execute: the no-op V1 runs now, the index V2 waits
        (pipeline_id,) = gitlab.pipelines

        during = scrape(url)
        assert value(during, "pdm_runs_total", environment="gstg", outcome="success") is None
        assert (
            value(during, "pdm_pending_migrations", environment="gstg", nature="no_op", database="main") == 1
        )

        triggered = ctx.state.runs("gstg")[0].triggered_at
        assert triggered is not None
        frozen.move_to(triggered + timedelta(minutes=7))
        gitlab.pipelines[pipeline_id]["status"] = "success"
        assert run_due(ctx, "poll") >= 1
        work(ctx)

        after = scrape(url)
        run = ctx.state.runs("gstg")[0]
        assert run.finished_at is not None

    pending = {
        (nature, db): value(
            after, "pdm_pending_migrations", environment="gstg", nature=str(nature), database=db
        )
        for nature in ALL_NATURES
        for db in ("main", "ci")
    }
    assert pending.pop(("index_and_constraint", "main")) == 1
    assert set(pending.values()) == {0}
    assert value(after, "pdm_runs_total", environment="gstg", outcome="success") == 1
    assert value(after, "pdm_runs_total", environment="gstg", outcome="failed") is None
    assert value(after, "pdm_run_duration_seconds_count", environment="gstg") == 1
    assert 420 <= value(after, "pdm_run_duration_seconds_sum", environment="gstg") < 480  # type: ignore[operator]
    assert value(after, "pdm_run_duration_seconds_bucket", environment="gstg", le="300.0") == 0
    assert value(after, "pdm_run_duration_seconds_bucket", environment="gstg", le="600.0") == 1
    assert value(after, "pdm_last_successful_run_timestamp_seconds", environment="gstg") == pytest.approx(
        run.finished_at.timestamp()
    )
    assert value(after, "pdm_decision", environment="gstg", action="wait") == 1
    assert value(after, "pdm_decision", environment="gstg", action="execute") == 0
    assert value(after, "pdm_window_open", environment="gstg", nature="no_op") == 1
    assert value(after, "pdm_window_open", environment="gstg", nature="index_and_constraint") == 0


def test_guard_failures_counted_by_the_worker_appear_on_metrics(
    ctx: WorkerContext, gitlab: FakeGitLabApi, redis_url: str
) -> None:
    publish(gitlab, {V1: NO_OP})
    ctx.state.set_pause("gstg", Note("U1", datetime.now(UTC), "freeze"))
    ctx.queue.enqueue("scheduler.jobs.evaluate", "gstg")
    ctx.queue.enqueue("scheduler.jobs.evaluate", "gstg")
    work(ctx)
    with web(redis_url) as url:
        samples = scrape(url)
    assert value(samples, "pdm_guard_failures_total", environment="gstg", guard="paused") == 2
    assert value(samples, "pdm_guard_failures_total", environment="gprd", guard="paused") is None


def test_gitlab_errors_in_the_worker_are_counted_by_kind_on_metrics(
    ctx: WorkerContext, gitlab: FakeGitLabApi, redis_url: str
) -> None:
    gitlab.fail_next(404)
    ctx.queue.enqueue("scheduler.jobs.set_baseline", "gstg", "abc1234", "U1")
    work(ctx)
    with web(redis_url) as url:
        samples = scrape(url)
    assert value(samples, "pdm_api_errors_total", api="gitlab", kind="http_404") == 1


def test_metrics_still_answer_when_the_stored_counters_are_empty(redis_url: str) -> None:
    with web(redis_url) as url:
        samples = scrape(url)
    assert value(samples, "pdm_window_open", environment="gstg", nature="no_op") == 1
    assert not [key for key in samples if key[0].startswith("pdm_runs_total")]


def test_the_slack_outbox_gauges_and_its_dead_letters_are_read_from_redis_at_each_scrape(
    redis_url: str,
) -> None:
    connection = Redis.from_url(redis_url)
    outbox = Outbox(connection)
    with web(redis_url) as url:
        empty = scrape(url)
        owed_at = datetime.now(UTC) - timedelta(seconds=90)
        for offset, text in ((0, "first"), (60, "second")):
            at = owed_at + timedelta(seconds=offset)
            outbox.add(DeliveryKind.POST, at, at + timedelta(hours=24), note=TextNote("gstg", None, text))
        Telemetry(connection).slack_dead_letter()
        owed = scrape(url)
    for name in ("pending", "oldest_seconds", "dead_letters_total"):
        assert empty[(f"pdm_slack_outbox_{name}", ())] == 0
    assert owed[("pdm_slack_outbox_pending", ())] == 2
    assert 90 <= owed[("pdm_slack_outbox_oldest_seconds", ())] < 120
    assert owed[("pdm_slack_outbox_dead_letters_total", ())] == 1
