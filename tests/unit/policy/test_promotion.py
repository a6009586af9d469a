"""Deploys promoted from the upstream environment: learnt delays, awaited packages, decisions around them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.classify.model import SizeClass
from scheduler.natures import Nature
from scheduler.plan import decide, expected_deploys, project
from scheduler.policy.decision import Action, DeployedPackage, EnvState, PendingMigration
from scheduler.policy.model import load_policy
from scheduler.policy.promotion import learn_promotion
from tests.support.planning import pending

UTC = ZoneInfo("UTC")
SATURDAY = datetime(2026, 2, 7, tzinfo=UTC)
HOUR = timedelta(hours=1)
LOOKBACK = timedelta(days=28)

POLICY_TEXT = """
environments:
  - {name: gstg}
  - {name: gprd, requires: gstg}
windows:
  - {name: weekend, kind: allow, schedule: "0 0 * * 6", duration: 48h}
natures:
  index_and_constraint: {windows: [weekend], mode: auto}
durations:
  overhead: 0m
  index_and_constraint: {small: 45m, medium: 45m, large: 3h, over_limit: 3h, unknown: 45m}
"""
POLICY = load_policy(POLICY_TEXT)


class History:
    """`count` packages, one every 4 hours before `SATURDAY`: each deployed upstream (success at the
    slot), then here `delay + k minutes` later (the deploy holds 30 minutes)."""

    def __init__(self, count: int = 10, delay: timedelta = timedelta(minutes=100)) -> None:
        first = SATURDAY - count * 4 * HOUR
        self.upstream = [DeployedPackage(f"sha{k:02d}", first + k * 4 * HOUR) for k in range(count)]
        self.starts = [p.deployed_at + delay + timedelta(minutes=k) for k, p in enumerate(self.upstream)]
        pairs = zip(self.upstream, self.starts, strict=True)
        self.here = [DeployedPackage(p.sha, s + timedelta(minutes=30)) for p, s in pairs]

    def awaiting(self, at: datetime) -> History:
        """One more package deployed upstream at `at`, not promoted yet."""
        self.upstream.append(DeployedPackage("fresh", at))
        return self


def learn(history: History, now: datetime) -> object:
    return learn_promotion(
        history.here, history.starts, "gstg", history.upstream, now, lookback=LOOKBACK, cap=HOUR
    )


def index(version: str, size: SizeClass = SizeClass.SMALL) -> PendingMigration:
    deployed = SATURDAY - timedelta(days=7)
    return pending(version, Nature.INDEX_AND_CONSTRAINT, deployed, sizes={"t": size})


def gprd(history: History, *pending: PendingMigration) -> EnvState:
    ran = {m.version: SATURDAY - timedelta(days=2) for m in pending}
    return EnvState(
        environment="gprd",
        pending=pending,
        packages=tuple(history.here),
        deploy_starts=tuple(history.starts),
        upstream_successes=ran,
        upstream=EnvState(environment="gstg", packages=tuple(history.upstream)),
    )


def test_delays_are_learnt_from_upstream_success_to_the_deploy_start_here() -> None:
    promotion = learn(History(), SATURDAY + HOUR)
    assert promotion is not None
    assert promotion.delays[0] == timedelta(minutes=100) and promotion.delays[-1] == timedelta(minutes=109)
    assert promotion.shortest == timedelta(minutes=101)  # 9 in 10 took at least this
    assert promotion.awaited == ()
    assert promotion.room(SATURDAY + HOUR) == SATURDAY + HOUR + timedelta(minutes=101)
    # looked at later with no new upstream package, nothing can be promoted before that instant + 101 min
    later = SATURDAY + 3 * HOUR
    assert promotion.room(later) == later + timedelta(minutes=101)


def test_too_few_promotions_teach_nothing() -> None:
    assert learn(History(count=7), SATURDAY) is None


def test_no_model_when_packages_here_often_do_not_come_from_upstream() -> None:
    history = History(count=12)
    for k in (2, 5):  # two of twelve deployed here without going upstream first
        history.here[k] = DeployedPackage(f"hotfix{k}", history.here[k].deployed_at)
    assert learn(history, SATURDAY) is None


def test_an_awaited_package_is_expected_between_the_shortest_and_longest_delay() -> None:
    upstream_at = SATURDAY + HOUR
    promotion = learn(History().awaiting(upstream_at), SATURDAY + 2 * HOUR)
    assert promotion is not None and [p.sha for p in promotion.awaited] == ["fresh"]
    start, end = upstream_at + timedelta(minutes=101), upstream_at + timedelta(minutes=109) + HOUR
    assert promotion.stretches() == [(start, end)]


def test_a_package_counts_as_deployed_upstream_from_the_instant_its_deploy_ends() -> None:
    upstream_at = SATURDAY + HOUR  # the evaluation the deploy's end triggers sees it awaited
    promotion = learn(History().awaiting(upstream_at), upstream_at)
    assert promotion is not None and [p.sha for p in promotion.awaited] == ["fresh"]
    before = learn(History().awaiting(upstream_at), upstream_at - timedelta(microseconds=1))
    assert before is not None and before.awaited == ()


def test_an_awaited_package_overdue_past_every_delay_was_skipped() -> None:
    upstream_at = SATURDAY + HOUR
    late = upstream_at + timedelta(minutes=109) + HOUR + timedelta(minutes=1)
    promotion = learn(History().awaiting(upstream_at), late)
    assert promotion is not None and promotion.awaited == ()


def test_a_run_that_would_overlap_an_awaited_promotion_waits_and_says_why() -> None:
    history = History().awaiting(SATURDAY + 2 * HOUR)
    now = SATURDAY + 2 * HOUR + timedelta(minutes=80)  # the package is due here from +101 min
    decision = decide(gprd(history, index("20260101000001")), POLICY, now)
    assert decision.action is not Action.EXECUTE
    assert any("fresh" in r and "awaits promotion from gstg" in r for r in decision.reasons)


def test_nothing_starts_while_an_awaited_promotion_is_expected_to_hold_the_environment() -> None:
    history = History().awaiting(SATURDAY + 2 * HOUR)
    now = SATURDAY + 2 * HOUR + timedelta(minutes=105)  # within the stretch the package is due here
    decision = decide(gprd(history, index("20260101000001")), POLICY, now)
    assert decision.action is Action.WAIT and decision.migrations == []
    assert any("an expected deploy holds the environment" in r and "fresh" in r for r in decision.reasons)
    assert not any("runs whole" in r for r in decision.reasons)  # nobody approved or requested a run


def test_with_nothing_awaited_a_run_shorter_than_the_shortest_delay_goes() -> None:
    history = History()
    now = SATURDAY + 3 * HOUR  # long past the last deploy here; gstg has nothing new
    state = gprd(history, index("20260101000001"))
    forecast = expected_deploys(state, POLICY, now).expected
    assert forecast is not None and forecast.next_open(now) == now + timedelta(minutes=101)
    assert "no package awaits promotion from gstg" in forecast.why(now + timedelta(minutes=101))
    decision = decide(state, POLICY, now)
    assert decision.action is Action.EXECUTE and decision.migrations == ["20260101000001"]


def test_a_head_longer_than_any_room_waits_for_the_awaited_deploy_then_runs_right_after_it() -> None:
    history = History().awaiting(SATURDAY + 2 * HOUR)
    long = index("20260101000001", size=SizeClass.LARGE)  # 3 h: longer than any room
    before = SATURDAY + 2 * HOUR + timedelta(minutes=40)
    assert decide(gprd(history, long), POLICY, before).action is not Action.EXECUTE
    start = SATURDAY + 2 * HOUR + timedelta(minutes=102)
    history.starts.append(start)
    history.here.append(DeployedPackage("fresh", start + timedelta(minutes=30)))
    after = decide(gprd(history, long), POLICY, start + timedelta(minutes=31))
    assert after.action is Action.EXECUTE and after.migrations == ["20260101000001"]


def test_projections_wait_for_an_awaited_promotion_but_know_no_soft_room() -> None:
    upstream_at = SATURDAY + 2 * HOUR
    history = History().awaiting(upstream_at)
    now = upstream_at + timedelta(minutes=80)  # due from +101 min, held until +109 min + 1 h
    runs = project(gprd(history, index("20260101000001")), POLICY, now, timedelta(days=1))
    assert [r.at for r in runs] == [upstream_at + timedelta(minutes=109) + HOUR]
    quiet = project(gprd(History(), index("20260101000001")), POLICY, now, timedelta(days=1))
    assert [r.at for r in quiet] == [now]  # nothing awaited: the soft room does not split projections


def test_a_head_waiting_out_an_awaited_promotion_is_projected_to_start_when_that_package_is_skipped() -> None:
    upstream_at = SATURDAY + 2 * HOUR
    history = History().awaiting(upstream_at)
    state = gprd(history, index("20260101000001", size=SizeClass.MEDIUM))
    policy = load_policy(POLICY_TEXT.replace("medium: 45m", "medium: 80m"))  # longer than a deploy's hour
    now = upstream_at + timedelta(minutes=80)  # the package is due from +101 min
    decision = decide(state, policy, now)
    skipped = upstream_at + timedelta(minutes=109) + HOUR  # past every delay seen, plus the deploy
    # then, with no new package upstream, nothing can be promoted for 101 min: the head fits at once
    forecast = expected_deploys(state, policy, now).expected
    assert forecast is not None and forecast.next_open(skipped) == skipped + timedelta(minutes=101)
    assert "no package awaits promotion from gstg" in forecast.why(skipped + timedelta(minutes=101))
    assert decision.action is Action.WAIT and decision.next_window_at == skipped
    minutes = int((skipped - now) / timedelta(minutes=1))
    before = {decide(state, policy, now + timedelta(minutes=m)).action for m in range(minutes)}
    assert before == {Action.WAIT}
    assert decide(state, policy, skipped).action is Action.EXECUTE


def test_a_head_takes_the_gap_before_an_awaited_promotion_when_waiting_for_it_leaves_no_room() -> None:
    sunday = SATURDAY + timedelta(days=1)
    history = History()  # two packages deployed on gstg on Sunday evening, neither here yet
    history.upstream.append(DeployedPackage("aaaa1111", sunday + timedelta(hours=20)))
    history.upstream.append(DeployedPackage("bbbb2222", sunday + timedelta(hours=21, minutes=10)))
    policy = load_policy(POLICY_TEXT.replace("medium: 45m", "medium: 80m"))
    state = gprd(history, index("20260101000001", size=SizeClass.MEDIUM))
    now = sunday + timedelta(hours=21, minutes=20)
    # aaaa1111 is expected 21:41–22:49, bbbb2222 22:51–23:59, and the window closes at midnight: right
    # after aaaa1111 there are 2 minutes, not the 21 there are now; waiting starved the head a week
    decision = decide(state, policy, now)
    assert decision.action is Action.EXECUTE and decision.migrations == ["20260101000001"]
    assert any(
        "it takes the largest gap and delays the deploy due at Sun 2026-02-08 21:41 UTC (package aaaa1111 "
        "awaits promotion from gstg"
        in n
        and ") by about 59m;" in n
        for n in decision.notices
    )
