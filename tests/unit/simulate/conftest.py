"""Tiny scenarios and a small policy whose numbers can be checked by hand.

Traffic: 0.2 from 20:00 to 08:00 UTC, 0.9 (peak) from 08:00 to 20:00; weekends halved.
Policy `night` window: 01:00–06:00 UTC every day. 2026-01-05 is a Monday.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from scheduler.policy.model import Policy, load_policy
from scheduler.simulate import Scenario, parse_scenario

HOURLY = [0.2] * 8 + [0.9] * 12 + [0.2] * 4

POLICY = """
environments: [{name: gstg}, {name: gprd, requires: gstg, min_soak: 2h}]
windows:
  - {name: night, kind: allow, schedule: "0 1 * * *", duration: 5h}
natures:
  no_op:                 {windows: [always], mode: auto}
  background_scheduling: {windows: [always], mode: auto}
  index_and_constraint:  {windows: [night], mode: auto}
  data_migration:        {windows: [night], mode: approval}
  ddl_cleanup:           {windows: [night], mode: approval}
  unknown:               {windows: [night], mode: manual}
two_person_natures: [ddl_cleanup]
"""


def _deploy(
    at: str, *migrations: tuple[str, str, int], env: str = "gstg", sha: str = "a1", minutes: int = 30
) -> dict[str, Any]:
    """A deploy at `at` (`HH:MM` on Monday 2026-01-05, or an ISO instant) with (version, nature, min)."""
    when = at if "T" in at else f"2026-01-05T{at}:00Z"
    return {
        "at": when,
        "environment": env,
        "sha": sha,
        "duration_minutes": minutes,
        "migrations": [{"version": v, "nature": n, "duration_minutes": d} for v, n, d in migrations],
    }


def raw_scenario(deploys: list[dict[str, Any]] | dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A 2-day scenario on gstg (and gprd when a deploy names it)."""
    named = {d.get("environment") for d in deploys} if isinstance(deploys, list) else set()
    envs = ["gstg", "gprd"] if "gprd" in named else ["gstg"]
    base: dict[str, Any] = {
        "start": "2026-01-05T00:00:00Z",
        "days": 2,
        "environments": envs,
        "traffic": {"hourly": HOURLY, "weekend_factor": 0.5, "peak_threshold": 0.7},
        "deploys": deploys,
        "manual_hour": 10,
    }
    base.update(extra)
    return base


@pytest.fixture
def policy() -> Policy:
    """The hand-check policy."""
    return load_policy(POLICY)


@pytest.fixture
def make_policy() -> Callable[[str], Policy]:
    """The hand-check policy with extra YAML appended."""
    return lambda extra: load_policy(POLICY + extra)


@pytest.fixture
def scenario() -> Callable[..., Scenario]:
    """Build a validated scenario from deploys."""
    return lambda deploys, **extra: parse_scenario(raw_scenario(deploys, **extra))


@pytest.fixture
def deploy() -> Callable[..., dict[str, Any]]:
    """Build one raw deploy: `deploy("10:00", ("1", "index_and_constraint", 20), sha="a1")`."""
    return _deploy


@pytest.fixture
def raw() -> Callable[..., dict[str, Any]]:
    """Build a raw (unvalidated) scenario dict."""
    return raw_scenario
