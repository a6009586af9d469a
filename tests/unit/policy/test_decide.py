"""decide() and project() on hand-built states: windows, deploys, bake, chain, prefixes, modes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from scheduler.natures import Nature
from scheduler.plan import decide, project
from scheduler.policy.decision import (
    Action,
    Approval,
    DeployedPackage,
    EnvState,
    ManualRequest,
    PendingMigration,
)
from scheduler.policy.model import Mode, Policy, load_policy
from tests.support.planning import pending

REPO = Path(__file__).resolve().parents[3]
POLICY = load_policy((REPO / "examples" / "policy.yaml").read_text())
FRIDAY_15 = datetime.fromisoformat("2026-01-09T15:00:00+00:00")
SATURDAY_03 = datetime.fromisoformat("2026-01-10T03:00:00+00:00")
TUESDAY_02 = datetime.fromisoformat("2026-01-06T02:00:00+00:00")
DEPLOYED = datetime.fromisoformat("2026-01-05T00:00:00+00:00")


def migration(
    version: str, nature: Nature, package: str = "old", deployed_at: datetime = DEPLOYED
) -> PendingMigration:
    return pending(version, nature, deployed_at, package)


def state(*natures: Nature, env: str = "gstg", **kw: object) -> EnvState:
    pending = tuple(migration(f"2026010500000{i}", n) for i, n in enumerate(natures))
    return EnvState(env, pending, packages=(DeployedPackage("new", DEPLOYED),), **kw)  # type: ignore[arg-type]


def policy_with(**guards: object) -> Policy:
    text = (REPO / "examples" / "policy.yaml").read_text()
    lines = "".join(f"  {k}: {v}\n" for k, v in guards.items())
    return load_policy(
        text.replace("guards:\n", "guards:\n" + lines.replace("'", '"'), 1)
        .replace("  deploy_schedule: null", "" if "deploy_schedule" in guards else "  deploy_schedule: null")
        .replace(
            "  preserve_rollback: false\n",
            "" if "preserve_rollback" in guards else "  preserve_rollback: false\n",
        )
    )


def test_nothing_pending_is_idle() -> None:
    assert decide(EnvState("gstg"), POLICY, FRIDAY_15).action is Action.IDLE


def test_light_prefix_runs_now_and_heavy_rest_waits_for_the_weekend() -> None:
    d = decide(state(Nature.NO_OP, Nature.BACKGROUND_SCHEDULING, Nature.DDL_CLEANUP), POLICY, TUESDAY_02)
    assert d.action is Action.EXECUTE
    assert d.migrations == ["20260105000000", "20260105000001"]
    assert any("ddl_cleanup" in r and "weekend" in r for r in d.reasons)


def test_heavy_first_blocks_the_light_ones_behind_it_until_the_window() -> None:
    d = decide(state(Nature.DDL_CLEANUP, Nature.NO_OP), POLICY, TUESDAY_02)
    assert d.action is Action.WAIT and d.migrations == []
    assert d.next_window_at == datetime.fromisoformat("2026-01-10T00:00:00+00:00")
    assert "weekend" in d.reasons[0]


def test_longest_prefix_takes_everything_under_one_mode() -> None:
    d = decide(state(Nature.INDEX_AND_CONSTRAINT, Nature.DATA_MIGRATION, Nature.NO_OP), POLICY, SATURDAY_03)
    assert d.action is Action.PROPOSE and len(d.migrations) == 3 and d.mode is Mode.APPROVAL
    assert d.nature is Nature.DATA_MIGRATION


def test_held_approval_turns_the_proposal_into_execution() -> None:
    s = state(
        Nature.INDEX_AND_CONSTRAINT,
        Nature.NO_OP,
        approval=Approval("20260105000001", ("U1",), expires_at=SATURDAY_03 + timedelta(hours=1)),
    )
    assert decide(s, POLICY, SATURDAY_03).action is Action.EXECUTE
    assert decide(s, POLICY, SATURDAY_03 + timedelta(hours=2)).action is Action.PROPOSE


def test_two_person_nature_needs_two_approvers() -> None:
    text = (REPO / "examples" / "policy.yaml").read_text()
    two_person = load_policy(text.replace("two_person_natures: []", "two_person_natures: [ddl_cleanup]"))
    s = state(Nature.DDL_CLEANUP, approval=Approval("20260105000000", ("U1",)))
    assert decide(s, two_person, SATURDAY_03).action is Action.PROPOSE
    assert decide(s, POLICY, SATURDAY_03).action is Action.EXECUTE  # the bundled policy: one approver
    s2 = replace(s, approval=Approval("20260105000000", ("U1", "U2")))
    assert decide(s2, two_person, SATURDAY_03).action is Action.EXECUTE


def test_manual_head_waits_for_a_request() -> None:
    s = state(Nature.UNKNOWN)
    assert decide(s, POLICY, SATURDAY_03).action is Action.WAIT
    assert (
        decide(replace(s, manual_request=ManualRequest("U1")), POLICY, SATURDAY_03).action is Action.EXECUTE
    )


def test_proposal_is_posted_ahead_of_the_weekend_during_working_hours() -> None:
    d = decide(state(Nature.INDEX_AND_CONSTRAINT), POLICY, FRIDAY_15)
    assert d.action is Action.PROPOSE
    assert d.next_window_at == datetime.fromisoformat("2026-01-10T00:00:00+00:00")
    night = decide(state(Nature.INDEX_AND_CONSTRAINT), POLICY, FRIDAY_15 + timedelta(hours=6))
    assert night.action is Action.WAIT


def test_deploy_due_in_20_minutes_stops_a_30_minute_run() -> None:
    policy = policy_with(deploy_schedule="'20 3 * * *'")
    d = decide(
        state(Nature.UNKNOWN, manual_request=ManualRequest("U1")),
        policy,
        datetime.fromisoformat("2026-01-10T03:00:00+00:00"),
    )
    assert d.action is Action.WAIT
    assert any("03:20" in r for r in d.reasons)
    assert d.next_window_at == datetime.fromisoformat("2026-01-10T04:20:00+00:00")


def test_deploy_due_in_40_minutes_lets_a_30_minute_run_start() -> None:
    policy = policy_with(deploy_schedule="'40 3 * * *'")
    d = decide(
        state(Nature.UNKNOWN, manual_request=ManualRequest("U1")),
        policy,
        datetime.fromisoformat("2026-01-10T03:00:00+00:00"),
    )
    assert d.action is Action.EXECUTE and d.estimated_duration == timedelta(minutes=40)


def test_package_must_bake_before_its_migrations_run() -> None:
    s = EnvState(
        "gstg", (migration("20260105000000", Nature.NO_OP, deployed_at=FRIDAY_15 - timedelta(minutes=30)),)
    )
    d = decide(s, POLICY, FRIDAY_15)
    assert d.action is Action.WAIT and d.next_window_at == FRIDAY_15 + timedelta(minutes=30)


def test_a_migration_still_baking_holds_back_later_ones_deployed_before_it() -> None:
    def pending(*ago: timedelta) -> EnvState:
        return EnvState(
            "gstg",
            tuple(
                migration(f"2026010500000{i}", Nature.NO_OP, deployed_at=FRIDAY_15 - a)
                for i, a in enumerate(ago)
            ),
        )

    hour = timedelta(hours=1)
    # in deploy order: the first has baked, the second (30 min ago) has not
    d = decide(pending(2 * hour, hour / 2), POLICY, FRIDAY_15)
    assert d.action is Action.EXECUTE and d.migrations == ["20260105000000"]
    # the last three came with a package deployed 3 h ago, before the second's: they wait for it
    d = decide(pending(2 * hour, hour / 2, 3 * hour, 3 * hour, 3 * hour), POLICY, FRIDAY_15)
    assert d.action is Action.EXECUTE and d.migrations == ["20260105000000"]
    # the first one still bakes: nothing runs before it has
    d = decide(pending(hour / 2, 2 * hour), POLICY, FRIDAY_15)
    assert d.action is Action.WAIT and d.next_window_at == FRIDAY_15 + hour / 2


def test_chain_runs_only_what_soaked_upstream() -> None:
    s = state(
        Nature.NO_OP,
        Nature.NO_OP,
        env="gprd",
        upstream_successes={
            "20260105000000": FRIDAY_15 - timedelta(hours=3),
            "20260105000001": FRIDAY_15 - timedelta(hours=1),
        },
    )
    d = decide(s, POLICY, FRIDAY_15)
    assert d.action is Action.EXECUTE and d.migrations == ["20260105000000"]
    later = project(s, POLICY, FRIDAY_15, timedelta(days=1))
    assert later[-1].migrations == ["20260105000001"] and later[-1].at == FRIDAY_15 + timedelta(hours=1)


def test_chain_without_upstream_run_waits_with_no_time() -> None:
    d = decide(state(Nature.NO_OP, env="gprd"), POLICY, FRIDAY_15)
    assert d.action is Action.WAIT and d.next_window_at is None
    assert "has not run on gstg" in d.reasons[0]


def test_preserve_rollback_keeps_the_current_package_migrations() -> None:
    policy = policy_with(preserve_rollback="true")
    s = EnvState(
        "gstg",
        (migration("20260105000000", Nature.NO_OP, "old"), migration("20260105000001", Nature.NO_OP, "new")),
        packages=(DeployedPackage("old", DEPLOYED), DeployedPackage("new", DEPLOYED)),
    )
    d = decide(s, policy, FRIDAY_15)
    assert d.migrations == ["20260105000000"]


def test_hold_stops_the_prefix_before_the_held_version() -> None:
    s = state(Nature.NO_OP, Nature.NO_OP, Nature.NO_OP, holds={"20260105000001": "lock timeouts"})
    assert decide(s, POLICY, FRIDAY_15).migrations == ["20260105000000"]
    head = replace(s, holds={"20260105000000": ""})
    assert decide(head, POLICY, FRIDAY_15).action is Action.BLOCKED


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("paused", True, "paused"),
        ("lock_holder", "deploy 42", "locked by deploy 42"),
        ("deploy_running", True, "deploy is running"),
    ],
)
def test_environment_guards_block(field: str, value: object, text: str) -> None:
    d = decide(replace(state(Nature.NO_OP), **{field: value}), POLICY, FRIDAY_15)  # type: ignore[arg-type]
    assert d.action is Action.BLOCKED and text in d.reasons[0]


def test_freeze_defers_everything_to_january() -> None:
    early = EnvState(
        "gstg", (migration("20251201000000", Nature.NO_OP, deployed_at=DEPLOYED - timedelta(days=60)),)
    )
    d = decide(early, POLICY, datetime.fromisoformat("2025-12-24T12:00:00+00:00"))
    assert d.action is Action.WAIT
    assert d.next_window_at == datetime.fromisoformat("2026-01-03T00:00:00+00:00")


def test_projection_resumes_deferred_work_when_the_window_opens() -> None:
    runs = project(
        state(Nature.NO_OP, Nature.BACKGROUND_SCHEDULING, Nature.DDL_CLEANUP),
        POLICY,
        FRIDAY_15,
        timedelta(days=7),
    )
    assert [r.at.isoformat() for r in runs] == [
        "2026-01-09T15:00:00+00:00",
        "2026-01-10T00:00:00+00:00",
        "2026-01-10T00:12:00+00:00",
    ]
    assert runs[-1].action is Action.PROPOSE
