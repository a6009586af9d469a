"""The replay of proposals made ahead of a window: a held approval extended by later deploys, a
downstream environment approved on the upstream's projection, and the rollback line they move."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from scheduler.policy.model import Policy, load_policy
from scheduler.simulate import Scenario, parse_scenario, simulate

Deploy = Callable[..., dict[str, Any]]
Build = Callable[..., Scenario]
REPO = Path(__file__).resolve().parents[3]


def test_a_later_deploy_extends_the_approved_batch_before_the_night(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # 15:00 (the last 3 working hours before the night) proposal of 1, approved 15:30; 16:10 the
    # extension to 1-2, approved 16:40.
    s = scenario(
        [deploy("10:00", ("1", "data_migration", 10)), deploy("15:40", ("2", "data_migration", 10), sha="a2")]
    )
    result = simulate(s, policy)
    runs = result.policy.runs
    assert [(r.start.isoformat(), [e.version for e in r.executions]) for r in runs] == [
        ("2026-01-06T01:00:00+00:00", ["1", "2"])
    ]
    p = result.metrics["policy"]
    assert (p.human_actions, p.pending_at_end) == (2, 0)
    assert p.rollback_unavailable_hours == 22.83  # 2 (package a2, deployed now) starts 01:10 → Wed 00:00


def test_one_proposal_in_the_afternoon_covers_the_day_s_deploys(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # 1, 2 and 3 (10:00, 12:00, 13:00) wait for the proposal posted at 15:00.
    s = scenario(
        [
            deploy("10:00", ("1", "data_migration", 10)),
            deploy("12:00", ("2", "data_migration", 10), sha="a2"),
            deploy("13:00", ("3", "data_migration", 10), sha="a3"),
        ]
    )
    result = simulate(s, policy)
    assert [[e.version for e in r.executions] for r in result.policy.runs] == [["1", "2", "3"]]
    assert result.metrics["policy"].human_actions == 1
    at_once = policy.model_copy(
        update={"proposals": policy.proposals.model_copy(update={"post_within": None})}
    )
    assert simulate(s, at_once).metrics["policy"].human_actions == 3  # 11:00, 13:00, 14:00


def test_a_proposal_and_a_run_request_asked_together_take_one_answer(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # The proposal of 1 stops at the manual 2: the release manager answers both with `/pdm run` (the
    # request and its approval), which covers 1 too and supersedes the proposal.
    s = scenario([deploy("10:00", ("1", "data_migration", 10), ("2", "unknown", 5))])
    result = simulate(s, policy)
    assert [[e.version for e in r.executions] for r in result.policy.runs] == [["1", "2"]]
    assert result.metrics["policy"].human_actions == 2


def test_downstream_is_approved_ahead_and_runs_after_the_upstream_soak(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    s = scenario(
        [
            deploy("10:00", ("1", "data_migration", 10)),
            deploy("12:00", ("1", "data_migration", 10), env="gprd"),
        ]
    )
    result = simulate(s, policy)
    starts = [(r.environment, r.start.isoformat()) for r in result.policy.runs]
    # gstg runs 01:00–01:10 on Monday's approval; gprd's approval (asked 12:30, given 13:00) waits for the
    # 2 h soak, not for a working-hours answer on Tuesday.
    assert starts == [("gstg", "2026-01-06T01:00:00+00:00"), ("gprd", "2026-01-06T03:10:00+00:00")]
    assert result.metrics["policy"].human_actions == 2


def test_a_weekend_run_of_fridays_package_loses_rollback_until_mondays_deploy(
    raw: Callable[..., dict[str, Any]], deploy: Deploy
) -> None:
    bundled = load_policy((REPO / "examples" / "policy.yaml").read_text())
    s = parse_scenario(
        raw(
            [
                deploy("2026-01-09T10:00:00Z", ("1", "background_scheduling", 5)),
                deploy("2026-01-12T02:00:00Z", sha="a2"),
            ],
            start="2026-01-09T00:00:00Z",
            days=4,
        )
    )
    p = simulate(s, bundled).metrics["policy"]
    assert p.runs == 1
    assert p.rollback_unavailable_hours == 50.5  # Sat 00:00 → Monday's deploy ends 02:30
