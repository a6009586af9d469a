"""Execution order: the framework's (milestones), and `ordering: independent` letting light ones pass."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from scheduler.classify import classify_source
from scheduler.classify.model import Classification
from scheduler.natures import Nature
from scheduler.plan import decide, project
from scheduler.policy.decision import Action, DeployedPackage, EnvState, ManualRequest, PendingMigration
from scheduler.policy.model import load_policy
from scheduler.policy.ordering import framework_order, passing_notes

UTC = ZoneInfo("UTC")
TUESDAY_02 = datetime(2026, 1, 6, 2, tzinfo=UTC)
DEPLOYED = datetime(2026, 1, 5, tzinfo=UTC)

TEXT = """
environments: [{name: gprd}]
windows:
  - {name: nights, kind: allow, schedule: "0 1 * * 1-5", duration: 5h}
  - {name: weekend, kind: allow, schedule: "0 0 * * 6", duration: 48h}
natures:
  no_op: {windows: [always], mode: auto}
  background_scheduling: {windows: [nights, weekend], mode: auto}
  index_and_constraint: {windows: [weekend], mode: auto}
guards: {preserve_rollback: true, deploy_forecast: off}
"""
PREFIX = load_policy(TEXT)
INDEPENDENT = load_policy(TEXT + "ordering: independent\n")


def m(
    version: str, nature: Nature, tables: list[str], milestone: str | None = None, package: str = "old"
) -> PendingMigration:
    c = Classification(
        path=f"{version}.rb",
        version=version,
        name="m",
        primary_nature=nature,
        natures=[nature],
        tables=tables,
        milestone=milestone,
    )
    return PendingMigration(version, c, package, DEPLOYED)


INDEX = m("20260101000001", Nature.INDEX_AND_CONSTRAINT, ["ci_builds"])
QUEUE = m("20260101000002", Nature.BACKGROUND_SCHEDULING, ["issues"])
SHARED = m("20260101000003", Nature.BACKGROUND_SCHEDULING, ["ci_builds"])
BLIND = m("20260101000004", Nature.BACKGROUND_SCHEDULING, [])  # no table found: tables unknown


def env(*pending: PendingMigration, **kw: object) -> EnvState:
    return EnvState("gprd", pending, packages=(DeployedPackage("new", DEPLOYED),), **kw)  # type: ignore[arg-type]


def test_milestones_order_before_versions() -> None:
    late = m("20260101000001", Nature.NO_OP, ["a"], milestone="17.2")
    early = m("20260102000001", Nature.NO_OP, ["b"], milestone="17.1")
    undeclared = m("20251201000001", Nature.NO_OP, ["c"])
    assert [x.version for x in framework_order([late, early, undeclared])] == [
        "20251201000001",
        "20260102000001",
        "20260101000001",
    ]


def test_prefix_ordering_keeps_a_light_migration_behind_a_heavy_one() -> None:
    d = decide(env(INDEX, QUEUE), PREFIX, TUESDAY_02)
    assert d.action is Action.WAIT and d.migrations == []


def test_a_light_migration_with_disjoint_known_tables_passes_a_heavy_one() -> None:
    d = decide(env(INDEX, QUEUE), INDEPENDENT, TUESDAY_02)
    assert d.action is Action.EXECUTE
    assert d.migrations == ["20260101000002"] and d.up_to_version == "20260101000002"
    said = "20260101000002 (background_scheduling) runs before earlier pending 20260101000001"
    assert any(said in r and "its tables: issues" in r for r in d.reasons)
    assert any(said in n for n in d.notices)


def test_a_light_migration_sharing_a_table_or_with_unknown_tables_keeps_its_place() -> None:
    assert decide(env(INDEX, SHARED), INDEPENDENT, TUESDAY_02).migrations == []
    assert decide(env(INDEX, BLIND), INDEPENDENT, TUESDAY_02).migrations == []


NO_OP_BODY = "    # no-op: the background migration was removed"


def from_source(version: str, up: str = NO_OP_BODY) -> PendingMigration:
    """A migration as the classifier sees it in a GitLab post-deploy migration with this `up` body."""
    source = (
        "class FinalizeRemovedBackfill < Gitlab::Database::Migration[2.2]\n  milestone '17.4'\n\n"
        f"  def up\n{up}\n  end\n\n  def down\n    # no-op\n  end\nend\n"
    )
    c = classify_source(source.encode(), f"db/post_migrate/{version}_finalize_removed_backfill.rb")
    return PendingMigration(version, c, "old", DEPLOYED)


def test_a_no_op_touches_no_table_it_passes_heavy_ones_and_keeps_no_light_one_behind() -> None:
    noop = from_source("20260101000002")
    queue = m("20260101000003", Nature.BACKGROUND_SCHEDULING, ["issues"])
    d = decide(env(INDEX, noop, queue), INDEPENDENT, TUESDAY_02)
    assert d.action is Action.EXECUTE and d.migrations == [noop.version, queue.version]
    said = "20260101000002 (no_op) runs before earlier pending 20260101000001: it touches no table"
    assert any(said in r for r in d.reasons)
    assert any("20260101000003 (background_scheduling) runs before" in r for r in d.reasons)


def test_removing_a_retired_workers_jobs_touches_no_table_and_passes_like_a_no_op() -> None:
    purge = from_source("20260101000002", "    sidekiq_remove_jobs(job_klasses: %w[RetiredWorker])")
    queue = m("20260101000003", Nature.BACKGROUND_SCHEDULING, ["issues"])
    d = decide(env(INDEX, purge, queue), INDEPENDENT, TUESDAY_02)
    assert d.action is Action.EXECUTE and d.migrations == [purge.version, queue.version]
    legacy = from_source("20260101000002", "    migrate_async('BackfillSomething', [1, 100])")
    assert decide(env(INDEX, legacy, queue), INDEPENDENT, TUESDAY_02).migrations == []


def test_a_no_op_waiting_for_its_bake_keeps_no_light_one_behind() -> None:
    noop = replace(from_source("20260101000002"), deployed_at=TUESDAY_02 - timedelta(minutes=10))
    queue = m("20260101000003", Nature.BACKGROUND_SCHEDULING, ["issues"])
    baking = load_policy(
        TEXT.replace("preserve_rollback: true", "preserve_rollback: true, min_bake: 1h")
        + "ordering: independent\n"
    )
    d = decide(env(INDEX, noop, queue), baking, TUESDAY_02)
    assert d.action is Action.EXECUTE and d.migrations == [queue.version]


def test_a_partitioned_table_and_its_partitions_count_as_one_table() -> None:
    partitioned = m("20260101000001", Nature.INDEX_AND_CONSTRAINT, ["p_ci_builds"])
    for table in ("ci_builds", "gitlab_partitions_dynamic.ci_builds_101", "p_ci_builds"):
        queue = m("20260101000002", Nature.BACKGROUND_SCHEDULING, [table])
        assert decide(env(partitioned, queue), INDEPENDENT, TUESDAY_02).migrations == [], table
    logs = m("20260101000001", Nature.DATA_MIGRATION, ["gitlab_partitions_dynamic.web_hook_logs_202601"])
    queue = m("20260101000002", Nature.BACKGROUND_SCHEDULING, ["web_hook_logs"])
    assert decide(env(logs, queue), INDEPENDENT, TUESDAY_02).migrations == []
    builds_metadata = m("20260101000002", Nature.BACKGROUND_SCHEDULING, ["p_ci_builds_metadata"])
    assert decide(env(partitioned, builds_metadata), INDEPENDENT, TUESDAY_02).migrations == [
        builds_metadata.version
    ]
    numbered = m("20260101000001", Nature.INDEX_AND_CONSTRAINT, ["table_001"])  # not a partition schema
    other = m("20260101000002", Nature.BACKGROUND_SCHEDULING, ["table_002"])
    assert decide(env(numbered, other), INDEPENDENT, TUESDAY_02).migrations == [other.version]


def test_nothing_passes_a_migration_whose_tables_are_unknown() -> None:
    unknown_heavy = m("20260101000000", Nature.INDEX_AND_CONSTRAINT, [])
    assert decide(env(unknown_heavy, QUEUE), INDEPENDENT, TUESDAY_02).migrations == []


def test_a_held_version_keeps_every_later_one_out() -> None:
    d = decide(env(INDEX, QUEUE, holds={"20260101000001": "investigating"}), INDEPENDENT, TUESDAY_02)
    assert d.migrations == []


def test_a_light_migration_of_the_package_deployed_now_keeps_its_rollback() -> None:
    current = m("20260101000002", Nature.BACKGROUND_SCHEDULING, ["issues"], package="new")
    assert decide(env(INDEX, current), INDEPENDENT, TUESDAY_02).migrations == []


def test_the_projection_runs_the_light_one_tonight_and_the_heavy_one_at_the_weekend() -> None:
    runs = project(env(INDEX, QUEUE), INDEPENDENT, TUESDAY_02 - timedelta(hours=12), timedelta(days=7))
    assert [(r.at, r.migrations) for r in runs] == [
        (datetime(2026, 1, 6, 1, tzinfo=UTC), ["20260101000002"]),
        (datetime(2026, 1, 10, tzinfo=UTC), ["20260101000001"]),
    ]


def test_the_diff_says_which_new_migration_may_pass_earlier_ones() -> None:
    notes = passing_notes(framework_order([SHARED, INDEX, QUEUE]), [], ["20260101000002", "20260101000003"])
    assert notes == [
        "20260101000002 (background_scheduling) may run before earlier pending 20260101000001: it shares no "
        "table with them (its tables: issues)"
    ]


def test_a_manual_light_migration_nobody_requested_does_not_pass_the_ones_that_may_run() -> None:
    manual = load_policy(
        TEXT.replace(
            "index_and_constraint: {windows: [weekend]", "index_and_constraint: {windows: [always]"
        ).replace(
            "background_scheduling: {windows: [nights, weekend], mode: auto}",
            "background_scheduling: {windows: [always], mode: manual}",
        )
        + "ordering: independent\n"
    )
    d = decide(env(INDEX, QUEUE), manual, TUESDAY_02)
    # moved ahead, the manual backfill would hold the index back until someone asks for /pdm run
    assert d.action is Action.EXECUTE and d.migrations == [INDEX.version]
    requested = decide(
        env(INDEX, QUEUE, manual_request=ManualRequest("U1", QUEUE.version)), manual, TUESDAY_02
    )
    assert requested.migrations[0] == QUEUE.version  # covered by /pdm run, it passes as light ones do


SQUEEZE = load_policy(
    """
environments: [{name: gprd}]
ordering: independent
natures:
  no_op: {windows: [always], mode: auto}
  background_scheduling: {windows: [always], mode: auto}
guards: {min_bake: 0m, deploy_schedule: "0 */2 * * *", deploy_duration: 60m}
durations: {background_scheduling: 90m}
"""
)


def test_a_light_one_behind_a_ready_light_head_waiting_for_a_gap_is_not_announced_to_start_now() -> None:
    # deploys every 2 hours for 1 hour: the queueing head (1h40m with the overhead) fits no gap and
    # waits to follow the 03:00 deploy's end (it would delay the 02:00 deploy by 1h20m, the 04:00 one by
    # 40m); the no-op behind it would fit now on its own, but both are
    # ready light ones, so it keeps its place behind the head and starts with it
    no_op = m("20260101000009", Nature.NO_OP, [])
    no_op = replace(no_op, classification=no_op.classification.model_copy(update={"touches_no_table": True}))
    at = datetime(2026, 1, 6, 1, 40, tzinfo=UTC)
    d = decide(env(QUEUE, no_op), SQUEEZE, at)
    assert d.action is Action.WAIT and d.migrations == []
    assert d.next_window_at == datetime(2026, 1, 6, 3, 0, tzinfo=UTC)
