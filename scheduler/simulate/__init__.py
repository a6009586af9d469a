"""Backtesting: replay a scenario with the worker's planner and compare it with manual baselines.

Pure: the scenario is data, time is the scenario's, nothing is read or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler.policy.model import Policy
from scheduler.simulate.engine import (
    AfterEachDeploy,
    DailyManual,
    Outcome,
    PolicyStrategy,
    Resolution,
    replay,
)
from scheduler.simulate.metrics import Metrics, measure
from scheduler.simulate.scenario import Scenario, load_scenario, parse_scenario

BASELINES = ("daily_manual", "after_each_deploy")


@dataclass(frozen=True)
class Comparison:
    """The policy's replay and the baselines', with their metrics."""

    policy: Outcome
    baselines: dict[str, Outcome]
    metrics: dict[str, Metrics]

    def to_dict(self) -> dict[str, Any]:
        """`{"policy": M, "baselines": {"daily_manual": M, "after_each_deploy": M}}`."""
        return {
            "policy": self.metrics["policy"].to_dict(),
            "baselines": {name: self.metrics[name].to_dict() for name in BASELINES},
        }


def simulate(scenario: Scenario, policy: Policy, resolution: Resolution = "event") -> Comparison:
    """Replay the policy and both baselines over `scenario`."""
    outcomes = {
        "policy": replay(scenario, PolicyStrategy(policy, resolution)),
        "daily_manual": replay(scenario, DailyManual()),
        "after_each_deploy": replay(scenario, AfterEachDeploy()),
    }
    return Comparison(
        policy=outcomes["policy"],
        baselines={name: outcomes[name] for name in BASELINES},
        metrics={name: measure(scenario, outcome) for name, outcome in outcomes.items()},
    )


__all__ = ["BASELINES", "Comparison", "Metrics", "Scenario", "load_scenario", "parse_scenario", "simulate"]
