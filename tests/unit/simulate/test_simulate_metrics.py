"""Each metric on scenarios small enough to check by hand (times UTC, Monday 2026-01-05)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scheduler.natures import Nature
from scheduler.policy.model import Policy
from scheduler.simulate import Scenario, simulate
from scheduler.simulate.metrics import Percentiles, percentile

Deploy = Callable[..., dict[str, Any]]
Build = Callable[..., Scenario]


def test_one_index_build_waits_for_the_night_under_the_policy_and_runs_at_peak_in_the_baselines(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # deploy 10:00–10:30 brings a 20-minute index build; the night window opens Tue 01:00.
    result = simulate(scenario([deploy("10:00", ("1", "index_and_constraint", 20))]), policy)
    p, daily, after = (result.metrics[n] for n in ("policy", "daily_manual", "after_each_deploy"))
    assert (p.runs, p.heavy_peak_executions, p.deploy_blocked_minutes) == (1, 0, 0)
    assert p.latency_hours == {Nature.INDEX_AND_CONSTRAINT: Percentiles(14.5, 14.5)}
    assert p.rollback_unavailable_hours == 23.0  # Tue 01:00 → end of scenario (Wed 00:00)
    assert (p.human_actions, p.pending_at_end) == (0, 0)
    # daily_manual: 10:00 is taken by the deploy, so the human runs at 10:30, at peak.
    assert (daily.runs, daily.heavy_peak_executions, daily.human_actions) == (1, 1, 1)
    assert daily.latency_hours[Nature.INDEX_AND_CONSTRAINT] == Percentiles(0.0, 0.0)
    assert daily.rollback_unavailable_hours == 37.5
    assert (after.runs, after.heavy_peak_executions, after.human_actions) == (1, 1, 0)
    assert after.rollback_unavailable_hours == 37.5


def test_a_run_that_holds_the_environment_delays_the_next_deploy(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # 08:00–08:30 brings a 60-minute index build; an empty package deploys at 10:30.
    s = scenario([deploy("08:00", ("1", "index_and_constraint", 60)), deploy("10:30", sha="a2")])
    result = simulate(s, policy)
    daily, after, p = (result.metrics[n] for n in ("daily_manual", "after_each_deploy", "policy"))
    assert daily.deploy_blocked_minutes == 30  # run 10:00–11:00 holds the 10:30 deploy until 11:00
    assert daily.rollback_unavailable_hours == 1.5  # 10:00 → second deploy ends 11:30
    assert after.deploy_blocked_minutes == 0  # run 08:30–09:30
    assert after.rollback_unavailable_hours == 2.5  # 08:30 → second deploy ends 11:00
    assert p.deploy_blocked_minutes == 0
    assert p.rollback_unavailable_hours == 0.0  # at Tue 01:00 the package deployed now is a2
    deploys = result.baselines["daily_manual"].deploys
    assert [(d.scheduled.hour, d.scheduled.minute, d.start.hour, d.start.minute) for d in deploys] == [
        (8, 0, 8, 0),
        (10, 30, 11, 0),
    ]


def test_a_policy_run_holding_the_environment_counts_as_blocked_deploy_time(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # background scheduling runs at once: 08:30–10:00; the 09:00 deploy waits an hour.
    s = scenario([deploy("08:00", ("1", "background_scheduling", 90)), deploy("09:00", sha="a2")])
    p = simulate(s, policy).metrics["policy"]
    assert (p.runs, p.deploy_blocked_minutes, p.heavy_peak_executions) == (1, 60, 0)
    assert p.rollback_unavailable_hours == 2.0  # 08:30 → the delayed deploy (10:00) ends 10:30


def test_approval_mode_waits_for_the_release_manager_then_the_window(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # proposed at 10:30 (working hours, window ahead); approved 11:00; runs Tue 01:00.
    result = simulate(scenario([deploy("10:00", ("1", "data_migration", 10))]), policy)
    p = result.metrics["policy"]
    assert (p.human_actions, p.runs) == (1, 1)
    assert result.policy.runs[0].start.isoformat() == "2026-01-06T01:00:00+00:00"
    assert p.latency_hours[Nature.DATA_MIGRATION] == Percentiles(14.5, 14.5)


def test_two_person_natures_need_two_approvals(scenario: Build, deploy: Deploy, policy: Policy) -> None:
    p = simulate(scenario([deploy("10:00", ("1", "ddl_cleanup", 3))]), policy).metrics["policy"]
    assert (p.human_actions, p.runs, p.pending_at_end) == (2, 1, 0)


def test_a_late_proposal_is_answered_next_working_day_and_runs_the_night_after(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # proposed 17:10; the release manager works 09:00–17:00, so Tue 09:00 — after Tue's window.
    result = simulate(scenario([deploy("16:40", ("1", "data_migration", 10))], days=3), policy)
    assert [r.start.isoformat() for r in result.policy.runs] == ["2026-01-07T01:00:00+00:00"]
    assert result.metrics["policy"].human_actions == 1


def test_the_release_manager_delay_and_hours_are_configurable(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    rm = {
        "working_hours": {"start_hour": 0, "end_hour": 24, "weekdays_only": False},
        "approval_delay_minutes": 0,
    }
    s = scenario([deploy("16:40", ("1", "data_migration", 10))], days=3, release_manager=rm)
    assert [r.start.isoformat() for r in simulate(s, policy).policy.runs] == ["2026-01-06T01:00:00+00:00"]


def test_manual_mode_needs_a_run_request_from_a_human(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    result = simulate(scenario([deploy("10:00", ("1", "unknown", 5))]), policy)
    p = result.metrics["policy"]
    assert (p.human_actions, p.runs) == (2, 1)  # `/pdm run`, then the requester approves it
    assert result.policy.runs[0].start.isoformat() == "2026-01-06T01:00:00+00:00"


def test_a_run_request_over_a_two_person_nature_takes_two_approvers_besides_the_requester(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    result = simulate(scenario([deploy("10:00", ("1", "unknown", 5), ("2", "ddl_cleanup", 3))]), policy)
    p = result.metrics["policy"]
    assert (p.human_actions, p.runs, p.pending_at_end) == (3, 1, 0)


def test_open_incidents_defer_runs_only_when_the_policy_tracks_incidents(
    scenario: Build, deploy: Deploy, policy: Policy, make_policy: Callable[[str], Policy]
) -> None:
    incident = [{"start": "2026-01-05T10:00:00Z", "end": "2026-01-05T12:00:00Z"}]
    s = scenario([deploy("10:00", ("1", "background_scheduling", 5))], incidents=incident)
    tracked = make_policy("guards: {incidents: {project: gl-infra/production}}\n")
    assert simulate(s, tracked).policy.runs[0].start.isoformat() == "2026-01-05T12:00:00+00:00"
    assert simulate(s, policy).policy.runs[0].start.isoformat() == "2026-01-05T10:30:00+00:00"


def test_downstream_environment_runs_after_the_upstream_success_and_soak(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # gstg: deploy 08:00–08:30, run 08:30–08:40; gprd: deploy 09:00–09:30, soak until 10:40.
    s = scenario(
        [
            deploy("08:00", ("1", "background_scheduling", 10)),
            deploy("09:00", ("1", "background_scheduling", 10), env="gprd"),
        ]
    )
    result = simulate(s, policy)
    starts = [(r.environment, r.start.strftime("%H:%M")) for r in result.policy.runs]
    assert starts == [("gstg", "08:30"), ("gprd", "10:40")]
    assert result.metrics["policy"].latency_hours[Nature.BACKGROUND_SCHEDULING] == Percentiles(0.58, 1.11)


def test_pending_at_end_counts_what_never_ran(scenario: Build, deploy: Deploy, policy: Policy) -> None:
    # a manual-mode migration deployed on Tuesday evening: the request comes Wednesday, after the end.
    s = scenario([deploy("2026-01-06T20:00:00Z", ("1", "unknown", 5))])
    assert simulate(s, policy).metrics["policy"].pending_at_end == 1


def test_daily_manual_runs_once_per_weekday_and_not_on_weekends(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    # Friday 2026-01-09 to Monday: Friday's deploy runs Friday 10:00, Saturday's waits for Monday.
    s = scenario(
        [
            deploy("2026-01-09T08:00:00Z", ("1", "no_op", 1)),
            deploy("2026-01-10T08:00:00Z", ("2", "no_op", 1), sha="a2"),
        ],
        start="2026-01-09T00:00:00Z",
        days=4,
    )
    runs = simulate(s, policy).baselines["daily_manual"].runs
    assert [r.start.isoformat() for r in runs] == ["2026-01-09T10:00:00+00:00", "2026-01-12T10:00:00+00:00"]


def test_after_each_deploy_runs_everything_right_after_every_deploy(
    scenario: Build, deploy: Deploy, policy: Policy
) -> None:
    s = scenario(
        [
            deploy("08:00", ("1", "ddl_cleanup", 5), ("2", "no_op", 1)),
            deploy("12:00", ("3", "unknown", 2), sha="a2"),
        ]
    )
    runs = simulate(s, policy).baselines["after_each_deploy"].runs
    assert [(r.start.strftime("%H:%M"), r.end.strftime("%H:%M"), len(r.executions)) for r in runs] == [
        ("08:30", "08:36", 2),
        ("12:30", "12:32", 1),
    ]


def test_percentiles_interpolate_linearly() -> None:
    assert percentile([1.0], 95) == 1.0
    assert percentile([0.0, 10.0], 50) == 5.0
    assert percentile([0.0, 10.0, 20.0, 30.0, 40.0], 95) == 38.0
