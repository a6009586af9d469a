"""Prometheus metrics of pdm-bot (names are a contract with the alert rules) and their exposition.

Two sources make up `/metrics`:
- in-process metrics of the web process (state gauges refreshed from Redis at scrape time, webhook and
  slash-command counters). Under gunicorn with several workers, set `PROMETHEUS_MULTIPROC_DIR` to an
  empty writable directory: every process then writes its samples there and `/metrics` aggregates them.
- counters of events that happen in worker processes (runs, run durations, guard failures, API errors,
  dead-lettered Slack messages), kept in Redis by `scheduler.adapters.redis_telemetry` and turned into
  metric families at each scrape (`StoredCounters`), and the Slack outbox gauges read from Redis at
  scrape (`OutboxGauges`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import redis
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from scheduler.adapters.redis_outbox import Outbox
from scheduler.adapters.redis_telemetry import Telemetry

log = logging.getLogger(__name__)

PENDING_MIGRATIONS = Gauge(
    "pdm_pending_migrations",
    "Post-deploy migrations waiting to run.",
    ["environment", "nature", "database"],
    multiprocess_mode="mostrecent",
)
OLDEST_PENDING_AGE = Gauge(
    "pdm_oldest_pending_age_seconds",
    "Age of the oldest pending post-deploy migration (since its package was deployed).",
    ["environment"],
    multiprocess_mode="mostrecent",
)
LAST_SUCCESSFUL_RUN = Gauge(
    "pdm_last_successful_run_timestamp_seconds",
    "Unix time of the end of the last successful PDM run.",
    ["environment"],
    multiprocess_mode="mostrecent",
)
DECISION = Gauge(
    "pdm_decision",
    "1 for the action of the latest decision of an environment, 0 for the others.",
    ["environment", "action"],
    multiprocess_mode="mostrecent",
)
WINDOW_OPEN = Gauge(
    "pdm_window_open",
    "1 when the windows of a nature are open now in an environment.",
    ["environment", "nature"],
    multiprocess_mode="mostrecent",
)
WEBHOOKS = Counter("pdm_webhooks_total", "GitLab webhook deliveries by outcome.", ["outcome"])
SLASH_COMMANDS = Counter(
    "pdm_slash_commands_total", "/pdm invocations by subcommand and outcome.", ["subcommand", "outcome"]
)

DECISION_ACTIONS = ("execute", "propose", "wait", "blocked", "idle")


def record_decision(environment: str, action: str) -> None:
    """Set `pdm_decision` to 1 for `action` and 0 for the other actions of `environment`."""
    for candidate in DECISION_ACTIONS:
        DECISION.labels(environment=environment, action=candidate).set(1 if candidate == action else 0)


class StoredCounters(Collector):
    """`pdm_runs_total`, `pdm_run_duration_seconds`, `pdm_guard_failures_total`,
    `pdm_evaluation_overruns_total`, `pdm_api_errors_total` and `pdm_slack_outbox_dead_letters_total`,
    read from `scheduler.adapters.redis_telemetry` (Redis) at collection time."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._telemetry = telemetry

    def collect(self) -> Iterator[Metric]:
        snapshot = self._telemetry.read()
        runs = CounterMetricFamily(
            "pdm_runs_total", "Finished PDM runs by outcome.", labels=["environment", "outcome"]
        )
        for (env, outcome), value in sorted(snapshot.runs.items()):
            runs.add_metric([env, outcome], value)
        durations = HistogramMetricFamily(
            "pdm_run_duration_seconds",
            "Duration of PDM runs, from trigger to end.",
            labels=["environment"],
        )
        for env, stats in sorted(snapshot.durations.items()):
            durations.add_metric([env], buckets=stats.cumulative(), sum_value=stats.total)
        guards = CounterMetricFamily(
            "pdm_guard_failures_total", "Evaluations a guard blocked.", labels=["environment", "guard"]
        )
        for (env, guard), value in sorted(snapshot.guard_failures.items()):
            guards.add_metric([env, guard], value)
        errors = CounterMetricFamily(
            "pdm_api_errors_total", "Failed calls to outside APIs.", labels=["api", "kind"]
        )
        for (api, kind), value in sorted(snapshot.api_errors.items()):
            errors.add_metric([api, kind], value)
        overruns = CounterMetricFamily(
            "pdm_evaluation_overruns_total",
            "Evaluations aborted because they exceeded PDM_EVALUATION_BUDGET_SECONDS.",
            labels=["environment"],
        )
        for env, value in sorted(snapshot.overruns.items()):
            overruns.add_metric([env], value)
        dead = CounterMetricFamily(
            "pdm_slack_outbox_dead_letters_total",
            "Slack messages given up on: undelivered by their deadline, or refused by Slack for good.",
            value=snapshot.slack_dead_letters,
        )
        yield from (runs, durations, guards, overruns, errors, dead)


class OutboxGauges(Collector):
    """`pdm_slack_outbox_pending` and `pdm_slack_outbox_oldest_seconds`, read from the outbox at scrape."""

    def __init__(self, outbox: Outbox, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._outbox = outbox
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        count, oldest = self._outbox.owed(self._clock())
        yield GaugeMetricFamily(
            "pdm_slack_outbox_pending", "Slack messages owed: written, not yet delivered.", value=count
        )
        yield GaugeMetricFamily(
            "pdm_slack_outbox_oldest_seconds",
            "Age of the oldest Slack message owed (0 when none is).",
            value=oldest,
        )


def exposition(telemetry: Telemetry | None = None, outbox: Outbox | None = None) -> tuple[bytes, str]:
    """The metrics in Prometheus text format: in-process ones (aggregated over processes in
    multiprocess mode), then the counters stored in Redis and the outbox gauges (each left out, with a
    warning, when Redis is unreachable)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    stored: list[Collector] = []
    if telemetry is not None:
        stored.append(StoredCounters(telemetry))
    if outbox is not None:
        stored.append(OutboxGauges(outbox))
    for collector in stored:
        try:
            body += generate_latest(collector)
        except redis.RedisError as exc:
            log.warning("metrics: %s not read: %s", type(collector).__name__, type(exc).__name__)
    return body, CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Forget the live-gauge samples of an exited worker process (gunicorn `child_exit` hook)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
