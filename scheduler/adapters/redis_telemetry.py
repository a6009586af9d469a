"""Counters every process writes and `/metrics` reads: one Redis hash, `pdm:metrics` (the Redis adapter).

Runs end, guards block and outside APIs fail in worker processes (and some API calls in the web
process), while Prometheus scrapes the web pods. The counts therefore live in Redis, written with
HINCRBY at the event and read at scrape time by `bot.metrics`; they survive restarts and are the same
whichever pod is scraped. Fields are JSON lists: `["runs", env, outcome]`, `["guard", env, guard]`,
`["api", api, kind]`, `["overrun", env]`, `["duration_bucket", env, le]`, `["duration_sum", env]`,
`["duration_count", env]`, `["slack", "dead_letters"]` (messages of the Slack outbox given up on).

Adapters without a Redis client count API errors through `count_api_error`, which writes to the
`Telemetry` the process installed at start (`install_telemetry`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import redis

from scheduler.adapters.redis_keys import Keys

log = logging.getLogger(__name__)

KEY = Keys.METRICS
RUN_DURATION_BUCKETS: tuple[float, ...] = (60, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800)
INF = "+Inf"


@dataclass
class DurationStats:
    """A histogram of one environment: count per bucket upper bound (not cumulative), sum, count."""

    buckets: dict[str, int] = field(default_factory=dict)
    total: float = 0.0
    count: int = 0

    def cumulative(self) -> list[tuple[str, int]]:
        """`(le, count of observations <= le)` for every bucket bound, `+Inf` last."""
        out: list[tuple[str, int]] = []
        running = 0
        for bound in RUN_DURATION_BUCKETS:
            running += self.buckets.get(_le(bound), 0)
            out.append((_le(bound), running))
        out.append((INF, self.count))
        return out


@dataclass
class Counters:
    """Every stored counter at one instant."""

    runs: dict[tuple[str, str], int] = field(default_factory=dict)
    guard_failures: dict[tuple[str, str], int] = field(default_factory=dict)
    api_errors: dict[tuple[str, str], int] = field(default_factory=dict)
    overruns: dict[str, int] = field(default_factory=dict)
    durations: dict[str, DurationStats] = field(default_factory=dict)
    slack_dead_letters: int = 0


def _le(bound: float) -> str:
    return f"{float(bound)}"


def _field(*parts: str) -> str:
    return json.dumps(list(parts))


def bucket_for(seconds: float) -> str:
    """The upper bound of the smallest bucket holding `seconds`."""
    for bound in RUN_DURATION_BUCKETS:
        if seconds <= bound:
            return _le(bound)
    return INF


class Telemetry:
    """Redis-backed counters of pdm-bot (see the module docstring for the layout)."""

    def __init__(self, client: redis.Redis) -> None:
        self.r = client

    def run_finished(self, env: str, outcome: str, duration_seconds: float | None) -> None:
        """Count a finished run and, when known, observe its duration."""
        with self.r.pipeline(transaction=True) as pipe:
            pipe.hincrby(KEY, _field("runs", env, outcome), 1)
            if duration_seconds is not None:
                pipe.hincrby(KEY, _field("duration_bucket", env, bucket_for(duration_seconds)), 1)
                pipe.hincrbyfloat(KEY, _field("duration_sum", env), float(duration_seconds))
                pipe.hincrby(KEY, _field("duration_count", env), 1)
            pipe.execute()

    def guard_failed(self, env: str, guard: str) -> None:
        """Count one evaluation that `guard` blocked."""
        self.r.hincrby(KEY, _field("guard", env, guard), 1)

    def evaluation_overrun(self, env: str) -> None:
        """Count one evaluation aborted because it exceeded its time budget."""
        self.r.hincrby(KEY, _field("overrun", env), 1)

    def api_error(self, api: str, kind: str) -> None:
        """Count one failed call to an outside API."""
        self.r.hincrby(KEY, _field("api", api, kind), 1)

    def slack_dead_letter(self) -> None:
        """Count one Slack message given up on (its deadline passed, or Slack refused it for good)."""
        self.r.hincrby(KEY, _field("slack", "dead_letters"), 1)

    def read(self) -> Counters:
        """Every counter, for one scrape."""
        snapshot = Counters()
        raw: dict[Any, Any] = self.r.hgetall(KEY)
        for key, value in raw.items():
            parts = json.loads(key)
            text = value.decode() if isinstance(value, bytes) else str(value)
            kind, first = parts[0], parts[1]
            if kind == "runs":
                snapshot.runs[(first, parts[2])] = int(text)
            elif kind == "guard":
                snapshot.guard_failures[(first, parts[2])] = int(text)
            elif kind == "api":
                snapshot.api_errors[(first, parts[2])] = int(text)
            elif kind == "overrun":
                snapshot.overruns[first] = int(text)
            elif kind == "slack":
                snapshot.slack_dead_letters = int(text)
            else:
                stats = snapshot.durations.setdefault(first, DurationStats())
                if kind == "duration_bucket":
                    stats.buckets[parts[2]] = int(text)
                elif kind == "duration_sum":
                    stats.total = float(text)
                elif kind == "duration_count":
                    stats.count = int(text)
        return snapshot


_installed: Telemetry | None = None


def install_telemetry(telemetry: Telemetry | None) -> None:
    """Make `telemetry` receive this process's `count_api_error` calls (None: stop counting)."""
    global _installed
    _installed = telemetry


def count_api_error(api: str, kind: str) -> None:
    """Count a failed outside call in the installed `Telemetry`; never raises (Redis may be down too)."""
    if _installed is None:
        return
    try:
        _installed.api_error(api, kind)
    except redis.RedisError as exc:
        log.warning("api error of %s (%s) not counted: %s", api, kind, type(exc).__name__)
