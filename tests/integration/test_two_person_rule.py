"""The two-person rule of `approve` (policy `two_person_natures`): two distinct approvers, and the
requester of a `/pdm run` may not approve it; other natures keep the one-approval flow."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from freezegun import freeze_time

from scheduler import bootstrap, jobs
from scheduler.policy.model import load_policy
from scheduler.records import Run, RunStatus
from scheduler.service.context import WorkerContext
from tests.fakes import FakeNotifier
from tests.servers.fake_gitlab import FakeGitLabApi
from tests.support.worker import DEPLOYED, INDEX, NO_OP, POLICY, SATURDAY, make_context, publish, work

V1 = "20260105101500"
TWO_PERSON = POLICY.replace("approvers: {users: [U1, U2]}", "approvers: {users: [U1, U2, U3]}") + (
    "two_person_natures: [index_and_constraint]\n"
)


@pytest.fixture
def ctx(redis_url: str, gitlab: FakeGitLabApi) -> Iterator[WorkerContext]:
    context = dataclasses.replace(make_context(redis_url, gitlab.url), policy=load_policy(TWO_PERSON))
    bootstrap.install(context)
    yield context
    bootstrap.install(None)


def texts(ctx: WorkerContext) -> list[str]:
    assert isinstance(ctx.notifier, FakeNotifier)
    return [t.text for t in ctx.notifier.texts()]


def deployed_run(ctx: WorkerContext, gitlab: FakeGitLabApi, source: str) -> Run:
    publish(gitlab, {V1: source})
    ctx.queue.enqueue("scheduler.jobs.on_deploy", "gstg", 41, DEPLOYED, SATURDAY.isoformat(), "")
    work(ctx)
    (run,) = ctx.state.runs("gstg")
    return run


@freeze_time(SATURDAY, tick=True)
def test_a_two_person_nature_runs_only_after_two_distinct_approvers(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    run = deployed_run(ctx, gitlab, INDEX)
    jobs.approve(run.id, "U1")
    jobs.approve(run.id, "U1")
    assert ctx.state.get_run(run.id).status is RunStatus.REQUESTED
    assert gitlab.calls("create_pipeline") == []
    assert "second, different approver is needed" in texts(ctx)[0]
    assert "U1> already approved" in texts(ctx)[1]
    jobs.approve(run.id, "U2")
    approved = ctx.state.get_run(run.id)
    assert approved.status is RunStatus.RUNNING and approved.approved_by == ["U1", "U2"]
    assert len(gitlab.calls("create_pipeline")) == 1


@freeze_time(SATURDAY, tick=True)
def test_the_requester_of_a_two_person_run_may_not_approve_it(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    bot_run = deployed_run(ctx, gitlab, INDEX)
    jobs.request_run("gstg", None, "U1", None)
    run = ctx.state.runs("gstg")[0]
    assert run.id != bot_run.id and run.requested_by == "U1"
    jobs.approve(run.id, "U1")
    assert ctx.state.approvals(run.id) == []
    refusal = ctx.state.audit_log(limit=1)[0]
    assert (refusal.action, refusal.actor) == ("refused", "U1") and "two-person rule" in refusal.reason
    assert "may not approve it" in texts(ctx)[-1]
    jobs.approve(run.id, "U2")
    assert ctx.state.get_run(run.id).status is RunStatus.REQUESTED
    jobs.approve(run.id, "U3")
    assert ctx.state.get_run(run.id).approved_by == ["U2", "U3"]
    assert len(gitlab.calls("create_pipeline")) == 1


@freeze_time(SATURDAY, tick=True)
def test_a_nature_outside_the_rule_needs_one_approval_even_from_its_requester(
    ctx: WorkerContext, gitlab: FakeGitLabApi
) -> None:
    ctx.policy = load_policy(
        TWO_PERSON.replace(
            "no_op:                 {windows: [always], mode: auto}",
            "no_op:                 {windows: [always], mode: approval}",
        )
    )
    deployed_run(ctx, gitlab, NO_OP)
    jobs.request_run("gstg", None, "U1", None)
    run = ctx.state.runs("gstg")[0]
    jobs.approve(run.id, "U1")
    assert ctx.state.get_run(run.id).status is RunStatus.RUNNING
    assert len(gitlab.calls("create_pipeline")) == 1
