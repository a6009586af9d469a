"""The Prometheus adapter over real HTTP to a local fake Prometheus, alone and as the worker's DB load."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time
from pydantic import SecretStr
from redis import Redis

from scheduler import bootstrap, jobs
from scheduler.adapters.prometheus import PrometheusClient
from scheduler.adapters.redis_telemetry import Telemetry, install_telemetry
from scheduler.errors import MetricsNoData, MetricsSourceError
from scheduler.notes import RunEvent
from scheduler.policy.model import load_policy
from scheduler.records import AuditEntry
from scheduler.service.context import WorkerContext
from scheduler.settings import Settings
from tests.conftest import free_port
from tests.fakes import FakeNotifier
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.servers.fake_prometheus import FakePrometheus, FakePrometheusServer, success
from tests.support.worker import (
    DEPLOYED,
    NO_OP,
    POLICY,
    SATURDAY,
    make_context,
    publish,
    run_due,
    work,
)

PROM_TOKEN = "prom-reader-7d1c9e"
LOAD = 'max(rate(pg_stat_database_xact_commit{env="gstg"}[5m])) / 20000'
V1 = "20260105101500"


@pytest.fixture
def prometheus() -> Iterator[FakePrometheus]:
    server = FakePrometheusServer().start()
    yield server.fake
    server.stop()


@pytest.fixture
def telemetry(redis_url: str) -> Iterator[Telemetry]:
    counters = Telemetry(Redis.from_url(redis_url))
    install_telemetry(counters)
    yield counters
    install_telemetry(None)


def client(fake: FakePrometheus) -> PrometheusClient:
    return PrometheusClient(fake.url, bearer_token=PROM_TOKEN)


def guard(fake: FakePrometheus) -> str:
    """The policy's `max_db_load` guard on the fake Prometheus."""
    return f"guards: {{max_db_load: {{prometheus_url: '{fake.url}', query: '{LOAD}', threshold: 0.7}}}}\n"


def configured(fake: FakePrometheus, redis_url: str, tmp_path: Path, **settings: object) -> PrometheusClient:
    """The client `pdm-bot worker` builds for the guard from its `PDM_*` settings (defaults unless given);
    building the worker's context installs its telemetry on `redis_url` (the `telemetry` fixture's)."""
    policy_file = tmp_path / "guarded.yaml"
    policy_file.write_text(POLICY + guard(fake), encoding="utf-8")
    values = {"policy_file": str(policy_file), "redis_url": redis_url, "prometheus_token": PROM_TOKEN}
    metrics = bootstrap.from_settings(Settings(**{**values, **settings})).metrics  # type: ignore[arg-type]
    assert isinstance(metrics, PrometheusClient)
    return metrics


def failure(fake: FakePrometheus, metrics: PrometheusClient | None = None) -> MetricsSourceError:
    """The error of querying LOAD on `fake` (through `metrics`, else the plain client)."""
    with pytest.raises(MetricsSourceError) as caught:
        (metrics or client(fake)).instant_value(LOAD)
    assert PROM_TOKEN not in str(caught.value)
    return caught.value


# The adapter -----------------------------------------------------------------------------------------


def test_a_one_sample_vector_gives_its_value_from_an_authorised_instant_query(
    prometheus: FakePrometheus,
) -> None:
    prometheus.set_vector(LOAD, "0.42")
    assert client(prometheus).instant_value(LOAD) == 0.42
    (request,) = prometheus.requests
    assert request.path == "/api/v1/query" and request.params == {"query": [LOAD]}
    assert request.headers["Authorization"] == f"Bearer {PROM_TOKEN}"


def test_a_vector_of_several_samples_gives_the_largest(prometheus: FakePrometheus) -> None:
    prometheus.set_vector(LOAD, "0.2", "0.85", "0.5")
    assert client(prometheus).instant_value(LOAD) == 0.85


def test_a_scalar_gives_its_value_and_no_token_means_no_authorization_header(
    prometheus: FakePrometheus,
) -> None:
    prometheus.set_scalar("vector(1) * 0.3", "0.3")
    assert PrometheusClient(prometheus.url + "/").instant_value("vector(1) * 0.3") == 0.3
    assert "Authorization" not in prometheus.requests[0].headers


def test_an_empty_vector_is_a_no_data_error_naming_the_query(
    prometheus: FakePrometheus, telemetry: Telemetry
) -> None:
    error = failure(prometheus)
    assert isinstance(error, MetricsNoData)
    assert str(error) == f"query returned no data: {LOAD!r}"
    assert telemetry.read().api_errors == {("prometheus", "no_data"): 1}


