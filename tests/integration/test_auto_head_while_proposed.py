"""An automatic head is not held hostage by a waiting proposal, and a manual head is announced once
(real Redis, real RQ, python-gitlab on the fake GitLab)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from scheduler import bootstrap, jobs
from scheduler.notes import RunEvent, RunNote
from scheduler.policy.model import load_policy
from scheduler.records import Note, RunStatus
from scheduler.service.context import WorkerContext
from tests.fakes import FakeNotifier
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.support.worker import (
    DEPLOYED,
    INDEX,
    NO_OP,
    POLICY,
    SATURDAY,
    make_context,
    notes,
    publish,
    run_due,
    work,
)

BACKGROUND = """class QueueBackfillThing < Gitlab::Database::Migration[2.2]
  milestone '18.1'
  restrict_gitlab_migration gitlab_schema: :gitlab_main

  def up
    queue_batched_background_migration('BackfillThing', :users, :id, batch_size: 1000)
  end

  def down
    delete_batched_background_migration('BackfillThing', :users, :id, [])
  end
end
"""
UNKNOWN = "class Broken < Gitlab::Database::Migration[2.2]\n  def up\n    execute(\n  end\nend\n"

B1, B2, IDX = "20260105101500", "20260105102200", "20260105102900"
WEDNESDAY_15 = datetime(2026, 1, 7, 15, 0, tzinfo=UTC)  # the last 3 working hours before the off-peak window
THURSDAY_1 = datetime(2026, 1, 8, 1, 0, tzinfo=UTC)  # the weekday off-peak window opens
COMMIT_URL = f"https://gitlab.example.com/app/-/commit/{DEPLOYED}"

WEEKDAY_POLICY = (
    POLICY.replace(
        "windows:\n",
        'windows:\n  - {name: weekday-offpeak, kind: allow, schedule: "0 1 * * 1-5", duration: 5h}\n',
    )
    .replace(
        "background_scheduling: {windows: [always], mode: auto}",
        "background_scheduling: {windows: [weekday-offpeak, weekend], mode: auto}",
    )
    .replace(
        "index_and_constraint:  {windows: [weekend], mode: approval}",
        "index_and_constraint:  {windows: [weekday-offpeak, weekend], mode: approval}",
    )
    .replace("unknown:               {windows: [weekend], mode: approval}", "unknown: {mode: manual}")
)


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLabApi) -> Iterator[WorkerContext]:
    context = dataclasses.replace(make_context(redis_url, gitlab.url), policy=load_policy(WEEKDAY_POLICY))
    assert isinstance(context.notifier, FakeNotifier)
    context.notifier.state = context.state
    bootstrap.install(context)
    yield context
    bootstrap.install(None)


def deploy(ctx: WorkerContext, at: datetime) -> None:
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED[:8], at.isoformat(), COMMIT_URL)
    work(ctx)


def test_a_waiting_proposal_does_not_hold_back_the_automatic_head_when_its_weekday_window_opens(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {B1: BACKGROUND, B2: BACKGROUND, IDX: INDEX})
    with freeze_time(WEDNESDAY_15, tick=True):
        deploy(ctx, WEDNESDAY_15.replace(hour=9))
    (proposal,) = ctx.state.runs("gstg")
    assert proposal.status is RunStatus.REQUESTED and proposal.migrations == [B1, B2, IDX]
    assert any("the first 2 may start by themselves" in r for r in notes(ctx).proposals()[0].reasons)

    gitlab.pipeline_time = "2026-01-08T01:00:00.000Z"
    with freeze_time(THURSDAY_1, tick=True):
        jobs.evaluate("gstg")  # the evaluation scheduled at the window's opening
        jobs.evaluate("gstg")  # and the cron's, in the same minute
        (created,) = gitlab.calls("create_pipeline")
        variables = {v["key"]: v["value"] for v in created.body["variables"]}
        assert variables["PDM_MIGRATION_VERSION"] == B2
        auto = ctx.state.runs("gstg", limit=1)[0]
        assert auto.migrations == [B1, B2] and auto.requested_by == "pdm-bot"
        closed = ctx.state.get_run(proposal.id)
        assert closed.status is RunStatus.CANCELED and closed.superseded_by == auto.id
        edited = [
            n for n, _ in notes(ctx).updated if isinstance(n, RunNote) and n.event is RunEvent.SUPERSEDED
        ]
        assert [n.run_id for n in edited] == [proposal.id] and auto.id in (edited[0].reason or "")

        jobs.approve(proposal.id, "U1")  # the old message's button, pressed late
        assert any(f"superseded by {auto.id}" in t.text and "stale" in t.text for t in notes(ctx).texts())
        assert ctx.state.get_run(proposal.id).status is RunStatus.CANCELED

        (pipeline_id,) = gitlab.pipelines
        gitlab.pipelines[pipeline_id]["status"] = "success"
        run_due(ctx, "poll")
        work(ctx)
    assert ctx.state.get_run(auto.id).status is RunStatus.SUCCESS
    assert [m.version for m in ctx.state.pending("gstg")] == [IDX]
    fresh = ctx.state.runs("gstg", limit=1)[0]
    assert fresh.migrations == [IDX] and fresh.status is RunStatus.REQUESTED
    assert [p.migrations for p in notes(ctx).proposals()] == [[B1, B2, IDX], [IDX]]
    assert len(gitlab.calls("create_pipeline")) == 1
    actions = [e.action for e in ctx.state.audit_log(limit=200)]
    assert "auto_run_withheld" not in actions and "run_superseded" in actions


def test_a_manual_head_is_announced_once_in_its_package_thread_and_audited(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    publish(gitlab, {B1: UNKNOWN, B2: NO_OP, IDX: INDEX})
    with freeze_time(SATURDAY, tick=True):
        deploy(ctx, SATURDAY)
        jobs.evaluate("gstg")
        jobs.evaluate("gstg")
    (text,) = [t for t in notes(ctx).texts() if "manual" in t.text]
    assert text.text.startswith(f":raised_hand: migration {B1} (unknown, manual) waits for `/pdm run gstg`")
    assert "everything after it waits too (2 more pending)" in text.text
    assert text.thread_sha == DEPLOYED and ctx.state.thread("gstg", DEPLOYED) is not None
    (entry,) = [e for e in ctx.state.audit_log(limit=100) if e.action == "manual_waiting"]
    assert entry.details["version"] == B1
    assert gitlab.calls("create_pipeline") == [] and ctx.state.runs("gstg") == []


def test_a_manual_head_someone_already_requested_with_pdm_run_is_not_announced(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    ctx.state.set_pause("gstg", Note("U1", SATURDAY, "quiet while we look"))
    publish(gitlab, {B1: UNKNOWN, B2: NO_OP})
    with freeze_time(SATURDAY, tick=True):
        deploy(ctx, SATURDAY)
        jobs.request_run("gstg", None, "U2", None)
        ctx.state.clear_pause("gstg")
        jobs.evaluate("gstg")
    assert not [t for t in notes(ctx).texts() if "manual" in t.text]
    assert "manual_waiting" not in [e.action for e in ctx.state.audit_log(limit=100)]


def test_a_manual_head_is_asked_for_ahead_of_its_window_and_again_before_the_next_if_unanswered(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    manual = "unknown: {windows: [weekend], mode: manual}"
    weekend_only = WEEKDAY_POLICY.replace("unknown: {mode: manual}", manual)
    ctx = dataclasses.replace(ctx, policy=load_policy(weekend_only))
    bootstrap.install(ctx)
    publish(gitlab, {B1: UNKNOWN, B2: NO_OP})
    tuesday = datetime(2026, 1, 6, 10, 0, tzinfo=UTC)
    with freeze_time(tuesday, tick=True):
        deploy(ctx, tuesday)
        jobs.evaluate("gstg")
    assert not [t for t in notes(ctx).texts() if "manual" in t.text]  # the weekend is days away

    asks = []
    for at in (
        datetime(2026, 1, 9, 15, 30, tzinfo=UTC),  # the last 3 working hours before the window
        datetime(2026, 1, 10, 3, 0, tzinfo=UTC),  # in that window: already asked
        datetime(2026, 1, 16, 15, 30, tzinfo=UTC),  # nobody answered: asked again for the next one
    ):
        with freeze_time(at, tick=True):
            jobs.evaluate("gstg")
        asks.append([t.text for t in notes(ctx).texts() if "manual" in t.text])
    assert [len(a) for a in asks] == [1, 1, 2]
    first, second = asks[-1]
    assert f"migration {B1} (unknown, manual) waits for `/pdm run gstg`" in first
    assert "It may run from <!date^1768003200^" in first  # Sat 10 Jan 00:00 UTC
    assert "until <!date^1768176000^" in first and "asked again before the next one" in first
    assert "It may run from <!date^1768608000^" in second  # Sat 17 Jan 00:00 UTC
    waiting = [e for e in ctx.state.audit_log(limit=100) if e.action == "manual_waiting"]
    assert sorted(e.details["closes_at"] for e in waiting) == [
        "2026-01-12T00:00:00+00:00",
        "2026-01-19T00:00:00+00:00",
    ]
