"""`RedisStore.snapshot`: the planner's reads of several environments in two round trips, answering alike."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis

from scheduler.adapters.redis_keys import Keys
from scheduler.adapters.redis_store import RedisStore
from scheduler.errors import UnknownRun
from scheduler.natures import Nature
from scheduler.policy.learnt import RunTiming
from scheduler.records import Baseline, DeploymentStatus, Note, Run, RunStatus
from tests.integration.test_state import SHA, T0, deployment, new_run, pending


@pytest.fixture
def state(redis_url: str) -> Iterator[RedisStore]:
    client = redis.Redis.from_url(redis_url)
    yield RedisStore(client)
    client.close()


def populate(state: RedisStore) -> None:
    state.set_pending("gprd", [pending("20260102000000"), pending("20260101000000")])
    state.set_pending("gstg", [pending("20260103000000")])
    for dep_id, status in enumerate([DeploymentStatus.SUCCESS, DeploymentStatus.FAILED], start=1):
        state.record_deployment("gprd", deployment(dep_id, status, minutes=dep_id))
    state.record_deployment("gstg", deployment(7, DeploymentStatus.RUNNING))
    state.acquire_lock("gstg", "worker-1", timedelta(minutes=5), T0)
    state.set_pause("gprd", Note("U_ALICE", T0, "incident"))
    state.set_pause(None, Note("U_BOB", T0, "freeze"))
    state.set_hold("20260101000000", Note("U_ALICE", T0, "wait"))
    state.set_baseline("gprd", Baseline(SHA, "U_ALICE", T0))
    state.create_run(new_run("gstg-1", "gstg"))
    state.transition_run("gstg-1", RunStatus.APPROVED, T0, approved_by=["U_BOB"])
    state.transition_run("gstg-1", RunStatus.TRIGGERED, T0, pipeline_id=1)
    state.transition_run("gstg-1", RunStatus.SUCCESS, T0 + timedelta(minutes=9))
    state.create_run(new_run("gprd-2", "gprd"))
    state.create_run(Run(**{**new_run("gprd-3", "gprd").__dict__, "requested_at": T0 - timedelta(hours=1)}))
    state.record_run_timing(
        "gstg", RunTiming(T0, timedelta(minutes=3), ((Nature.NO_OP, None, timedelta(minutes=1)),))
    )


def test_a_snapshot_answers_every_read_exactly_like_the_state(state: RedisStore) -> None:
    populate(state)

    snapshot = state.snapshot(["gprd", "gstg"])

    for env in ("gprd", "gstg"):
        assert snapshot.pending(env) == state.pending(env)
        assert snapshot.deployments(env, limit=50) == state.deployments(env, limit=50)
        assert snapshot.deployments(env, limit=1) == state.deployments(env, limit=1)
        assert snapshot.deployment_in_progress(env) == state.deployment_in_progress(env)
        left, now_left = snapshot.deploy_marker_expires_in(env), state.deploy_marker_expires_in(env)
        assert (left is None) == (now_left is None) == (env == "gprd")
        if left is not None and now_left is not None:  # gstg's running deploy: the TTL counts down
            assert now_left <= left <= timedelta(hours=4)
        assert snapshot.lock_holder(env) == state.lock_holder(env)
        assert snapshot.pause(env) == state.pause(env)
        assert snapshot.effective_pause(env) == state.effective_pause(env)
        assert snapshot.successes(env) == state.successes(env)
        assert snapshot.last_successful_run(env) == state.last_successful_run(env)
        assert snapshot.baseline(env) == state.baseline(env)
        assert snapshot.run_timings(env) == state.run_timings(env)
    assert snapshot.pause(None) == state.pause(None)
    assert snapshot.holds() == state.holds()
    assert (
        [r.id for r in snapshot.active_runs()] == [r.id for r in state.active_runs()] == ["gprd-3", "gprd-2"]
    )
    assert snapshot.last_successful_run("gstg") is not None
    assert len(snapshot.run_timings("gstg")) == 1 and snapshot.run_timings("gprd") == []


def test_an_empty_redis_gives_an_empty_snapshot(state: RedisStore) -> None:
    snapshot = state.snapshot(["gprd"])

    assert snapshot.pending("gprd") == [] and snapshot.deployments("gprd") == []
    assert snapshot.active_runs() == [] and snapshot.holds() == {}
    assert snapshot.effective_pause("gprd") is None and snapshot.last_successful_run("gprd") is None
    assert snapshot.run_timings("gprd") == []


def test_a_snapshot_refuses_environments_and_history_it_did_not_read(state: RedisStore) -> None:
    snapshot = state.snapshot(["gprd"], deployments=5)

    with pytest.raises(ValueError, match="no environment 'gstg'"):
        snapshot.pending("gstg")
    with pytest.raises(ValueError, match="holds 5 deployments, not 6"):
        snapshot.deployments("gprd", limit=6)


def test_a_last_success_pointing_at_a_missing_run_is_an_unknown_run_as_in_state(state: RedisStore) -> None:
    state.r.set(Keys.env("gprd", "last_success"), "gprd-404")

    with pytest.raises(UnknownRun, match="gprd-404"):
        state.snapshot(["gprd"]).last_successful_run("gprd")
    with pytest.raises(UnknownRun, match="gprd-404"):
        state.last_successful_run("gprd")


def test_a_snapshot_reads_each_key_once_and_the_records_in_one_command_per_kind(state: RedisStore) -> None:
    populate(state)
    before = int(state.r.info("stats")["total_commands_processed"])

    state.snapshot(["gprd", "gstg"])

    processed = int(state.r.info("stats")["total_commands_processed"]) - before - 1  # minus INFO
    global_keys, keys_per_env, runs_mget, deployments_hmget = (
        4,
        10,
        1,
        2,
    )  # per env: + deploy starts, marker TTL, run timings
    assert processed == global_keys + keys_per_env * 2 + runs_mget + deployments_hmget
