"""The deploy forecast: hour-of-week slots from recorded deploy starts; decisions fit between them."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from math import comb, log
from zoneinfo import ZoneInfo

import pytest

from scheduler.lifecycle import approved_part
from scheduler.natures import Nature
from scheduler.plan import decide, project
from scheduler.policy.decision import Action, Approval, DeployedPackage, EnvState, PendingMigration
from scheduler.policy.forecast import DeployForecast, forecast_deploys, relearnt_at
from scheduler.policy.model import load_policy
from tests.support.planning import pending

UTC = ZoneInfo("UTC")
SATURDAY = datetime(2026, 2, 7, tzinfo=UTC)
WEEK = timedelta(days=7)
FOUR_WEEKS = timedelta(days=28)
HOUR = timedelta(hours=1)

POLICY_TEXT = """
environments: [{name: gprd}]
windows:
  - {name: weekend, kind: allow, schedule: "0 0 * * 6", duration: 48h}
natures:
  index_and_constraint: {windows: [weekend], mode: auto}
  no_op: {windows: [always], mode: auto}
durations: {overhead: 0m, index_and_constraint: 45m}
"""
POLICY = load_policy(POLICY_TEXT)


def saturdays_at(hour: int, minute: int, weeks: int) -> list[datetime]:
    """A deploy starting at `hour:minute` on each of the `weeks` Saturdays before SATURDAY."""
    return [SATURDAY - k * WEEK + timedelta(hours=hour, minutes=minute) for k in range(1, weeks + 1)]


def index(version: str) -> PendingMigration:
    return pending(version, Nature.INDEX_AND_CONSTRAINT, SATURDAY - WEEK)


def test_no_forecast_before_one_complete_week() -> None:
    starts = [SATURDAY - timedelta(days=3)]
    assert forecast_deploys(starts, SATURDAY, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC) is None


def test_a_slot_seen_in_enough_complete_weeks_is_expected() -> None:
    starts = saturdays_at(4, 10, 4) + saturdays_at(9, 0, 1)
    forecast = forecast_deploys(
        starts, SATURDAY, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC, observed_since=SATURDAY - 5 * WEEK
    )
    assert forecast is not None and forecast.weeks == 4
    assert [(s.weekday, s.hour, s.seen) for s in forecast.slots] == [(5, 4, 4)]  # 09:00 seen once: 1/4 < 0.5
    assert forecast.next_open(SATURDAY) == SATURDAY + timedelta(hours=4)
    assert forecast.closes_at(SATURDAY + timedelta(hours=4, minutes=30)) == SATURDAY + timedelta(hours=5)
    assert forecast.why(SATURDAY + timedelta(hours=4)) == (
        "deploys expected Sat 04:00–05:00 UTC: seen 4 of the last 4 weeks"
    )
    within = forecast.why(SATURDAY + timedelta(hours=4, minutes=26))
    assert within == forecast.why(SATURDAY + timedelta(hours=4))  # the slot's hour, not the instant's


def test_with_slot_start_minute_a_slot_is_expected_below_its_earliest_start_by_their_spacing() -> None:
    # starts at 04:30, 04:36, 04:42 and 04:48: the next one falls below 04:30 1 time in 5; the mean
    # spacing (6 minutes) below it, 04:24, is where the slot is expected from (by default: 04:00)
    starts = sorted(SATURDAY - k * WEEK + timedelta(hours=4, minutes=24 + 6 * k) for k in range(1, 5))

    def learnt(starts: list[datetime], by_minute: bool = True, weeks: int = 5) -> DeployForecast:
        since = SATURDAY - weeks * WEEK
        found = forecast_deploys(
            starts,
            SATURDAY,
            lookback=FOUR_WEEKS,
            min_share=0.5,
            zone=UTC,
            observed_since=since,
            by_minute=by_minute,
        )
        assert found is not None
        return found

    assert [s.minute for s in learnt(starts).slots] == [24]
    assert learnt(starts).next_open(SATURDAY) == SATURDAY + timedelta(hours=4, minutes=24)
    assert learnt(starts).why(SATURDAY + timedelta(hours=4, minutes=30)) == (
        "deploys expected Sat 04:24–05:00 UTC: seen 4 of the last 4 weeks"
    )
    assert learnt(starts, by_minute=False).next_open(SATURDAY) == SATURDAY + timedelta(hours=4)
    # a slot whose hour before is a slot too holds from its start (the deploy before may still run),
    # and one seen at a single minute only holds from its hour's start
    both = learnt(sorted(starts + saturdays_at(5, 50, 4)))
    assert [(s.hour, s.minute) for s in both.slots] == [(4, 24), (5, 50)]
    assert both.closes_at(SATURDAY + timedelta(hours=4, minutes=30)) == SATURDAY + timedelta(hours=6)
    assert both.is_open(SATURDAY + timedelta(hours=5, minutes=1))
    single = learnt(saturdays_at(4, 10, 1), weeks=2)  # seen in 1 of 2 weeks
    assert single.slots and single.next_open(SATURDAY) == SATURDAY + timedelta(hours=4)


def test_with_slot_start_minute_a_run_may_end_in_a_slots_hour_before_its_deploys_start() -> None:
    starts = tuple(sorted(saturdays_at(4, 10, 4)))  # every deploy of the 04:00 hour started at 04:10
    state = EnvState(
        "gprd",
        (index("20260101000001"),),
        packages=(DeployedPackage("new", SATURDAY - WEEK),),
        deploy_starts=starts,
    )
    now = SATURDAY + timedelta(hours=3, minutes=20)  # 45 minutes to run: ends 04:05
    by_hour = decide(state, POLICY, now)
    assert by_hour.action is Action.WAIT
    assert any(
        "deploys expected Sat 04:00–05:00 UTC: seen 3 of the last 3 weeks" in r for r in by_hour.reasons
    )
    minute = load_policy(POLICY_TEXT + "guards: {deploy_forecast: {slot_start: minute}}\n")
    assert decide(state, minute, now).action is Action.EXECUTE
    later = decide(state, minute, now + timedelta(minutes=10))  # would end 04:15
    assert later.action is Action.WAIT
    assert any("deploys expected Sat 04:10–05:00 UTC: seen 3 of the last 3 weeks" in r for r in later.reasons)


def test_weeks_before_recording_began_do_not_count() -> None:
    starts = saturdays_at(4, 10, 2)
    forecast = forecast_deploys(
        starts, SATURDAY, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC, observed_since=SATURDAY - 2 * WEEK
    )
    assert forecast is not None and forecast.weeks == 2 and forecast.slots[0].seen == 2


def test_a_slot_whose_deploy_already_came_this_week_is_clear() -> None:
    now = SATURDAY + timedelta(hours=4, minutes=20)
    starts = [*saturdays_at(4, 10, 4), SATURDAY + timedelta(hours=4, minutes=5)]
    forecast = forecast_deploys(
        starts, now, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC, observed_since=SATURDAY - 5 * WEEK
    )
    assert forecast is not None
    assert forecast.is_open(now - timedelta(minutes=19)) is False  # the occurrence holding now is served
    assert not forecast.is_open(now)
    assert forecast.next_open(now) == SATURDAY + WEEK + timedelta(hours=4)


def every_third_hour(
    weeks: int, late_weeks: int, until: datetime, days: tuple[int, ...] = (5,)
) -> tuple[datetime, ...]:
    """Deploys at 00:20, 03:20, … on the weekdays `days` (Saturdays) of the `weeks` weeks before
    SATURDAY, then up to `until`; in the `late_weeks` most recent full weeks the Saturday 09:20 deploy
    came at 10:20."""
    first = SATURDAY - weeks * WEEK + timedelta(minutes=20)
    starts = []
    at = first
    while at <= until:
        late = at.weekday() == 5 and at.hour == 9 and SATURDAY - late_weeks * WEEK <= at < SATURDAY
        if at.weekday() in days:
            starts.append(at + HOUR if late else at)
        at += 3 * HOUR
    return tuple(starts)


def test_slot_hours_the_last_deploy_served_are_clear() -> None:
    # Saturday deploys: Sat 09:00 and 10:00 are each seen in 2 of 4 weeks; 9 in 10 gaps last 3 h: a deploy
    # at 09:20 today serves every slot hour that ends by 12:00, and the 12:00 slot (seen 4 of 4) stays
    # expected
    starts = every_third_hour(4, 2, SATURDAY + timedelta(hours=9, minutes=20))
    now = SATURDAY + timedelta(hours=10, minutes=30)
    forecast = forecast_deploys(
        starts, now, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC, observed_since=SATURDAY - 5 * WEEK
    )
    assert forecast is not None
    assert {(5, 9), (5, 10), (5, 12)} <= {(s.weekday, s.hour) for s in forecast.slots}
    assert forecast.is_open(now) is False
    assert forecast.next_open(now) == SATURDAY + timedelta(hours=12)
    assert forecast.closes_at(SATURDAY + timedelta(hours=12, minutes=5)) == SATURDAY + timedelta(hours=13)
    # before today's 09:20 deploy, the last one (06:20) serves nothing past 09:00
    early = SATURDAY + timedelta(hours=7, minutes=30)
    before = forecast_deploys(
        starts[:-1], early, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC, observed_since=SATURDAY - 5 * WEEK
    )
    assert before is not None and before.next_open(early) == SATURDAY + timedelta(hours=9)
    assert before.closes_at(SATURDAY + timedelta(hours=9, minutes=30)) == SATURDAY + timedelta(hours=11)


def test_hours_seen_no_more_often_than_the_pace_of_deploys_explains_are_not_expected_deploys() -> None:
    # deploys every third hour of every day: a third of the hours of the week see one each week. Sat 09:00
    # and 10:00, each seen in 2 of 4 weeks (the 09:20 deploy came an hour late twice), are what that pace
    # gives by chance (1 - (2/3)^4 - 4/3 (2/3)^3 = 41 % of hours); the hours seen 4 of 4 stay expected
    starts = every_third_hour(4, 2, SATURDAY - timedelta(minutes=1), days=tuple(range(7)))
    forecast = forecast_deploys(
        starts, SATURDAY, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC, observed_since=SATURDAY - 5 * WEEK
    )
    assert forecast is not None
    seen = {(s.weekday, s.hour): s.seen for s in forecast.slots}
    assert (5, 9) not in seen and (5, 10) not in seen and seen[5, 12] == 4
    assert len(seen) == 8 * 7 - 1 and set(seen.values()) == {4}
    assert forecast.unsteady == 2
    assert forecast.set_aside() == (
        "2 hours of the week seen in fewer than 3 of the last 4 weeks are not expected deploys: "
        "deploys started in 33% of the hours of a week, so chance explains them; the gaps between deploys "
        "bound runs there"
    )
    # the same two hours in a history of Saturday deploys only stand out: they stay expected
    saturdays = every_third_hour(4, 2, SATURDAY - timedelta(minutes=1))
    sparse = forecast_deploys(
        saturdays, SATURDAY, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC, observed_since=SATURDAY - 5 * WEEK
    )
    assert sparse is not None and sparse.unsteady == 0
    assert {(5, 9), (5, 10)} <= {(s.weekday, s.hour) for s in sparse.slots}


def test_with_deploys_at_few_hours_of_the_week_a_slot_seen_once_is_expected_when_min_share_allows() -> None:
    # weekdays at 10:00 for 4 weeks and one Saturday 04:00 deploy: deploys started in 3 % of the hours of
    # a week, too few for chance to make a slot, so min_share 0.25 keeps Saturday 04:00 (seen 1 of 4)
    weekdays = [
        SATURDAY - w * WEEK - timedelta(days=d) + timedelta(hours=10)
        for w in range(4)
        for d in (1, 2, 3, 4, 5)
    ]
    starts = sorted([*weekdays, SATURDAY - 2 * WEEK + timedelta(hours=4)])
    forecast = forecast_deploys(
        starts, SATURDAY, lookback=FOUR_WEEKS, min_share=0.25, zone=UTC, observed_since=SATURDAY - 5 * WEEK
    )
    assert forecast is not None and forecast.unsteady == 0
    assert [(s.weekday, s.hour, s.seen) for s in forecast.slots] == [
        *((d, 10, 4) for d in range(5)),
        (5, 4, 1),
    ]
    assert forecast.set_aside() == ""


def test_a_run_starts_in_a_slot_hour_the_last_deploy_served() -> None:
    starts = every_third_hour(4, 2, SATURDAY + timedelta(hours=9, minutes=20))
    state = EnvState(
        "gprd",
        (index("20260101000001"),),
        packages=(DeployedPackage("new", SATURDAY - WEEK),),
        deploy_starts=starts,
        observed_since=SATURDAY - 5 * WEEK,
    )
    d = decide(state, POLICY, SATURDAY + timedelta(hours=10, minutes=30))
    assert d.action is Action.EXECUTE and d.migrations == ["20260101000001"]
    due = next(g for g in d.guards if g.name == "deploy_due")
    assert due.ok and (
        "deploys usually start Sat 10:00–11:00 UTC: seen 2 of the last 4 weeks; the one that started "
        "Sat 2026-02-07 09:20 UTC served that hour" in due.reason
    )


def test_slots_are_hours_of_the_local_week_across_dst() -> None:
    ams = ZoneInfo("Europe/Amsterdam")
    sunday = datetime(2026, 3, 29, tzinfo=ams)  # Europe springs forward this night
    starts = [sunday - k * WEEK + timedelta(hours=9) for k in range(1, 5)]
    forecast = forecast_deploys(
        starts, sunday, lookback=FOUR_WEEKS, min_share=0.5, zone=ams, observed_since=sunday - 5 * WEEK
    )
    assert forecast is not None
    assert forecast.next_open(sunday) == datetime(2026, 3, 29, 9, tzinfo=ams)  # 07:00 UTC, not 08:00


def slots_from_scratch(
    starts: list[datetime], now: datetime, zone: ZoneInfo, since: datetime, min_share: float
) -> list[tuple[int, int, int]]:
    """The module docstring's definition, computed directly: the distinct weeks back from the start
    of the current local hour in which each local hour of the week saw a deploy start; of the hours seen
    in `min_share` of the weeks, those seen in 3 of 4 weeks or more, or with a binomial tail (at the share
    of all hour-weeks that saw a deploy) of 1 in 20 at most, or all of them when that share is below 1 in
    10."""
    local = now.astimezone(zone)
    anchor = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    weeks = sum(1 for k in range(1, 5) if anchor - k * WEEK >= since)
    seen: dict[tuple[int, int], set[int]] = {}
    for start in starts:
        if anchor - weeks * WEEK <= start < anchor and start <= now:
            slot = start.astimezone(zone)
            seen.setdefault((slot.weekday(), slot.hour), set()).add((anchor - start) // WEEK)
    share = sum(len(w) for w in seen.values()) / (7 * 24 * weeks)

    def steady(k: int) -> bool:
        tail = sum(comb(weeks, j) * share**j * (1 - share) ** (weeks - j) for j in range(k, weeks + 1))
        return k >= 0.75 * weeks or tail <= 0.05 or share < 0.1

    return [
        (d, h, len(w)) for (d, h), w in sorted(seen.items()) if len(w) >= min_share * weeks and steady(len(w))
    ]


@pytest.mark.parametrize("zone", [UTC, ZoneInfo("Europe/Amsterdam")], ids=["UTC", "Amsterdam"])
def test_slots_and_gaps_learnt_as_time_moves_on_are_those_learnt_from_scratch(zone: ZoneInfo) -> None:
    """Decisions in time order move the learnt weeks and gaps forward instead of recounting them; every
    answer must equal a count from scratch: hour steps and jumps (forward beyond a week, and back),
    starts on the hour (the week back of the current hour's slot changes with them), twin starts, DST
    in March."""
    rng = random.Random(12)
    since = datetime(2026, 2, 2, tzinfo=UTC)
    starts: list[datetime] = []
    for day in range(70):
        for _ in range(rng.randint(2, 7)):
            minute = 0 if rng.random() < 0.3 else rng.randint(0, 59)
            starts.append(since + timedelta(days=day, hours=rng.randint(0, 23), minutes=minute))
    starts += rng.sample(starts, 20)  # twin starts
    starts.sort()
    now, checked = since + timedelta(days=8), 0
    while now < since + timedelta(days=70):
        forecast = forecast_deploys(
            starts, now, lookback=FOUR_WEEKS, min_share=0.5, zone=zone, observed_since=since, cap=HOUR
        )
        assert forecast is not None
        assert [(s.weekday, s.hour, s.seen) for s in forecast.slots] == slots_from_scratch(
            starts, now, zone, since, 0.5
        ), now
        recent = [s for s in starts if now - FOUR_WEEKS <= s <= now]
        assert forecast.gaps == tuple(sorted(b - a for a, b in pairwise(recent))), now
        checked += 1
        jump = rng.random()
        if jump < 0.03:
            now += timedelta(days=9)
        elif jump < 0.06:
            now -= timedelta(hours=5)
        else:
            now += timedelta(minutes=rng.choice([0, 20, 60, 60, 60, 130]))
    assert checked > 200


def test_a_batch_is_cut_to_end_before_the_forecast_deploy() -> None:
    pending = (index("20260101000001"), index("20260101000002"), index("20260101000003"))
    state = EnvState(
        "gprd",
        pending,
        packages=(DeployedPackage("new", SATURDAY - WEEK),),
        deploy_starts=tuple(saturdays_at(2, 0, 4)),
        observed_since=SATURDAY - 5 * WEEK,
    )
    d = decide(state, POLICY, SATURDAY)
    assert d.action is Action.EXECUTE and d.migrations == [
        "20260101000001",
        "20260101000002",
    ]  # 90 of 120 min
    assert any("deploys expected Sat 02:00–03:00 UTC: seen 4 of the last 4 weeks" in r for r in d.reasons)
    # the batch ends before the deploy; its window (and so an approval of it) lasts the weekend
    assert d.window_closes_at == SATURDAY + timedelta(days=2)
    runs = project(state, POLICY, SATURDAY, timedelta(days=2))
    assert [r.migrations for r in runs] == [["20260101000001", "20260101000002"], ["20260101000003"]]
    assert runs[1].at >= SATURDAY + timedelta(hours=3)


def test_without_history_the_deploy_guard_says_why_it_does_not_block() -> None:
    state = EnvState("gprd", (index("20260101000001"),), packages=(DeployedPackage("new", SATURDAY - WEEK),))
    d = decide(state, POLICY, SATURDAY)
    guard = next(g for g in d.guards if g.name == "deploy_due")
    assert d.action is Action.EXECUTE and guard.ok and not guard.configured
    assert (
        "deploy_schedule not configured; deploy forecast: less than one complete week of history"
        in guard.reason
    )


def test_forecast_off_ignores_the_history() -> None:
    off = load_policy(POLICY_TEXT + "guards: {deploy_forecast: off}\n")
    state = EnvState(
        "gprd",
        (index("20260101000001"),),
        packages=(DeployedPackage("new", SATURDAY - WEEK),),
        deploy_starts=tuple(saturdays_at(0, 10, 4)),
        observed_since=SATURDAY - 5 * WEEK,
    )
    assert decide(state, POLICY, SATURDAY).action is Action.WAIT  # the forecast holds Sat 00:00–01:00
    d = decide(state, off, SATURDAY)
    guard = next(g for g in d.guards if g.name == "deploy_due")
    assert d.action is Action.EXECUTE and "deploy_forecast off" in guard.reason


SQUEEZE_TEXT = """
environments: [{name: gprd}]
natures:
  index_and_constraint: {windows: [always], mode: auto}
durations: {overhead: 0m, index_and_constraint: 45m}
guards: {deploy_schedule: "0 %s * * *", deploy_duration: 30m}
"""


def test_when_no_gap_fits_the_head_takes_the_largest_gap_and_says_which_deploy_waits() -> None:
    policy = load_policy(SQUEEZE_TEXT % "*")
    state = EnvState("gprd", (index("20260101000001"),), packages=(DeployedPackage("new", SATURDAY - WEEK),))
    d = decide(state, policy, SATURDAY + timedelta(minutes=30))
    assert d.action is Action.EXECUTE and d.migrations == ["20260101000001"]
    assert any(
        "takes the largest gap and delays the deploy due at Sat 2026-02-07 01:00 UTC by about 15m" in n
        for n in d.notices
    )


def test_a_proposal_squeezed_in_before_a_scheduled_deploy_is_revisited_where_the_squeeze_stops() -> None:
    # deploys every hour for 30 minutes: a 45-minute index fits no gap and takes the one it is in while
    # that keeps the 01:00 deploy waiting not much longer than right after it would; the gap shrinks with
    # the clock, so the waiting proposal's answer changes at a minute no expected deploy marks
    policy = load_policy((SQUEEZE_TEXT % "*").replace("mode: auto", "mode: approval"))
    state = EnvState("gprd", (index("20260101000001"),), packages=(DeployedPackage("new", SATURDAY - WEEK),))
    now = SATURDAY + timedelta(minutes=30)
    d = decide(state, policy, now, follow_up=True)
    assert d.action is Action.PROPOSE and d.revisit_at is not None
    minutes = int((d.revisit_at - now) / timedelta(minutes=1))
    assert 0 < minutes < 30
    steps = [decide(state, policy, now + timedelta(minutes=m)) for m in range(minutes)]
    assert all(s.action is Action.PROPOSE and s.migrations == d.migrations for s in steps)
    assert decide(state, policy, d.revisit_at).action is Action.WAIT  # the next gap is the better moment
    assert decide(state, policy, now).revisit_at is None  # the worker, evaluating every minute, needs none


def test_a_head_waits_for_a_later_gap_that_fits_it() -> None:
    policy = load_policy(SQUEEZE_TEXT % "0-11")
    state = EnvState("gprd", (index("20260101000001"),), packages=(DeployedPackage("new", SATURDAY - WEEK),))
    d = decide(state, policy, SATURDAY + timedelta(minutes=30))
    assert d.action is Action.WAIT and d.next_window_at == SATURDAY + timedelta(hours=11, minutes=30)


def test_a_head_that_deploys_expected_without_a_break_leave_no_gap_runs_now_rather_than_never() -> None:
    policy = load_policy(SQUEEZE_TEXT.replace("30m}", "60m}") % "*")  # every hour, each for an hour
    state = EnvState("gprd", (index("20260101000001"),), packages=(DeployedPackage("new", SATURDAY - WEEK),))
    d = decide(state, policy, SATURDAY + timedelta(minutes=30))
    assert d.action is Action.EXECUTE and d.migrations == ["20260101000001"]
    assert d.notices == [
        "deploys are expected without a break until further notice: 20260101000001 (index_and_constraint) "
        "(estimate 45m) runs now rather than never; a deploy may wait (up to 45m)"
    ]
    weekend = load_policy(
        POLICY_TEXT + "guards: {deploy_schedule: '0 * * * *', deploy_duration: 60m}\n"
    )  # the weekend window closes before the deploys stop: the head takes it
    d = decide(state, weekend, SATURDAY + timedelta(hours=3))
    assert d.action is Action.EXECUTE
    assert any("deploys are expected without a break until window weekend closes" in n for n in d.notices)


def test_a_head_deploys_leave_no_break_for_waits_for_room_in_its_own_window_before_a_deny_window() -> None:
    policy = load_policy(
        SQUEEZE_TEXT.replace("30m}", "60m}").replace("45m}", "90m}") % "*"
        + "windows: [{name: backups, kind: deny, schedule: '0 2 * * *', duration: 1h}]\n"
    )  # every hour for an hour, and no migration during the 02:00 backups
    state = EnvState("gprd", (index("20260101000001"),), packages=(DeployedPackage("new", SATURDAY - WEEK),))
    d = decide(state, policy, SATURDAY + HOUR)  # 90 minutes from 01:00 reach into the backups
    assert d.action is Action.WAIT and d.next_window_at == SATURDAY + 3 * HOUR
    minutes = int((d.next_window_at - (SATURDAY + HOUR)) / timedelta(minutes=1))
    steps = [decide(state, policy, SATURDAY + HOUR + timedelta(minutes=m)).action for m in range(minutes)]
    assert steps == [Action.WAIT] * minutes
    after = decide(state, policy, SATURDAY + 3 * HOUR)
    assert after.action is Action.EXECUTE
    assert after.notices[0].startswith("deploys are expected without a break until window always closes")


def test_a_head_no_gap_fits_is_not_squeezed_into_an_opening_shorter_than_itself() -> None:
    policy = load_policy(
        SQUEEZE_TEXT.replace("windows: [always]", "windows: [quarters]") % "*"
        + "windows: [{name: quarters, kind: allow, schedule: '*/15 * * * *', duration: 10m}]\n"
    )  # a deploy every hour for 30 minutes; the 45-minute head's window opens 10 minutes at a time
    state = EnvState("gprd", (index("20260101000001"),), packages=(DeployedPackage("new", SATURDAY - WEEK),))
    actions = {decide(state, policy, SATURDAY + timedelta(minutes=m)).action for m in range(0, 24 * 60, 5)}
    assert actions == {Action.WAIT}


def test_deploys_expected_without_a_break_for_longer_than_a_squeeze_looks_ahead_let_a_head_run_now() -> None:
    policy = load_policy(SQUEEZE_TEXT.replace("30m}", "60m}") % "0-20")  # 00:00–21:00 without a break
    state = EnvState("gprd", (index("20260101000001"),), packages=(DeployedPackage("new", SATURDAY - WEEK),))
    early = decide(state, policy, SATURDAY + timedelta(hours=2))  # the break is 19 h away: run now
    assert early.action is Action.EXECUTE
    assert early.notices[0].startswith("deploys are expected without a break until Sat 2026-02-07 21:00 UTC:")
    late = decide(state, policy, SATURDAY + timedelta(hours=10))  # 11 h away: within the look, wait
    assert late.action is Action.WAIT and late.next_window_at == SATURDAY + timedelta(hours=21)


def test_an_approved_batch_no_gap_fits_runs_one_migration_per_squeeze_and_keeps_the_rest_approved() -> None:
    # the worker runs an approved run in parts: a squeezed head delays one deploy by its own estimate, not
    # by the whole batch's (each 45-minute index in a 30-minute gap)
    policy = load_policy(SQUEEZE_TEXT.replace("30m}", "60m}").replace("mode: auto", "mode: approval") % "*")
    items = (index("20260101000001"), index("20260101000002"))
    approved = Approval("20260101000002", ("U1",))
    state = EnvState("gprd", items, packages=(DeployedPackage("new", SATURDAY - WEEK),), approval=approved)
    d = decide(state, policy, SATURDAY + timedelta(minutes=30))
    assert d.action is Action.EXECUTE and d.migrations == ["20260101000001"]
    assert "a deploy may wait (up to 45m)" in d.notices[0]  # the head's estimate, not the batch's
    assert approved_part(["20260101000001", "20260101000002"], d.migrations) == ["20260101000001"]
    rest = replace(state, pending=items[1:])
    later = decide(rest, policy, SATURDAY + timedelta(hours=1, minutes=30))
    assert later.action is Action.EXECUTE and later.migrations == ["20260101000002"]


def test_a_head_waits_for_the_end_of_deploys_expected_without_a_break_when_its_window_outlasts_them() -> None:
    policy = load_policy(SQUEEZE_TEXT.replace("30m}", "60m}") % "0-11")  # 00:00–12:00 without a break
    state = EnvState("gprd", (index("20260101000001"),), packages=(DeployedPackage("new", SATURDAY - WEEK),))
    d = decide(state, policy, SATURDAY + timedelta(minutes=30))
    assert d.action is Action.WAIT and d.next_window_at == SATURDAY + timedelta(hours=12)


def every(gap: timedelta, count: int, last: datetime) -> tuple[datetime, ...]:
    """`count` deploy starts `gap` apart, the last one at `last`."""
    return tuple(sorted(last - k * gap for k in range(count)))


def starts_apart(gaps: list[timedelta], last: datetime) -> tuple[datetime, ...]:
    """Deploy starts separated by `gaps` (most recent gap first), the last one at `last`."""
    return tuple(sorted(last - sum(gaps[:k], timedelta(0)) for k in range(len(gaps) + 1)))


LONG_POLICY = load_policy(POLICY_TEXT.replace("index_and_constraint: 45m", "index_and_constraint: 150m"))


def one_long_index(starts: tuple[datetime, ...]) -> EnvState:
    """gprd with one pending 150-minute index and the deploy `starts`."""
    return EnvState(
        "gprd",
        (index("20260101000001"),),
        packages=(DeployedPackage("new", SATURDAY - WEEK),),
        deploy_starts=starts,
    )


def test_runs_end_where_19_in_20_comparable_gaps_had_not_ended_even_before_a_complete_week() -> None:
    now = SATURDAY + timedelta(hours=12)
    starts = every(timedelta(hours=2), 10, now - timedelta(hours=1))  # 9 gaps of 2 h, the last start 1 h ago
    pending = (index("20260101000001"), index("20260101000002"))
    state = EnvState(
        "gprd", pending, packages=(DeployedPackage("new", SATURDAY - WEEK),), deploy_starts=starts
    )
    d = decide(state, POLICY, now)
    assert d.action is Action.EXECUTE and d.migrations == ["20260101000001"]  # 45 min of the 1 h left
    assert any(
        "deploys are coming: the last one started Sat 2026-02-07 11:00 UTC, and 19 in 20 of the comparable "
        "gaps between the last 9 deploys lasted at least 2h: runs end before then" in r
        for r in d.reasons
    )


def test_the_room_shrinks_as_the_gap_ages_and_is_the_deploy_duration_beyond_every_seen_gap() -> None:
    last = SATURDAY + timedelta(hours=10)
    gaps = [timedelta(minutes=m) for m in (100, 120, 140, 160, 180, 200, 220, 240, 260, 280)]
    starts = starts_apart(gaps, last)
    forecast = forecast_deploys(
        starts,
        last + timedelta(minutes=1),
        lookback=FOUR_WEEKS,
        min_share=0.5,
        zone=UTC,
        cap=timedelta(minutes=60),
    )
    assert forecast is not None and forecast.weeks == 0
    # 1 h after the last start all 10 gaps are longer; 19 in 20 of them lasted 100 min or more
    assert forecast.next_open(last + timedelta(hours=1)) == last + timedelta(minutes=100)
    # at 3 h, 5 gaps (200–280 min) are longer; 19 in 20 of those lasted 200 min or more
    assert forecast.next_open(last + timedelta(hours=3)) == last + timedelta(minutes=200)
    # beyond the longest gap seen, a deploy may come at any moment: runs stay within deploy_duration
    beyond = last + timedelta(minutes=281)
    assert forecast.next_open(beyond) == beyond + timedelta(minutes=60)


def test_a_run_no_gap_fits_waits_for_a_moment_as_clear_as_right_after_a_deploy() -> None:
    last = SATURDAY + timedelta(hours=10)
    gaps = [timedelta(hours=3 + k % 3) for k in range(11)]  # 3, 4 or 5 h: none leaves 150 min with 19 in 20
    state = one_long_index(starts_apart(gaps, last))
    fresh = decide(state, LONG_POLICY, last + timedelta(minutes=60))  # the deploy just ended
    assert fresh.action is Action.EXECUTE and fresh.migrations == ["20260101000001"]
    assert any("runs alone now, about as clear a moment as right after a deploy" in n for n in fresh.notices)
    # 100 min in, only the 5 h gaps (4 of 11) would outlast the run: right after the next deploy,
    # 7 of 11 gaps would; the run waits for it
    late = decide(state, LONG_POLICY, last + timedelta(minutes=100))
    assert late.action is Action.WAIT and late.migrations == []


def test_a_run_no_gap_fits_and_nothing_presses_waits_for_a_moment_nearly_as_clear_as_a_fresh_one() -> None:
    last = SATURDAY + timedelta(hours=10)
    state = one_long_index(starts_apart([timedelta(hours=h) for h in (3, 3, 4, 4, 4, 5, 5, 5, 5, 5)], last))
    # 100 min in, 5 of 10 gaps would outlast the run; right after a deploy (60 min in) 8 of 10 would:
    # 5/8 is less than 9 in 10, and 150 min are 7 % of what is left of the weekend: the run waits
    d = decide(state, LONG_POLICY, last + timedelta(minutes=100))
    assert d.action is Action.WAIT and d.migrations == []


def test_a_pressing_backlog_starts_when_its_clear_chance_is_three_in_five_of_a_fresh_moment() -> None:
    last = SATURDAY + timedelta(hours=10)
    starts = starts_apart([timedelta(hours=h) for h in (3, 3, 4, 4, 4, 5, 5, 5, 5, 5)], last)
    versions = [f"2026010100000{k}" for k in range(1, 6)]
    state = EnvState(
        "gprd",
        tuple(index(v) for v in versions),
        packages=(DeployedPackage("new", SATURDAY - WEEK),),
        deploy_starts=starts,
    )
    # five 150-minute indexes (12.5 h) fill 34 % of the 36 h 20 m left of the weekend: 5/8 is at least
    # 3 in 5, so the head starts now rather than after the next deploy
    d = decide(state, LONG_POLICY, last + timedelta(minutes=100))
    assert d.action is Action.EXECUTE and d.migrations == versions[:1]
    assert any("50 % chance" in n and "runs alone now" in n for n in d.notices)


def test_a_backlog_gaps_cannot_hold_starts_when_its_clear_chance_is_three_in_ten_of_a_fresh_moment() -> None:
    last = SATURDAY + timedelta(hours=10)
    starts = starts_apart([timedelta(hours=h) for h in (3, 3, 3, 4, 4, 4, 4, 5, 5, 5)], last)
    now = last + timedelta(minutes=100)  # 3 of 10 gaps would outlast the run, 7 of 10 right after a deploy

    def backlog(count: int) -> EnvState:
        versions = tuple(index(f"202601010000{k:02d}") for k in range(count))
        return EnvState(
            "gprd", versions, packages=(DeployedPackage("new", SATURDAY - WEEK),), deploy_starts=starts
        )

    # 3/7 is less than 3 in 5: five 150-minute indexes (12.5 h, 34 % of the 36 h 20 m left) wait
    assert decide(backlog(5), LONG_POLICY, now).action is Action.WAIT
    # ten (25 h, 69 %) cannot drain in the room gaps leave: 3/7 is at least 3 in 10, the head starts now
    d = decide(backlog(10), LONG_POLICY, now)
    assert d.action is Action.EXECUTE and d.migrations == ["20260101000000"]
    assert any(
        "runs alone now, rather than wait for a clearer moment (everything pending (estimate 25h) fills 69% "
        "of what is left of window weekend)"
        in n
        and "70 % chance" in n
        for n in d.notices
    )


def five_hourly_and_saturdays_at_ten(last: datetime) -> tuple[datetime, ...]:
    """A deploy every 5 h (no hour of the week twice in 4 weeks) up to `last`, and one every Saturday
    10:10 of the 4 weeks before SATURDAY (a slot)."""
    stream = [last - k * timedelta(hours=5) for k in range(134)]
    return tuple(sorted({*stream, *saturdays_at(10, 10, 4)}))


def test_later_gaps_are_measured_between_firm_slots_with_the_room_a_fresh_deploy_leaves() -> None:
    last = SATURDAY + timedelta(hours=5)
    starts = five_hourly_and_saturdays_at_ten(last)
    now = SATURDAY + timedelta(hours=8, minutes=40)
    forecast = forecast_deploys(
        starts, now, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC, cap=timedelta(minutes=60)
    )
    assert forecast is not None and [(s.weekday, s.hour) for s in forecast.slots] == [(5, 10)]
    after_slot = SATURDAY + timedelta(hours=11)
    # the soft room after the slot is measured from the 05:00 deploy: beyond every seen gap, one hour
    assert forecast.next_open(after_slot) == after_slot + timedelta(minutes=60)
    assert forecast.next_firm(after_slot) == SATURDAY + WEEK + timedelta(hours=10)
    # most gaps are 5 h: 19 in 20 of those longer than the deploy's hour lasted 5 h, 4 h after it ended
    assert forecast.fresh_room() == timedelta(hours=4)


def test_a_light_backlog_waits_for_a_later_gap_rather_than_delaying_a_slot_deploy() -> None:
    starts = five_hourly_and_saturdays_at_ten(SATURDAY + timedelta(hours=5))
    now = SATURDAY + timedelta(hours=8, minutes=40)  # 80 min before the 10:00 slot; 150 min to run
    d = decide(one_long_index(starts), LONG_POLICY, now)
    assert d.action is Action.WAIT and d.next_window_at == SATURDAY + timedelta(hours=11)
    assert any("a deploy is due at Sat 2026-02-07 10:00 UTC" in r for r in d.reasons)
    # twenty of them fill more than the 39 h left of the weekend: the head takes this gap
    backlog = EnvState(
        "gprd",
        tuple(index(f"202601010000{k:02d}") for k in range(20)),
        packages=(DeployedPackage("new", SATURDAY - WEEK),),
        deploy_starts=starts,
    )
    d = decide(backlog, LONG_POLICY, now)
    assert d.action is Action.EXECUTE and d.migrations == ["20260101000000"]
    assert any(
        "delays the deploy due at Sat 2026-02-07 10:00 UTC (deploys expected Sat 10:00–11:00 UTC: seen 3 "
        "of the last 3 weeks) by about 1h10m; everything pending (estimate 50h) fills 127% of what is "
        "left of window weekend" in n
        for n in d.notices
    )


def test_the_expected_wait_of_a_run_is_the_mean_of_what_is_left_of_it_when_each_comparable_gap_ends() -> None:
    last = SATURDAY + timedelta(hours=10)
    gaps = [timedelta(minutes=m) for m in (100, 120, 140, 160, 180, 200, 220, 240, 260, 280)]
    forecast = forecast_deploys(
        starts_apart(gaps, last),
        last + timedelta(minutes=1),
        lookback=FOUR_WEEKS,
        min_share=0.5,
        zone=UTC,
        cap=timedelta(minutes=60),
    )
    assert forecast is not None and not forecast.slots
    run = timedelta(minutes=90)
    # 60 min in, the gaps of 100, 120 and 140 min end 40, 60 and 80 min into the run: 50 + 30 + 10 min
    # left of it, over the 10 gaps
    assert forecast.expected_wait(last + timedelta(minutes=60), run) == timedelta(minutes=9)
    # a gap that starts when a deploy ends later is as old as a deploy: the same wait
    assert forecast.expected_wait(last + timedelta(hours=3), run, fresh=True) == timedelta(minutes=9)
    # 3 h in, the 5 longer gaps (200–280 min) end 20, 40, 60, 80 and 100 min into the run: 70 + 50 + 30
    # + 10 min left of it, over 5
    assert forecast.expected_wait(last + timedelta(hours=3), run) == timedelta(minutes=32)
    # beyond every seen gap a deploy may come at once: it waits for the whole run
    assert forecast.expected_wait(last + timedelta(minutes=281), run) == run


def five_hourly_with_quick_follow_ups(last: datetime) -> tuple[datetime, ...]:
    """`five_hourly_and_saturdays_at_ten`, and a second deploy 70 min after every tenth one: one gap in
    ten ends 10 min after a deploy's hour, so the room right after a deploy is 10 min, 19 times in 20."""
    stream = five_hourly_and_saturdays_at_ten(last)
    return tuple(sorted({*stream, *(s + timedelta(minutes=70) for s in stream[-1::-10][1:])}))


def test_a_head_no_gap_fits_waits_past_a_slot_when_deploys_after_it_would_delay_it_far_less() -> None:
    starts = five_hourly_with_quick_follow_ups(SATURDAY + timedelta(hours=5))
    now = SATURDAY + timedelta(hours=9, minutes=30)  # 30 min before the 10:00 slot; 150 min to run
    forecast = forecast_deploys(
        starts, now, lookback=FOUR_WEEKS, min_share=0.5, zone=UTC, cap=timedelta(minutes=60)
    )
    # the Saturday 10:00 slot is the only firm one: the hours the follow-ups saw in 2 of 3 weeks are no
    # more than the pace of deploys explains
    assert forecast is not None and [(s.weekday, s.hour) for s in forecast.slots] == [(5, 10)]
    assert forecast.unsteady == 3
    assert forecast.next_firm(SATURDAY + timedelta(hours=11)) == SATURDAY + WEEK + timedelta(hours=10)
    assert forecast.fresh_room() == timedelta(minutes=10)  # no later gap fits it 19 times in 20
    run = timedelta(minutes=150)
    # now the slot's deploy waits 2 h for sure; after it, one gap in ten or so ends 10 min in
    assert forecast.expected_wait(now, run) == timedelta(hours=2)
    after = forecast.expected_wait(SATURDAY + timedelta(hours=11), run, fresh=True)
    assert timedelta(minutes=10) < after < timedelta(minutes=20)
    d = decide(one_long_index(starts), LONG_POLICY, now)
    assert d.action is Action.WAIT and d.next_window_at == SATURDAY + timedelta(hours=11)
    assert any("would not end before Sat 2026-02-07 10:00 UTC" in r for r in d.reasons)


def weekdays_every_two_hours_and_one_saturday() -> list[datetime]:
    """Four weeks of deploys every 2 h from Monday 00:00 to Friday 22:00 up to SATURDAY; two weeks back
    Friday's last came at 12:00 and one came on Saturday 14:10."""
    weekdays = [SATURDAY - w * WEEK - timedelta(days=5, hours=-2 * k) for w in range(4) for k in range(60)]
    quiet = (SATURDAY - 2 * WEEK - timedelta(hours=12), SATURDAY - 2 * WEEK)
    kept = [s for s in weekdays if not quiet[0] < s < quiet[1]]
    return sorted([*kept, SATURDAY - 2 * WEEK + timedelta(hours=14, minutes=10)])


def few_gaps_forecast(now: datetime) -> DeployForecast:
    forecast = forecast_deploys(
        weekdays_every_two_hours_and_one_saturday(),
        now,
        lookback=FOUR_WEEKS,
        min_share=0.5,
        zone=UTC,
        cap=timedelta(minutes=60),
    )
    assert forecast is not None and forecast.weeks == 3
    return forecast


def test_with_few_gaps_as_long_as_the_current_one_runs_stay_as_short_as_the_rate_they_ended_at_allows() -> (
    None
):
    now = SATURDAY + timedelta(hours=1)  # 3 h after Friday's 22:00 deploy
    forecast = few_gaps_forecast(now)
    # 4 of 235 gaps lasted longer (26h10m, 33h50m, 50h, 50h): the shortest would leave until Sunday
    # 00:10. Together they lasted 148 h beyond 3 h, and 4 ended: at that rate 19 in 20 runs of
    # 148 h × -ln(0.95) / 4 = 1h53m end before a deploy
    calm = timedelta(hours=148) * -log(0.95) / 4
    assert forecast.next_open(now) == now + timedelta(minutes=calm // timedelta(minutes=1))
    assert forecast.why(forecast.next_open(now) or now) == (
        "deploys are coming: the last one started Fri 2026-02-06 22:00 UTC, and only 4 of the last 235 gaps "
        "between deploys lasted this long, too few to say more: runs end before then, as 19 in 20 would at "
        "the rate those gaps ended (or within the room a gap leaves right after a deploy)"
    )
    # never shorter than the room right after a deploy (19 in 20 gaps lasted 2 h: 1 h after its end):
    # at 23:00 the 4 longer gaps lasted 60 h beyond 25 h together, which at their rate leaves 46 min
    late = SATURDAY + timedelta(hours=23)
    assert few_gaps_forecast(late).next_open(late) == late + timedelta(hours=1)


def test_with_few_gaps_as_long_as_the_current_one_the_room_ends_at_an_hour_that_saw_deploys() -> None:
    now = SATURDAY + timedelta(hours=13)  # 15 h after Friday's 22:00 deploy
    forecast = few_gaps_forecast(now)
    # 4 gaps lasted longer, 100 h beyond 15 h together: 1h16m at their rate; but a deploy started on
    # Saturday 14:00–15:00 in one of the 3 weeks: the room ends there
    assert forecast.next_open(now) == SATURDAY + timedelta(hours=14)
    why = (
        "deploys are coming: the last one started Fri 2026-02-06 22:00 UTC, too few of the last 235 gaps "
        "between deploys lasted this long to say more, and deploys started Sat 14:00–15:00 UTC: seen 1 of "
        "the last 3 weeks: runs end before then"
    )
    assert forecast.why(SATURDAY + timedelta(hours=14)) == why
    starts = weekdays_every_two_hours_and_one_saturday()
    state = EnvState(
        "gprd",
        tuple(index(f"202601010000{k:02d}") for k in range(3)),
        packages=(DeployedPackage("new", SATURDAY - WEEK),),
        deploy_starts=tuple(starts),
        observed_since=starts[0],
    )
    d = decide(state, POLICY, now)
    assert d.action is Action.EXECUTE and len(d.migrations) == 1  # 45 min end by 13:45
    assert any(f"would not end before Sat 2026-02-07 14:00 UTC ({why})" in r for r in d.reasons)


ROOMY_POLICY = load_policy(
    POLICY_TEXT.replace("index_and_constraint: 45m", "index_and_constraint: 150m")
    + "guards: {deploy_forecast: {lookback: 28d, min_share: 1.0}}\n"
)


def drifting_starts() -> tuple[datetime, ...]:
    """Deploys 6h20m apart (no hour of the week every week), ten 7h20m and three 30 h gaps before, the
    last at Saturday 02:00, and one more on the Saturday before at 08:15: Saturday 08:00–09:00 saw
    deploys, in fewer weeks than a slot needs."""
    gaps = (
        [timedelta(hours=6, minutes=20)] * 60
        + [timedelta(hours=7, minutes=20)] * 10
        + [timedelta(hours=30)] * 3
    )
    return tuple(
        sorted(
            {
                *starts_apart(gaps, SATURDAY + timedelta(hours=2)),
                SATURDAY - WEEK + timedelta(hours=8, minutes=15),
            }
        )
    )


def test_the_room_of_a_gap_may_change_only_when_a_seen_gap_or_an_hour_that_saw_deploys_ends() -> None:
    now = SATURDAY + timedelta(hours=8, minutes=30)  # 6h30m after the last start: 13 gaps lasted longer
    forecast = forecast_deploys(
        drifting_starts(), now, lookback=FOUR_WEEKS, min_share=1.0, zone=UTC, cap=timedelta(minutes=60)
    )
    assert forecast is not None and forecast.slots == ()
    run = timedelta(minutes=150)
    assert forecast.next_open(now) == now  # inside an hour that saw deploys: one may come at any moment
    assert forecast.next_change(now, run) == SATURDAY + timedelta(hours=9)  # that hour ends
    nine = SATURDAY + timedelta(hours=9)
    assert forecast.next_change(nine, run) == SATURDAY + timedelta(hours=9, minutes=20)  # the 7h20m gaps end
    # then only the 30 h gaps are longer: the next change is when a run of 150 min would outlast them
    later = SATURDAY + timedelta(hours=9, minutes=20)
    assert forecast.next_change(later, run) == SATURDAY + timedelta(hours=2 + 30) - run


def test_a_head_waiting_for_the_room_of_a_gap_is_projected_to_start_at_the_first_minute_it_would() -> None:
    starts = drifting_starts()
    state = EnvState(
        "gprd",
        (index("20260101000001"),),
        packages=(DeployedPackage("new", SATURDAY - WEEK),),
        deploy_starts=starts,
        observed_since=starts[0],
    )
    now = SATURDAY + timedelta(hours=8, minutes=30)
    d = decide(state, ROOMY_POLICY, now)
    # the room ended inside Saturday 08:00–09:00, and only 3 of the 13 longer gaps would outlast the run
    # (right after a deploy, 36 of 37 would): the head waits; the search used to stall at `now`
    assert d.action is Action.WAIT and d.next_window_at is not None
    assert any("deploys started Sat 08:00–09:00 UTC: seen 2 of the last 3 weeks" in r for r in d.reasons)
    minutes = int((d.next_window_at - now) / timedelta(minutes=1))
    assert [decide(state, ROOMY_POLICY, now + timedelta(minutes=m)).action for m in range(minutes)] == [
        Action.WAIT
    ] * minutes
    assert decide(state, ROOMY_POLICY, d.next_window_at).action is Action.EXECUTE


def test_a_head_waiting_for_a_clearer_moment_is_projected_to_the_minute_its_chance_allows() -> None:
    last = SATURDAY + timedelta(hours=10)
    short = [timedelta(minutes=200 + 2 * k) for k in range(30)]  # 200, 202, … 258 min
    long = [timedelta(minutes=600 + 7 * k) for k in range(15)]  # 600 … 698 min
    state = one_long_index(starts_apart(short + long, last))
    now = last + timedelta(minutes=150)
    # A 150-minute run from now outlasts only the 15 long gaps; right after a deploy it would outlast 39
    # of 45 (all but the 6 gaps of 210 min or less). Nothing presses (150 min of a weekend): 15 / n is
    # 9 in 10 of 39 / 45 once n ≤ 19 gaps are as long as the current one, when the 250-minute gap ends
    # (14:10). The room's end moves by the 19-in-20 quantile and skips some of those instants; the
    # search steps at each of them.
    d = decide(state, LONG_POLICY, now)
    assert d.action is Action.WAIT and d.next_window_at == last + timedelta(minutes=250)
    minutes = int((d.next_window_at - now) / timedelta(minutes=1))
    before = {decide(state, LONG_POLICY, now + timedelta(minutes=m)).action for m in range(minutes)}
    assert before == {Action.WAIT}
    assert decide(state, LONG_POLICY, d.next_window_at).action is Action.EXECUTE


def expected_by_hour(forecast: DeployForecast, at: datetime) -> bool:
    """The definition, hour by hour: the local hour of `at` is a slot (with `by_minute`, from the minute
    its stretch starts at: below the earliest start seen by the mean spacing of the starts seen, or its
    start when the hour before is a slot too), it is not the occurrence a deploy already served, and it
    does not end by the time the last deploy served."""
    local = at.astimezone(forecast.zone)
    hour = local.replace(minute=0, second=0, microsecond=0).astimezone(UTC)
    slots = {(s.weekday, s.hour): s.minute for s in forecast.slots}  # 0 unless by_minute
    before = (hour - HOUR).astimezone(forecast.zone)
    minute = 0 if (before.weekday(), before.hour) in slots else slots.get((local.weekday(), local.hour), 0)
    slot = (local.weekday(), local.hour) in slots and at >= hour + timedelta(minutes=minute)
    cleared = forecast.cleared is not None and at < forecast.cleared
    return slot and hour != forecast.served and not cleared


def stretch_starts(forecast: DeployForecast, hours: list[datetime]) -> list[datetime]:
    """Where the definition may turn true: each hour's start and the minute its slot's stretch starts at."""
    return sorted({*hours, *(h + timedelta(minutes=s.minute) for h in hours for s in forecast.slots)})


@pytest.mark.parametrize("by_minute", [False, True], ids=["from the hour", "from the minute"])
@pytest.mark.parametrize(
    "zone",
    [UTC, ZoneInfo("Europe/Amsterdam"), ZoneInfo("Asia/Kolkata")],
    ids=["UTC", "Amsterdam", "Kolkata (+05:30)"],
)
def test_expected_stretches_agree_with_an_hour_by_hour_definition(zone: ZoneInfo, by_minute: bool) -> None:
    """is_open, next_open and closes_at of forecasts learnt from random histories (served occurrences
    and hours the last deploy served included) against the definition checked hour by hour over the
    days the forecast looks ahead, in zones whose hours start on and off the UTC hour, with slots from
    their hour's start and from their minute; the DST change day is left to the DST test above."""
    rng = random.Random(7)
    since = datetime(2026, 2, 2, tzinfo=UTC)
    starts = sorted(  # a deploy at a random minute of most 3-hour slots: the last one serves the next hours
        since + timedelta(hours=3 * slot, minutes=rng.randint(0, 150))
        for slot in range(60 * 8)
        if rng.random() < 0.9
    )
    dst_day = datetime(2026, 3, 29).date()
    checked = within = 0
    for step in range(120):
        now = since + timedelta(days=8, hours=11 * step, minutes=rng.randint(0, 59))
        known = [s for s in starts if s <= now]
        forecast = forecast_deploys(
            known,
            now,
            lookback=FOUR_WEEKS,
            min_share=0.5,
            zone=zone,
            observed_since=since,
            by_minute=by_minute,
        )
        assert forecast is not None and forecast.slots
        within += sum(1 for s in forecast.slots if s.minute)
        local_hour = now.astimezone(zone).replace(minute=0, second=0, microsecond=0).astimezone(UTC)
        hours = [local_hour + k * HOUR for k in range(1, 8 * 24 - 24)]  # the zone's hour boundaries
        if any(h.astimezone(zone).date() == dst_day for h in hours) and zone is not UTC:
            continue
        for at in (now, now + timedelta(minutes=rng.randint(0, 6 * 60))):
            assert forecast.is_open(at) == expected_by_hour(forecast, at), at
            later = [h for h in hours if h > at]
            start = next(
                (
                    t
                    for t in stretch_starts(forecast, [local_hour, *hours])
                    if t > at
                    and expected_by_hour(forecast, t)
                    and not expected_by_hour(forecast, t - timedelta(minutes=1))
                ),
                None,
            )
            if start is not None:
                assert forecast.next_open(at) == start, at
            if forecast.is_open(at) and len(forecast.slots) < 7 * 24:
                end = next(h for h in later if not expected_by_hour(forecast, h))
                assert forecast.closes_at(at) == end, at
            checked += 1
    assert checked > 100 and (within > 100) == by_minute  # slots from a minute within their hour are checked


def test_the_forecast_is_relearnt_at_the_next_local_hour_or_when_an_old_start_leaves_its_lookback() -> None:
    utc, kolkata = ZoneInfo("UTC"), ZoneInfo("Asia/Kolkata")  # UTC+05:30: its hours start at :30 UTC
    week = timedelta(days=7)
    now = datetime(2026, 3, 2, 10, 10, tzinfo=utc)
    starts = (now - week - timedelta(minutes=5), now - week + timedelta(minutes=5), now - timedelta(days=2))
    minute = timedelta(minutes=1)
    # the first start has left the lookback; the second counts until 10:15: the forecast differs from 10:16
    assert relearnt_at(starts, now, lookback=week, zone=utc, step=minute) == datetime(
        2026, 3, 2, 10, 16, tzinfo=utc
    )
    # with a longer lookback nothing leaves before the hour: 10:30 UTC is 16:00 in Kolkata
    assert relearnt_at(starts, now, lookback=2 * week, zone=kolkata, step=minute) == datetime(
        2026, 3, 2, 10, 30, tzinfo=utc
    )
    assert relearnt_at(starts, now, lookback=2 * week, zone=utc, step=minute) == datetime(
        2026, 3, 2, 11, 0, tzinfo=utc
    )
    # a start exactly at the lookback's edge still counts now and leaves at the next tick
    edge = (now - week,)
    assert relearnt_at(edge, now, lookback=week, zone=utc, step=minute) == now + minute
