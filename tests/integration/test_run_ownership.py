"""Runs protect their migrations (issue 11, fault 6): a migration of an approved, triggered or running run
is part of no other run, whatever the environment lock says; a lapsed lock of a run in flight is taken back
(running) or the run resumed (triggered) — jobs in-process on a real Redis and the fake GitLab."""

from __future__ import annotations

from datetime import timedelta

from freezegun import freeze_time

from scheduler import jobs
from scheduler.adapters.redis_keys import Keys
from scheduler.lifecycle import BOT_ACTOR
from scheduler.notes import RunEvent
from scheduler.records import Run, RunStatus
from scheduler.service import execution
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.support.worker import DEPLOYED, INDEX, NO_OP, SATURDAY, notes, publish, work

V1, V2 = "20260105101500", "20260105102200"
COMMIT_URL = f"https://gitlab.example.com/app/-/commit/{DEPLOYED}"


def deploy(ctx: WorkerContext) -> None:
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], SATURDAY.isoformat(), COMMIT_URL)
    work(ctx)


def running_run(ctx: WorkerContext) -> Run:
    (run,) = ctx.state.runs("gstg")
    assert run.status is RunStatus.RUNNING
    return run


def lapse(ctx: WorkerContext) -> None:
    """What a worker down longer than the lock TTL leaves: no lock, no poll heartbeat."""
    ctx.state.r.delete(Keys.env("gstg", "lock"))
    ctx.state.r.delete(*ctx.state.r.keys(Keys.once("poll-alive:*")))
    ctx.queue.empty()


def proposal_of(ctx: WorkerContext, migrations: list[str], status: RunStatus = RunStatus.REQUESTED) -> Run:
    """A run of `migrations` stored as it is (`status` included: no transition checks)."""
    run = Run(
        id=ctx.state.next_run_id("gstg"),
        environment="gstg",
        migrations=migrations,
        up_to_version=migrations[-1],
        target_sha=DEPLOYED,
        requested_by=BOT_ACTOR,
        requested_at=SATURDAY,
        status=status,
    )
    ctx.state.create_run(run)
    return run


@freeze_time(SATURDAY, tick=True)
def test_approving_migrations_of_a_running_run_is_refused_even_with_its_lock_lapsed(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: NO_OP})
    deploy(ctx)
    first = running_run(ctx)
    lapse(ctx)
    proposal = proposal_of(ctx, [V1])

    jobs.approve(proposal.id, "U1")

    refused = ctx.state.get_run(proposal.id)
    assert refused.status is RunStatus.CANCELED and refused.approved_by == []
    assert f"{V1} belongs to run {first.id} (running)" in (refused.failure_reason or "")
    assert ctx.state.approvals(proposal.id) == []  # refused before the approval counted
    assert any(f"approval of {proposal.id} refused" in t.text for t in notes(ctx).texts())
    assert len(gitlab.calls("create_pipeline")) == 1
    holder = ctx.state.lock_holder("gstg")
    assert holder is not None and holder.owner == first.id  # the evaluation after it took the lock back


@freeze_time(SATURDAY, tick=True)
def test_an_evaluation_during_a_lapsed_lock_creates_no_run_takes_the_lock_back_and_polls_again(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: NO_OP})
    deploy(ctx)
    first = running_run(ctx)
    lapse(ctx)

    jobs.evaluate("gstg")

    assert [r.id for r in ctx.state.runs("gstg")] == [first.id]
    holder = ctx.state.lock_holder("gstg")
    assert holder is not None and holder.owner == first.id
    entries = ctx.state.audit_log(limit=20)
    assert any(e.action == "lock_renewed" and e.details["run_id"] == first.id for e in entries)
    (decided,) = [e for e in entries if e.action == "decided"][:1]
    assert decided.details["decision"] == "blocked" and first.id in decided.reason
    assert [j.func_name for j in ctx.queue.get_jobs()] == ["scheduler.jobs.poll"]


@freeze_time(SATURDAY, tick=True)
def test_a_triggered_run_whose_lock_lapsed_is_resumed_by_the_evaluation_with_one_pipeline(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    deploy(ctx)
    (run,) = ctx.state.runs("gstg")
    ctx.state.transition_run(run.id, RunStatus.APPROVED, SATURDAY, approved_by=["U1"])
    ctx.state.transition_run(run.id, RunStatus.TRIGGERED, SATURDAY)  # its worker died before the POST

    jobs.evaluate("gstg")

    (decided,) = [e for e in ctx.state.audit_log(limit=20) if e.action == "decided"][:1]
    assert f"run {run.id} (triggered; its lock lapsed)" in decided.reason
    assert len(ctx.state.runs("gstg")) == 1
    work(ctx)  # the queued `execute` looks for the pipeline, finds none, creates it once
    assert ctx.state.get_run(run.id).status is RunStatus.RUNNING
    assert len(gitlab.calls("create_pipeline")) == 1


@freeze_time(SATURDAY, tick=True)
def test_an_approval_refuses_to_supersede_a_covered_run_that_started_meanwhile(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX, V2: INDEX})
    deploy(ctx)
    (proposed,) = ctx.state.runs("gstg")
    ctx.state.transition_run(proposed.id, RunStatus.CANCELED, SATURDAY, failure_reason="test set-up")
    small = proposal_of(ctx, [V1])
    ctx.state.transition_run(small.id, RunStatus.APPROVED, SATURDAY, approved_by=["U2"])
    ctx.state.transition_run(small.id, RunStatus.TRIGGERED, SATURDAY)  # started meanwhile
    ctx.state.acquire_lock("gstg", small.id, timedelta(minutes=5), SATURDAY)
    bigger = proposal_of(ctx, [V1, V2])

    jobs.approve(bigger.id, "U1")

    refused = ctx.state.get_run(bigger.id)
    assert refused.status is RunStatus.CANCELED and ctx.state.get_run(small.id).status is RunStatus.TRIGGERED
    assert f"{V1} belongs to run {small.id} (triggered)" in (refused.failure_reason or "")
    assert gitlab.calls("create_pipeline") == []


@freeze_time(SATURDAY, tick=True)
def test_an_approved_run_sharing_migrations_with_a_running_one_is_cancelled_when_it_would_start(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: NO_OP})
    deploy(ctx)
    first = running_run(ctx)
    lapse(ctx)
    # Approved before runs owned their migrations (State refuses to approve such a run now).
    leftover = proposal_of(ctx, [V1], RunStatus.APPROVED)

    execution.execute(ctx, SATURDAY, leftover.id, 0)

    cancelled = ctx.state.get_run(leftover.id)
    assert cancelled.status is RunStatus.CANCELED and cancelled.triggered_at is None
    assert f"{V1} belongs to run {first.id} (running)" in (cancelled.failure_reason or "")
    assert ctx.state.lock_holder("gstg") is None and len(gitlab.calls("create_pipeline")) == 1
    (note,) = notes(ctx).run_notes(RunEvent.CANCELED)
    assert note.run_id == leftover.id and "belongs to run" in (note.reason or "")
    assert any(e.action == "run_refused" for e in ctx.state.audit_log(limit=20))
