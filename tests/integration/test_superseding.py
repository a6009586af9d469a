"""Proposals ahead of the weekend that the pending set outgrows: superseded proposals, extensions of an
approved batch (real Redis, real RQ, python-gitlab on the fake GitLab)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from freezegun import freeze_time

from scheduler import jobs
from scheduler.notes import RunEvent
from scheduler.records import Run, RunStatus
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.support.worker import DEPLOYED, INDEX, NEXT_SATURDAY, notes, publish, work

V1, V2 = "20260105101500", "20260105102200"
WEDNESDAY_10 = datetime(2026, 1, 7, 10, 0, tzinfo=UTC)  # working hours, 62 h before the weekend window
FRIDAY_15 = datetime(2026, 1, 9, 15, 0, tzinfo=UTC)  # the last 3 working hours before it: proposals
COMMIT_URL = f"https://gitlab.example.com/app/-/commit/{DEPLOYED}"


def proposed_ahead(ctx: WorkerContext, gitlab: FakeGitLabApi) -> Run:
    """Friday afternoon: V1 (index, approval mode), deployed in the morning, is proposed for the weekend."""
    publish(gitlab, {V1: INDEX})
    deployed_at = FRIDAY_15.replace(hour=9).isoformat()
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], deployed_at, COMMIT_URL)
    work(ctx)
    (run,) = ctx.state.runs("gstg")
    assert run.status is RunStatus.REQUESTED and run.migrations == [V1]
    assert run.expires_at == datetime(2026, 1, 12, tzinfo=UTC)
    return run


def more_pending(ctx: WorkerContext) -> None:
    """V2 becomes pending after the proposal; the next evaluation proposes the grown batch."""
    (item,) = ctx.state.pending("gstg")
    ctx.state.add_pending("gstg", [dataclasses.replace(item, version=V2, path=f"db/post_migrate/{V2}_m.rb")])
    jobs.evaluate("gstg")


def test_a_grown_batch_supersedes_the_proposal_and_its_approval_is_refused_with_a_pointer(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    with freeze_time(FRIDAY_15, tick=True):
        old = proposed_ahead(ctx, gitlab)
        more_pending(ctx)
        new = ctx.state.runs("gstg", limit=1)[0]
        assert new.migrations == [V1, V2] and new.status is RunStatus.REQUESTED
        closed = ctx.state.get_run(old.id)
        assert closed.status is RunStatus.CANCELED and closed.superseded_by == new.id
        (superseded,) = notes(ctx).run_notes(RunEvent.SUPERSEDED)
        assert superseded.run_id == old.id and new.id in (superseded.reason or "")
        assert [p.migrations for p in notes(ctx).proposals()] == [[V1], [V1, V2]]
        assert all(p.thread_sha == DEPLOYED for p in notes(ctx).proposals())
        jobs.approve(old.id, "U1")
    assert ctx.state.get_run(old.id).status is RunStatus.CANCELED
    assert any(f"superseded by {new.id}" in t.text and "stale" in t.text for t in notes(ctx).texts())
    assert ctx.state.get_run(new.id).status is RunStatus.REQUESTED


def test_an_unapproved_extension_leaves_the_approved_batch_to_run_alone(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    with freeze_time(FRIDAY_15, tick=True):
        approved = proposed_ahead(ctx, gitlab)
        jobs.approve(approved.id, "U1")
        more_pending(ctx)
        extension = ctx.state.runs("gstg", limit=1)[0]
        assert extension.migrations == [V1, V2] and extension.status is RunStatus.REQUESTED
        assert ctx.state.get_run(approved.id).status is RunStatus.APPROVED
        assert any("extends the approved batch" in r for r in notes(ctx).proposals()[-1].reasons)
    with freeze_time(NEXT_SATURDAY, tick=True):
        jobs.evaluate("gstg")
    (created,) = gitlab.calls("create_pipeline")
    variables = {v["key"]: v["value"] for v in created.body["variables"]}
    assert variables["PDM_MIGRATION_VERSION"] == V1
    assert ctx.state.get_run(approved.id).status is RunStatus.RUNNING
    assert ctx.state.get_run(extension.id).superseded_by == approved.id


def test_an_approved_extension_replaces_the_approved_batch_and_runs_once(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    with freeze_time(FRIDAY_15, tick=True):
        approved = proposed_ahead(ctx, gitlab)
        jobs.approve(approved.id, "U1")
        more_pending(ctx)
        extension = ctx.state.runs("gstg", limit=1)[0]
        jobs.approve(extension.id, "U2")
        assert ctx.state.get_run(approved.id).superseded_by == extension.id
        assert ctx.state.get_run(approved.id).status is RunStatus.CANCELED
    with freeze_time(NEXT_SATURDAY, tick=True):
        jobs.evaluate("gstg")
        jobs.evaluate("gstg")
    (created,) = gitlab.calls("create_pipeline")
    variables = {v["key"]: v["value"] for v in created.body["variables"]}
    assert variables["PDM_MIGRATION_VERSION"] == V2
    assert ctx.state.get_run(extension.id).status is RunStatus.RUNNING


def test_a_proposal_ahead_waits_for_the_last_working_hours_before_the_window(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {V1: INDEX})
    with freeze_time(WEDNESDAY_10, tick=True):
        at = WEDNESDAY_10.replace(hour=9).isoformat()
        ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], at, COMMIT_URL)
        work(ctx)
        assert ctx.state.runs("gstg") == [] and notes(ctx).proposals() == []
        decided = [e for e in ctx.state.audit_log(limit=50) if e.action == "decided"]
        assert "proposed from Fri 2026-01-09 15:00 UTC" in decided[0].reason
    with freeze_time(FRIDAY_15, tick=True):
        jobs.evaluate("gstg")
    (run,) = ctx.state.runs("gstg")
    assert run.status is RunStatus.REQUESTED and run.migrations == [V1]


def test_a_batch_that_shrinks_towards_the_close_of_its_window_is_not_proposed_again(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    with freeze_time(FRIDAY_15, tick=True):
        proposed_ahead(ctx, gitlab)
        more_pending(ctx)
        proposal = ctx.state.runs("gstg", limit=1)[0]
        assert proposal.migrations == [V1, V2]
    # Sunday 23:05: 10 min overhead + two 30-min index estimates end after the window closes at midnight;
    # only V1 fits, and the proposal of both covers it: the worker's minutely evaluation asks nothing
    with freeze_time(datetime(2026, 1, 11, 23, 5, tzinfo=UTC), tick=True):
        jobs.evaluate("gstg")
        decided = next(e for e in ctx.state.audit_log(limit=5) if e.action == "decided")
        assert f"{V2} (index_and_constraint) would not end before Mon 2026-01-12 00:00 UTC" in decided.reason
        assert [r.id for r in ctx.state.runs("gstg", limit=1)] == [proposal.id]
        assert [p.migrations for p in notes(ctx).proposals()] == [[V1], [V1, V2]]
        assert len(notes(ctx).run_notes(RunEvent.SUPERSEDED)) == 1  # the grown batch's, on Friday
        jobs.approve(proposal.id, "U1")  # the approval runs the part that fits now
        (created,) = gitlab.calls("create_pipeline")
    variables = {v["key"]: v["value"] for v in created.body["variables"]}
    assert variables["PDM_MIGRATION_VERSION"] == V1
