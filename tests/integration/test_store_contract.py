"""The store contract, run against the Redis store (real redis-server) and `tests.fakes.FakeStore`, so
the fake the unit tests rely on cannot drift from the adapter."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from scheduler.adapters.redis_store import RedisStore
from scheduler.classify.model import SizeClass
from scheduler.errors import InvalidRunTransition, RunConflict, UnknownRun
from scheduler.natures import Nature
from scheduler.policy.learnt import RUN_TIMINGS_KEPT, RunTiming
from scheduler.ports import Store
from scheduler.records import (
    AuditEntry,
    Baseline,
    Deployment,
    DeploymentStatus,
    Note,
    Run,
    RunStatus,
    SlackMessage,
)
from tests.fakes import FakeStore
from tests.integration.test_state import SHA, T0, new_run, pending

V1, V2, V3 = "20260101000000", "20260102000000", "20260103000000"


@pytest.fixture(params=["redis", "fake"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "fake":
        yield FakeStore()
        return
    client = redis.Redis.from_url(request.getfixturevalue("redis_url"))
    yield RedisStore(client)
    client.close()


def run_of(run_id: str, migrations: list[str], status: RunStatus = RunStatus.REQUESTED) -> Run:
    base = new_run(run_id, "gprd")
    return Run(
        **{**base.__dict__, "migrations": migrations, "up_to_version": migrations[-1], "status": status}
    )


def deployment(dep_id: int, status: DeploymentStatus, minutes: int = 0) -> Deployment:
    return Deployment(dep_id, SHA, SHA[:8], T0 + timedelta(minutes=minutes), status)


def test_pending_sets_are_replaced_extended_and_pruned_and_read_by_version(store: Store) -> None:
    store.set_pending("gprd", [pending(V2), pending(V1)])
    store.set_pending("gstg", [pending(V3)])
    store.remove_pending("gprd", [V2])

    assert [m.version for m in store.pending("gprd")] == [V1]
    assert store.pending("gprd")[0] == pending(V1)
    store.set_pending("gprd", [])
    assert store.pending("gprd") == [] and [m.version for m in store.pending("gstg")] == [V3]


def test_deployments_keep_the_latest_status_and_the_marker_follows_it(store: Store) -> None:
    assert store.record_deployment("gprd", deployment(1, DeploymentStatus.RUNNING)) is None
    assert store.deployment_in_progress("gprd") == deployment(1, DeploymentStatus.RUNNING)
    left = store.deploy_marker_expires_in("gprd")
    assert left is not None and timedelta(hours=3) < left <= timedelta(hours=4)

    assert store.record_deployment("gprd", deployment(1, DeploymentStatus.SUCCESS, minutes=5)) is None
    stale = store.record_deployment("gprd", deployment(1, DeploymentStatus.RUNNING, minutes=1))

    assert stale == deployment(1, DeploymentStatus.SUCCESS, minutes=5)
    assert store.deployment_in_progress("gprd") is None and store.deploy_marker_expires_in("gprd") is None
    assert store.last_deployment("gprd") == deployment(1, DeploymentStatus.SUCCESS, minutes=5)


def test_deployment_history_is_newest_first_and_limited(store: Store) -> None:
    for dep_id in range(1, 5):
        store.record_deployment("gprd", deployment(dep_id, DeploymentStatus.SUCCESS, minutes=dep_id))
    store.record_deploy_start("gprd", 2, T0 + timedelta(minutes=2))
    store.record_deploy_start("gprd", 1, T0 + timedelta(minutes=1))

    assert [d.deployment_id for d in store.deployments("gprd", limit=3)] == [4, 3, 2]
    assert store.deploy_starts("gprd") == [T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)]
    assert store.last_deployment("gprd", DeploymentStatus.FAILED) is None


def test_an_estimated_deploy_start_counts_until_the_reported_start_replaces_it(store: Store) -> None:
    store.record_deploy_start("gprd", 7, T0, estimated=True)
    store.record_deploy_start("gprd", 7, T0 - timedelta(minutes=5), estimated=True)  # the first one stays
    assert store.deploy_starts("gprd") == [T0]
    store.record_deploy_start("gprd", 7, T0 + timedelta(minutes=3))
    assert store.deploy_starts("gprd") == [T0 + timedelta(minutes=3)]
    store.record_deploy_start("gprd", 7, T0 + timedelta(minutes=9), estimated=True)  # reported: no guess
    store.record_deploy_start("gprd", 8, T0 + timedelta(minutes=20))
    assert store.deploy_starts("gprd") == [T0 + timedelta(minutes=3), T0 + timedelta(minutes=20)]


def test_runs_move_along_their_life_cycle_and_success_moves_the_rollback_line(store: Store) -> None:
    run = run_of(store.next_run_id("gprd"), [V1, V2])
    assert store.create_run(run) and not store.create_run(run)
    store.transition_run(run.id, RunStatus.APPROVED, T0, approved_by=["U1"])
    store.transition_run(run.id, RunStatus.TRIGGERED, T0)
    store.transition_run(run.id, RunStatus.RUNNING, T0, pipeline_id=7)
    done = store.transition_run(run.id, RunStatus.SUCCESS, T0 + timedelta(minutes=9))

    assert done.status is RunStatus.SUCCESS and done.pipeline_id == 7 and done.approved_by == ["U1"]
    assert store.get_run(run.id) == done and store.active_runs() == []
    assert store.last_successful_run("gprd") == done
    assert store.successes("gprd") == {V1: T0 + timedelta(minutes=9), V2: T0 + timedelta(minutes=9)}
    with pytest.raises(InvalidRunTransition):
        store.transition_run(run.id, RunStatus.RUNNING, T0)
    with pytest.raises(UnknownRun):
        store.get_run("gprd-404")


def test_a_success_takes_its_migrations_out_of_pending_in_the_same_write_and_a_failure_keeps_them(
    store: Store,
) -> None:
    store.set_pending("gprd", [pending(V1), pending(V2), pending(V3)])
    ok, failed = run_of(store.next_run_id("gprd"), [V1, V2]), run_of("gprd-failed", [V3])
    for run in (ok, failed):
        store.create_run(run)
        store.transition_run(run.id, RunStatus.APPROVED, T0, approved_by=["U1"])
        store.transition_run(run.id, RunStatus.TRIGGERED, T0)
    store.transition_run(failed.id, RunStatus.FAILED, T0, failure_reason="pipeline 8 ended failed")
    assert [m.version for m in store.pending("gprd")] == [V1, V2, V3]
    store.transition_run(ok.id, RunStatus.SUCCESS, T0)
    assert [m.version for m in store.pending("gprd")] == [V3]


def test_a_success_keeps_its_timing_in_the_same_write_and_a_refused_transition_keeps_none(
    store: Store,
) -> None:
    store.set_pending("gprd", [pending(V1)])
    run = run_of(store.next_run_id("gprd"), [V1])
    store.create_run(run)
    store.transition_run(run.id, RunStatus.APPROVED, T0, approved_by=["U1"])
    store.transition_run(run.id, RunStatus.TRIGGERED, T0)
    store.transition_run(run.id, RunStatus.SUCCESS, T0, timing=timing(7))
    assert store.run_timings("gprd") == [timing(7)] and store.pending("gprd") == []
    with pytest.raises(InvalidRunTransition):
        store.transition_run(run.id, RunStatus.SUCCESS, T0, timing=timing(8))
    assert store.run_timings("gprd") == [timing(7)]


def test_a_migration_is_never_part_of_two_committed_runs(store: Store) -> None:
    store.create_run(run_of("gprd-1", [V1], RunStatus.APPROVED))
    store.create_run(run_of("gprd-2", [V1, V2]))

    with pytest.raises(RunConflict, match=f"{V1} belongs to run gprd-1"):
        store.transition_run("gprd-2", RunStatus.APPROVED, T0)
    assert store.get_run("gprd-2").status is RunStatus.REQUESTED


def test_an_approval_supersedes_the_approved_runs_it_covers(store: Store) -> None:
    store.create_run(run_of("gprd-1", [V1], RunStatus.APPROVED))
    store.create_run(run_of("gprd-2", [V1, V2]))

    approved, superseded = store.approve_run("gprd-2", T0, ["U1"], {"gprd-1": "covered"})

    assert approved.status is RunStatus.APPROVED and approved.approved_by == ["U1"]
    assert [(r.id, r.status, r.superseded_by) for r in superseded] == [
        ("gprd-1", RunStatus.CANCELED, "gprd-2")
    ]
    assert [r.id for r in store.active_runs()] == ["gprd-2"]


def test_an_approved_run_splits_into_a_part_that_runs_and_an_approved_rest(store: Store) -> None:
    approved = Run(
        **{
            **run_of("gprd-1", [V1, V2, V3], RunStatus.APPROVED).__dict__,
            "approved_by": ["U1", "U2"],
            "expires_at": T0 + timedelta(days=1),
        }
    )
    store.create_run(approved)

    part, rest = store.split_run("gprd-1", "gprd-2", [V1, V2], T0 + timedelta(hours=1))

    assert (part.id, part.migrations, part.up_to_version, part.part_of) == ("gprd-2", [V1, V2], V2, "gprd-1")
    assert (rest.id, rest.migrations, rest.up_to_version) == ("gprd-1", [V3], V3)
    for run in (part, rest):
        assert run.status is RunStatus.APPROVED and run.approved_by == ["U1", "U2"]
        assert run.expires_at == T0 + timedelta(days=1)
    assert store.get_run("gprd-1") == rest and store.get_run("gprd-2") == part
    assert [r.id for r in store.active_runs()] == ["gprd-1", "gprd-2"]
    store.transition_run("gprd-2", RunStatus.TRIGGERED, T0)  # the part owns its migrations now


@pytest.mark.parametrize(
    ("status", "part", "error"),
    [
        (RunStatus.APPROVED, [V1, V2, V3], ValueError),
        (RunStatus.APPROVED, [], ValueError),
        (RunStatus.APPROVED, ["20260104000000"], ValueError),
        (RunStatus.REQUESTED, [V1], InvalidRunTransition),
    ],
)
def test_a_split_that_is_not_a_strict_part_of_an_approved_run_changes_nothing(
    store: Store, status: RunStatus, part: list[str], error: type[Exception]
) -> None:
    store.create_run(run_of("gprd-1", [V1, V2, V3], status))

    with pytest.raises(error):
        store.split_run("gprd-1", "gprd-2", part, T0)

    assert store.get_run("gprd-1").migrations == [V1, V2, V3]
    assert [r.id for r in store.active_runs()] == ["gprd-1"]


def test_run_history_and_active_runs_are_ordered_by_request(store: Store) -> None:
    early = Run(**{**run_of("gprd-1", [V1]).__dict__, "requested_at": T0 - timedelta(hours=1)})
    store.create_run(run_of("gprd-2", [V2]))
    store.create_run(early)

    assert [r.id for r in store.runs("gprd")] == ["gprd-2", "gprd-1"]
    assert [r.id for r in store.runs("gprd", limit=1)] == ["gprd-2"]
    assert [r.id for r in store.active_runs()] == ["gprd-1", "gprd-2"]


def test_one_approval_per_approver_oldest_first(store: Store) -> None:
    store.add_approval("gprd-1", Note("U2", T0 + timedelta(minutes=1), "approved"))
    again = store.add_approval("gprd-1", Note("U2", T0 + timedelta(minutes=2), "approved"))
    both = store.add_approval("gprd-1", Note("U1", T0, "approved"))

    assert [a.actor for a in again] == ["U2"]
    assert [(a.actor, a.at) for a in both] == [("U1", T0), ("U2", T0 + timedelta(minutes=1))]


def test_pauses_holds_and_baselines(store: Store) -> None:
    store.set_pause(None, Note("U1", T0, "freeze"))
    assert store.effective_pause("gprd") == Note("U1", T0, "freeze") and store.pause("gprd") is None
    store.set_pause("gprd", Note("U2", T0, "incident"))
    assert store.effective_pause("gprd") == Note("U2", T0, "incident")
    assert store.clear_pause(None) and not store.clear_pause(None)

    store.set_hold(V1, Note("U1", T0, "wait"))
    assert store.holds() == {V1: Note("U1", T0, "wait")}
    assert store.clear_hold(V1) and not store.clear_hold(V1) and store.holds() == {}

    store.set_baseline("gprd", Baseline(SHA, "U1", T0))
    assert store.baseline("gprd") == Baseline(SHA, "U1", T0) and store.baseline("gstg") is None


def test_locks_are_exclusive_fenced_and_only_their_owner_renews_or_releases(store: Store) -> None:
    first = store.acquire_lock("gprd", "gprd-1", timedelta(minutes=5), T0)
    assert first is not None
    assert store.acquire_lock("gprd", "gprd-2", timedelta(minutes=5), T0) is None
    assert store.lock_holder("gprd") == first
    assert store.renew_lock(first, timedelta(minutes=5)) and store.release_lock(first)
    assert not store.release_lock(first) and not store.renew_lock(first, timedelta(minutes=5))

    second = store.acquire_lock("gprd", "gprd-2", timedelta(minutes=5), T0)
    assert second is not None and second.token > first.token


def test_a_lock_and_a_claim_lapse_after_their_ttl(store: Store) -> None:
    lock = store.acquire_lock("gprd", "gprd-1", timedelta(milliseconds=300), T0)
    store.mark("outcome", timedelta(seconds=1))
    assert lock is not None and store.marked("outcome")

    time.sleep(1.1)

    assert store.lock_holder("gprd") is None and not store.renew_lock(lock, timedelta(minutes=1))
    assert not store.marked("outcome")


def test_a_claim_is_taken_once_until_given_back(store: Store) -> None:
    assert store.claim("start:gprd-1", timedelta(minutes=1))
    assert not store.claim("start:gprd-1", timedelta(minutes=1)) and store.marked("start:gprd-1")
    store.unclaim("start:gprd-1")
    assert store.claim("start:gprd-1", timedelta(minutes=1))


def test_a_mutex_is_held_by_one_holder_at_a_time(store: Store) -> None:
    wait, ttl = timedelta(0), timedelta(seconds=5)
    with store.mutex("evaluate:gprd", ttl, wait) as first, store.mutex("evaluate:gprd", ttl, wait) as second:
        assert first and not second
    with store.mutex("evaluate:gprd", timedelta(seconds=5), timedelta(0)) as again:
        assert again


def test_a_package_thread_is_remembered_once(store: Store) -> None:
    assert store.set_thread("gprd", SHA, SlackMessage("C1", "1.1"))
    assert not store.set_thread("gprd", SHA, SlackMessage("C1", "2.2"))
    store.set_proposal_message("gprd-1", SlackMessage("C1", "3.3"))

    assert store.thread("gprd", SHA) == SlackMessage("C1", "1.1") and store.thread("gstg", SHA) is None
    assert store.proposal_message("gprd-1") == SlackMessage("C1", "3.3")


def timing(minutes: int) -> RunTiming:
    parts = (
        (Nature.DATA_MIGRATION, SizeClass.OVER_LIMIT, timedelta(hours=4)),
        (Nature.NO_OP, None, timedelta(seconds=61.5)),
    )
    return RunTiming(T0 + timedelta(minutes=minutes), timedelta(minutes=minutes, microseconds=7), parts)


def test_run_timings_round_trip_oldest_first_per_environment(store: Store) -> None:
    assert store.run_timings("gprd") == []
    store.record_run_timing("gprd", timing(1))
    store.record_run_timing("gprd", timing(2))
    store.record_run_timing("gstg", RunTiming(T0, timedelta(0), ()))

    assert store.run_timings("gprd") == [timing(1), timing(2)]
    assert store.run_timings("gstg") == [RunTiming(T0, timedelta(0), ())]


def test_run_timings_keep_the_newest_of_each_environment(store: Store) -> None:
    for minutes in range(RUN_TIMINGS_KEPT + 3):
        store.record_run_timing("gprd", timing(minutes))

    kept = store.run_timings("gprd")
    assert len(kept) == RUN_TIMINGS_KEPT
    assert kept[0] == timing(3) and kept[-1] == timing(RUN_TIMINGS_KEPT + 2)


def test_the_audit_log_is_newest_first_redacted_and_filtered(store: Store) -> None:
    store.audit(AuditEntry(T0, "U1", "paused", "gprd", "incident", {"gitlab_token": "glpat-x", "n": 1}))
    store.audit(AuditEntry(T0, "pdm-bot", "decided", "gstg", "idle"))

    newest = store.audit_log()
    assert [e.action for e in newest] == ["decided", "paused"] and all(e.id for e in newest)
    assert newest[1].details == {"gitlab_token": "[redacted]", "n": 1}
    assert [e.action for e in store.audit_log(environment="gprd")] == ["paused"]


def test_a_snapshot_answers_the_planner_reads_like_the_store(store: Store) -> None:
    store.set_pending("gprd", [pending(V1)])
    store.record_deployment("gprd", deployment(1, DeploymentStatus.SUCCESS))
    store.set_hold(V1, Note("U1", T0, "wait"))
    store.create_run(run_of("gprd-1", [V1]))
    store.record_run_timing("gprd", timing(5))

    snapshot = store.snapshot(["gprd"])

    assert snapshot.pending("gprd") == store.pending("gprd")
    assert snapshot.deployments("gprd") == store.deployments("gprd")
    assert snapshot.holds() == store.holds() and snapshot.active_runs() == store.active_runs()
    assert snapshot.lock_holder("gprd") is None and snapshot.effective_pause("gprd") is None
    assert snapshot.run_timings("gprd") == store.run_timings("gprd") == [timing(5)]
