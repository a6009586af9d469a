"""The Redis store (`scheduler/adapters/redis_store/`) against a real redis-server."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis

from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store import RedisStore
from scheduler.classify.model import Classification, Database, Evidence, SizeClass
from scheduler.errors import InvalidRunTransition, RunConflict, UnknownRun
from scheduler.natures import Nature
from scheduler.policy.learnt import RunTiming
from scheduler.records import (
    AuditEntry,
    Baseline,
    Deployment,
    DeploymentStatus,
    Note,
    PendingRecord,
    Run,
    RunStatus,
    SlackMessage,
)

T0 = datetime(2026, 1, 10, 1, 0, tzinfo=UTC)
SHA = "a" * 40


@pytest.fixture
def state(redis_url: str) -> Iterator[RedisStore]:
    client = redis.Redis.from_url(redis_url)
    yield RedisStore(client)
    client.close()


def classification(version: str, nature: Nature = Nature.DDL_CLEANUP) -> Classification:
    return Classification(
        path=f"db/post_migrate/{version}_drop_things.rb",
        version=version,
        name="DropThings",
        primary_nature=nature,
        natures=[nature, Nature.NO_OP],
        database=Database.CI,
        tables=["ci_builds"],
        evidence=[Evidence(line=3, signal="remove_column", nature=nature)],
    )


def pending(version: str, sha: str = SHA) -> PendingRecord:
    return PendingRecord(
        version=version,
        path=f"db/post_migrate/{version}_drop_things.rb",
        classification=classification(version),
        package_sha=sha,
        deployed_at=T0,
    )


def new_run(run_id: str = "gprd-1", env: str = "gprd") -> Run:
    return Run(
        id=run_id,
        environment=env,
        migrations=["20260101000000", "20260102000000"],
        up_to_version="20260102000000",
        target_sha=SHA,
        requested_by="U_ALICE",
        requested_at=T0,
    )


# Records ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        new_run(),
        new_run().moved_to(RunStatus.APPROVED, T0, approved_by=["U_BOB", "U_CAROL"]),
        pending("20260101000000"),
        Deployment(
            deployment_id=7, sha=SHA, short_sha="aaaaaaaa", deployed_at=T0, status=DeploymentStatus.RUNNING
        ),
        Note(actor="U_BOB", at=T0, reason="incident"),
        Baseline(sha=SHA, actor="U_BOB", at=T0),
        SlackMessage(channel="C1", ts="1700000000.000100"),
        AuditEntry(at=T0, actor="pdm-bot", action="propose", environment="gprd", details={"n": [1, 2]}),
    ],
    ids=lambda r: type(r).__name__,
)
def test_every_record_survives_a_dict_round_trip(record: object) -> None:
    assert type(record).from_dict(record.to_dict()) == record  # type: ignore[attr-defined]


def test_pending_migrations_keep_their_classification_through_redis(state: RedisStore) -> None:
    state.set_pending("gprd", [pending("20260102000000"), pending("20260101000000")])

    stored = state.pending("gprd")

    assert [m.version for m in stored] == ["20260101000000", "20260102000000"]
    assert stored[0].classification == classification("20260101000000")
    assert stored[0].package_sha == SHA and stored[0].deployed_at == T0


def test_set_pending_replaces_while_add_and_remove_edit(state: RedisStore) -> None:
    state.set_pending("gprd", [pending("1"), pending("2")])
    state.set_pending("gprd", [pending("3")])
    state.add_pending("gprd", [pending("4")])
    state.remove_pending("gprd", ["3"])

    assert [m.version for m in state.pending("gprd")] == ["4"]
    assert state.pending("gstg") == []


# Deployments -----------------------------------------------------------------------------------------


def deployment(dep_id: int, status: DeploymentStatus, minutes: int = 0) -> Deployment:
    sha = f"{dep_id:040d}"
    return Deployment(dep_id, sha, sha[:8], T0 + timedelta(minutes=minutes), status)


def test_a_running_deploy_is_marked_in_progress_until_it_ends(state: RedisStore) -> None:
    state.record_deployment("gprd", deployment(1, DeploymentStatus.RUNNING))
    assert state.deployment_in_progress("gprd") == deployment(1, DeploymentStatus.RUNNING)

    state.record_deployment("gprd", deployment(1, DeploymentStatus.SUCCESS, minutes=40))

    assert state.deployment_in_progress("gprd") is None
    assert state.deployments("gprd") == [deployment(1, DeploymentStatus.SUCCESS, minutes=40)]


@pytest.mark.parametrize("status", [DeploymentStatus.FAILED, DeploymentStatus.CANCELED])
def test_failed_or_canceled_deploys_clear_the_marker_too(state: RedisStore, status: DeploymentStatus) -> None:
    state.record_deployment("gprd", deployment(1, DeploymentStatus.RUNNING))
    state.record_deployment("gprd", deployment(1, status, minutes=5))
    assert state.deployment_in_progress("gprd") is None


def test_an_older_deploy_ending_does_not_clear_a_newer_running_one(state: RedisStore) -> None:
    state.record_deployment("gprd", deployment(2, DeploymentStatus.RUNNING, minutes=10))
    state.record_deployment("gprd", deployment(1, DeploymentStatus.SUCCESS, minutes=5))
    assert state.deployment_in_progress("gprd") == deployment(2, DeploymentStatus.RUNNING, minutes=10)


@pytest.mark.parametrize("late", [DeploymentStatus.RUNNING, DeploymentStatus.CREATED])
def test_a_status_delivered_after_a_later_one_of_the_same_deployment_changes_nothing(
    state: RedisStore, late: DeploymentStatus
) -> None:
    state.record_deployment("gprd", deployment(1, DeploymentStatus.RUNNING))
    success = deployment(1, DeploymentStatus.SUCCESS, minutes=40)
    assert state.record_deployment("gprd", success) is None

    assert state.record_deployment("gprd", deployment(1, late, minutes=1)) == success
    assert state.deployment_in_progress("gprd") is None
    assert state.deployments("gprd") == [success]


def test_at_the_same_instant_a_finished_status_beats_running_and_a_repeat_is_recorded_again(
    state: RedisStore,
) -> None:
    success = deployment(1, DeploymentStatus.SUCCESS)
    state.record_deployment("gprd", success)
    assert state.record_deployment("gprd", deployment(1, DeploymentStatus.RUNNING)) == success
    assert state.record_deployment("gprd", deployment(1, DeploymentStatus.FAILED)) == success
    assert state.record_deployment("gprd", success) is None  # the same event again: a job re-run
    assert state.deployment_in_progress("gprd") is None


def test_the_deploy_marker_always_expires(state: RedisStore) -> None:
    state.record_deployment("gprd", deployment(1, DeploymentStatus.RUNNING))
    left = state.deploy_marker_expires_in("gprd")
    assert left is not None and timedelta(hours=3, minutes=59) < left <= timedelta(hours=4)

    state.record_deployment(
        "gprd", deployment(2, DeploymentStatus.RUNNING, minutes=1), marker_ttl=timedelta(0)
    )
    assert state.deployment_in_progress("gprd") == deployment(1, DeploymentStatus.RUNNING)

    state.record_deployment("gstg", deployment(3, DeploymentStatus.RUNNING), marker_ttl=timedelta(seconds=1))
    time.sleep(1.2)
    assert state.deployment_in_progress("gstg") is None
    assert state.deploy_marker_expires_in("gstg") is None


def test_deployment_history_is_newest_first_and_finds_the_last_success(state: RedisStore) -> None:
    state.record_deployment("gprd", deployment(1, DeploymentStatus.SUCCESS, minutes=0))
    state.record_deployment("gprd", deployment(2, DeploymentStatus.SUCCESS, minutes=60))
    state.record_deployment("gprd", deployment(3, DeploymentStatus.FAILED, minutes=120))

    assert [d.deployment_id for d in state.deployments("gprd")] == [3, 2, 1]
    assert state.last_deployment("gprd") == deployment(2, DeploymentStatus.SUCCESS, minutes=60)
    assert state.last_deployment("gstg") is None


# Runs ------------------------------------------------------------------------------------------------


def test_a_run_walks_its_whole_life_cycle_and_becomes_the_last_successful_one(state: RedisStore) -> None:
    assert state.create_run(new_run())
    state.transition_run("gprd-1", RunStatus.APPROVED, T0 + timedelta(minutes=1), approved_by=["U_BOB"])
    state.transition_run(
        "gprd-1", RunStatus.TRIGGERED, T0 + timedelta(minutes=2), pipeline_id=99, pipeline_url="http://x/99"
    )
    state.transition_run("gprd-1", RunStatus.RUNNING, T0 + timedelta(minutes=3))
    done = state.transition_run("gprd-1", RunStatus.SUCCESS, T0 + timedelta(minutes=30))

    assert state.get_run("gprd-1") == done
    assert (done.approved_by, done.pipeline_id, done.finished_at) == (
        ["U_BOB"],
        99,
        T0 + timedelta(minutes=30),
    )
    assert done.approved_at == T0 + timedelta(minutes=1) and done.started_at == T0 + timedelta(minutes=3)
    assert state.last_successful_run("gprd") == done
    assert state.successes("gprd") == dict.fromkeys(done.migrations, T0 + timedelta(minutes=30))
    assert state.active_runs() == []


@pytest.mark.parametrize(
    "path, bad",
    [
        ([], RunStatus.TRIGGERED),
        ([], RunStatus.SUCCESS),
        ([RunStatus.APPROVED], RunStatus.REQUESTED),
        ([RunStatus.APPROVED, RunStatus.CANCELED], RunStatus.TRIGGERED),
        ([RunStatus.APPROVED, RunStatus.TRIGGERED, RunStatus.SUCCESS], RunStatus.FAILED),
    ],
)
def test_invalid_run_transitions_raise_and_change_nothing(
    state: RedisStore, path: list[RunStatus], bad: RunStatus
) -> None:
    state.create_run(new_run())
    for status in path:
        state.transition_run("gprd-1", status, T0)
    before = state.get_run("gprd-1")

    with pytest.raises(InvalidRunTransition, match=f"cannot go from {before.status} to {bad}"):
        state.transition_run("gprd-1", bad, T0)

    assert state.get_run("gprd-1") == before


def test_unknown_runs_are_named_errors(state: RedisStore) -> None:
    with pytest.raises(UnknownRun, match="no run 'nope'"):
        state.get_run("nope")
    with pytest.raises(UnknownRun):
        state.transition_run("nope", RunStatus.APPROVED, T0)


def test_creating_a_run_twice_keeps_the_first(state: RedisStore) -> None:
    assert state.create_run(new_run())
    assert not state.create_run(new_run().moved_to(RunStatus.APPROVED, T0))
    assert state.get_run("gprd-1").status is RunStatus.REQUESTED


def test_run_history_is_per_environment_newest_first_and_ids_are_unique(state: RedisStore) -> None:
    ids = [state.next_run_id("gprd") for _ in range(3)]
    assert len(set(ids)) == 3 and all(i.startswith("gprd-") for i in ids)
    for minutes, run_id in enumerate(ids):
        state.create_run(Run(**{**new_run(run_id).__dict__, "requested_at": T0 + timedelta(minutes=minutes)}))
    state.create_run(new_run("gstg-9", env="gstg"))

    assert [r.id for r in state.runs("gprd")] == list(reversed(ids))
    assert {r.id for r in state.active_runs()} == {"gstg-9", *ids}
    assert state.last_successful_run("gprd") is None


def test_concurrent_transitions_let_exactly_one_caller_win(state: RedisStore, redis_url: str) -> None:
    state.create_run(new_run())
    state.transition_run("gprd-1", RunStatus.APPROVED, T0)
    outcomes: list[str] = []

    def trigger() -> None:
        own = RedisStore(redis.Redis.from_url(redis_url))
        try:
            own.transition_run("gprd-1", RunStatus.TRIGGERED, T0)
            outcomes.append("won")
        except InvalidRunTransition:
            outcomes.append("refused")

    threads = [threading.Thread(target=trigger) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["refused"] * 7 + ["won"]


def run_in(status: RunStatus, run_id: str, migrations: list[str], env: str = "gprd") -> Run:
    """A run stored in `status` (reached along the allowed transitions)."""
    run = dataclasses.replace(new_run(run_id, env), migrations=migrations, up_to_version=migrations[-1])
    path = {
        RunStatus.REQUESTED: [],
        RunStatus.APPROVED: [RunStatus.APPROVED],
        RunStatus.TRIGGERED: [RunStatus.APPROVED, RunStatus.TRIGGERED],
        RunStatus.RUNNING: [RunStatus.APPROVED, RunStatus.TRIGGERED, RunStatus.RUNNING],
        RunStatus.FAILED: [RunStatus.APPROVED, RunStatus.FAILED],
    }[status]
    for step in path:
        run = run.moved_to(step, T0)
    return run


V1, V2, V3 = "20260101000000", "20260102000000", "20260103000000"


@pytest.mark.parametrize("holder", [RunStatus.APPROVED, RunStatus.TRIGGERED, RunStatus.RUNNING])
def test_a_run_cannot_be_approved_or_triggered_while_a_committed_run_holds_one_of_its_migrations(
    state: RedisStore, holder: RunStatus
) -> None:
    state.create_run(run_in(holder, "gprd-1", [V1]))
    state.create_run(run_in(RunStatus.REQUESTED, "gprd-2", [V1, V2]))
    state.create_run(run_in(RunStatus.APPROVED, "gprd-3", [V1]))  # stored before the rule existed

    with pytest.raises(RunConflict, match=f"{V1} belongs to run gprd-1 \\({holder}\\)"):
        state.transition_run("gprd-2", RunStatus.APPROVED, T0)
    with pytest.raises(RunConflict, match="gprd-1"):
        state.transition_run("gprd-3", RunStatus.TRIGGERED, T0)
    assert state.get_run("gprd-2").status is RunStatus.REQUESTED
    assert state.get_run("gprd-3").status is RunStatus.APPROVED


def test_runs_of_other_migrations_environments_or_finished_runs_do_not_conflict(state: RedisStore) -> None:
    state.create_run(run_in(RunStatus.RUNNING, "gprd-1", [V1]))
    state.create_run(run_in(RunStatus.RUNNING, "gstg-2", [V2], env="gstg"))
    state.create_run(run_in(RunStatus.FAILED, "gprd-3", [V2]))
    state.create_run(run_in(RunStatus.REQUESTED, "gprd-4", [V2, V3]))
    state.create_run(run_in(RunStatus.REQUESTED, "gprd-5", [V2, V3]))  # a proposal holds nothing

    assert state.transition_run("gprd-4", RunStatus.APPROVED, T0).status is RunStatus.APPROVED


def test_an_approval_supersedes_the_approved_runs_it_covers_in_the_same_transaction(
    state: RedisStore,
) -> None:
    state.create_run(run_in(RunStatus.APPROVED, "gprd-1", [V1]))
    state.create_run(run_in(RunStatus.REQUESTED, "gprd-2", [V1, V2]))

    run, superseded = state.approve_run("gprd-2", T0, ["U_BOB"], {"gprd-1": "covered by gprd-2"})

    assert run.status is RunStatus.APPROVED and run.approved_by == ["U_BOB"]
    assert [(r.id, r.status, r.superseded_by, r.failure_reason) for r in superseded] == [
        ("gprd-1", RunStatus.CANCELED, "gprd-2", "covered by gprd-2")
    ]
    assert state.get_run("gprd-1").status is RunStatus.CANCELED
    assert {r.id for r in state.active_runs()} == {"gprd-2"}


def test_a_covered_run_that_started_meanwhile_is_a_conflict_not_cancelled(state: RedisStore) -> None:
    state.create_run(run_in(RunStatus.TRIGGERED, "gprd-1", [V1]))
    state.create_run(run_in(RunStatus.REQUESTED, "gprd-2", [V1, V2]))

    with pytest.raises(RunConflict, match="gprd-1 \\(triggered\\)"):
        state.approve_run("gprd-2", T0, ["U_BOB"], {"gprd-1": "covered by gprd-2"})

    assert state.get_run("gprd-1").status is RunStatus.TRIGGERED
    assert state.get_run("gprd-2").status is RunStatus.REQUESTED


def test_of_concurrent_approvals_of_overlapping_runs_exactly_one_wins(
    state: RedisStore, redis_url: str
) -> None:
    for round_ in range(10):
        ids = [f"gprd-{round_}-{i}" for i in range(4)]
        for run_id in ids:
            state.create_run(run_in(RunStatus.REQUESTED, run_id, [V1, V2]))
        outcomes: list[str] = []

        def approve(run_id: str, outcomes: list[str]) -> None:
            own = RedisStore(redis.Redis.from_url(redis_url))
            try:
                own.transition_run(run_id, RunStatus.APPROVED, T0)
                outcomes.append(run_id)
            except RunConflict:
                outcomes.append("refused")

        threads = [threading.Thread(target=approve, args=(run_id, outcomes)) for run_id in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        assert sorted(outcomes).count("refused") == 3
        (winner,) = [o for o in outcomes if o != "refused"]
        assert [r.id for r in state.active_runs() if r.status is RunStatus.APPROVED] == [winner]
        state.transition_run(winner, RunStatus.CANCELED, T0)
        for run_id in ids:
            if run_id != winner:
                state.transition_run(run_id, RunStatus.CANCELED, T0)


def test_a_mark_is_reset_by_marking_again_and_read_without_taking_it(state: RedisStore) -> None:
    assert not state.marked("create-unknown:gprd-1")
    state.mark("create-unknown:gprd-1", timedelta(seconds=1))
    state.mark("create-unknown:gprd-1", timedelta(seconds=30))  # a second unknown POST restarts it
    assert state.marked("create-unknown:gprd-1") and state.marked("create-unknown:gprd-1")  # not taken
    assert 1 < state.r.ttl(Keys.once("create-unknown:gprd-1")) <= 30


# Approvals, pauses, holds, baselines -------------------------------------------------------------------


def test_approvals_count_each_approver_once(state: RedisStore) -> None:
    state.add_approval("gprd-1", Note("U_BOB", T0))
    state.add_approval("gprd-1", Note("U_BOB", T0 + timedelta(minutes=1)))
    approvals = state.add_approval("gprd-1", Note("U_CAROL", T0 + timedelta(minutes=2), "looks fine"))

    assert [(a.actor, a.at) for a in approvals] == [("U_BOB", T0), ("U_CAROL", T0 + timedelta(minutes=2))]
    assert state.approvals("gprd-2") == []


def test_an_environment_pause_wins_over_the_global_one_and_both_can_be_lifted(state: RedisStore) -> None:
    state.set_pause(None, Note("U_BOB", T0, "freeze"))
    assert state.effective_pause("gprd") == Note("U_BOB", T0, "freeze")

    state.set_pause("gprd", Note("U_CAROL", T0, "incident 42"))
    assert state.effective_pause("gprd") == Note("U_CAROL", T0, "incident 42")
    assert state.effective_pause("gstg") == Note("U_BOB", T0, "freeze")

    assert state.clear_pause("gprd") and state.clear_pause(None)
    assert not state.clear_pause(None)
    assert state.effective_pause("gprd") is None


def test_holds_baselines_and_upstream_successes_are_stored(state: RedisStore) -> None:
    state.set_hold("20260101000000", Note("U_BOB", T0, "wait for fix"))
    state.set_baseline("gstg", Baseline(SHA, "U_BOB", T0))
    state.record_successes("gstg", ["1", "2"], T0)

    assert state.holds() == {"20260101000000": Note("U_BOB", T0, "wait for fix")}
    assert state.clear_hold("20260101000000") and state.holds() == {}
    assert state.baseline("gstg") == Baseline(SHA, "U_BOB", T0)
    assert state.baseline("gprd") is None
    assert state.successes("gstg") == {"1": T0, "2": T0}


# Lock ------------------------------------------------------------------------------------------------


def test_a_lock_has_one_owner_and_every_acquisition_gets_a_larger_token(state: RedisStore) -> None:
    first = state.acquire_lock("gprd", "worker-a", timedelta(seconds=30), T0)
    assert first is not None
    assert state.acquire_lock("gprd", "worker-b", timedelta(seconds=30), T0) is None
    assert state.lock_holder("gprd") == first

    assert state.release_lock(first)
    second = state.acquire_lock("gprd", "worker-b", timedelta(seconds=30), T0)

    assert second is not None and second.token > first.token
    assert state.acquire_lock("gstg", "worker-a", timedelta(seconds=30), T0) is not None


def test_a_lock_expires_after_its_ttl_and_the_old_owner_can_neither_renew_nor_release(
    state: RedisStore,
) -> None:
    old = state.acquire_lock("gprd", "worker-a", timedelta(milliseconds=150), T0)
    assert old is not None
    time.sleep(0.3)
    new = state.acquire_lock("gprd", "worker-b", timedelta(seconds=30), T0)
    assert new is not None

    assert not state.renew_lock(old, timedelta(seconds=30))
    assert not state.release_lock(old)
    assert not state.holds_lock(old) and state.holds_lock(new)
    assert state.lock_holder("gprd") == new


def test_renewing_a_held_lock_extends_its_life(state: RedisStore) -> None:
    # four renewals 0.4 s apart outlive the 1 s lease by far; each leaves 0.6 s of slack for a busy machine
    lock = state.acquire_lock("gprd", "worker-a", timedelta(seconds=1), T0)
    assert lock is not None
    for _ in range(4):
        time.sleep(0.4)
        assert state.renew_lock(lock, timedelta(seconds=1))
    assert state.holds_lock(lock)
    assert state.r.pttl(Keys.env("gprd", "lock")) > 500


# Idempotency -----------------------------------------------------------------------------------------


def test_a_claim_is_won_by_exactly_one_of_many_concurrent_callers(state: RedisStore, redis_url: str) -> None:
    wins: list[bool] = []
    barrier = threading.Barrier(16)

    def contend() -> None:
        own = RedisStore(redis.Redis.from_url(redis_url))
        barrier.wait()
        wins.append(own.claim("deployment:7:success", timedelta(minutes=10)))

    threads = [threading.Thread(target=contend) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(wins) == [False] * 15 + [True]


def test_a_claim_can_be_given_back_and_expires(state: RedisStore) -> None:
    assert state.claim("slot", timedelta(seconds=1))
    assert not state.claim("slot", timedelta(seconds=1))
    state.unclaim("slot")
    assert state.claim("slot", timedelta(seconds=1))
    time.sleep(1.2)
    assert state.claim("slot", timedelta(seconds=1))


# Slack and audit -------------------------------------------------------------------------------------


def test_the_first_thread_of_a_package_is_kept(state: RedisStore) -> None:
    assert state.set_thread("gprd", SHA, SlackMessage("C1", "1.1"))
    assert not state.set_thread("gprd", SHA, SlackMessage("C1", "2.2"))
    state.set_proposal_message("gprd-1", SlackMessage("C1", "3.3"))

    assert state.thread("gprd", SHA) == SlackMessage("C1", "1.1")
    assert state.thread("gstg", SHA) is None
    assert state.proposal_message("gprd-1") == SlackMessage("C1", "3.3")


def test_the_audit_log_reads_back_newest_first_and_filters_by_environment(state: RedisStore) -> None:
    for i in range(5):
        env = "gprd" if i % 2 == 0 else "gstg"
        state.audit(AuditEntry(T0 + timedelta(minutes=i), "pdm-bot", f"action-{i}", env, "why", {"i": i}))

    newest = state.audit_log(limit=3)
    gprd = state.audit_log(environment="gprd")

    assert [e.action for e in newest] == ["action-4", "action-3", "action-2"]
    assert [e.action for e in gprd] == ["action-4", "action-2", "action-0"]
    assert newest[0].details == {"i": 4} and newest[0].at == T0 + timedelta(minutes=4)
    assert newest[0].id and state.r.xlen(Keys.named("audit")) == 5


def test_the_audit_log_pages_through_long_streams(state: RedisStore) -> None:
    for i in range(250):
        state.audit(AuditEntry(T0, "pdm-bot", f"a{i}", "gstg" if i else "gprd"))
    assert [e.action for e in state.audit_log(limit=5, environment="gprd")] == ["a0"]


def test_the_audit_log_never_stores_secret_looking_details(state: RedisStore) -> None:
    state.audit(
        AuditEntry(
            T0,
            "pdm-bot",
            "create_pipeline",
            "gprd",
            details={"gitlab_token": "glpat-XYZ", "v": [{"Password": "p"}]},
        )
    )
    raw = state.r.xrange(Keys.named("audit"))[0][1]

    assert b"glpat-XYZ" not in raw[b"details"] and b'"p"' not in raw[b"details"]
    assert state.audit_log()[0].details == {"gitlab_token": "[redacted]", "v": [{"Password": "[redacted]"}]}


def test_an_unreadable_run_timing_is_skipped_with_a_log_line(
    state: RedisStore, caplog: pytest.LogCaptureFixture
) -> None:
    good = RunTiming(
        T0, timedelta(minutes=50), ((Nature.DATA_MIGRATION, SizeClass.LARGE, timedelta(hours=2)),)
    )
    state.record_run_timing("gprd", good)
    key = Keys.env("gprd", "run_timings")
    state.r.rpush(
        key, "not json", '{"finished_at": "2026-01-10T01:00:00+00:00", "took": 1, "parts": [["x", null, 1]]}'
    )
    state.record_run_timing("gprd", good)

    with caplog.at_level(logging.WARNING, logger="scheduler.adapters.redis_store.timings"):
        assert state.run_timings("gprd") == [good, good]
        assert state.snapshot(["gprd"]).run_timings("gprd") == [good, good]

    assert caplog.text.count("skipping an unreadable run timing of gprd") == 4
