"""Prometheus metrics of pdm-bot (names are a contract with the alert rules) and their exposition.

Under gunicorn with several workers, set `PROMETHEUS_MULTIPROC_DIR` to an empty writable directory:
every process then writes its samples there and `/metrics` aggregates them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

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
RUNS = Counter("pdm_runs_total", "Finished PDM runs by outcome.", ["environment", "outcome"])
RUN_DURATION = Histogram(
    "pdm_run_duration_seconds",
    "Duration of PDM pipelines, from trigger to end.",
    ["environment"],
    buckets=(60, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800),
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
GUARD_FAILURES = Counter("pdm_guard_failures_total", "Evaluations a guard blocked.", ["environment", "guard"])
API_ERRORS = Counter("pdm_api_errors_total", "Failed calls to outside APIs.", ["api", "kind"])
WEBHOOKS = Counter("pdm_webhooks_total", "GitLab webhook deliveries by outcome.", ["outcome"])
SLASH_COMMANDS = Counter(
    "pdm_slash_commands_total", "/pdm invocations by subcommand and outcome.", ["subcommand", "outcome"]
)

DECISION_ACTIONS = ("execute", "propose", "wait", "blocked", "idle")


def record_decision(environment: str, action: str) -> None:
    """Set `pdm_decision` to 1 for `action` and 0 for the other actions of `environment`."""
    for candidate in DECISION_ACTIONS:
        DECISION.labels(environment=environment, action=candidate).set(1 if candidate == action else 0)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format, aggregated over processes in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Forget the live-gauge samples of an exited worker process (gunicorn `child_exit` hook)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