def test_a_bad_query_reports_prometheus_own_error(prometheus: FakePrometheus, telemetry: Telemetry) -> None:
    body = {"status": "error", "errorType": "bad_data", "error": "1:5: parse error: unexpected <EOF>"}
    prometheus.set_answer(LOAD, 400, body)
    error = failure(prometheus)
    assert "answered HTTP 400: bad_data: 1:5: parse error: unexpected <EOF>" in str(error)
    assert telemetry.read().api_errors == {("prometheus", "http_400"): 1}


def test_an_error_status_in_a_200_answer_is_an_error(
    prometheus: FakePrometheus, telemetry: Telemetry
) -> None:
    prometheus.set_answer(
        LOAD, 200, {"status": "error", "errorType": "execution", "error": "too many samples"}
    )
    assert str(failure(prometheus)) == f"Prometheus rejected the query {LOAD!r}: execution: too many samples"
    assert telemetry.read().api_errors == {("prometheus", "query_error"): 1}


def test_a_server_error_is_an_error_with_its_status(prometheus: FakePrometheus, telemetry: Telemetry) -> None:
    prometheus.set_answer(LOAD, 500, "internal error")
    assert str(failure(prometheus)) == f"Prometheus at {prometheus.url} answered HTTP 500"
    assert telemetry.read().api_errors == {("prometheus", "http_500"): 1}


def test_a_slow_prometheus_times_out_after_the_timeout_setting_with_a_clear_error(
    prometheus: FakePrometheus, telemetry: Telemetry, redis_url: str, tmp_path: Path
) -> None:
    prometheus.set_vector(LOAD, "0.1")
    prometheus.delay = 1.0
    error = failure(prometheus, configured(prometheus, redis_url, tmp_path, prometheus_timeout_seconds=0.2))
    assert str(error) == f"Prometheus unreachable (timeout after 0.2s) at {prometheus.url}"
    assert telemetry.read().api_errors == {("prometheus", "timeout"): 1}


def test_an_unreachable_prometheus_is_a_connection_error(telemetry: Telemetry) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(MetricsSourceError, match=f"Prometheus unreachable at {url} "):
        PrometheusClient(url).instant_value(LOAD)
    assert telemetry.read().api_errors == {("prometheus", "connection"): 1}


@pytest.mark.parametrize("value", ["NaN", "+Inf"])
def test_a_sample_that_is_not_a_finite_number_is_an_error(prometheus: FakePrometheus, value: str) -> None:
    prometheus.set_vector(LOAD, "0.3", value)
    assert str(failure(prometheus)) == f"query returned {value}: {LOAD!r}"


def test_a_range_vector_is_refused_as_not_one_number(prometheus: FakePrometheus) -> None:
    prometheus.set_answer(LOAD, 200, success("matrix", [{"metric": {}, "values": [[1, "0.1"]]}]))
    assert "query returned a matrix, not one number" in str(failure(prometheus))


def test_an_answer_that_is_not_json_is_an_error(prometheus: FakePrometheus) -> None:
    prometheus.set_answer(LOAD, 200, "<html>login</html>")
    assert "answered with a JSON str" in str(failure(prometheus))


def test_credentials_in_the_url_never_reach_a_message() -> None:
    url = f"http://reader:s3cret@127.0.0.1:{free_port()}"
    with pytest.raises(MetricsSourceError) as caught:
        PrometheusClient(url).instant_value(LOAD)
    assert "s3cret" not in str(caught.value) and "reader" not in str(caught.value)


# The worker --------------------------------------------------------------------------------------------


def guarded_context(
    redis_url: str,
    gitlab: FakeGitLabApi,
    prometheus: FakePrometheus,
    tmp_path: Path,
    timing: dict[str, timedelta] | None = None,
    **settings: object,
) -> WorkerContext:
    """The test context with the guard, and the worker's Prometheus client from `settings`."""
    ctx = make_context(redis_url, gitlab.url, **(timing or {}))
    metrics = configured(prometheus, redis_url, tmp_path, **settings)
    ctx = dataclasses.replace(ctx, policy=load_policy(POLICY + guard(prometheus)), metrics=metrics)
    bootstrap.install(ctx)
    return ctx


@pytest.fixture
def uninstall() -> Iterator[None]:
    yield
    bootstrap.install(None)
    install_telemetry(None)


def deploy(ctx: WorkerContext, gitlab: FakeGitLabApi) -> None:
    publish(gitlab, {V1: NO_OP})
    commit_url = f"https://gitlab.example.com/app/-/commit/{DEPLOYED}"
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], SATURDAY.isoformat(), commit_url)
    work(ctx)


