"""Natures a valid policy can never run: check-config warns, naming the windows and why."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from scheduler.policy.model import load_policy
from scheduler.policy.reachability import never_runs

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BASE = "environments: [{name: gstg}]\n"


def warnings_of(text: str) -> list[str]:
    return never_runs(load_policy(BASE + text), NOW)


def only(nature: str, window: str) -> str:
    """`nature` in `window`, every other nature always (a missing nature takes a stricter one's)."""
    others = ["no_op", "background_scheduling", "index_and_constraint", "data_migration", "ddl_cleanup"]
    entries = [f"{n}: {{windows: [{window if n == nature else 'always'}]}}" for n in [*others, "unknown"]]
    return "natures: {" + ", ".join(entries) + "}\n"


def test_a_deny_window_in_force_at_every_minute_stops_every_nature_and_is_named() -> None:
    found = warnings_of("windows: [{name: never, kind: deny, schedule: '* * * * *', duration: 1m}]\n")
    assert len(found) == 6
    assert found[0] == (
        "nature no_op never runs: its windows (always) are covered by deny windows (never) whenever they "
        "open in the next 400 days"
    )


def test_a_window_that_never_fires_is_reported_apart_from_one_that_deny_windows_cover() -> None:
    found = warnings_of(
        "windows: [{name: leap, kind: allow, schedule: '0 0 30 2 *', duration: 5h}]\n"
        + only("ddl_cleanup", "leap")
    )
    assert found == ["nature ddl_cleanup never runs: its windows (leap) never open in the next 400 days"]


def test_openings_shorter_than_the_smallest_run_of_the_nature_are_reported_with_both_lengths() -> None:
    found = warnings_of(
        "windows: [{name: blink, kind: allow, schedule: '15 3 * * 1', duration: 5m}]\n"
        + only("background_scheduling", "blink")
    )
    assert found == [
        "nature background_scheduling never runs in the next 400 days: the longest opening of its windows "
        "(blink) lasts 5m, less than its shortest run (12m with the per-run overhead)"
    ]
    fits = "windows: [{name: blink, kind: allow, schedule: '15 3 * * 1', duration: 12m}]\n"
    assert warnings_of(fits + only("background_scheduling", "blink")) == []


def test_the_search_is_bounded_on_openings_of_a_minute_every_other_minute() -> None:
    found = warnings_of(
        "windows: [{name: each, kind: allow, schedule: '* * * * *', duration: 1m},\n"
        "  {name: odd, kind: deny, schedule: '*/2 * * * *', duration: 1m}]\n" + only("no_op", "each")
    )
    assert found[0] == (
        "nature no_op never runs until Thu 2026-12-10 10:40 UTC (5000 openings looked at): the longest "
        "opening of its windows (each) lasts 1m, less than its shortest run (11m with the per-run overhead)"
    )


def test_deny_windows_leaving_only_the_hour_summer_time_repeats_are_reported_with_the_first_opening() -> None:
    # a deny window for 24 h every local midnight covers every day but the 25-hour one, whose last hour
    # it leaves open: once a year
    found = never_runs(
        load_policy(
            "timezone: Europe/Amsterdam\n"
            + BASE
            + "windows: [{name: days, kind: deny, schedule: '0 0 * * *', duration: 24h}]\n"
            + only("no_op", "always")
        ),
        NOW,
    )
    assert found[0] == (
        "nature no_op seldom runs: its windows (always) leave 1 opening long enough for its shortest run "
        "(11m) in the next 400 days (the first at Sun 2027-10-31 23:00 CET), and up to 332 days pass "
        "without one"
    )


def test_a_yearly_window_is_reported_as_seldom_and_a_monthly_one_is_not() -> None:
    # from the end of one opening (06:00) to the start of the next (02:00 a year later): 364 days 20 h
    yearly = warnings_of(
        "windows: [{name: new-year, kind: allow, schedule: '0 2 1 1 *', duration: 4h}]\n"
        + only("ddl_cleanup", "new-year")
    )
    assert yearly == [
        "nature ddl_cleanup seldom runs: its windows (new-year) leave 2 openings long enough for its "
        "shortest run (11m) in the next 400 days (the first at Fri 2027-01-01 02:00 UTC), and up to 364 "
        "days pass without one"
    ]
    monthly = "windows: [{name: first, kind: allow, schedule: '0 2 1 * *', duration: 4h}]\n"
    assert warnings_of(monthly + only("ddl_cleanup", "first")) == []


def test_an_approval_mode_nature_no_working_hours_precede_within_the_lead_time_is_reported() -> None:
    # weekday nights 01:00-06:00, proposals posted only on Fridays 08:00-18:00 and 1 hour ahead: never
    text = "windows: [{name: nights, kind: allow, schedule: '0 1 * * 1-5', duration: 5h}]\n" + only(
        "index_and_constraint", "nights"
    ).replace(
        "index_and_constraint: {windows: [nights]}",
        "index_and_constraint: {windows: [nights], mode: approval}",
    )
    late = "proposals: {lead_time: 1h, working_hours: {schedule: '0 8 * * 5', duration: 10h}}\n"
    assert warnings_of(text + late) == [
        "nature index_and_constraint (approval) is proposed only once its windows (nights) are open: no "
        "working hours ('0 8 * * 5' for 10h) fall within the lead time (1h) before any of its next 50 "
        "openings, so approvers must answer inside the window"
    ]
    # 72 hours ahead, Friday's working hours precede Monday night's opening
    ahead = "proposals: {lead_time: 72h, working_hours: {schedule: '0 8 * * 5', duration: 10h}}\n"
    assert warnings_of(text + ahead) == []
    assert warnings_of(text.replace("mode: approval", "mode: auto") + late) == []  # auto needs no proposal


def test_a_deploy_schedule_that_leaves_no_time_between_deploys_is_reported() -> None:
    touching = warnings_of("guards: {deploy_schedule: '0 * * * *', deploy_duration: 60m}\n")
    assert touching == [
        "deploy_schedule '0 * * * *' for 1h leaves no time between expected deploys in the next 400 days: "
        "every run delays a deploy"
    ]
    assert warnings_of("guards: {deploy_schedule: '0 * * * *', deploy_duration: 59m}\n") == []


@pytest.mark.parametrize("example", ["policy.yaml", "policy-auto.yaml"])
def test_the_bundled_policies_run_every_nature(example: str) -> None:
    policy = load_policy((Path("examples") / example).read_text(encoding="utf-8"))
    assert never_runs(policy, NOW) == []


def test_check_config_prints_the_warnings_on_stderr_and_still_says_valid(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        BASE
        + "windows: [{name: leap, kind: allow, schedule: '0 0 30 2 *', duration: 5h}]\n"
        + only("ddl_cleanup", "leap")
    )
    result = CliRunner().invoke(cli, ["check-config", "--policy", str(path)])
    assert result.exit_code == 0 and f"{path}: valid" in result.stdout
    assert result.stderr.splitlines() == [
        f"{path}: warning: nature ddl_cleanup never runs: its windows (leap) never open in the next 400 days"
    ]
