"""`/pdm run ENV --now REASON`: an approved manual override runs outside closed allow windows, needs two
approvers for heavy natures, is audited with its reason and its proposal says what it overrides."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time

from bot.blocks import proposal_blocks
from scheduler import bootstrap, jobs
from scheduler.policy.model import load_policy
from scheduler.records import RunStatus
from scheduler.service.context import WorkerContext
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.support.blocks_text import render
from tests.support.worker import DEPLOYED, INDEX, POLICY, SATURDAY, make_context, notes, publish, work

V1 = "20260105101500"
WEDNESDAY = SATURDAY - timedelta(days=3)  # the weekend window of index_and_constraint is closed
APPROVERS = POLICY.replace("approvers: {users: [U1, U2]}", "approvers: {users: [U1, U2, U3]}")


def context_with(redis_url: str, gitlab: FakeGitLabApi, policy: str) -> Iterator[WorkerContext]:
    context = dataclasses.replace(make_context(redis_url, gitlab.url), policy=load_policy(policy))
    bootstrap.install(context)
    yield context
    bootstrap.install(None)


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLabApi) -> Iterator[WorkerContext]:
    yield from context_with(redis_url, gitlab, APPROVERS)


def proposal_text(ctx: WorkerContext) -> str:
    """The last proposal as Slack shows it."""
    return render(proposal_blocks(notes(ctx).proposals()[-1]))


def deploy(ctx: WorkerContext, gitlab: FakeGitLabApi, at: datetime) -> None:
    publish(gitlab, {V1: INDEX})
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED, at.isoformat(), "")
    work(ctx)


@freeze_time(WEDNESDAY, tick=True)
def test_an_approved_override_runs_outside_the_closed_window(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    deploy(ctx, gitlab, WEDNESDAY)
    assert not gitlab.calls("create_pipeline")  # the weekend window is closed
    jobs.request_run("gstg", None, "U1", None, "hotfix needs the index before Friday")
    run = next(r for r in ctx.state.runs("gstg") if r.requested_by == "U1")
    assert run.override_reason == "hotfix needs the index before Friday"
    why = proposal_text(ctx)
    assert "• requested by <@U1> with /pdm run --now: “hotfix needs the index before Friday”\n" in why
    assert "• overrides the closed allow windows of index_and_constraint: weekend" in why
    requested = next(e for e in ctx.state.audit_log(environment="gstg") if e.action == "run_requested")
    assert requested.details["override"] == "hotfix needs the index before Friday"
    jobs.approve(run.id, "U1")  # heavy nature: the requester may not approve
    assert ctx.state.get_run(run.id).status is RunStatus.REQUESTED
    jobs.approve(run.id, "U2")
    assert ctx.state.get_run(run.id).status is RunStatus.REQUESTED  # one of two approvals
    jobs.approve(run.id, "U3")
    assert ctx.state.get_run(run.id).status is RunStatus.RUNNING
    assert len(gitlab.calls("create_pipeline")) == 1


@freeze_time(WEDNESDAY, tick=True)
def test_a_plain_request_still_waits_for_the_window(ctx: WorkerContext, gitlab: FakeGitLabApi) -> None:
    deploy(ctx, gitlab, WEDNESDAY)
    jobs.request_run("gstg", None, "U1", None)
    run = next(r for r in ctx.state.runs("gstg") if r.requested_by == "U1")
    jobs.approve(run.id, "U2")
    assert ctx.state.get_run(run.id).status is RunStatus.APPROVED
    assert not gitlab.calls("create_pipeline")


@pytest.mark.parametrize(
    ("manual", "runs"), [(False, 0), (True, 1)], ids=["deny-window", "manual-deny-window"]
)
def test_an_override_never_runs_inside_a_deny_window_unless_it_says_manual(
    redis_url: str, gitlab: FakeGitLabApi, manual: bool, runs: int
) -> None:
    flag = str(manual).lower()
    freeze = f'  - {{name: freeze, kind: deny, schedule: "0 0 * * 3", duration: 24h, manual: {flag}}}\n'
    policy = APPROVERS.replace("windows:\n", "windows:\n" + freeze, 1)
    with freeze_time(WEDNESDAY + timedelta(hours=10), tick=True):
        for ctx in context_with(redis_url, gitlab, policy):
            deploy(ctx, gitlab, WEDNESDAY)
            jobs.request_run("gstg", None, "U1", None, "incident follow-up")
            run = next(r for r in ctx.state.runs("gstg") if r.requested_by == "U1")
            said = "deny window freeze" + (" (" if manual else " is in force and does not yield")
            assert said in proposal_text(ctx)
            jobs.approve(run.id, "U2")
            jobs.approve(run.id, "U3")
            assert len(gitlab.calls("create_pipeline")) == runs
