"""Metrics of one replay (the `simulate --json` contract's M)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scheduler.natures import ALL_NATURES, Nature
from scheduler.simulate.engine import Execution, Outcome
from scheduler.simulate.scenario import Scenario, Traffic

_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Percentiles:
    """Latency percentiles in hours (None when nothing of the nature ran)."""

    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class Metrics:
    """What a strategy cost over the scenario."""

    runs: int
    heavy_peak_executions: int
    deploy_blocked_minutes: int
    rollback_unavailable_hours: float
    latency_hours: dict[Nature, Percentiles]
    human_actions: int
    pending_at_end: int
    light_latency: Percentiles = Percentiles(None, None)  # no_op + background_scheduling together

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "runs": self.runs,
            "heavy_peak_executions": self.heavy_peak_executions,
            "deploy_blocked_minutes": self.deploy_blocked_minutes,
            "rollback_unavailable_hours": self.rollback_unavailable_hours,
            "latency_hours": {
                **{n.value: {"p50": p.p50, "p95": p.p95} for n, p in self.latency_hours.items()},
                "light": {"p50": self.light_latency.p50, "p95": self.light_latency.p95},
            },
            "human_actions": self.human_actions,
            "pending_at_end": self.pending_at_end,
        }


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolation percentile (`q` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def at_peak(traffic: Traffic, start: datetime, end: datetime) -> bool:
    """Whether traffic reaches the peak threshold at any moment of [start, end) (the start if empty)."""
    t = start
    while True:
        if traffic.is_peak(t):
            return True
        t = t.replace(minute=0, second=0, microsecond=0) + _HOUR
        if t >= end:
            return False


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def measure(scenario: Scenario, outcome: Outcome) -> Metrics:
    """Compute the metrics of one replay."""
    executions: list[Execution] = [e for run in outcome.runs for e in run.executions]
    heavy = sum(1 for e in executions if e.nature.is_heavy and at_peak(scenario.traffic, e.start, e.end))
    blocked = sum((d.start - d.scheduled for d in outcome.deploys + outcome.waiting_deploys), timedelta(0))
    unavailable = sum(
        (min(i.end, scenario.end) - i.start for i in outcome.rollback_unavailable), timedelta(0)
    )
    present = {m.nature for d in scenario.deploy_list for m in d.migrations}
    latency = {
        nature: _percentiles([_hours(e.start - e.pending_since) for e in executions if e.nature is nature])
        for nature in ALL_NATURES
        if nature in present
    }
    light = [_hours(e.start - e.pending_since) for e in executions if not e.nature.is_heavy]
    return Metrics(
        runs=len(outcome.runs),
        heavy_peak_executions=heavy,
        deploy_blocked_minutes=round(blocked.total_seconds() / 60),
        rollback_unavailable_hours=round(_hours(unavailable), 2),
        latency_hours=latency,
        human_actions=outcome.human_actions,
        pending_at_end=outcome.pending_at_end,
        light_latency=_percentiles(light),
    )


def _percentiles(values: list[float]) -> Percentiles:
    if not values:
        return Percentiles(None, None)
    return Percentiles(round(percentile(values, 50), 2), round(percentile(values, 95), 2))