def decided(ctx: WorkerContext) -> AuditEntry:
    return next(e for e in ctx.state.audit_log(limit=50, environment="gstg") if e.action == "decided")


@freeze_time(SATURDAY, tick=True)
@pytest.mark.usefixtures("uninstall")
def test_a_db_load_above_the_threshold_blocks_an_auto_run_and_says_so(
    redis_url: str, gitlab: FakeGitLabApi, prometheus: FakePrometheus, tmp_path: Path
) -> None:
    ctx = guarded_context(redis_url, gitlab, prometheus, tmp_path)
    prometheus.set_vector(LOAD, "0.9")
    deploy(ctx, gitlab)
    assert gitlab.calls("create_pipeline") == [] and ctx.state.runs("gstg") == []
    entry = decided(ctx)
    assert entry.details["decision"] == "blocked"
    assert "DB load 0.90 > 0.70 (max_db_load threshold)" in entry.reason
    assert [r.params["query"] for r in prometheus.requests] == [[LOAD]]


@freeze_time(SATURDAY, tick=True)
@pytest.mark.usefixtures("uninstall")
def test_a_db_load_below_the_threshold_lets_the_auto_run_execute(
    redis_url: str, gitlab: FakeGitLabApi, prometheus: FakePrometheus, tmp_path: Path
) -> None:
    ctx = guarded_context(redis_url, gitlab, prometheus, tmp_path)
    prometheus.set_vector(LOAD, "0.3")
    deploy(ctx, gitlab)
    assert len(gitlab.calls("create_pipeline")) == 1
    assert decided(ctx).details["decision"] == "execute"


@freeze_time(SATURDAY, tick=True)
@pytest.mark.usefixtures("uninstall")
def test_an_unreachable_prometheus_blocks_with_the_reason_in_the_audit_and_the_counters(
    redis_url: str, gitlab: FakeGitLabApi, prometheus: FakePrometheus, telemetry: Telemetry, tmp_path: Path
) -> None:
    ctx = guarded_context(redis_url, gitlab, prometheus, tmp_path, prometheus_timeout_seconds=1)
    prometheus.set_vector(LOAD, "0.1")
    prometheus.delay = 2.0
    deploy(ctx, gitlab)
    assert gitlab.calls("create_pipeline") == []
    reason = decided(ctx).reason
    assert f"DB load unknown: Prometheus unreachable (timeout after 1s) at {prometheus.url}" in reason
    assert telemetry.read().api_errors == {("prometheus", "timeout"): 1}


@freeze_time(SATURDAY, tick=True)
@pytest.mark.usefixtures("uninstall")
def test_the_load_is_read_again_right_before_an_announced_run_starts(
    redis_url: str, gitlab: FakeGitLabApi, prometheus: FakePrometheus, tmp_path: Path
) -> None:
    ctx = guarded_context(redis_url, gitlab, prometheus, tmp_path, {"starting_soon": timedelta(minutes=5)})
    prometheus.set_vector(LOAD, "0.3")
    deploy(ctx, gitlab)
    assert isinstance(ctx.notifier, FakeNotifier)
    assert RunEvent.STARTING_SOON in ctx.notifier.events()
    prometheus.set_vector(LOAD, "0.95")
    assert run_due(ctx, "execute") == 1
    work(ctx)
    assert gitlab.calls("create_pipeline") == []
    entries = ctx.state.audit_log(limit=50, environment="gstg")
    deferred = next(e for e in entries if e.action == "execute_deferred")
    assert "DB load 0.95 > 0.70" in deferred.reason
    jobs.evaluate("gstg")
    assert gitlab.calls("create_pipeline") == []


def test_the_worker_gets_a_prometheus_client_only_when_the_policy_has_max_db_load(
    tmp_path: Path, prometheus: FakePrometheus
) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(POLICY, encoding="utf-8")
    guarded = tmp_path / "guarded.yaml"
    guarded.write_text(
        POLICY
        + f"guards: {{max_db_load: {{prometheus_url: '{prometheus.url}', query: up, threshold: 0.7}}}}\n",
        encoding="utf-8",
    )
    prometheus.set_scalar("up", "0.5")
    base = Settings(policy_file=str(plain), redis_url="redis://127.0.0.1:1/0")
    try:
        assert bootstrap.from_settings(base).metrics is None
        settings = base.model_copy(
            update={"policy_file": str(guarded), "prometheus_token": SecretStr(PROM_TOKEN)}
        )
        metrics = bootstrap.from_settings(settings).metrics
        assert metrics is not None and metrics.instant_value("up") == 0.5
        assert prometheus.requests[0].headers["Authorization"] == f"Bearer {PROM_TOKEN}"
    finally:
        install_telemetry(None)
