"""Proposals ahead of a window: extending a held approval, and downstream environments proposed on
the upstream's projected runs (the approval never bypasses the chain guard)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from scheduler.lifecycle import approved_part
from scheduler.natures import Nature
from scheduler.plan import decide
from scheduler.policy.decision import Action, Approval, DeployedPackage, EnvState, PendingMigration
from scheduler.policy.model import Ordering, load_policy
from tests.support.planning import classified, pending

POLICY_TEXT = (Path(__file__).resolve().parents[3] / "examples" / "policy.yaml").read_text()
POLICY = load_policy(POLICY_TEXT)
DEPLOYED = datetime.fromisoformat("2026-01-05T00:00:00+00:00")

WEDNESDAY_10 = datetime.fromisoformat("2026-01-07T10:00:00+00:00")
FRIDAY_9 = datetime.fromisoformat("2026-01-09T09:00:00+00:00")
FRIDAY_10 = datetime.fromisoformat("2026-01-09T10:00:00+00:00")
FRIDAY_15 = datetime.fromisoformat("2026-01-09T15:00:00+00:00")
FRIDAY_16 = datetime.fromisoformat("2026-01-09T16:00:00+00:00")
FRIDAY_17 = datetime.fromisoformat("2026-01-09T17:00:00+00:00")
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
SATURDAY = datetime.fromisoformat("2026-01-10T00:00:00+00:00")
MONDAY = datetime.fromisoformat("2026-01-12T00:00:00+00:00")


def post_within(within: timedelta | None) -> object:
    return POLICY.proposals.model_copy(update={"post_within": within})


def migration(version: str, nature: Nature) -> PendingMigration:
    return pending(version, nature, DEPLOYED)


def env(name: str, *items: PendingMigration, **kw: object) -> EnvState:
    return EnvState(name, items, packages=(DeployedPackage("new", DEPLOYED),), **kw)  # type: ignore[arg-type]


P = (migration("20260105000000", Nature.INDEX_AND_CONSTRAINT), migration("20260105000001", Nature.NO_OP))
LATER = (
    migration("20260106000000", Nature.DATA_MIGRATION),
    migration("20260106000001", Nature.BACKGROUND_SCHEDULING),
)
APPROVED_P = Approval("20260105000001", ("U1",), expires_at=MONDAY)


def test_held_approval_is_extended_in_the_last_three_working_hours_before_the_window() -> None:
    early = decide(env("gstg", *P, *LATER, approval=APPROVED_P), POLICY, FRIDAY_10)
    assert early.action is Action.WAIT and early.migrations == ["20260105000000", "20260105000001"]
    assert (
        "proposed from Fri 2026-01-09 15:00 UTC, in the last working hours before the start, so that one "
        "proposal covers what is deployed until then"
    ) in early.reasons
    assert decide(env("gstg", *P, *LATER, approval=APPROVED_P), POLICY, FRIDAY_15 - MINUTE).action is (
        Action.WAIT
    )
    d = decide(env("gstg", *P, *LATER, approval=APPROVED_P), POLICY, FRIDAY_15)
    assert d.action is Action.PROPOSE
    assert d.migrations == ["20260105000000", "20260105000001", "20260106000000", "20260106000001"]
    assert d.up_to_version == "20260106000001" and d.next_window_at == SATURDAY
    assert d.window_closes_at == MONDAY
    assert (
        "extends the approved batch (up to 20260105000001) by 2 migrations up to 20260106000001; "
        "without this approval the approved batch runs alone"
    ) in d.reasons


def test_post_within_null_posts_as_soon_as_the_lead_time_and_the_working_hours_allow() -> None:
    policy = POLICY.model_copy(update={"proposals": post_within(None)})
    d = decide(env("gstg", *P, *LATER, approval=APPROVED_P), policy, FRIDAY_10)
    assert d.action is Action.PROPOSE and len(d.migrations) == 4
    assert decide(env("gstg", *P, *LATER), policy, FRIDAY_10).action is Action.PROPOSE


def test_post_within_sets_how_late_in_the_working_hours_a_proposal_is_posted() -> None:
    policy = POLICY.model_copy(update={"proposals": post_within(timedelta(hours=1))})
    assert decide(env("gstg", *P, *LATER, approval=APPROVED_P), policy, FRIDAY_16).action is Action.WAIT
    assert decide(env("gstg", *P, *LATER, approval=APPROVED_P), policy, FRIDAY_17).action is Action.PROPOSE


def test_a_proposal_for_a_start_inside_working_hours_is_posted_post_within_before_it() -> None:
    weekend = 'schedule: "0 0 * * 6", duration: 48h'
    text = POLICY_TEXT.replace(weekend, 'schedule: "0 12 * * 5", duration: 60h')
    policy = load_policy(text)  # the weekend window opens Friday 12:00, inside the working hours
    state = env("gstg", *P, *LATER, approval=APPROVED_P)
    assert decide(state, policy, FRIDAY_9 - MINUTE).action is Action.WAIT
    d = decide(state, policy, FRIDAY_9)
    assert d.action is Action.PROPOSE and d.next_window_at == FRIDAY_10.replace(hour=12)


def test_with_working_hours_around_the_clock_a_proposal_is_posted_post_within_before_the_start() -> None:
    hours = POLICY.proposals.working_hours.model_copy(update={"schedule": "0 0 * * *", "duration": DAY})
    policy = POLICY.model_copy(
        update={"proposals": POLICY.proposals.model_copy(update={"working_hours": hours})}
    )
    state = env("gstg", *P, *LATER, approval=APPROVED_P)
    assert decide(state, policy, SATURDAY - timedelta(hours=3) - MINUTE).action is Action.WAIT
    assert decide(state, policy, SATURDAY - timedelta(hours=3)).action is Action.PROPOSE


def test_a_first_proposal_waits_for_the_afternoon_too() -> None:
    assert decide(env("gstg", *P, *LATER), POLICY, FRIDAY_10).action is Action.WAIT
    d = decide(env("gstg", *P, *LATER), POLICY, FRIDAY_15)
    assert d.action is Action.PROPOSE and len(d.migrations) == 4


def test_unapproved_extension_leaves_the_approved_prefix_to_run_alone() -> None:
    d = decide(env("gstg", *P, *LATER, approval=APPROVED_P), POLICY, SATURDAY)
    assert d.action is Action.EXECUTE
    assert d.migrations == ["20260105000000", "20260105000001"]


def test_approved_extension_runs_the_whole_batch() -> None:
    extended = Approval("20260106000001", ("U1",), expires_at=MONDAY)
    d = decide(env("gstg", *P, *LATER, approval=extended), POLICY, SATURDAY)
    assert d.action is Action.EXECUTE and len(d.migrations) == 4


def test_no_extension_is_proposed_outside_working_hours() -> None:
    d = decide(env("gstg", *P, *LATER, approval=APPROVED_P), POLICY, FRIDAY_10 + timedelta(hours=10))
    assert d.action is Action.WAIT and d.migrations == ["20260105000000", "20260105000001"]
    assert d.next_window_at == SATURDAY


def test_the_bundled_policy_proposes_the_weekend_on_friday_not_earlier_in_the_week() -> None:
    wednesday = decide(env("gstg", *P, *LATER), POLICY, WEDNESDAY_10)
    assert wednesday.action is Action.WAIT and wednesday.next_window_at == SATURDAY
    assert decide(env("gstg", *P, *LATER), POLICY, FRIDAY_15).action is Action.PROPOSE


def test_auto_head_before_approval_members_is_proposed_with_them() -> None:
    items = (migration("20260105000000", Nature.BACKGROUND_SCHEDULING), *LATER[:1])
    d = decide(env("gstg", *items), POLICY, FRIDAY_15)
    assert d.action is Action.PROPOSE and d.migrations == ["20260105000000", "20260106000000"]
    assert "the first 1 may start by themselves; approving adds 1 up to 20260106000000" in d.reasons


def test_manual_member_stops_the_proposal_and_says_so() -> None:
    items = (*P, migration("20260106000000", Nature.UNKNOWN), *LATER[1:])
    d = decide(env("gstg", *items), POLICY, FRIDAY_15)
    assert d.action is Action.PROPOSE and d.migrations == ["20260105000000", "20260105000001"]
    assert any(
        r.startswith("20260106000000 (unknown) is manual: the proposal stops before it") for r in d.reasons
    )


INDEX = migration("20260105000000", Nature.INDEX_AND_CONSTRAINT)
GSTG = env("gstg", INDEX)


def test_downstream_is_proposed_ahead_on_the_upstream_projection() -> None:
    d = decide(env("gprd", INDEX, upstream=GSTG), POLICY, FRIDAY_15)
    assert d.action is Action.PROPOSE and d.migrations == ["20260105000000"]
    # gstg runs at Sat 00:00 for 40 min (10 min overhead + 30 min index); gprd after a 2 h soak
    assert d.next_window_at == SATURDAY + timedelta(hours=2, minutes=40)
    assert (
        "runs after gstg succeeds + 2h soak (1 of these are projected to run on gstg by "
        "Sat 2026-01-10 00:40 UTC); the approval does not bypass that"
    ) in d.reasons


def test_the_upstream_view_of_a_proposal_ahead_does_not_slide_with_the_clock_in_working_hours() -> None:
    # a cleanup may run only on Sunday evening: gstg is projected to run it at 16:00, gprd after the 2 h
    # soak, in the weekend window of the index the proposal starts with. Friday 15:00 + the 48 h lead
    # time falls short of gstg's run, 17:00 does not; both see it (the working hours close at 18:00,
    # + 48 h): the gprd proposal does not grow in the middle of the afternoon
    evening = load_policy(
        POLICY_TEXT.replace(
            "windows:\n",
            "windows:\n  - {name: sunday-evening, kind: allow, schedule: '0 16 * * 0', duration: 4h}\n",
            1,
        ).replace(
            "ddl_cleanup:           {windows: [weekend]", "ddl_cleanup:           {windows: [sunday-evening]"
        )
    )
    cleanup = migration("20260106000000", Nature.DDL_CLEANUP)
    soaked = {INDEX.version: DEPLOYED}
    for now in (FRIDAY_15, FRIDAY_17):
        gprd = env("gprd", INDEX, cleanup, upstream=env("gstg", cleanup), upstream_successes=soaked)
        d = decide(gprd, evening, now)
        assert d.action is Action.PROPOSE and d.migrations == [INDEX.version, cleanup.version], now
        assert d.next_window_at == SATURDAY


def test_downstream_without_upstream_state_still_waits_for_the_upstream_run() -> None:
    d = decide(env("gprd", INDEX), POLICY, FRIDAY_15)
    assert d.action is Action.WAIT and d.next_window_at is None


def test_approval_given_ahead_does_not_bypass_the_chain_guard() -> None:
    approved = env(
        "gprd", INDEX, upstream=GSTG, approval=Approval("20260105000000", ("U1",), expires_at=MONDAY)
    )
    d = decide(approved, POLICY, SATURDAY + timedelta(hours=3))
    assert d.action is Action.WAIT and d.migrations == []
    ran = replace(approved, upstream_successes={"20260105000000": SATURDAY + timedelta(minutes=40)})
    assert decide(ran, POLICY, SATURDAY + timedelta(hours=2, minutes=39)).action is Action.WAIT
    go = decide(ran, POLICY, SATURDAY + timedelta(hours=2, minutes=40))
    assert go.action is Action.EXECUTE and go.migrations == ["20260105000000"]


def test_downstream_proposal_covers_what_soaks_later_in_the_same_window() -> None:
    soaked = migration("20260104000000", Nature.INDEX_AND_CONSTRAINT)
    d = decide(
        env("gprd", soaked, INDEX, upstream=GSTG, upstream_successes={"20260104000000": DEPLOYED}),
        POLICY,
        FRIDAY_15,
    )
    assert d.action is Action.PROPOSE and d.migrations == ["20260104000000", "20260105000000"]
    assert d.next_window_at == SATURDAY


INDEPENDENT = POLICY.model_copy(update={"ordering": Ordering.INDEPENDENT})


def touching(version: str, nature: Nature, table: str) -> PendingMigration:
    return PendingMigration(version, classified(version, nature, tables=[table]), "old", DEPLOYED)


def test_a_proposal_ahead_stops_before_a_manual_migration_that_later_light_ones_pass() -> None:
    # at the weekend's start the backfill passes the index and the manual migration (no shared table):
    # the proposal covers the backfill and the index, not the manual migration the projection never runs
    items = (
        touching("20260105000000", Nature.INDEX_AND_CONSTRAINT, "merge_requests"),
        touching("20260105000001", Nature.UNKNOWN, "merge_requests"),
        touching("20260105000002", Nature.BACKGROUND_SCHEDULING, "issues"),
    )
    d = decide(env("gstg", *items), INDEPENDENT, FRIDAY_15)
    assert d.action is Action.PROPOSE and d.migrations == ["20260105000002", "20260105000000"]
    assert any("20260105000002 (background_scheduling) runs before earlier pending" in n for n in d.notices)


def test_a_light_migration_that_may_run_only_by_passing_a_head_is_proposed_ahead_of_its_window() -> None:
    # the backfill's nightly window opens at 02:00 and it may pass the head (no shared table), whose
    # yearly window is closed: the proposal is posted ahead in working hours, not at 02:00 when the
    # release manager answers only after the window has closed
    policy = load_policy(
        "environments: [{name: gstg}]\n"
        "windows: [{name: night, kind: allow, schedule: '0 2 * * *', duration: 1h},\n"
        "  {name: yearly, kind: allow, schedule: '0 0 1 7 *', duration: 24h}]\n"
        "natures: {background_scheduling: {windows: [night], mode: approval}, unknown: {windows: [yearly]}}\n"
        "ordering: independent\napprovers: {users: [U1]}\n"
    )
    items = (
        touching("20260105000000", Nature.UNKNOWN, "merge_requests"),
        touching("20260105000001", Nature.BACKGROUND_SCHEDULING, "issues"),
    )
    d = decide(env("gstg", *items), policy, FRIDAY_15)
    assert d.action is Action.PROPOSE and d.migrations == ["20260105000001"]
    assert d.next_window_at == SATURDAY + timedelta(hours=2)


TWO_HOURLY_TEXT = """
environments: [{name: gprd}]
windows: [{name: saturday-night, kind: allow, schedule: "0 22 * * 6", duration: 6h}]
natures: {index_and_constraint: {windows: [saturday-night], mode: approval}}
durations: {overhead: 10m, index_and_constraint: 15m}
guards: {deploy_schedule: "0 */2 * * *", deploy_duration: 60m}
approvers: {users: [U1]}
"""
TWO_HOURLY = load_policy(TWO_HOURLY_TEXT)


def test_a_proposal_ahead_covers_the_window_and_its_approval_runs_in_the_gaps_between_deploys() -> None:
    # deploys every 2 hours for 1 hour leave 60-minute gaps (23:00, 01:00, 03:00): a run of 10 + 15 x 3
    # minutes fits each. One approval covers the 8 the window runs; each gap runs the part that fits
    items = tuple(migration(f"2026010500000{k}", Nature.INDEX_AND_CONSTRAINT) for k in range(8))
    d = decide(env("gprd", *items), TWO_HOURLY, FRIDAY_15)
    assert d.action is Action.PROPOSE and d.migrations == [m.version for m in items]
    assert not any("may start by themselves" in r for r in d.reasons)  # none is auto
    approval = Approval(items[-1].version, ("U1",), expires_at=SATURDAY + 28 * HOUR)
    ran: list[str] = []
    sizes = []
    for gap in (23, 25, 27):  # each part runs whole before the next deploy, 60 minutes later
        left = items[len(ran) :]
        run = decide(env("gprd", *left, approval=approval), TWO_HOURLY, SATURDAY + gap * HOUR)
        assert run.action is Action.EXECUTE and run.estimated_duration <= HOUR
        part = approved_part([m.version for m in left], run.migrations)
        ran, sizes = ran + part, [*sizes, len(part)]
    assert sizes == [3, 3, 2] and ran == [m.version for m in items]


HOUR = timedelta(hours=1)


HOURLY_FOR_WEEKS = load_policy("""
timezone: America/New_York
environments: [{name: gprd}]
windows: [{name: autumn, kind: allow, from: "2026-10-20T04:00:00Z", to: "2026-11-06T05:00:00Z"}]
natures: {index_and_constraint: {windows: [autumn], mode: approval}}
durations: {overhead: 5m, index_and_constraint: 12m}
guards: {deploy_schedule: "0 * * * *", deploy_duration: 30m}
approvers: {users: [U1]}
""")


def test_an_approval_in_a_window_open_for_weeks_runs_in_its_first_gaps_not_the_one_it_fits_whole() -> None:
    # deploys on the hour for 30 min leave 30-minute gaps, except where the clocks go back (1 Nov, 12
    # days after the window opens: 90 minutes). The approved set runs in parts from the window's first
    # gap on (5 + 2 x 12 minutes each), not whole in that one long gap 12 days later
    items = tuple(migration(f"2026010500000{k}", Nature.INDEX_AND_CONSTRAINT) for k in range(8))
    now = datetime.fromisoformat("2026-10-19T15:00:00-04:00")  # the last 3 working hours before it
    d = decide(env("gprd", *items), HOURLY_FOR_WEEKS, now)
    assert d.action is Action.PROPOSE and d.migrations == [m.version for m in items]
    opens = datetime.fromisoformat("2026-10-20T00:30:00-04:00")  # the window opened at 00:00, deploys hold it
    approval = Approval(items[-1].version, ("U1",), expires_at=datetime.fromisoformat("2026-11-06T05:00:00Z"))
    run = decide(env("gprd", *items, approval=approval), HOURLY_FOR_WEEKS, opens)
    assert run.action is Action.EXECUTE and run.migrations == [m.version for m in items[:2]]


def test_a_head_starting_by_itself_in_the_first_gap_still_has_the_windows_approvals_proposed_ahead() -> None:
    # the 45-minute backfill fills the first gap (23:00-24:00); the index runs in a later gap of the same
    # window, and the window's only proposal time is ahead of it
    policy = load_policy(
        TWO_HOURLY_TEXT.replace(
            "natures: {", "natures: {background_scheduling: {windows: [saturday-night], mode: auto}, "
        ).replace("index_and_constraint: 15m}", "index_and_constraint: 15m, background_scheduling: 45m}")
    )
    items = (
        migration("20260105000000", Nature.BACKGROUND_SCHEDULING),
        migration("20260105000001", Nature.INDEX_AND_CONSTRAINT),
    )
    d = decide(env("gprd", *items), policy, FRIDAY_15)
    assert d.action is Action.PROPOSE and d.migrations == [m.version for m in items]
    assert "the first 1 may start by themselves; approving adds 1 up to 20260105000001" in d.reasons
